"""Files replaced whole: a report or baseline is written beside its path and moved into place, so a
reader sees the previous file or the complete new one, never half of one.

A path that is a symbolic link is written through: the file it points to is replaced and the link
stays. A path that is not a regular file (a named pipe, `/dev/stdout`, `/dev/null`) is written
straight into, as `tee` would: moving a file into its place would replace the device or pipe itself.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path


def written_in_place(path: Path) -> bool:
    """Whether `path` (through any symbolic link) is something other than a regular file or a folder:
    a pipe, a device or a socket, which is written straight into rather than replaced."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # (missing, or a dangling link: a new file is made)
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def destination(path: Path) -> Path:
    """The file a write to `path` replaces: the end of its chain of symbolic links, if it is one."""
    return Path(os.path.realpath(path)) if os.path.islink(path) else path


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` that replaces `path` when the block completes; on error `path`
    is untouched and the temporary removed. An OSError names `path`, not the temporary (the user gave
    one and never saw the other). See the module docstring for links, pipes and devices."""
    if written_in_place(path):
        yield path
        return
    target = destination(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise _naming(exc, path) from exc
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be read by CI uploaders
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise _naming(exc, path) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    """The same error (its errno subclass: IsADirectoryError...) about `path`."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path)) if exc.errno else exc

"""Files replaced whole: a report or baseline is written beside its path and moved into place, so a
reader sees the previous file or the complete new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` that replaces `path` when the block completes; on error `path`
    is untouched and the temporary removed. An OSError names `path`, not the temporary (the user gave
    one and never saw the other)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise _naming(exc, path) from exc
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be read by CI uploaders
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise _naming(exc, path) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    """The same error (its errno subclass: IsADirectoryError...) about `path`."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path)) if exc.errno else exc

"""Plain data <-> JSON. Dataclasses become objects with every field; enums their values.

One encoder for traces, results and summaries so every report shows the same names. It is shallow
per object (json recurses), which keeps serialising a 10 000-result suite cheap.
"""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from pathlib import Path
from typing import Any


def encode(obj: Any) -> Any:
    """The `default=` hook for json.dumps: dataclasses, enums, sets, paths; repr for the rest."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return obj.as_posix()
    describe = getattr(obj, "describe", None)
    if callable(describe):
        return describe()
    return repr(obj)


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """JSON text for any plain-data object; never raises on an odd value (falls back to repr).

    Non-finite floats (an undefined metric's NaN) become null: JSON has no NaN, and a report must
    not be lost to one. The strict first attempt keeps the common case fast.
    """
    try:
        return json.dumps(obj, default=encode, ensure_ascii=False, indent=indent, allow_nan=False)
    except ValueError:
        loose = json.dumps(obj, default=encode, ensure_ascii=False, allow_nan=True)
        data = json.loads(loose, parse_constant=lambda _name: None)
        return json.dumps(data, ensure_ascii=False, indent=indent, allow_nan=False)


def to_data(obj: Any) -> Any:
    """The JSON-able form of `obj` (a round trip through the encoder)."""
    return json.loads(dumps(obj))

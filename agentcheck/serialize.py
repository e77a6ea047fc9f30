"""Plain data <-> JSON. Dataclasses become objects with every field; enums their values.

One encoder for traces, results and summaries so every report shows the same names. It is shallow
per object, and orjson does the walking, which keeps serialising a 10 000-result suite cheap.
"""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from pathlib import Path
from typing import Any

import orjson


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

    orjson encodes dataclasses and enums natively and writes non-finite floats (an undefined
    metric's NaN) as null, which JSON needs; `encode` covers what it does not know.
    """
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    try:
        return orjson.dumps(obj, default=encode, option=option).decode("utf-8")
    except TypeError:  # an int beyond 64 bits, say: the standard library copes, more slowly
        return json.dumps(obj, default=encode, ensure_ascii=False, indent=indent)


def dumps_bytes(obj: Any) -> bytes:
    """`dumps(obj)` as UTF-8 bytes, without orjson's bytes going through a str and back (the results
    stream writes one line per run this way)."""
    try:
        return orjson.dumps(obj, default=encode, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return dumps(obj).encode("utf-8")


def loads(data: str | bytes) -> Any:
    return orjson.loads(data)


def to_data(obj: Any) -> Any:
    """The JSON-able form of `obj` (a round trip through the encoder)."""
    return orjson.loads(dumps(obj))

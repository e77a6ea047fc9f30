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

ENCODED_DEPTH = 4
"""How deep an Encoded value sits in the deepest document it is written into: the results stream's
summary line (record -> summary -> release -> scenarios)."""


class Encoded:
    """A value with its JSON text, encoded once and written as it is wherever the value is dumped by
    orjson: merge's 20 000 scenario rows go into both the results stream and the JSON report
    (reporting.finish_all). The standard library's fallback encodes the value itself, as it would have."""

    __slots__ = ("text", "value")

    def __init__(self, value: Any):
        """Raises TypeError where orjson cannot encode `value` in place (an integer past 64 bits, or
        nesting past orjson's limit at ENCODED_DEPTH): there the standard library's text, which
        encoding it in place gives, would differ. Written as it is, also under `indent` (unindented)."""
        self.value = value
        nested: Any = value
        for _ in range(ENCODED_DEPTH):  # (checked where it will sit, then cut out: `[` and `]` a level)
            nested = [nested]
        text = orjson.dumps(nested, default=_encode_fast, option=orjson.OPT_NON_STR_KEYS)
        self.text = text[ENCODED_DEPTH:-ENCODED_DEPTH]



def encode(obj: Any) -> Any:
    """The `default=` hook for json.dumps: dataclasses, enums, sets, paths; repr for the rest."""
    if type(obj) is Encoded:
        return obj.value
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


def _encode_fast(obj: Any) -> Any:
    """orjson's `default=` hook: `encode`, with Encoded text embedded as it is (not parsed again)."""
    if type(obj) is Encoded:
        return orjson.Fragment(obj.text)
    return encode(obj)


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """JSON text for any plain-data object; never raises on an odd value (falls back to repr).

    orjson encodes dataclasses and enums natively and writes non-finite floats (an undefined
    metric's NaN) as null, which JSON needs; `encode` covers what it does not know.
    """
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    try:
        return orjson.dumps(obj, default=_encode_fast, option=option).decode("utf-8")
    except TypeError:  # an int beyond 64 bits, say: the standard library copes, more slowly
        return json.dumps(obj, default=encode, ensure_ascii=False, indent=indent)


def dumps_bytes(obj: Any) -> bytes:
    """`dumps(obj)` as UTF-8 bytes, without orjson's bytes going through a str and back (the results
    stream writes one line per run this way)."""
    try:
        return orjson.dumps(obj, default=_encode_fast, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return dumps(obj).encode("utf-8")


def loads(data: str | bytes) -> Any:
    return orjson.loads(data)


_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME


def _reject(obj: Any) -> Any:
    raise TypeError(type(obj).__name__)


def _widen(obj: Any) -> Any:
    """A subclass of a JSON type as that type (an Enum as its value); anything else as `encode`
    gives it (a dataclass with every field, `_private` ones too)."""
    if isinstance(obj, Enum):
        return obj.value
    for base in (str, bool, int, float, dict, list):
        if isinstance(obj, base):
            return base(obj)
    return encode(obj)


def as_plain_json(value: Any) -> Any:
    """`value` itself when it is plain JSON data (exact dicts, lists, text, numbers, booleans, null,
    checked in C by orjson), else its JSON form: dataclasses with every field, tuples as lists, text
    and number subclasses as text and numbers. A trace records values from Python code (an agent's
    arguments and answer, a fixture handler's result) this way, so the JSON that reports write and the
    objects that redaction walks hold the same things (orjson leaves out a dataclass's `_` fields)."""
    kind = type(value)
    if kind is str or value is None or kind is int or kind is float or kind is bool:
        return value
    if kind is not tuple:
        try:
            orjson.dumps(value, default=_reject, option=_PASSTHROUGH)
            return value
        except TypeError:
            pass
    try:
        return orjson.loads(orjson.dumps(value, default=_widen, option=_PASSTHROUGH | orjson.OPT_NON_STR_KEYS))
    except TypeError:  # an int beyond 64 bits, say: the standard library copes
        return json.loads(json.dumps(value, default=_widen))


def to_data(obj: Any) -> Any:
    """The JSON-able form of `obj` (a round trip through the encoder)."""
    return orjson.loads(dumps(obj))

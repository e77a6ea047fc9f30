"""Conditions in CEL, behind one small interface: compile at load time, evaluate fail-closed.

CEL (the expression language of Kubernetes admission policies and Google IAM conditions) runs here
through the `common-expression-language` package (a Rust core). Nothing else in agentcheck touches
that package, so it can be swapped without changing the policy engine.

- `compile_condition` refuses a syntax error (with line:column), an unknown variable, an unknown
  `run.` field or an unknown function, so a typo is bad input when the policy loads, not an allow.
- `Condition.holds` returns a bool or raises `ConditionFailed` with a reason: a missing field, a
  type mismatch or a non-boolean result. Callers treat that as a block, never as "rule skipped".
- Numbers in the activation are doubles, as in JSON, so `run.money_moved + args.amount` never mixes
  int and double; write arithmetic literals as doubles (`args.amount * 2.0`).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOTS: frozenset[str] = frozenset({"args", "tool", "agent", "run"})
"""Variables a condition may use."""

RUN_FIELD_ORDER: tuple[str, ...] = (
    "step",
    "steps",
    "tool_calls",
    "model_calls",
    "cost_usd",
    "money_moved",
    "tools_called",
    "untrusted_seen",
    "elapsed_s",
)
"""Fields of `run`, in the order the whole `run` variable lists them."""

RUN_FIELDS: frozenset[str] = frozenset(RUN_FIELD_ORDER)
"""Fields of `run`: the run so far, before this call."""

FUNCTIONS: frozenset[str] = frozenset(
    {
        "size",
        "contains",
        "startsWith",
        "endsWith",
        "matches",
        "int",
        "uint",
        "double",
        "string",
        "bool",
        "bytes",
        "dyn",
        "type",
        "duration",
        "timestamp",
        "has",
        "getFullYear",
        "getMonth",
        "getDate",
        "getDayOfMonth",
        "getDayOfWeek",
        "getDayOfYear",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
    }
)
"""Standard CEL functions a condition may call; operators (`_+_`, `@in`, `!_`) are always allowed."""

_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")
_MACRO_VAR = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_RUN_FIELD = re.compile(r"\brun\s*\.\s*([A-Za-z_]\w*)")
_PATH = re.compile(r"\b(?:args|run)(?:\s*\.\s*[A-Za-z_]\w*)+")


class ExprError(Exception):
    """A condition that cannot be compiled; `line`/`column` are 1-based within the expression."""

    def __init__(self, message: str, line: int = 1, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class ConditionFailed(Exception):
    """A condition that could not be decided at run time; the call it guards is blocked."""


@dataclass(frozen=True, slots=True)
class Condition:
    text: str
    program: Any = field(repr=False, compare=False)
    paths: tuple[str, ...] = ()
    """The `args.x` / `run.y` paths the condition reads, recorded as the values a decision saw."""
    fields: dict[str, tuple[str, ...] | None] = field(default_factory=dict, compare=False)
    """Root variable -> the top-level fields the condition reads (None: it reads the whole value)."""

    path_parts: tuple[tuple[str, str, tuple[str, ...]], ...] = field(init=False, repr=False, compare=False)
    """Each path, its root variable and the fields below it (`args.a.b` -> args, (a, b)), split once."""

    memo: dict[Any, bool | str] = field(default_factory=dict, repr=False, compare=False)
    """Inputs (the values the condition reads) -> its result, or the reason it failed.

    A CEL expression is a pure function of its variables (there is no `now()`), so equal inputs give
    equal results; remembering them skips the conversion into the Rust core, the costly part."""

    def __post_init__(self) -> None:
        split = [(path, *path.split(".")) for path in self.paths]
        object.__setattr__(self, "path_parts", tuple((path, root, tuple(rest)) for path, root, *rest in split))

    def holds(self, activation: Activation | dict[str, Any]) -> bool:
        """Evaluate on `activation` (an Activation shared by a decision's conditions, or plain values)."""
        if not isinstance(activation, Activation):
            activation = Activation(activation, self.fields)
        key = activation.key_for(self.fields)
        known = self.memo.get(key) if key is not None else None
        if known is None:
            known = self._evaluate(activation)
            if key is not None:
                if len(self.memo) >= MEMO_SIZE:
                    self.memo.clear()
                self.memo[key] = known
        if isinstance(known, str):
            raise ConditionFailed(known)
        return known

    def _evaluate(self, activation: Activation) -> bool | str:
        """The result, or why the condition could not be decided."""
        try:
            value = self.program.execute(activation.context())
        except KeyError as exc:
            return f"`{self.text}`: no field {exc} in the call or the run"
        except TypeError as exc:
            return f"`{self.text}`: type mismatch ({_first_sentence(exc)})"
        except Exception as exc:  # the Rust core raises RuntimeError/ValueError for other faults
            return f"`{self.text}`: {type(exc).__name__}: {_first_sentence(exc)}"
        if not isinstance(value, bool):
            return f"`{self.text}` gave {value!r}, not true or false"
        return value

    def values(self, activation: Activation | dict[str, Any]) -> dict[str, Any]:
        """The values of the paths this condition reads (missing ones as None), for the trace."""
        data = activation.values if isinstance(activation, Activation) else activation
        out = {}
        for path, root, parts in self.path_parts:
            value = data.get(root)
            for part in parts:
                value = value.get(part) if isinstance(value, dict) else None
            out[path] = value
        return out


Fields = dict[str, tuple[str, ...] | None]
"""Root variable -> the top-level fields read (None: the whole value)."""


def merge_fields(conditions: Iterable[Condition]) -> Fields:
    """What a set of conditions reads, together: one activation can then serve them all."""
    out: Fields = {}
    for condition in conditions:
        for root, names in condition.fields.items():
            if root in out and (out[root] is None or names is None):
                out[root] = None
            else:
                out[root] = tuple(dict.fromkeys((*(out.get(root) or ()), *(names or ()))))
    return out


class Activation:
    """One decision's variables, converted for CEL once and shared by every condition it evaluates.

    Only the fields the conditions read are converted (numbers as doubles): handing the Rust core a
    whole call's arguments costs far more than evaluating an expression. A field the call lacks stays
    absent, so reading it still fails (closed)."""

    __slots__ = ("_context", "fields", "values")

    def __init__(self, values: dict[str, Any], fields: Fields):
        self.values = values
        self.fields = fields
        self._context: Any = None

    def key_for(self, fields: Fields) -> Any:
        """The values `fields` selects, as a hashable key that tells apart what CEL tells apart
        (`true` from `1`, a missing field from a null one); None when a value cannot be keyed.
        Keys are compared only under the same `fields`, so the values go in flat, in its order."""
        parts: list[Any] = []
        values = self.values
        try:
            for root, names in fields.items():
                value = values.get(root, _MISSING)
                if names is None:
                    parts.append(_freeze(value))
                elif type(value) is not dict:
                    parts.append(("whole", _freeze(value)))
                else:
                    for name in names:
                        item = value.get(name, _MISSING)
                        kind = type(item)  # the common scalars inline, as _freeze would give them
                        if kind is float or kind is str or item is None:
                            parts.append(item)
                        elif kind is int:
                            parts.append(float(item))
                        else:
                            parts.append(_freeze(item))
        except TypeError:
            return None
        return tuple(parts)

    def context(self) -> Any:
        if self._context is None:
            context = cel_core().Context()
            for root, names in self.fields.items():
                if root not in self.values:
                    continue
                value = self.values[root]
                if names is None or not isinstance(value, dict):
                    context.add_variable(root, as_cel(value))
                else:
                    context.add_variable(root, {n: as_cel(value[n]) for n in names if n in value})
            self._context = context
        return self._context


def cel_core() -> Any:
    """The `common-expression-language` package's Rust extension, loaded on first use (only projects
    with a policy pay for it) and on its own: `import cel` also imports the package's interactive
    command line (typer, prompt_toolkit, pygments), about 0.3 s of start-up for nothing used here."""
    core = sys.modules.get("cel.cel")
    if core is None:
        package = importlib.util.find_spec("cel")  # locates the package without running its __init__
        if package is None or package.origin is None:
            raise ModuleNotFoundError("the `common-expression-language` package is not installed", name="cel")
        folder = Path(package.origin).parent
        path = next(
            (
                folder / f"cel{suffix}"
                for suffix in importlib.machinery.EXTENSION_SUFFIXES
                if (folder / f"cel{suffix}").exists()
            ),
            None,
        )
        if path is None:  # an unusual build: fall back to the package's own import
            import cel

            return cel
        loader = importlib.machinery.ExtensionFileLoader("cel.cel", str(path))
        spec = importlib.util.spec_from_file_location("cel.cel", path, loader=loader)
        assert spec is not None
        core = importlib.util.module_from_spec(spec)
        loader.exec_module(core)
        sys.modules["cel.cel"] = core  # `import cel` later reuses it
    return core


def _first_sentence(exc: BaseException) -> str:
    return str(exc).split(". ", 1)[0]


_EXPECTING = re.compile(r"\s*expecting \{([^}]*)\}")
_SYNTAX_PREFIX = re.compile(r"^Syntax error:\s*")


def _readable(detail: str) -> str:
    """The parser's message without its prefix, and its list of expected tokens said in words when
    it is the list of everything that can start a value (what people get wrong at the end or
    between operators)."""
    detail = _SYNTAX_PREFIX.sub("", detail)
    expected = _EXPECTING.search(detail)
    if expected and "IDENTIFIER" in expected.group(1) and "NUM_INT" in expected.group(1):
        detail = detail[: expected.start()] + " where a value was expected (a name, number, string, `(`, `[` or `{`)"
    detail = detail.replace("mismatched input '<EOF>'", "the expression ends").replace("input '<EOF>'", "the end")
    return detail.replace("extraneous input ", "unexpected ").replace("mismatched input ", "unexpected ")


def compile_condition(text: str) -> Condition:
    """Compile `text`, refusing anything the engine could not evaluate safely. Raises ExprError."""
    try:
        program = cel_core().compile(text)
    except ValueError as exc:
        found = _POSITION.search(str(exc))
        if found:
            detail = _readable(found.group(3).split("\n", 1)[0])
            raise ExprError(f"CEL syntax error: {detail}", int(found.group(1)), int(found.group(2))) from None
        raise ExprError(f"CEL syntax error: {exc}") from None
    refs = program.references()
    macro_vars = set(_MACRO_VAR.findall(text))
    for name in refs["variables"]:
        if name not in ROOTS and name not in macro_vars:
            raise ExprError(f"unknown variable '{name}' (conditions can use {', '.join(sorted(ROOTS))})")
    for name in refs["functions"]:
        if name[0] in "_@!" or name in FUNCTIONS:
            continue
        raise ExprError(f"unknown function '{name}' (not a standard CEL function)")
    for name in _RUN_FIELD.findall(text):
        if name not in RUN_FIELDS:
            raise ExprError(f"unknown field 'run.{name}' (run has: {', '.join(sorted(RUN_FIELDS))})")
    paths = tuple(dict.fromkeys(re.sub(r"\s+", "", p) for p in _PATH.findall(text)))
    return Condition(text, program, paths, _fields(text, refs["variables"]))


def _fields(text: str, variables: list[str]) -> dict[str, tuple[str, ...] | None]:
    """Per root variable used: its top-level fields read as `root.field`, or None when the root is
    also used any other way (indexed, passed whole, `in`), which needs the whole value."""
    out: dict[str, tuple[str, ...] | None] = {}
    for root in ROOTS & set(variables):
        bare = re.search(rf"\b{root}\b(?!\s*\.\s*[A-Za-z_])", text)
        names = re.findall(rf"\b{root}\s*\.\s*([A-Za-z_]\w*)", text)
        out[root] = None if bare or not names else tuple(dict.fromkeys(names))
    return out


MEMO_SIZE = 4096
"""Most remembered inputs per condition; the memo starts over when full."""

_MISSING = ("missing",)


def _freeze(value: Any) -> Any:
    """A hashable stand-in for a value as CEL sees it (every number a double); TypeError otherwise."""
    if value is None or isinstance(value, str) or value is _MISSING:
        return value
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list | tuple):
        return ("list", tuple(_freeze(v) for v in value))
    if isinstance(value, dict):
        return ("map", tuple(sorted((str(k), _freeze(v)) for k, v in value.items())))
    raise TypeError(type(value).__name__)


def as_cel(value: Any) -> Any:
    """JSON-like data for an activation: every number a double (bools stay bools)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return {str(k): as_cel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_cel(v) for v in value]
    return str(value)

"""YAML in, plain data out, with the line of every key and list item remembered.

Validation happens later, on plain dicts and lists, and knows only key paths such as
``("expect", "tools", "calls", 1)``. To report ``file:line`` for a problem found there, we compose
the YAML node tree ourselves (libyaml's C parser when available, which is what makes a 10 000
scenario suite load fast) and record, while building the data, the 1-based line of each mapping key
and sequence item under its key path. Things PyYAML would silently accept but a user never means,
duplicate keys and non-string keys, become problems here.

Deliberate departures from PyYAML's ``safe_load``: timestamps stay strings (tool arguments are JSON,
where dates are strings), and aliased collections are built once and shared, so anchors cannot be
used to blow up memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentcheck.gcpause import collector_paused
from agentcheck.problems import Problem

KeyPath = tuple[str | int, ...]
"""A position in loaded data: mapping keys (str) and list indexes (int), outermost first."""

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_KEY_TYPES = {
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:null": "null",
}
_BUILDING = object()


@dataclass(slots=True)
class YamlDoc:
    """One YAML document: its data and the line of every key path in it."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int | None:
        """The line of `path`, or of its nearest ancestor that was written in the file."""
        return line_of(self.lines, path)


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of `path` or of its nearest recorded ancestor (a missing key has no line of its own)."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def load_yaml_file(path: Path, display: str) -> tuple[list[YamlDoc], list[Problem]]:
    """Every non-empty document of the file at `path`; `display` names the file in problems."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], [Problem(display, None, "", "file not found")]
    except OSError as exc:
        return [], [Problem(display, None, "", f"cannot read file: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [], [Problem(display, line, "", "file is not UTF-8 text", "save it as UTF-8")]
    return parse_yaml(text, display)


def parse_yaml(text: str, display: str) -> tuple[list[YamlDoc], list[Problem]]:
    """Parse `text` (possibly several `---` documents). Empty documents are left out."""
    import yaml

    loader = _loader_class()(text)
    docs: list[YamlDoc] = []
    problems: list[Problem] = []
    # A big suite is hundreds of thousands of short-lived, acyclic node objects; letting the cyclic
    # garbage collector rescan them over and over more than doubles the load time.
    with collector_paused():
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                builder = _Builder(loader, display, problems)
                try:
                    data = builder.build(node, ())
                except RecursionError:
                    problems.append(Problem(display, _line(node), "", "YAML nested too deeply"))
                    continue
                if data is not None:
                    docs.append(YamlDoc(data, builder.lines))
        except yaml.MarkedYAMLError as exc:
            problems.append(_syntax_problem(exc, display, text))
        except yaml.YAMLError as exc:  # reader errors (control characters) carry no mark on all versions
            problems.append(Problem(display, None, "", f"invalid YAML: {exc}"))
        finally:
            loader.dispose()
    return docs, problems


_LOADER: Any = None


def _loader_class() -> Any:
    """libyaml's loader (Python's when libyaml is missing) with a faster tag resolver.

    The stock resolver runs three Python calls per node to support path resolvers we never use;
    this one does only the implicit-scalar lookup, with the same rules, so values are unchanged.
    """
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml
    from yaml.nodes import ScalarNode, SequenceNode

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resolvers = base.yaml_implicit_resolvers
    wildcard = tuple(resolvers.get(None, ()))
    implicit_rules = {key: (*rules, *wildcard) for key, rules in resolvers.items() if key is not None}
    get_rules = implicit_rules.get

    class _FastLoader(base):  # type: ignore[misc, valid-type]
        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is ScalarNode:
                if implicit[0]:
                    for tag, regexp in get_rules(value[:1], wildcard):
                        if regexp.match(value):
                            return str(tag)
                return _STR
            return _SEQ if kind is SequenceNode else _MAP

    _LOADER = _FastLoader
    return _LOADER


def _line(node: Any) -> int:
    return int(node.start_mark.line) + 1


def _syntax_problem(exc: Any, display: str, text: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    what = exc.problem or "syntax error"
    if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
        if exc.context_mark.line != exc.problem_mark.line:
            what = f"{what} ({exc.context} at line {exc.context_mark.line + 1})"
        else:
            what = f"{what} ({exc.context})"
    where = f" at column {mark.column + 1}" if mark is not None else ""
    hint = None
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        hint = "YAML indentation must use spaces, not tabs"
    elif "mapping values are not allowed" in what:
        hint = "a value containing ': ' must be quoted"
    return Problem(display, line, "", f"invalid YAML{where}: {what}", hint)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column : column + 1] if line < len(lines) else ""


class _Builder:
    """Builds plain data from one document's node tree, recording lines and problems."""

    def __init__(self, loader: Any, display: str, problems: list[Problem]):
        self.loader = loader
        self.display = display
        self.problems = problems
        self.lines: dict[KeyPath, int] = {}
        self.memo: dict[int, Any] = {}

    def build(self, node: Any, path: KeyPath) -> Any:
        if path == ():
            self.lines[()] = _line(node)
        kind = node.id
        if kind == "scalar":
            return self._scalar(node, path)
        key = id(node)
        done = self.memo.get(key)
        if done is _BUILDING:
            self._problem(node, path, "an alias refers to its own anchor (recursive data)")
            return None
        if done is not None:
            return done
        self.memo[key] = _BUILDING
        if kind == "sequence":
            result: Any = self._sequence(node, path)
        else:
            result = self._mapping(node, path)
        self.memo[key] = result
        return result

    def _problem(self, node: Any, path: KeyPath, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(self.display, _line(node), render_path(path), message, hint))

    def _scalar(self, node: Any, path: KeyPath) -> Any:
        tag = node.tag
        if tag in (_STR, _TIMESTAMP):
            return node.value
        constructor = self.loader.yaml_constructors.get(tag)
        if constructor is None:
            self._problem(node, path, f"unsupported YAML tag {tag!r}", "remove the tag or quote the value")
            return None
        try:
            return constructor(self.loader, node)
        except Exception as exc:  # a malformed scalar for its tag, e.g. `!!int abc`
            self._problem(node, path, f"invalid value {node.value!r} for YAML tag {tag!r}: {exc}")
            return None

    def _sequence(self, node: Any, path: KeyPath) -> list[Any]:
        if node.tag != _SEQ:
            self._problem(node, path, f"unsupported YAML tag {node.tag!r}", "use a plain list")
        lines = self.lines
        out = []
        append = out.append
        for index, item in enumerate(node.value):
            item_path = path + (index,)  # noqa: RUF005 - concatenation is faster on this hot path
            lines[item_path] = item.start_mark.line + 1
            if item.tag == _STR and item.id == "scalar":
                append(item.value)
            else:
                append(self.build(item, item_path))
        return out

    def _mapping(self, node: Any, path: KeyPath) -> dict[str, Any]:
        if node.tag != _MAP:
            self._problem(node, path, f"unsupported YAML tag {node.tag!r}", "use a plain mapping")
        lines = self.lines
        build = self.build
        out: dict[str, Any] = {}
        merges: list[Any] = []
        for key_node, value_node in node.value:
            key_tag = key_node.tag
            if key_tag == _STR and key_node.id == "scalar":
                key = key_node.value
            elif key_tag == _MERGE:
                merges.append(value_node)
                continue
            else:
                key = self._key(key_node, path)
                if key is None:
                    continue
            key_path = path + (key,)  # noqa: RUF005 - concatenation is faster on this hot path
            if key in out:
                first = lines.get(key_path)
                self._problem(
                    key_node,
                    path,
                    f"duplicate key '{key}'" + (f" (first at line {first})" if first else ""),
                    "remove one of them; YAML would silently keep only the last",
                )
                continue
            lines[key_path] = key_node.start_mark.line + 1
            if value_node.tag == _STR and value_node.id == "scalar":
                out[key] = value_node.value
            else:
                out[key] = build(value_node, key_path)
        for merge in merges:
            self._merge(out, merge, path)
        return out

    def _merge(self, out: dict[str, Any], merge: Any, path: KeyPath) -> None:
        """`<<: *anchor` (or a list of anchors): copy keys not written here; earlier anchors win."""
        sources = merge.value if merge.id == "sequence" else [merge]
        for source in sources:
            if source.id != "mapping":
                self._problem(source, path, "`<<` (merge) needs a mapping or a list of mappings")
                continue
            data = self.build(source, (*path, "<<"))
            if not isinstance(data, dict):
                continue
            key_lines = {k.value: k.start_mark.line + 1 for k, _ in source.value if k.id == "scalar"}
            for key, value in data.items():
                if key not in out:
                    out[key] = value
                    if key in key_lines:
                        self.lines[(*path, key)] = key_lines[key]

    def _key(self, key_node: Any, path: KeyPath) -> str | None:
        if key_node.id == "scalar" and key_node.tag == _STR:
            return str(key_node.value)
        if key_node.id == "scalar":
            kind = _KEY_TYPES.get(key_node.tag, "not a string")
            shown = key_node.value or "~"
            self._problem(
                key_node,
                path,
                f"key {shown} is {kind}, but keys must be strings",
                f"quote it: '{key_node.value}'",
            )
        else:
            self._problem(key_node, path, f"a {key_node.id} cannot be a key; keys must be strings")
        return None


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_$-]+")


def render_path(path: KeyPath) -> str:
    """A key path as users read it: `expect.tools.calls[1].issue_refund`."""
    out = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{part!r}]")
    return "".join(out)

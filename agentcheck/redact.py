"""Secrets and PII never reach reports unredacted: one redactor applied before anything is written.

Judging sees the real values (an expectation may need the exact card number the agent sent); the
redactor runs on each result after it is judged and before any reporter — the results stream, JSON,
JUnit, console — sees it. It masks values under sensitive keys (`password`, `api_key`, ...) and any
string matching a secret pattern (API keys, bearer tokens, card numbers that pass the Luhn check),
plus the project's own patterns and keys from `redact:` in agentcheck.yaml.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentcheck.project import RedactSettings

MASK = "[REDACTED]"

DEFAULT_KEYS: frozenset[str] = frozenset(
    {
        "password", "passwd", "secret", "client_secret", "api_key", "apikey", "token", "access_token",
        "refresh_token", "authorization", "auth", "cookie", "set-cookie", "private_key", "card_number",
        "cvv", "cvc", "ssn", "x-api-key", "passphrase",
    }
)
"""Keys whose values are always masked, compared case-insensitively with `-` and `_` alike."""

SUFFIX_KEYS: tuple[str, ...] = ("password", "passwd", "passphrase", "secret", "api_key", "apikey", "token",
                                "private_key")
"""Built-in keys that are sensitive at the end of a longer name too: `db_password`, `newPassword`,
`csrf_token`, `stripe_api_key`."""

DEFAULT_PATTERNS: tuple[str, ...] = (
    r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}",  # OpenAI / Anthropic style API keys
    r"\b(?i:bearer)\s+[A-Za-z0-9._~+/\-]{8,}=*",  # bearer tokens
    r"\bAKIA[0-9A-Z]{16}\b",  # AWS access key ids
    r"\bgh[pousr]_[A-Za-z0-9]{30,}\b",  # GitHub tokens
    r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",  # Slack tokens
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JSON Web Tokens
    r"(?<=://)[^\s/@:\"']+:[^\s/@\"']+(?=@)",  # credentials in a URL (postgres://user:pass@host)
)

_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")

# What every built-in secret must contain as literal text, in a value and so also in its JSON text
# (JSON escapes only quotes, backslashes and control characters, none of which these contain): the
# patterns' fixed prefixes ("bearer" in any case), and a card's run of digits, spaces and hyphens.
_DEFAULT_LITERALS = ("sk-", "AKIA", "xox", "-----BEGIN ", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "eyJ")
_GITHUB_LITERALS = _DEFAULT_LITERALS[4:9]
_CARD_BYTES = bytes(0x30 if chr(i) in "0123456789 -" else 0x78 for i in range(256))
"""Digits, spaces and hyphens to `0`, every other byte to `x`: a card can only sit in a run of `0`s."""
_CARD_RUN = b"0" * 13
_RUN = re.compile(b"0+")
_DIGITS = re.compile(r"\d[\d -]{12,}")
_CARD_IN_JSON = re.compile(r"(?:\b|(?<=\\[nrtbf]))(?:\d[ -]?){12,18}\d\b")
"""`_CARD` as seen in JSON text: an escaped character before the digits is a word boundary in the
value, but in the JSON text the digits follow the escape's letter (`\n4111...`)."""
_PLAIN_KEY = re.compile(r'[^"\\\x00-\x1f]*\Z')


def _card_runs(text: str) -> list[tuple[int, int]]:
    """Where `_CARD` could match in `text`: runs of 13+ digits, spaces and hyphens (fast for ASCII)."""
    if not text.isascii():  # \d also matches other scripts' digits
        return [m.span() for m in _DIGITS.finditer(text)]
    marks = text.encode("ascii").translate(_CARD_BYTES)  # positions in ASCII bytes are positions in text
    runs: list[tuple[int, int]] = []
    at = marks.find(_CARD_RUN)
    while at != -1:
        end = _RUN.match(marks, at).end()  # type: ignore[union-attr]
        runs.append((at, end))
        at = marks.find(_CARD_RUN, end)
    return runs


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"[REDACTED card …{digits[-4:]}]" if _luhn(digits) else match.group(0)


def _norm(key: str) -> str:
    return key.lower().replace("-", "_")


def _trie(words: Iterable[str]) -> str:
    """A regex matching exactly `words`, shaped as a trie: the regex engine tries alternatives one
    by one, and a trie rejects a non-match at its first differing character."""
    groups: dict[str, list[str]] = {}
    ends = False
    for word in words:
        if word:
            groups.setdefault(word[0], []).append(word[1:])
        else:
            ends = True
    if not groups:
        return ""
    branches = [re.escape(first) + _trie(rest) for first, rest in sorted(groups.items())]
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if ends else body


class Redactor:
    def __init__(self, *, patterns: Iterable[str] = (), keys: Iterable[str] = (), defaults: bool = True):
        # The built-ins share one alternation; a user's pattern is compiled alone, so its own flags work.
        self._patterns = [re.compile(p) for p in patterns]
        if defaults:
            self._patterns.insert(0, re.compile("|".join(f"(?:{p})" for p in DEFAULT_PATTERNS)))
        self._keys = {_norm(k) for k in (*(DEFAULT_KEYS if defaults else ()), *keys)}
        self._suffixes = tuple(SUFFIX_KEYS) if defaults else ()
        self._cards = defaults
        # Every built-in secret is at least 13 characters (a card number); shorter strings are skipped
        # unless the project's own patterns could match them.
        self._shortest = 13 if defaults and not patterns else 0
        self._key_memo: dict[str, bool] = {}
        # `leaves_json_alone` can vouch for JSON text only when every rule is one it knows: the
        # built-ins, and keys that JSON writes literally. A project's own patterns can match anything.
        self._vouches = len(self._patterns) == (1 if defaults else 0) and all(
            _PLAIN_KEY.match(k) for k in self._keys
        )
        # A sensitive key in JSON text, between quotes (a dot counts as a quote there: a path such as
        # `args.api_key` names the same value, and is masked like it).
        self._quoted_key = re.compile(f'"{_trie(k.replace(".", chr(34)) for k in self._keys)}"') if self._keys else None
        # A sensitive key used as a name inside a text, `key=value` or `key: value` (a call as a message
        # writes it, `login(password="...")`; JSON quoted in a message; a built-in key ending a longer
        # name, `db_password`): the value after it is masked there too. One trie of the words, so a
        # scan rejects most positions at their first character.
        words = sorted({k for k in self._keys if _PLAIN_KEY.match(k) and "." not in k} | set(self._suffixes))
        self._key_words = tuple(words)
        if words:
            names = _trie(words)
            self._key_value: re.Pattern[str] | None = re.compile(
                rf"""(?i)({names.replace("_", "[-_]")}["']?\s*[=:]\s*)(?!["']?\[REDACTED)"""
                rf"""("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;)}}\]]+)""")
        else:
            self._key_value = None

    @classmethod
    def of(cls, settings: RedactSettings) -> Redactor:
        """The redactor of a project's `redact:` settings (reports and cassettes use the same one)."""
        return cls(patterns=settings.patterns, keys=settings.keys, defaults=settings.defaults)

    @property
    def can_vouch(self) -> bool:
        """Whether `leaves_json_alone` can ever say True (not with a project's own patterns)."""
        return self._vouches

    def leaves_json_alone(self, text: str) -> bool:
        """True only when redacting the data that the JSON `text` encodes would change nothing: no
        sensitive key, no built-in secret's literal, no card-like digit run anywhere in the text.
        Conservative (a match anywhere, even in a number, says False); a run uses it to skip walking
        results with nothing to mask, merge to skip re-redacting saved results. A few scans of the
        text in C: it must cost far less than the walk it saves."""
        if not self._vouches:
            return False
        # A one-character `in` is a memchr, many times faster than a longer needle's search: each
        # longer search below runs only when a character it needs is in the text at all.
        if "\\" in text and ("\\u" in text or "\\/" in text):  # an escape could spell any character
            return False
        if self._patterns and (
            "sk-" in text
            or ("K" in text and "AKIA" in text)
            or "xox" in text
            or ("B" in text and "-----BEGIN " in text)
            or ("gh" in text and any(literal in text for literal in _GITHUB_LITERALS))
            or "eyJ" in text
            or ("@" in text and ":/" in text)  # (`:\/\/` in JSON that escapes slashes: the escape rule above)
        ):
            return False
        norm = _norm(text)  # a key written `"Api-Key"` reads `"api_key"` here, as _norm reads the key
        if self._patterns and "bearer" in norm:
            return False
        if self._cards:
            for start, end in _card_runs(text):  # the run with the two characters before it and one after
                if _CARD_IN_JSON.search(text, max(start - 2, 0), end + 1):
                    return False
        if self._quoted_key is not None and self._quoted_key.search(norm.replace(".", '"')) is not None:
            return False
        return not self._names_a_key(norm)

    def _names_a_key(self, norm: str) -> bool:
        """Whether a sensitive word is followed by what could lead to a value (a quote, an escape, a
        space, `=` or `:`) anywhere in the normalised text: a superset of what `_key_value` masks, in
        `in` and `find` scans (a trace names `input_tokens`, whose `token` is followed by `s`)."""
        for word in self._key_words:
            at = norm.find(word)
            while at != -1:
                after = norm[at + len(word):at + len(word) + 1]
                if after in _LEADS_TO_VALUE:
                    return True
                at = norm.find(word, at + 1)
        return False

    def text(self, value: str) -> str:
        if len(value) < self._shortest:
            return value
        for pattern in self._patterns:
            value = pattern.sub(MASK, value)
        if self._cards:
            value = _CARD.sub(_mask_card, value)
        if self._key_value is not None and ("=" in value or ":" in value):
            lowered = value.lower().replace("-", "_")
            if any(word in lowered for word in self._key_words):  # (most texts name no key at all)
                value = self._key_value.sub(_masked_value, value)
        return value

    def data(self, value: Any) -> Any:
        """A redacted copy of JSON-like data (dicts, lists, strings); other values as they are."""
        kind = type(value)
        if kind in _PLAIN:  # exact scalar types: nothing to mask, nothing to copy
            return value
        if kind is str and len(value) < self._shortest:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            memo, data, plain, shortest = self._key_memo, self.data, _PLAIN, self._shortest
            out = {}
            for k, v in value.items():
                hit = memo.get(k) if type(k) is str else None
                if hit is None:
                    hit = isinstance(k, str) and self._sensitive(k)
                if isinstance(k, str) and len(k) >= shortest:  # (a secret can be a key too)
                    k = self.text(k)
                if hit and v is not None:
                    out[k] = MASK
                elif type(v) in plain or (type(v) is str and len(v) < shortest):
                    out[k] = v
                else:
                    out[k] = data(v)
            return out
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return value

    def _sensitive(self, key: str) -> bool:
        """Whether values under `key` are masked: a sensitive name, alone or ending a dotted path
        (`args.api_key`, as a policy decision records the values it read); remembered per key."""
        hit = self._key_memo.get(key)
        if hit is None:
            norm = _norm(key)
            last = norm.rsplit(".", 1)[-1]
            hit = norm in self._keys or last in self._keys or (bool(self._suffixes) and last.endswith(self._suffixes))
            if len(self._key_memo) < _KEY_MEMO_SIZE:
                self._key_memo[key] = hit
        return hit

    def inplace(self, obj: Any) -> Any:
        """Redact a dataclass tree (a ScenarioResult with its trace) in place, and return it.
        Tuples (tags, ids) are names, not payloads, and are left alone. Runs once per result, so
        it dispatches on exact types instead of calling the slower generic helpers."""
        for name in _field_names(type(obj)):
            current = getattr(obj, name)
            kind = type(current)
            if kind is str:
                if len(current) >= self._shortest:
                    setattr(obj, name, self.text(current))
            elif isinstance(current, str):  # a str subclass (a str Enum an agent returned): its text, if masked
                masked = self.text(str.__str__(current))
                if masked != current:
                    setattr(obj, name, masked)
            elif kind is list and current and _is_dataclass_type(type(current[0])):
                for item in current:
                    self.inplace(item)
            elif kind is dict or kind is list:
                setattr(obj, name, self.data(current))
            elif _is_dataclass_type(kind):
                self.inplace(current)
        return obj


_LEADS_TO_VALUE = frozenset({'"', "'", "\\", " ", "\t", "=", ":", ""})
"""What may follow a sensitive word before its value (`""`: the text's end, conservatively)."""


def _masked_value(match: re.Match[str]) -> str:
    """`key=value` with the value masked, its quotes kept (the text still reads as a call or JSON)."""
    value = match.group(2)
    quote = value[0] if value[:1] in ('"', "'") else ""
    return f"{match.group(1)}{quote}{MASK}{quote}"


_PLAIN: frozenset[type] = frozenset({int, float, bool, type(None)})
_KEY_MEMO_SIZE = 4096
"""Most keys whose sensitivity a Redactor remembers (keys are names, so few are distinct)."""


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


@functools.cache
def _is_dataclass_type(cls: type) -> bool:
    return dataclasses.is_dataclass(cls)


_ACTIVE: contextvars.ContextVar[Redactor | None] = contextvars.ContextVar("agentcheck_redactor", default=None)


def activate(redactor: Redactor | None) -> contextvars.Token[Redactor | None]:
    """Make `redactor` the one `scrub` uses in this context (a run sets it before judging)."""
    return _ACTIVE.set(redactor)


def reset_redactor(token: contextvars.Token[Redactor | None]) -> None:
    _ACTIVE.reset(token)


def scrub(text: str) -> str:
    """Mask secrets in text that is about to be shortened for a message. Redacting only the final
    message would be too late: a card number cut to its first 15 digits no longer looks like one."""
    redactor = _ACTIVE.get()
    return redactor.text(text) if redactor is not None else text

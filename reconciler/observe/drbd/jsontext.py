"""Loading drbdsetup's hand-printed JSON (`status --json`, `show --json`).

drbdsetup writes its JSON with printf, so a double that is NaN or infinite comes out as glibc
prints it: `nan`, `-nan`, `inf` (e.g. `"percent-in-sync": nan` for a volume of unknown size).
That is not JSON, and Python's decoder only knows `NaN`/`Infinity`. Rather than rewriting the
text, the decoder below is the standard one with one more kind of value token: those printf
spellings, read as "no value" (None), exactly where a value may stand (never inside a string).
"""

import json
import re
from collections.abc import Callable
from json.decoder import JSONArray, JSONObject, scanstring  # type: ignore[attr-defined]
from json.scanner import NUMBER_RE
from typing import Any

from reconciler.observe.errors import ParseError

# What glibc's printf("%f") prints for a NaN or an infinite double.
_PRINTF_SPECIAL = re.compile(r"-?(?:nan|inf)(?![A-Za-z0-9_])")
_LITERALS: tuple[tuple[str, Any], ...] = (("null", None), ("true", True), ("false", False))

Scanner = Callable[[str, int], tuple[Any, int]]


def _number(match: re.Match[str]) -> tuple[Any, int]:
    integer, frac, exp = match.groups()
    if frac or exp:
        return float(integer + (frac or "") + (exp or "")), match.end()
    return int(integer), match.end()


def _make_scanner(decoder: json.JSONDecoder) -> Scanner:
    memo: dict[str, str] = {}

    def scan_once(string: str, idx: int) -> tuple[Any, int]:
        if idx >= len(string):
            raise StopIteration(idx)
        char = string[idx]
        if char == '"':
            result: tuple[Any, int] = scanstring(string, idx + 1, decoder.strict)
            return result
        if char == "{":
            result = JSONObject(
                (string, idx + 1),
                decoder.strict,
                scan_once,
                decoder.object_hook,
                decoder.object_pairs_hook,
                memo,
            )
            return result
        if char == "[":
            result = JSONArray((string, idx + 1), scan_once)
            return result
        for literal, value in _LITERALS:
            if string.startswith(literal, idx):
                return value, idx + len(literal)
        if (special := _PRINTF_SPECIAL.match(string, idx)) is not None:
            return None, special.end()
        if (number := NUMBER_RE.match(string, idx)) is not None:
            return _number(number)
        raise StopIteration(idx)

    return scan_once


class _DrbdsetupDecoder(json.JSONDecoder):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scan_once = _make_scanner(self)


def load_json(
    text: str, kind: str, *, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None
) -> Any:
    """Decode drbdsetup JSON; a syntax error becomes a `ParseError` quoting its line."""
    try:
        return json.loads(text, cls=_DrbdsetupDecoder, object_pairs_hook=object_pairs_hook)
    except json.JSONDecodeError as err:
        lines = text.splitlines()
        quoted = lines[err.lineno - 1] if 0 < err.lineno <= len(lines) else None
        raise ParseError(kind, f"not JSON: {err.msg}", line=err.lineno, text=quoted) from err


def line_of(text: str, key: str, value: object) -> int:
    """The first line showing `"key": value`: where an odd value in parsed JSON came from."""
    shown = json.dumps(value) if not isinstance(value, str) else f'"{value}"'
    for number, line in enumerate(text.splitlines(), 1):
        if f'"{key}"' in line and shown in line:
            return number
    return 1

"""Why a body is not JSON, in plain words: what is wrong and where (line and column).

orjson's messages ("unexpected character, expected a JSON value") name the parser's state,
and differ between its versions; a caller needs to know what to change. One wording for
every body the mock parses (REST and WebSocket tasks, admin scenarios).
"""

from __future__ import annotations

import orjson

# A part of orjson's message → what the sender did, in plain words (first match wins).
_WHAT = (
    ("trailing comma", "has a comma with no value after it"),
    ("end of data", "ends before the JSON is complete (a bracket, brace or string is left open)"),
    ("after document", "has more after the JSON value"),
    ("infinity", "has a number too large for a double"),
)
# The character orjson stopped at → a likely cause.
_HINTS = {
    "'": "JSON strings and keys take double quotes",
    "N": "NaN is not a JSON number",
    "I": "Infinity is not a JSON number",
    "}": "a value is missing",
    "]": "a value is missing",
}


def json_problem(raw: bytes | str, exc: orjson.JSONDecodeError) -> str:
    """What is wrong with ``raw`` (which orjson refused with ``exc``), as the end of a
    sentence starting "The body": "is not UTF-8", "has an unexpected character 'x' at
    line 1, column 6", ..."""
    text = exc.msg.lower()
    if raw[:3] == b"\xef\xbb\xbf" or raw[:1] == "\ufeff":
        return "starts with a byte-order mark; send UTF-8 without one"
    if "utf-8" in text:
        return "is not UTF-8"
    if "depth limit" in text or "recursion" in text:
        return "is nested too deeply"
    if not raw.strip():
        return "is empty; send a JSON value"
    where = f"at line {exc.lineno}, column {exc.colno}"
    for part, what in _WHAT:
        if part in text:
            return f"{what} {where}"
    if "unexpected character" in text:
        # orjson counts characters, not bytes (and the text is UTF-8: checked above)
        chars = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        char = chars[exc.pos : exc.pos + 1]
        hint = _HINTS.get(char) or (
            "object keys are strings in double quotes" if "key" in text else ""
        )
        hint = f" ({hint})" if hint else ""
        return f"has an unexpected character {char!r} {where}{hint}"
    return f"is not valid JSON {where}"

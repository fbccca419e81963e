# Source of runware_contract/values.py (copied by `python -m codegen generate`).
"""JSON values as the contract sees them: types, "provided", type-exact identity, paths;
and the violation a check reports (``Violation``, shaped as a Runware error)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

__all__ = [
    "ARTICLE",
    "JSON_TYPES",
    "MISSING",
    "UNPROVIDED",
    "RunwareError",
    "Violation",
    "fmt",
    "get",
    "json_type",
    "key",
    "presence",
    "provided",
    "put",
    "reader",
]


class RunwareError(TypedDict):
    """One entry of a Runware ``errors`` array."""

    code: str
    message: str
    parameter: str | None
    type: str | None
    documentation: str | None
    taskType: str | None
    taskUUID: str | None


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken constraint or rule: ``rule`` is the constraint name or the rule id."""

    code: str
    message: str
    parameter: str
    rule: str
    documentation: str | None = None

    def as_error(self, task: Any) -> RunwareError:
        task_type = task.get("taskType") if isinstance(task, dict) else None
        task_uuid = task.get("taskUUID") if isinstance(task, dict) else None
        return {
            "code": self.code,
            "message": self.message,
            "parameter": self.parameter,
            "type": None,
            "documentation": self.documentation,
            "taskType": task_type if isinstance(task_type, str) else None,
            "taskUUID": task_uuid if isinstance(task_uuid, str) else None,
        }


# At most this many violations are reported per task (a valid-looking task has a few).
VIOLATIONS_MAX = 100


class Full(Exception):
    """Raised by a full ``Violations``: checking stops there."""


class Violations:
    """The violations a check found so far; the one past ``VIOLATIONS_MAX`` ends the check
    (``Full``). Every check appends here, never to a list: code compiled from these
    annotations (``mockserver.compiled``) would append to a list without the bound."""

    __slots__ = ("found",)

    def __init__(self) -> None:
        self.found: list[Violation] = []

    def append(self, violation: Violation) -> None:
        if len(self.found) >= VIOLATIONS_MAX:
            raise Full
        self.found.append(violation)


JSON_TYPES: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    dict: "object",
    list: "array",
    type(None): "null",
}
ARTICLE = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}
MISSING: Any = object()  # what ``get`` returns for an absent path


def json_type(value: Any) -> str:
    """The JSON type of a parsed JSON value (a bool is never a number)."""
    kind = JSON_TYPES.get(type(value))
    if kind is not None:
        return kind
    for cls, name in JSON_TYPES.items():
        if isinstance(value, cls):
            return name
    return type(value).__name__


# What is not "provided": absent, null, an empty array, an empty object (``in`` compares
# by identity, then by ``==``).
UNPROVIDED: tuple[Any, ...] = (MISSING, None, [], {})


def provided(value: Any) -> bool:
    """Present, not null, not an empty array and not an empty object."""
    return value not in UNPROVIDED


def key(value: Any) -> tuple[str, Any]:
    """Type-exact, hashable identity for comparing JSON values (True is not 1, 1 is 1.0;
    arrays and objects compare by content and never equal an allowed scalar)."""
    kind = json_type(value)
    if kind in ("array", "object"):
        return (kind, repr(value))
    return ("number" if kind == "integer" else kind, value)


def get(obj: Any, parts: Sequence[str]) -> Any:
    """The value at ``parts`` inside ``obj`` (objects only), or ``MISSING``."""
    if len(parts) == 1:  # most paths: one key of the object itself
        return obj.get(parts[0], MISSING) if isinstance(obj, dict) else MISSING
    for part in parts:
        if not isinstance(obj, dict) or part not in obj:
            return MISSING
        obj = obj[part]
    return obj


def reader(parts: Sequence[str]) -> Callable[[dict[str, Any]], Any]:
    """``get`` of one fixed path, for the checks that read it in every task (``obj`` is
    an object: a check runs on objects only)."""
    if len(parts) == 1:
        name = parts[0]
        return lambda obj: obj.get(name, MISSING)
    fixed = tuple(parts)
    return lambda obj: get(obj, fixed)


def presence(parts: Sequence[str]) -> Callable[[dict[str, Any]], bool]:
    """``provided(get(obj, parts))`` for one fixed path (``obj`` an object, as ``reader``)."""
    if len(parts) == 1:
        name = parts[0]
        return lambda obj: obj.get(name, MISSING) not in UNPROVIDED
    fixed = tuple(parts)
    return lambda obj: get(obj, fixed) not in UNPROVIDED


def put(obj: dict[str, Any], parts: Sequence[str], value: Any) -> None:
    """Set the value at ``parts`` inside ``obj``, making the objects on the way."""
    for part in parts[:-1]:
        nxt = obj.get(part)
        if not isinstance(nxt, dict):
            nxt = obj[part] = {}
        obj = nxt
    obj[parts[-1]] = value


# A message echoes at most this much of a value, so an error never outgrows its cause.
ECHO_MAX = 100


def fmt(value: Any) -> str:
    """A value as a message shows it: strings quoted, booleans as JSON writes them, cut to
    ``ECHO_MAX`` characters."""
    if isinstance(value, str):
        text = repr(value)
    else:
        text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= ECHO_MAX else text[: ECHO_MAX - 3] + "..."

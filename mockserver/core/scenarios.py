"""Scenarios armed through the admin API (WireMock's /__admin/ convention).

A scenario is a match (all given conditions must hold for some task of a request)
and one action:
- ``fail``: matching tasks are accepted, then fail with ``code`` after ``afterSeconds``;
- ``respond``: matching requests are answered with an HTTP ``status`` and an error
  ``code`` (429 with ``retryAfter`` for rate limiting, 5xx for outages) instead of
  being handled;
- ``latency``: matching requests are answered after ``fixedMs`` or a random delay
  between ``minMs`` and ``maxMs`` (awaited, never blocking other requests).
``times`` limits how often a scenario applies (absent: every time).

Every number must be finite and within its bound in ``BOUNDS`` (an infinite delay would be
armed forever and could not be stored); at most ``MAX_SCENARIOS`` are armed at once. A
scenario's error ``code`` must be in the spec's error catalogue. A body that cannot be armed
is a ``ScenarioError`` naming the field, with the catalogue code of what is wrong with it.
"""

from __future__ import annotations

import difflib
import math
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import runware_contract as rc

MATCH_KEYS = {"promptContains", "taskType", "model", "taskUUID"}
# each action's keys
ACTION_KEYS = {
    "fail": {"code", "message", "afterSeconds"},
    "respond": {"status", "code", "message", "retryAfter"},
    "latency": {"fixedMs", "minMs", "maxMs"},
}
ACTIONS = set(ACTION_KEYS)
MAX_SCENARIOS = 100
TYPE = "invalidParameterType"  # the catalogue code of a value of the wrong JSON type
TEXT_MAX = 1000  # characters of a match value, code or message
# the largest value of each number (the smallest is 0; times is at least 1)
BOUNDS = {
    "afterSeconds": 86_400.0,
    "retryAfter": 86_400.0,
    "fixedMs": 60_000.0,
    "minMs": 60_000.0,
    "maxMs": 60_000.0,
    "times": 1_000_000.0,
}


class ScenarioError(ValueError):
    """A scenario body that cannot be armed: the message says why, ``parameter`` where, and
    ``code`` is the catalogue code the admin API answers with."""

    def __init__(
        self, message: str, parameter: str | None = None, code: str = "invalidParameterValue"
    ) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.code = code


@dataclass
class Scenario:
    id: str
    match: dict[str, str]
    action: str
    params: dict[str, Any]
    times: int | None
    used: int = 0

    def matches(self, task: Any) -> bool:
        if not isinstance(task, dict):
            return not self.match
        for key, wanted in self.match.items():
            if key == "promptContains":
                prompt = task.get("positivePrompt")
                if not isinstance(prompt, str) or wanted not in prompt:
                    return False
            elif task.get(key) != wanted:
                return False
        return True

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "match": self.match,
            self.action: self.params,
            "times": self.times,
            "used": self.used,
        }


@dataclass
class Respond:
    status: int
    code: str
    message: str
    retry_after: float | None


def _number(
    params: Mapping[str, Any], key: str, where: str, default: float | None = None
) -> float | None:
    value = params.get(key, default)
    if value is None:
        return None
    high, name = BOUNDS[key], where + key
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{name} must be a number", name, TYPE)
    if not math.isfinite(value) or not 0 <= value <= high:
        code = "valueTooSmall" if value < 0 else "valueTooLarge"
        raise ScenarioError(f"{name} must be a number from 0 to {high:g}", name, code)
    return float(value)


def _text(params: Mapping[str, Any], key: str, where: str) -> None:
    value, name = params.get(key), where + key
    if value is None:
        return
    if not isinstance(value, str):
        raise ScenarioError(f"{name} must be a string", name, TYPE)
    if len(value) > TEXT_MAX:
        raise ScenarioError(f"{name} must be at most {TEXT_MAX} characters", name, "valueTooLarge")


def _catalogued(params: Mapping[str, Any], where: str, *, required: bool) -> None:
    """``params["code"]`` is a code of the spec's error catalogue (or absent, if allowed)."""
    code, name = params.get("code"), where + "code"
    if code is None and not required:
        return
    if code is None:
        raise ScenarioError(f"{name} is required", name, "missingParameter")
    _text(params, "code", where)
    if code not in rc.errors.ERRORS:
        near = difflib.get_close_matches(code, rc.errors.ERRORS, n=1)
        hint = f"; did you mean {near[0]}?" if near else " (GET /openapi.json lists them)"
        raise ScenarioError(f"{name} {code!r} is not in the error catalogue{hint}", name)


def _unknown(given: Iterable[str], known: Iterable[str], where: str) -> None:
    """ScenarioError naming the keys of ``given`` (an object at ``where``; "" for the body)
    not in ``known``, and the known ones."""
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return
    names = ", ".join(repr(k[:100]) for k in unknown[:5])
    plural = "s" if len(unknown) > 1 else ""
    owner = where or "a scenario"
    raise ScenarioError(
        f"unknown {where + ' ' if where else ''}key{plural} {names}; "
        f"{owner} takes {', '.join(sorted(known))}",
        f"{where}.{unknown[0][:100]}" if where else unknown[0][:100],
        "unknownParameter",
    )


def parse(body: Any, scenario_id: str) -> Scenario:
    """A Scenario from an admin request body, or ScenarioError naming what is wrong."""
    if not isinstance(body, dict):
        raise ScenarioError("a scenario is a JSON object", None, "invalidRequestBody")
    _unknown(body, {"match", "times", *ACTIONS}, "")
    actions = sorted(a for a in ACTIONS if a in body)
    if not actions:
        raise ScenarioError("give one action: fail, respond or latency", "fail", "missingParameter")
    if len(actions) > 1:
        raise ScenarioError(
            f"give one action, not {' and '.join(actions)}", actions[1], "incompatibleParameters"
        )
    action = actions[0]
    match = body.get("match", {})
    if not isinstance(match, dict):
        raise ScenarioError("match must be an object", "match", TYPE)
    _unknown(match, MATCH_KEYS, "match")
    for key in match:
        if match[key] is None:  # a condition is a string; _text lets null through
            raise ScenarioError(f"match.{key} must be a string", f"match.{key}", TYPE)
        _text(match, key, "match.")
    times = body.get("times")
    if times is not None:
        if isinstance(times, bool) or not isinstance(times, int):
            raise ScenarioError("times must be an integer", "times", TYPE)
        if not 1 <= times <= BOUNDS["times"]:
            code = "valueTooSmall" if times < 1 else "valueTooLarge"
            raise ScenarioError(f"times must be from 1 to {BOUNDS['times']:g}", "times", code)
    params = body[action]
    if not isinstance(params, dict):
        raise ScenarioError(f"{action} must be an object", action, TYPE)
    where = action + "."
    _unknown(params, ACTION_KEYS[action], action)
    _text(params, "message", where)
    if action == "fail":
        _catalogued(params, where, required=True)
        _number(params, "afterSeconds", where, 0)
    elif action == "respond":
        status = params.get("status")
        if status is None:
            raise ScenarioError("respond.status is required", "respond.status", "missingParameter")
        if not isinstance(status, int) or isinstance(status, bool):
            raise ScenarioError("respond.status must be an integer", "respond.status", TYPE)
        if not 400 <= status <= 599:
            message = "respond.status must be an HTTP status from 400 to 599"
            raise ScenarioError(message, "respond.status")
        _catalogued(params, where, required=False)
        _number(params, "retryAfter", where)
    else:
        fixed, low, high = (_number(params, k, where) for k in ("fixedMs", "minMs", "maxMs"))
        if fixed is None:
            if low is None or high is None:
                message = "latency needs fixedMs, or minMs and maxMs"
                raise ScenarioError(message, "latency.fixedMs", "missingParameter")
            if low > high:
                message = "latency.minMs must not exceed latency.maxMs"
                raise ScenarioError(message, "latency.minMs")
    return Scenario(scenario_id, dict(match), action, dict(params), times)


DEFAULT_CODES = {
    429: "rateLimitExceeded",
    500: "internalServerError",
    502: "providerInternalError",
    503: "providerInternalError",
    504: "timeoutProvider",
}


@dataclass
class Scenarios:
    """The armed scenarios; safe to use from the server's threads."""

    seed: int | None = None
    items: list[Scenario] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def add(self, scenario: Scenario) -> None:
        """Arm ``scenario``, or ScenarioError when MAX_SCENARIOS are armed already."""
        with self._lock:
            if len(self.items) >= MAX_SCENARIOS:
                raise ScenarioError(
                    f"at most {MAX_SCENARIOS} scenarios can be armed; delete some first",
                    code="tooManyScenarios",
                )
            self.items.append(scenario)

    def remove(self, scenario_id: str) -> bool:
        with self._lock:
            before = len(self.items)
            self.items = [s for s in self.items if s.id != scenario_id]
            return len(self.items) != before

    def reset(self) -> None:
        with self._lock:
            self.items.clear()

    def _take(self, action: str, tasks: Iterable[Any]) -> Scenario | None:
        if not self.items:
            return None  # the common case, on every request: nothing armed
        tasks = list(tasks)
        with self._lock:
            for s in self.items:
                if s.action != action or (s.times is not None and s.used >= s.times):
                    continue
                if any(s.matches(t) for t in tasks) or (not s.match and not tasks):
                    s.used += 1
                    return s
        return None

    def respond_for(self, tasks: Iterable[Any]) -> Respond | None:
        s = self._take("respond", tasks)
        if s is None:
            return None
        status = int(s.params["status"])
        code = str(s.params.get("code") or DEFAULT_CODES.get(status, "internalServerError"))
        message = str(s.params.get("message") or f"Scenario {s.id}: HTTP {status}.")
        retry = s.params.get("retryAfter")
        return Respond(status, code, message, float(retry) if retry is not None else None)

    def latency_for(self, tasks: Iterable[Any]) -> float:
        s = self._take("latency", tasks)
        if s is None:
            return 0.0
        if "fixedMs" in s.params:
            return float(s.params["fixedMs"]) / 1000
        with self._lock:
            return self._random.uniform(s.params["minMs"], s.params["maxMs"]) / 1000

    def failure_for(self, task: Any) -> tuple[str, str, float] | None:
        s = self._take("fail", [task])
        if s is None:
            return None
        message = str(s.params.get("message") or f"The task failed (scenario {s.id}).")
        return str(s.params["code"]), message, float(s.params.get("afterSeconds", 0))

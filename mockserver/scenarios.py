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
armed forever and could not be stored); at most ``MAX_SCENARIOS`` are armed at once.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MATCH_KEYS = {"promptContains", "taskType", "model", "taskUUID"}
ACTIONS = {"fail", "respond", "latency"}
MAX_SCENARIOS = 100
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
    """A scenario body that cannot be armed; the message says why, ``parameter`` where."""

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


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
    high = BOUNDS[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= high
    ):
        raise ScenarioError(f"{where}{key} must be a number from 0 to {high:g}", where + key)
    return float(value)


def _text(params: Mapping[str, Any], key: str, where: str) -> None:
    value = params.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > TEXT_MAX):
        raise ScenarioError(f"{where}{key} must be a string of at most {TEXT_MAX}", where + key)


def parse(body: Any, scenario_id: str) -> Scenario:
    """A Scenario from an admin request body, or ScenarioError naming what is wrong."""
    if not isinstance(body, dict):
        raise ScenarioError("a scenario is a JSON object")
    unknown = set(body) - {"match", "times", *ACTIONS}
    if unknown:
        raise ScenarioError(f"unknown keys: {', '.join(sorted(unknown))}"[:TEXT_MAX])
    actions = [a for a in ACTIONS if a in body]
    if len(actions) != 1:
        raise ScenarioError("give exactly one action: fail, respond or latency")
    action = actions[0]
    match = body.get("match", {})
    if (
        not isinstance(match, dict)
        or set(match) - MATCH_KEYS
        or not all(isinstance(v, str) and len(v) <= TEXT_MAX for v in match.values())
    ):
        raise ScenarioError(
            f"match takes string values (at most {TEXT_MAX} characters) for: "
            f"{', '.join(sorted(MATCH_KEYS))}",
            "match",
        )
    times = body.get("times")
    if times is not None and (
        isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= BOUNDS["times"]
    ):
        raise ScenarioError(f"times must be an integer from 1 to {BOUNDS['times']:g}", "times")
    params = body[action]
    if not isinstance(params, dict):
        raise ScenarioError(f"{action} takes an object", action)
    where = action + "."
    _text(params, "message", where)
    if action == "fail":
        if not isinstance(params.get("code"), str):
            raise ScenarioError("fail needs a code", "fail.code")
        _text(params, "code", where)
        _number(params, "afterSeconds", where, 0)
    elif action == "respond":
        status = params.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ScenarioError("respond needs a status from 400 to 599", "respond.status")
        _text(params, "code", where)
        _number(params, "retryAfter", where)
    else:
        fixed, low, high = (_number(params, k, where) for k in ("fixedMs", "minMs", "maxMs"))
        if fixed is None and (low is None or high is None or low > high):
            raise ScenarioError("latency needs fixedMs, or minMs <= maxMs", "latency")
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
                    f"at most {MAX_SCENARIOS} scenarios can be armed; delete some first"
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

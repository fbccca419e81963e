"""Coverage of valid_tasks(): one run must show every shape the spec allows.

What "every shape" means is read from the tables, not listed by hand: every parameter
present; every enum value and both booleans; every bounded number at each bound and
between; every bounded string at each length bound and between; every array size up to
the drawn maximum; every supported dimension row in a task without frame images
(text-to-video); every frame position value at every index of one and two frame images,
and the field left out; every condition of a rule holding (an element with videos, one
with images, provider settings, ...); every operand of an exactlyOne rule alone; every
part of a union format (an image as UUID, URL, data URI, base64) in every parameter that
takes one; a prompt reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from runware_contract import klingai_video_3_0_pro as kling
from runware_contract import strategies as S
from runware_contract.platform import FORMAT_UNIONS, FORMATS
from runware_contract.runtime import provided

# Hypothesis's generate phase makes many examples by mutating earlier ones, so a run shows
# fewer distinct shapes than it has examples: at 2,000 (about 2 s) the rarest expected
# shape (two frame images with a given frame value at a given index) shows up about
# twenty times in the derandomized run; at 1,000 only twice.
EXAMPLES = 2000


def _walk(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(spec path, value) of every value in a task; array items share the array's path."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            child = f"{path}.{key}" if path else key
            yield child, value
            yield from _walk(value, child)
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, dict):
                yield from _walk(item, path)


def _scopes(task: dict[str, Any], scope: str) -> Iterator[dict[str, Any]]:
    if not scope:
        yield task
        return
    node: Any = task
    for part in scope.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    for item in node if isinstance(node, list) else []:
        if isinstance(item, dict):
            yield item


def _value(obj: dict[str, Any], path: str, scope: str) -> Any:
    node: Any = obj
    for part in (path[len(scope) + 1 :] if scope else path).split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _holds(clause: dict[str, Any], obj: dict[str, Any], scope: str) -> bool:
    results = [
        provided(value := _value(obj, c["path"], scope))
        and ("equals" not in c or value == c["equals"])
        for c in clause["conditions"]
    ]
    return any(results) if clause["mode"] == "anyOf" else all(results)


def expected(model: Any) -> set[str]:
    """Everything a run of valid tasks must show, from the model's tables."""
    want: set[str] = set()
    never = set(getattr(model.tables, "NEVER", ()))  # what the rules make impossible
    params = {p["path"]: p for p in model.tables.PARAMETERS if p["path"] not in never}
    for path, p in params.items():
        want.add(f"present {path}")
        items = p.get("items", {})
        if "enum" in p and len(p["enum"]) > 1:
            want.update(f"value {path}={v!r}" for v in p["enum"])
        elif p["types"] == ["boolean"]:
            want.update({f"value {path}=True", f"value {path}=False"})
        if p["types"] == ["integer"] and "minimum" in p:
            want.update({f"minimum {path}", f"above minimum {path}"})
            if "maximum" in p:
                want.update({f"maximum {path}", f"below maximum {path}"})
        if "minLength" in p or "maxLength" in p:
            want.update({f"minLength {path}", f"maxLength {path}", f"between lengths {path}"})
        if "array" in p["types"]:
            high = min(p.get("maxItems", S.MAX_ITEMS), 2 if items.get("type") == "object" else 3)
            want.update(f"size {path}={n}" for n in range(1, high + 1))
        fmt = p.get("format") or items.get("format")
        if fmt and fmt in FORMAT_UNIONS:
            want.update(f"form {path}={part}" for part in FORMAT_UNIONS[fmt])
    dims = model.tables.DIMENSIONS
    if dims:
        want.update(
            f"text-to-video {tuple(row[d] for d in dims['params'])}" for row in dims["rows"]
        )
    for rule in model.tables.RULES:
        when = [c["path"] for c in rule.get("when", {}).get("conditions", [])]
        if (
            when
            and not (rule["when"]["mode"] == "allOf" and set(when) & never)
            and (set(when) - never)
        ):
            want.add(f"rule {rule['id']} applies")
        if rule["kind"] == "exactlyOne":
            want.update(
                f"rule {rule['id']} alone {op}" for op in rule["params"] if not set(op) & never
            )
        if rule["kind"] == "promptReferences":
            want.add(f"rule {rule['id']} referenced")
        if rule["kind"] == "framePositions":
            values = [v for vs in rule["positions"].values() for v in vs] + [None]
            top = params[rule["target"]].get("maxItems", S.MAX_ITEMS)
            want.update(
                f"frames {n} at {i}={v!r}"
                for n in range(1, top + 1)
                for i in range(n)
                for v in values
            )
    return want


def shown(model: Any, tasks: list[dict[str, Any]]) -> set[str]:
    """What the tasks show, in the terms of ``expected``."""
    seen: set[str] = set()
    params = {p["path"]: p for p in model.tables.PARAMETERS}
    union_regexes = {
        fmt: {part: re.compile(FORMATS[part][0]) for part in parts}
        for fmt, parts in FORMAT_UNIONS.items()
    }
    dims = model.tables.DIMENSIONS
    for task in tasks:
        for path, value in _walk(task):
            p = params.get(path)
            if p is None or not provided(value):
                continue
            seen.add(f"present {path}")
            seen.add(f"value {path}={value!r}")
            if isinstance(value, int) and not isinstance(value, bool):
                if value == p.get("minimum"):
                    seen.add(f"minimum {path}")
                elif "minimum" in p and value > p["minimum"]:
                    seen.add(f"above minimum {path}")
                if value == p.get("maximum"):
                    seen.add(f"maximum {path}")
                elif "maximum" in p and value < p["maximum"]:
                    seen.add(f"below maximum {path}")
            if isinstance(value, str):
                low, high = p.get("minLength"), p.get("maxLength")
                if len(value) == low:
                    seen.add(f"minLength {path}")
                elif len(value) == high:
                    seen.add(f"maxLength {path}")
                elif (low or 0) < len(value) < (high or len(value) + 1):
                    seen.add(f"between lengths {path}")
            values = value if isinstance(value, list) else [value]
            if isinstance(value, list):
                seen.add(f"size {path}={len(value)}")
            fmt = p.get("format") or p.get("items", {}).get("format")
            for item in values:
                for part, regex in union_regexes.get(fmt or "", {}).items():
                    if isinstance(item, str) and regex.fullmatch(item):
                        seen.add(f"form {path}={part}")
        if dims and not provided(task.get("inputs", {}).get("frameImages")):
            seen.add(f"text-to-video {tuple(task.get(d) for d in dims['params'])}")
        for rule in model.tables.RULES:
            scope = rule.get("scope", "")
            for obj in _scopes(task, scope):
                if "when" in rule and _holds(rule["when"], obj, scope):
                    seen.add(f"rule {rule['id']} applies")
            if rule["kind"] == "exactlyOne":
                given = [
                    op for op in rule["params"] if any(provided(_value(task, p, "")) for p in op)
                ]
                if len(given) == 1:
                    seen.add(f"rule {rule['id']} alone {given[0]}")
            if rule["kind"] == "promptReferences" and any(
                re.search(rule["pattern"], str(task.get(path, ""))) for path in rule["in"]
            ):
                seen.add(f"rule {rule['id']} referenced")
            if rule["kind"] == "framePositions":
                items = _value(task, rule["target"], "")
                for i, item in enumerate(items if isinstance(items, list) else []):
                    seen.add(f"frames {len(items)} at {i}={item.get(rule['field'])!r}")
    return seen


@pytest.mark.slow
def test_one_run_of_valid_tasks_shows_every_shape_the_spec_allows() -> None:
    tasks: list[dict[str, Any]] = []

    @settings(
        max_examples=EXAMPLES,
        phases=[Phase.generate],
        database=None,
        derandomize=True,  # a check of the strategy, the same in every profile
        suppress_health_check=list(HealthCheck),
    )
    @given(S.valid_tasks(kling))
    def collect(task: dict[str, Any]) -> None:
        tasks.append(task)

    collect()
    assert len(tasks) == EXAMPLES
    assert sorted(expected(kling) - shown(kling, tasks)) == []


def test_the_coverage_check_reports_what_a_narrow_sample_lacks() -> None:
    """The check above can fail: the documented examples alone miss most shapes."""
    documented = [e.request for e in kling.EXAMPLES]
    missing = expected(kling) - shown(kling, documented)
    assert {
        "value outputFormat='WEBM'",
        "maximum numberResults",
        "frames 2 at 1='first'",
        "form inputs.frameImages.image=base64",
        "rule element-videos-exclude-images-and-voices applies",
    } <= missing
    assert "present positivePrompt" not in missing

"""Edges the suite once let through: each test here fails on a hand-made mutant that the rest
of the suite did not kill (named in each docstring), so the code, not only the data, is held.

Times come from a settable clock, never from sleeping: each boundary is hit exactly.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import uuid
from typing import Any

import pytest

import runware_contract as rc
from mockserver import MockConfig, MockServer
from mockserver.core.engine import RequestContext
from mockserver.core.reply import error
from mockserver.store import MemoryStore, TaskRecord, VideoRecord
from runware_contract import klingai_video_3_0_pro as kling
from runware_contract.platform import CONSTRAINT_CODES, RULE_CODES
from runware_contract.runtime import VIOLATIONS_MAX, Contract, PriceUnavailable, price_of
from tests.conftest import start_mock
from tests.helpers import new_task, png
from tests.kling_cases import RICH

TASK = copy.deepcopy(kling.EXAMPLES[0].request)


def rules_broken(task: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(v.rule, v.code, v.parameter) for v in kling.CONTRACT.violations(task)}


def test_const_is_case_sensitive() -> None:
    """Mutant: ``const`` compared case-insensitively."""
    task = {**TASK, "model": TASK["model"].upper()}
    assert ("const", "unsupportedModel", "model") in rules_broken(task)
    assert kling.CONTRACT.violations(TASK) == []


def test_forbids_does_not_count_an_empty_array_as_given() -> None:
    """Mutant: ``forbids`` treating an empty array as provided."""
    task = copy.deepcopy(RICH)
    element = task["inputs"]["elements"][1]  # the one with videos
    assert "videos" in element
    element["images"] = []
    broken = rules_broken(task)
    assert not [r for r in broken if r[0] == "element-videos-exclude-images-and-voices"], broken
    element["images"] = ["https://example.com/side.jpg"]  # given: now the rule speaks
    assert ("element-videos-exclude-images-and-voices", "incompatibleParameters") in {
        r[:2] for r in rules_broken(task)
    }


def test_an_uncatalogued_code_with_a_5xx_is_a_server_error() -> None:
    """Mutant: an uncatalogued code with HTTP 500 mapped to the validation family."""
    assert rc.errors.family_of("providerMeltdown", 500) == "server"
    assert rc.errors.family_of("providerMeltdown", 503) == "server"
    raised = rc.errors.error_for([error("providerMeltdown", "down")], 500)
    assert isinstance(raised, rc.ServerError)


def record(created: float = 0.0, ready_at: float = 10.0, expires_at: float = 100.0) -> TaskRecord:
    return TaskRecord(
        task_uuid="08885c1c-3794-4bb7-adab-b8df47f93c80",
        task_type="videoInference",
        owner="0123456789abcdef0123456789abcdef",
        created=created,
        ready_at=ready_at,
        results_json="[]",
        expires_at=expires_at,
    )


def test_progress_grows_with_time() -> None:
    """Mutant: ``progress`` that never grows."""
    task = record()
    seen = [task.progress(t) for t in (0.0, 2.5, 5.0, 9.9)]
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] == 99
    assert seen[1] < seen[2] < seen[3]


def test_a_task_is_done_exactly_at_its_ready_time() -> None:
    """Mutant: the task-done boundary moved (``>`` for ``>=``)."""
    task = record(ready_at=10.0)
    assert not task.done(9.999) and task.done(10.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_poll_at_exactly_the_expiry_finds_nothing() -> None:
    """Mutant: the poll-expiry boundary moved (``<`` for ``<=``)."""
    clock = Clock()
    server = MockServer(MockConfig(clock=clock, job_seconds=3.0, task_ttl_seconds=60.0))
    ctx = RequestContext(api_key="key", base_url="http://mock.test")
    task = {**TASK, "taskUUID": "3ad204c3-a9de-4963-8a1a-c3911e3afafe"}
    assert asyncio.run(server.engine.handle([task], ctx)).errors == []
    poll = {"taskType": "getResponse", "taskUUID": task["taskUUID"]}
    clock.now += 3.0 + 60.0 - 0.001  # just before expiry: still there
    assert asyncio.run(server.engine.handle([poll], ctx)).errors == []
    clock.now += 0.001  # exactly at expiry
    (err,) = asyncio.run(server.engine.handle([poll], ctx)).errors
    assert err["code"] == "taskNotFound"
    asyncio.run(server.store.close())


def test_the_sweep_forgets_exactly_at_expiry() -> None:
    """Mutant: the sweep boundary moved (``<`` for ``<=``)."""
    store = MemoryStore()
    task = record(expires_at=50.0)
    video = VideoRecord("aac49721-1964-481a-ae78-8a4e29b91402", "MP4", 8, 8, 1, 10.0, None, 50.0)
    asyncio.run(store.add_task(task, [video]))
    asyncio.run(store.sweep(49.999))
    assert asyncio.run(store.counts()) == {"tasks": 1, "videos": 1, "images": 0}
    asyncio.run(store.sweep(50.0))
    assert asyncio.run(store.counts()) == {"tasks": 0, "videos": 0, "images": 0}


# ── found by `nox -s mutation` (cosmic-ray): mutants of the runtime and the engine that the
# fast tests let live ──────────────────────────────────────────────────────


def stepped(step: float) -> Contract:
    """A contract of one number parameter, ``fps``, on a step of ``step``."""
    return Contract(
        task_label="t", docs="https://example.com/t",
        parameters=[{"path": "fps", "types": ["number"], "multipleOf": step}],
        rules=[], formats={}, constraint_codes=CONSTRAINT_CODES, rule_codes=RULE_CODES,
        dimensions=None,
    )  # fmt: skip


def test_a_fractional_step_holds_for_whole_and_fractional_values() -> None:
    """Mutants: ``value * step`` for ``value / step``; the whole-number shortcut taken when
    only the step is whole (3 on a step of 0.5 divided by int(0.5), a crash)."""
    half = stepped(0.5)
    assert half.violations({"fps": 2.5}) == [] and half.violations({"fps": 3}) == []
    assert [v.rule for v in half.violations({"fps": 2.3})] == ["multipleOf"]
    whole = stepped(1)
    assert whole.violations({"fps": 4}) == [] and whole.violations({"fps": 4.0}) == []
    assert [v.rule for v in whole.violations({"fps": 2.5})] == ["multipleOf"]


def test_violations_stop_at_exactly_the_cap() -> None:
    """Mutant: the bound checked with ``>`` (one violation past ``VIOLATIONS_MAX``)."""
    task = {**TASK, **{f"unknown{i}": i for i in range(VIOLATIONS_MAX + 20)}}
    assert len(kling.CONTRACT.violations(task)) == VIOLATIONS_MAX


def test_a_clip_price_applies_only_to_its_duration() -> None:
    """Mutant: a clip row matched when the duration differs from its ``seconds``."""
    pricing = {"audioDefault": False, "unit": "second", "unitParameter": "duration",
               "rates": [{"resolution": "1080p", "perClip": 0.4, "seconds": 5},
                         {"resolution": "1080p", "perClip": 0.16, "seconds": 2}]}  # fmt: skip
    dims = kling.tables.DIMENSIONS
    task = {"width": 1920, "height": 1080}
    assert price_of({**task, "duration": 2}, pricing, dims) == 0.16
    assert price_of({**task, "duration": 5}, pricing, dims) == 0.4
    with pytest.raises(PriceUnavailable):
        price_of({**task, "duration": 3}, pricing, dims)


def test_one_bad_task_of_a_batch_leaves_the_others_answered() -> None:
    """Mutants: ``break`` for ``continue`` after a task that is not an object, or that
    fails validation: the rest of the batch went unanswered."""
    with start_mock("inprocess", MockConfig(job_seconds=0.2)) as mock:
        for bad in (42, {**TASK, "duration": -1}):
            good = new_task()
            body = mock.post([bad, good]).json()
            assert [i["taskUUID"] for i in body["data"]] == [good["taskUUID"]], body
            assert len(body["errors"]) == 1, body


def test_an_image_of_exactly_the_pixel_cap_is_accepted() -> None:
    """Mutants: the cap compared with ``>=``, and width / height for width x height."""
    image = "data:image/png;base64," + base64.b64encode(png(40, 10)).decode()
    for cap, refused in ((400, False), (399, True)):
        with start_mock("inprocess", MockConfig(max_image_pixels=cap)) as mock:
            task = {"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()), "image": image}
            body = mock.post([task]).json()
            codes = [e["code"] for e in body.get("errors", [])]
            assert codes == (["maxImagePixelsExceeded"] if refused else []), body

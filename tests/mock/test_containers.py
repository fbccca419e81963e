"""The containers the mock writes are the spec's outputFormat values (videos for a video model,
images for an image model), and what a task leaves out (format, duration, number of results)
is the model's declared default, not the mock's."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

import runware_contract as rc
from mockserver import MockConfig, MockServer
from mockserver.core.engine import RequestContext
from mockserver.media.containers import CONTAINERS
from runware_contract import klingai_video_3_0_pro as kling
from runware_contract.platform import TASK_TYPES


def declared(module: Any, path: str) -> dict[str, Any] | None:
    return next((p for p in module.tables.PARAMETERS if p["path"] == path), None)


@pytest.mark.parametrize("model", sorted(rc.MODELS))
def test_every_spec_output_format_has_one_container_of_its_media(model: str) -> None:
    module = rc.MODELS[model]
    output = declared(module, "outputFormat")
    if output is None:
        pytest.skip(f"{model} declares no outputFormat")
    media = TASK_TYPES[module.TASK_TYPE]["media"]
    assert set(output["enum"]) <= {n for n, c in CONTAINERS.items() if c.media == media}
    assert len({c.extension for c in CONTAINERS.values()}) == len(CONTAINERS)


def test_what_a_task_leaves_out_is_the_models_default() -> None:
    server = MockServer(MockConfig(job_seconds=0.0))
    task = copy.deepcopy(kling.EXAMPLES[0].request)
    task["taskUUID"] = "3ad204c3-a9de-4963-8a1a-c3911e3afafe"
    for path in ("outputFormat", "duration", "numberResults"):
        task.pop(path, None)
    ctx = RequestContext(api_key="key", base_url="http://mock.test")
    assert asyncio.run(server.engine.handle([task], ctx)).errors == []
    poll = {"taskType": "getResponse", "taskUUID": task["taskUUID"]}
    items = asyncio.run(server.engine.handle([poll], ctx)).data
    fmt, seconds, count = (
        declared(kling, p)["default"]  # type: ignore[index]
        for p in ("outputFormat", "duration", "numberResults")
    )
    assert len(items) == count
    owner = ctx.owner
    for item in items:
        assert item["videoURL"].endswith(f".{CONTAINERS[fmt].extension}")
        video = asyncio.run(server.store.get_video(owner, item["videoUUID"]))
        assert video is not None and (video.container, video.seconds) == (fmt, seconds)
    asyncio.run(server.store.close())

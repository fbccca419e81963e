"""A consumer's other fixtures with ``[testing]`` installed: the per-test mock with marker
settings, and ``runware_respx`` answering ``api.runware.ai`` (respx) with real video files
(PyAV), so code with the default base URL runs unchanged."""

from __future__ import annotations

import uuid

import httpx
import my_integration
import pytest

import runware_contract as rc
from mockserver.testing import InProcessMock, RunningMock
from runware_contract import klingai_video_3_0_pro as kling


def task() -> dict[str, object]:
    return {
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "model": kling.MODEL_ID,
        "positivePrompt": "A lighthouse in a storm",
        "width": 1920,
        "height": 1080,
        "duration": 3,
    }


@pytest.mark.runware_mock(job_seconds=0.05, api_keys={"consumer-key"})
def test_the_per_test_mock_with_settings(runware_mock: RunningMock) -> None:
    url = runware_mock.url
    with rc.Client("consumer-key", base_url=url, poll_interval=0.05) as client:
        (result,) = client.run(task())
    assert isinstance(result, kling.Result)
    assert my_integration.submit(task(), base_url=url, api_key="wrong-key") == "invalidApiKey"


@pytest.mark.runware_mock(job_seconds=0.05)
def test_respx_answers_the_default_base_url(runware_respx: InProcessMock) -> None:
    assert my_integration.submit(task()) is None
    with rc.Client("any-key", poll_interval=0.05) as client:
        (result,) = client.run(task())
    video = httpx.get(result.videoURL)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert len(video.content) > 1000

"""The official `runware-sdk` 1.8.0 (REST and WebSocket transports), unchanged, against the mock.

Runs in its own environment (`nox -s sdk_runware_1_8`); see test_runware_0_5.py.
"""

from __future__ import annotations

import asyncio
from importlib import metadata
from typing import Any

import pytest

try:
    VERSION = metadata.version("runware-sdk")
except metadata.PackageNotFoundError:
    VERSION = ""
if not VERSION.startswith("1.8."):
    pytest.skip("needs runware-sdk 1.8.x: run `nox -s sdk_runware_1_8`", allow_module_level=True)

from runware import Runware, RunwareError

from mockserver import MockConfig
from mockserver.testing import RunningMock, serve
from runware_contract import klingai_video_3_0_pro as kling
from tests.helpers import IMAGE_PAGE, image_file, image_probe

TRANSPORTS = ["rest", "websocket"]


def client(mock: RunningMock, transport: str) -> Any:
    return Runware(
        api_key=mock.api_key, transport=transport, http_base_url=mock.url, ws_base_url=mock.ws_url
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_run_returns_every_result(transport: str) -> None:
    with serve(
        MockConfig(job_seconds=0.5, api_keys=frozenset({"sdk-key"})), api_key="sdk-key"
    ) as mock:

        async def main() -> list[dict[str, Any]]:
            async with client(mock, transport) as rw:
                return list(
                    await rw.run(
                        {
                            "taskType": "videoInference",
                            "model": kling.MODEL_ID,
                            "positivePrompt": "a cat on a skateboard",
                            "width": 1080,
                            "height": 1920,
                            "duration": 4,
                            "numberResults": 2,
                            "includeCost": True,
                        }
                    )
                )

        results = asyncio.run(main())
        assert len(results) == 2 and len({r["videoUUID"] for r in results}) == 2
        assert all(r["status"] == "success" and r["cost"] == 0.448 for r in results)
        assert mock.client.get(results[1]["videoURL"]).status_code == 200


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_invalid_request_raises_naming_the_parameter(transport: str) -> None:
    with serve(MockConfig(job_seconds=0.5)) as mock:

        async def main() -> None:
            async with client(mock, transport) as rw:
                await rw.run(
                    {
                        "taskType": "videoInference",
                        "model": kling.MODEL_ID,
                        "positivePrompt": "a cat",
                        "width": 1920,
                        "height": 1080,
                        "duration": 99,
                    }
                )

        with pytest.raises(RunwareError) as info:
            asyncio.run(main())
        assert info.value.parameter == "duration"
        assert info.value.code == "validation"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_task_failure_surfaces(transport: str) -> None:
    with serve(MockConfig(job_seconds=0.2)) as mock:
        mock.arm(
            {
                "match": {"promptContains": "doom"},
                "fail": {"code": "inferenceError", "message": "boom", "afterSeconds": 0.2},
            }
        )

        async def main() -> None:
            async with client(mock, transport) as rw:
                await rw.run(
                    {
                        "taskType": "videoInference",
                        "model": kling.MODEL_ID,
                        "positivePrompt": "doom",
                        "width": 1920,
                        "height": 1080,
                    }
                )

        with pytest.raises(RunwareError) as info:
            asyncio.run(main())
        assert "boom" in str(info.value)


def test_bad_key_fails_to_connect() -> None:
    with serve(MockConfig(api_keys=frozenset({"right"})), api_key="right") as mock:

        async def main() -> None:
            rw = Runware(
                api_key="wrong",
                transport="websocket",
                ws_base_url=mock.ws_url,
                http_base_url=mock.url,
            )
            async with rw:
                pass

        with pytest.raises(RunwareError):
            asyncio.run(main())


# ── imageInference: an image model served beside Kling ──────────────────────


def image_mock() -> Any:
    from mockserver.core import models

    config = MockConfig(sync_job_seconds=0.2, job_seconds=0.3)
    return serve(config, models=models.load([], [IMAGE_PAGE]))


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("delivery", ["sync", "async"])
@pytest.mark.parametrize("output_type", ["URL", "base64Data", "dataURI"])
def test_image_inference_returns_every_image(
    transport: str, delivery: str, output_type: str
) -> None:
    with image_mock() as mock:

        async def main() -> list[dict[str, Any]]:
            async with client(mock, transport) as rw:
                return list(
                    await rw.run(
                        {
                            "taskType": "imageInference",
                            "model": "acme:still@1",
                            "positivePrompt": "a lighthouse at dusk",
                            "width": 768,
                            "height": 1376,
                            "numberResults": 2,
                            "outputType": output_type,
                            "outputFormat": "WEBP",
                            "deliveryMethod": delivery,
                        }
                    )
                )

        results = asyncio.run(main())
        assert len(results) == 2 and len({r["imageUUID"] for r in results}) == 2
        for result in results:
            assert result.get("status", "success") == "success"
            data = image_file(result, lambda url: mock.client.get(url).content)
            assert image_probe(data) == ("WEBP", 768, 1376)

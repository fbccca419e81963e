"""The official `runware` 0.5.24 SDK (WebSocket), unchanged, against the mock on a socket.

Runs in its own environment (`nox -s sdk_runware_0_5`): `runware` and `runware-sdk` both
install the import name `runware`. The session sets RUNWARE_VIDEO_INITIAL_TIMEOUT and
RUNWARE_VIDEO_POLLING_DELAY (milliseconds, read at import) so polls are quick.
"""

from __future__ import annotations

import asyncio
import copy
from importlib import metadata
from typing import Any

import pytest

try:
    VERSION = metadata.version("runware")
except metadata.PackageNotFoundError:
    VERSION = ""
if not VERSION.startswith("0.5."):
    pytest.skip("needs runware 0.5.x: run `nox -s sdk_runware_0_5`", allow_module_level=True)

from runware import IVideoInference, Runware
from runware.utils import RunwareAPIError

from mockserver import MockConfig
from mockserver.testing import serve
from runware_contract import klingai_video_3_0_pro as kling
from tests.helpers import IMAGE_PAGE, image_file, image_probe

MODEL = kling.MODEL_ID


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_video_inference_and_get_response_for_two_results() -> None:
    with serve(
        MockConfig(job_seconds=0.5, api_keys=frozenset({"sdk-key"})), api_key="sdk-key"
    ) as mock:

        async def main() -> list[object]:
            rw = Runware(api_key="sdk-key", url=mock.ws_url)
            await rw.connect()
            try:
                ack = await rw.videoInference(
                    IVideoInference(
                        model=MODEL,
                        positivePrompt="a cat on a skateboard",
                        width=1920,
                        height=1080,
                        duration=5,
                        numberResults=2,
                        includeCost=True,
                    )
                )
                return list(await rw.getResponse(taskUUID=ack.taskUUID, numberResults=2))
            finally:
                await rw.disconnect()

        videos = run(main())
        assert isinstance(videos, list) and len(videos) == 2
        assert len({v.videoUUID for v in videos}) == 2
        assert all(v.status == "success" and v.cost == 0.56 for v in videos)
        served = mock.client.get(videos[0].videoURL)
        assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"


def test_invalid_request_raises_naming_the_parameter() -> None:
    with serve(MockConfig(job_seconds=0.5)) as mock:

        async def main() -> None:
            rw = Runware(api_key="any-key", url=mock.ws_url)
            await rw.connect()
            try:
                await rw.videoInference(
                    IVideoInference(model=MODEL, positivePrompt="a cat", width=1000, height=1000)
                )
            finally:
                await rw.disconnect()

        with pytest.raises(RunwareAPIError) as info:
            run(main())
        assert info.value.code == "unsupportedDimensions"
        assert info.value.error_data["parameter"] == "width"


def test_documented_example_through_the_sdk() -> None:
    example = kling.EXAMPLES[0]
    request = copy.deepcopy(example.request)
    with serve(MockConfig(job_seconds=0.3)) as mock:

        async def main() -> list[object]:
            rw = Runware(api_key="any-key", url=mock.ws_url)
            await rw.connect()
            try:
                ack = await rw.videoInference(
                    IVideoInference(
                        model=request["model"],
                        positivePrompt=request["positivePrompt"],
                        negativePrompt=request["negativePrompt"],
                        width=request["width"],
                        height=request["height"],
                        duration=request["duration"],
                    )
                )
                return list(await rw.getResponse(taskUUID=ack.taskUUID, numberResults=1))
            finally:
                await rw.disconnect()

        (video,) = run(main())
        assert video.videoUUID == example.response["videoUUID"]
        assert video.cost == example.response["cost"]


# ── imageInference: an image model served beside Kling ──────────────────────


def image_mock(**config: Any) -> Any:
    from mockserver.core import models

    settings = {"sync_job_seconds": 0.2, "job_seconds": 0.3} | config
    return serve(MockConfig(**settings), models=models.load([], [IMAGE_PAGE]))


@pytest.mark.parametrize("output_type", ["URL", "base64Data", "dataURI"])
def test_image_inference_sync_over_websocket(output_type: str) -> None:
    from runware import IImageInference

    with image_mock() as mock:

        async def main() -> list[Any]:
            rw = Runware(api_key="any-key", url=mock.ws_url)
            await rw.connect()
            try:
                return list(
                    await rw.imageInference(
                        IImageInference(
                            model="acme:still@1",
                            positivePrompt="a lighthouse at dusk",
                            width=1024,
                            height=1024,
                            numberResults=3,
                            outputType=output_type,
                            outputFormat="PNG",
                        )
                    )
                )
            finally:
                await rw.disconnect()

        images = run(main())
        assert len(images) == 3 and len({i.imageUUID for i in images}) == 3
        for image in images:
            data = image_file(vars(image), lambda url: mock.client.get(url).content)
            assert image_probe(data) == ("PNG", 1024, 1024)


def test_image_inference_async_over_websocket() -> None:
    from runware import IImageInference

    with image_mock() as mock:

        async def main() -> list[Any]:
            rw = Runware(api_key="any-key", url=mock.ws_url)
            await rw.connect()
            try:
                ack = await rw.imageInference(
                    IImageInference(
                        model="acme:still@1",
                        positivePrompt="a lighthouse at dusk",
                        width=1376,
                        height=768,
                        numberResults=2,
                        deliveryMethod="async",
                    )
                )
                return list(await rw.getResponse(taskUUID=ack.taskUUID, numberResults=2))
            finally:
                await rw.disconnect()

        images = run(main())
        assert len(images) == 2 and all(i.status == "success" for i in images)
        assert image_probe(mock.client.get(images[0].imageURL).content) == ("JPEG", 1376, 768)

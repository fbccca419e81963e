"""imageInference beside videoInference, both driven by the platform's task types
(core/task_types.py): sync answered with the results once done, async acknowledged and
polled, webhooks and uploads per result, each outputType and outputFormat decoded and
measured, seeds, bounds, render limits; in-process and on a real socket (the direct path)."""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import connect

from mockserver import MockConfig, MockServer
from mockserver.core import models
from mockserver.core.task_types import LIFECYCLES, may_wait
from mockserver.media.containers import CONTAINERS
from mockserver.testing import InProcessMock, serve
from runware_contract import google_nano_banana_2 as nano
from runware_contract import klingai_video_3_0_pro as kling
from tests import helpers
from tests.conftest import API_KEY, MockHandle, in_process, on_socket
from tests.helpers import (
    IMAGE_PAGE,
    Receiver,
    image_file,
    image_probe,
    new_task,
    png,
    real_page,
    wait_results,
)

MODEL = "acme:still@1"
CODECS = {"JPG": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
JOB = 0.3  # sync_job_seconds of these mocks


def image_task(**changes: Any) -> dict[str, Any]:
    return helpers.image_task(MODEL, **changes)


@pytest.fixture(scope="module")
def registry() -> models.ModelRegistry:
    return models.load([], [IMAGE_PAGE])


@pytest.fixture(params=["inprocess", "socket"])
def mock(request: pytest.FixtureRequest, registry: models.ModelRegistry) -> Iterator[MockHandle]:
    """A mock serving the image page and the package's Kling, in-process and on a socket."""
    config = MockConfig(job_seconds=0.3, sync_job_seconds=JOB, seed=5)
    if request.param == "socket":
        with serve(config, api_key=API_KEY, models=registry) as running:
            yield on_socket(running)
    else:
        with InProcessMock(MockServer(config, registry)) as served, in_process(served) as handle:
            yield handle


def fetch(mock: MockHandle, url: str, **headers: str) -> Any:
    path = url.split("://", 1)[1].split("/", 1)[1]
    return mock.client.get("/" + path, headers=headers)


def file_of(mock: MockHandle, item: dict[str, Any]) -> bytes:
    """The bytes of a result, whichever field carries them."""

    def get(url: str) -> bytes:
        response = fetch(mock, url)
        assert response.status_code == 200, response.text
        return bytes(response.content)

    return image_file(item, get)


# ── the lifecycle is the spec's ─────────────────────────────────────────────


def test_the_lifecycles_come_from_the_platform_spec() -> None:
    image, video = LIFECYCLES["imageInference"], LIFECYCLES["videoInference"]
    assert (image.media, image.default_delivery, image.uuid_field) == ("image", "sync", "imageUUID")
    assert (video.media, video.default_delivery, video.uuid_field) == (
        "video",
        "async",
        "videoUUID",
    )
    assert {c.media for c in CONTAINERS.values()} == {t.media for t in LIFECYCLES.values()}


def test_only_a_task_that_may_wait_leaves_the_direct_path() -> None:
    assert may_wait([image_task()])
    assert may_wait([new_task(outputType="base64Data")])  # an inline render
    assert not may_wait([new_task(), {"taskType": "getResponse"}, ["x"], {"taskType": ["x"]}])


# ── sync: the POST is answered with the results once done ───────────────────


def test_sync_is_answered_with_every_result_once_done(mock: MockHandle) -> None:
    task = image_task(numberResults=4)
    started = time.monotonic()
    response = mock.post([task])
    assert time.monotonic() - started >= JOB  # answered when the job is done, not before
    assert response.status_code == 200, response.text
    items = response.json()["data"]
    assert len(items) == 4 and {i["status"] for i in items} == {"success"}
    assert {i["taskUUID"] for i in items} == {task["taskUUID"]}
    assert len({i["imageUUID"] for i in items}) == 4 and len({i["seed"] for i in items}) == 4
    assert all(i["NSFWContent"] is False for i in items)
    files = [file_of(mock, i) for i in items]
    assert len(set(files)) == 4  # one image per seed
    assert {image_probe(f) for f in files} == {("JPEG", 1024, 1024)}  # the page's defaults
    # the task is kept: a poll sees the same results
    assert mock.poll(task["taskUUID"]).json()["data"] == items


@pytest.mark.parametrize("output_type", ["URL", "base64Data", "dataURI"])
@pytest.mark.parametrize("output_format", ["JPG", "PNG", "WEBP"])
def test_each_output_type_and_format_is_a_real_image(
    mock: MockHandle, output_type: str, output_format: str
) -> None:
    task = image_task(outputType=output_type, outputFormat=output_format, width=1376, height=768)
    (item,) = mock.post([task]).json()["data"]
    field = LIFECYCLES["imageInference"].output_types[output_type]
    assert field in item and not {"imageURL", "imageBase64Data", "imageDataURI"} - {field} & set(
        item
    )
    data = file_of(mock, item)
    assert image_probe(data) == (CODECS[output_format], 1376, 768)
    if output_type == "dataURI":
        assert item[field].startswith(f"data:{CONTAINERS[output_format].media_type};base64,")
    if output_type == "URL":
        response = fetch(mock, item[field])
        assert response.headers["content-type"] == CONTAINERS[output_format].media_type


def test_a_seed_is_reproducible_and_each_result_has_its_own(mock: MockHandle) -> None:
    first, again = (
        mock.post([image_task(seed=42, numberResults=3, outputType="base64Data")]).json()["data"]
        for _ in range(2)
    )
    assert [i["seed"] for i in first] == [42, 43, 44]
    assert [file_of(mock, i) for i in first] == [file_of(mock, i) for i in again]
    assert len({file_of(mock, i) for i in first}) == 3


def test_output_quality_is_honoured(mock: MockHandle) -> None:
    sizes = [
        len(file_of(mock, mock.post([image_task(outputType="base64Data", outputQuality=q,
                                                seed=1)]).json()["data"][0]))
        for q in (20, 99)
    ]  # fmt: skip
    assert sizes[0] * 1.5 < sizes[1]


def test_a_resolution_preset_takes_the_inputs_aspect() -> None:
    """Nano Banana 2 (packaged: its spec names the reference images' format): "1K" with a
    16:9 input is the page's 1K (16:9) row, 1376x768."""
    wide = "data:image/png;base64," + base64.b64encode(png(160, 90)).decode()
    task = image_task(model=nano.MODEL_ID, resolution="1K", inputs={"referenceImages": [wide]})
    del task["width"], task["height"]
    config = MockConfig(sync_job_seconds=0.0)
    with InProcessMock(MockServer(config)) as served, in_process(served) as mock:
        response = mock.post([task])
        assert response.status_code == 200, response.text
        (item,) = response.json()["data"]
        assert image_probe(file_of(mock, item))[1:] == (1376, 768)


# ── async: acknowledged, then polled ────────────────────────────────────────


def test_async_is_acknowledged_then_polled(mock: MockHandle) -> None:
    task = image_task(deliveryMethod="async", numberResults=2, outputType="dataURI")
    ack = mock.post([task]).json()["data"]
    assert ack == [{"taskType": "imageInference", "taskUUID": task["taskUUID"]}]
    processing = mock.poll(task["taskUUID"]).json()["data"]
    assert {i["status"] for i in processing} <= {"processing", "success"}
    if processing[0]["status"] == "processing":
        assert all("imageUUID" in i and "imageDataURI" not in i for i in processing)
    done = wait_results(mock, task["taskUUID"]).json()["data"]
    assert [i["imageUUID"] for i in done] == [i["imageUUID"] for i in processing]
    assert {image_probe(file_of(mock, i)) for i in done} == {("JPEG", 1024, 1024)}


# ── deliveries per result ───────────────────────────────────────────────────


def test_webhooks_and_uploads_are_one_per_result(mock: MockHandle) -> None:
    with Receiver() as hooks, Receiver() as uploads:
        task = image_task(
            numberResults=3, outputFormat="PNG", webhookURL=hooks.hook,
            uploadEndpoint=f"{uploads.url}/put",
        )  # fmt: skip
        items = mock.post([task]).json()["data"]
        hooks.wait_for(3)
        uploads.wait_for(3)
        assert sorted(b["data"][0]["imageUUID"] for b in hooks.json_bodies) == sorted(
            i["imageUUID"] for i in items
        )
        assert all(len(b["data"]) == 1 for b in hooks.json_bodies)
        puts = uploads.received
        assert {p.content_type for p in puts} == {"image/png"}
        assert sorted(p.body for p in puts) == sorted(file_of(mock, i) for i in items)


# ── media URLs: ttl and ranges, as videos have them ─────────────────────────


def test_an_image_url_is_signed_ranged_and_expires_with_its_ttl(mock: MockHandle) -> None:
    (item,) = mock.post([image_task(ttl=60)]).json()["data"]
    url = item["imageURL"]
    whole = fetch(mock, url).content
    part = fetch(mock, url, Range="bytes=0-99")
    assert part.status_code == 206 and part.content == whole[:100]
    forged = url.replace("/image/", "/image/0" if "/image/f" in url else "/image/f", 1)
    assert fetch(mock, forged).status_code in (403, 404)
    clock = mock.server.config.clock
    mock.server.config.clock = lambda: clock() + 61
    assert fetch(mock, url).status_code == 410


# ── bounds and rules: one error per violated parameter ──────────────────────


def test_each_violated_parameter_gets_exactly_one_error(mock: MockHandle) -> None:
    task = image_task(numberResults=21, outputQuality=5, outputFormat="GIF", width=1000)
    response = mock.post([task])
    assert response.status_code == 400
    named = [e["parameter"] for e in response.json()["errors"]]
    assert sorted(named) == sorted(["numberResults", "outputQuality", "outputFormat", "width"])
    assert {e["taskUUID"] for e in response.json()["errors"]} == {task["taskUUID"]}


@pytest.mark.parametrize("deliveryMethod", ["sync", "async"])
def test_an_image_beyond_the_render_bound_is_refused_naming_it(
    registry: models.ModelRegistry, deliveryMethod: str
) -> None:
    config = MockConfig(sync_job_seconds=0.0, max_render_pixels=2048 * 2048 - 1)
    with InProcessMock(MockServer(config, registry)) as served, in_process(served) as mock:
        task = image_task(width=2048, height=2048, deliveryMethod=deliveryMethod)
        response = mock.post([task])
        assert response.status_code == 400
        (err,) = response.json()["errors"]
        assert (err["code"], err["parameter"], err["taskUUID"]) == (
            "maxImagePixelsExceeded", "width", task["taskUUID"],
        )  # fmt: skip
        assert mock.poll(task["taskUUID"]).json()["errors"][0]["code"] == "taskNotFound"


# ── one mock, an image model and Kling ──────────────────────────────────────


def test_an_image_model_and_kling_in_one_mock(mock: MockHandle) -> None:
    assert {MODEL, kling.MODEL_ID} <= set(mock.server.models)
    video, image = new_task(), image_task()
    response = mock.post([video, image]).json()["data"]
    assert response[0] == {"taskType": "videoInference", "taskUUID": video["taskUUID"]}
    assert response[1]["taskUUID"] == image["taskUUID"] and "imageURL" in response[1]
    done = wait_results(mock, video["taskUUID"]).json()["data"]
    assert all("videoURL" in i for i in done)


# ── WebSocket ───────────────────────────────────────────────────────────────


def test_websocket_sync_answers_results_and_async_pushes_them(
    registry: models.ModelRegistry,
) -> None:
    config = MockConfig(job_seconds=0.3, sync_job_seconds=JOB)
    with serve(config, api_key=API_KEY, models=registry) as running, connect(running.ws_url) as ws:
        ws.send(json.dumps([{"taskType": "authentication", "apiKey": API_KEY}]))
        ws.recv(timeout=10)
        sync = image_task(numberResults=2, outputType="base64Data")
        ws.send(json.dumps([sync]))
        items = json.loads(ws.recv(timeout=10))["data"]
        assert [i["taskUUID"] for i in items] == [sync["taskUUID"]] * 2
        assert {image_probe(base64.b64decode(i["imageBase64Data"])) for i in items} == {
            ("JPEG", 1024, 1024)
        }
        later = image_task(deliveryMethod="async")
        ws.send(json.dumps([later]))
        ack = json.loads(ws.recv(timeout=10))["data"]
        assert ack == [{"taskType": "imageInference", "taskUUID": later["taskUUID"]}]
        pushed = json.loads(ws.recv(timeout=10))["data"]
        assert pushed[0]["taskUUID"] == later["taskUUID"] and "imageURL" in pushed[0]


# ── costs ───────────────────────────────────────────────────────────────────


def test_include_cost_is_the_models_price(mock: MockHandle, registry: models.ModelRegistry) -> None:
    module = registry.models[MODEL]
    task = image_task(numberResults=2, includeCost=True)
    items = mock.post([task]).json()["data"]
    assert {i["cost"] for i in items} == {module.price(module.with_defaults(copy.deepcopy(task)))}
    assert [i["cost"] for i in items] == [pytest.approx(0.02)] * 2  # the page: 1K, $0.02 each


# ── Runware's own image pages, served with --page ───────────────────────────

# page -> (model, the page's price of one 1024x1024 image, when the page gives one alone)
REAL_PAGES = {
    "google-nano-banana-2.md": ("google:4@3", 0.06895),
    "google-nano-banana-pro.md": ("google:4@2", 0.138),
    "openai-gpt-image-2.md": ("openai:gpt-image@2", None),
}


@pytest.mark.parametrize("page", sorted(REAL_PAGES))
def test_a_real_image_page_is_served_sync_and_async(page: str) -> None:
    model, price = REAL_PAGES[page]
    registry = models.load([], [real_page(page)])
    config = MockConfig(sync_job_seconds=0.1, job_seconds=0.2)
    with serve(config, api_key=API_KEY, models=registry) as running:
        mock = on_socket(running)
        task = image_task(model=model, numberResults=2, includeCost=True)
        response = mock.post([task])
        assert response.status_code == 200, response.text
        items = response.json()["data"]
        assert len({i["imageUUID"] for i in items}) == 2
        assert {image_probe(file_of(mock, i)) for i in items} == {("JPEG", 1024, 1024)}
        module = registry.models[model]
        if price is not None:  # the page's figure: each result costs one image
            assert [i["cost"] for i in items] == [pytest.approx(price)] * 2
        else:
            expected = {module.price(module.with_defaults(task))} if "cost" in items[0] else None
            assert expected is None or {i["cost"] for i in items} == expected
        later = image_task(model=model, deliveryMethod="async", outputType="dataURI",
                           outputFormat="PNG")  # fmt: skip
        assert mock.post([later]).json()["data"] == [
            {"taskType": "imageInference", "taskUUID": later["taskUUID"]}
        ]
        (done,) = wait_results(mock, later["taskUUID"]).json()["data"]
        assert image_probe(file_of(mock, done)) == ("PNG", 1024, 1024)


def test_a_sync_task_that_fails_is_answered_with_its_error(mock: MockHandle) -> None:
    scenario = {"match": {"promptContains": "volcano"}, "fail": {"code": "inferenceError"}}
    assert mock.client.post("/__admin/scenarios", json=scenario).status_code in (200, 201)
    task = image_task(positivePrompt="a volcano at dawn")
    response = mock.post([task])
    assert response.status_code == 500
    (err,) = response.json()["errors"]
    assert (err["code"], err["taskUUID"]) == ("inferenceError", task["taskUUID"])

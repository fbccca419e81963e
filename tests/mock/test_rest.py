"""The mock over REST, each test in-process and over a real socket (the ``mock`` fixture)."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import uuid
from typing import Any

import pytest
from websockets.sync.client import connect

import runware_contract as rc
from runware_contract import klingai_video_3_0_pro as kling
from tests.conftest import API_KEY, MockHandle
from tests.helpers import new_task, png, probe, wait_results
from tests.kling_cases import RICH


def skip_ahead(mock: MockHandle, seconds: float) -> None:
    """Move the mock's clock (polls, media, expiry) ``seconds`` ahead, whatever its store."""
    clock = mock.server.config.clock
    mock.server.config.clock = lambda: clock() + seconds


# ── authentication ──────────────────────────────────────────────────────────


def test_missing_key_is_401(mock: MockHandle) -> None:
    response = mock.client.post("/v1", json=[new_task()], headers={"Authorization": ""})
    assert response.status_code == 401
    (err,) = response.json()["errors"]
    assert err["code"] == "missingApiKey" and err["taskUUID"] is not None


@pytest.mark.runware_mock(api_keys=frozenset({"right"}))
def test_wrong_key_is_401_and_right_key_works(mock: MockHandle) -> None:
    wrong = mock.client.post("/v1", json=[new_task()], headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.json()["errors"][0]["code"] == "invalidApiKey"
    assert mock.post([new_task()]).status_code == 200


@pytest.mark.runware_mock(api_keys=frozenset({"right"}))
def test_authentication_task_first_in_the_array(mock: MockHandle) -> None:
    task = new_task()
    body = [{"taskType": "authentication", "apiKey": "right"}, task]
    response = mock.client.post("/v1", json=body, headers={"Authorization": ""})
    assert response.status_code == 200
    auth, ack = response.json()["data"]
    assert auth["taskType"] == "authentication" and "connectionSessionUUID" in auth
    assert ack == {"taskType": "videoInference", "taskUUID": task["taskUUID"]}


# ── async lifecycle ─────────────────────────────────────────────────────────


def test_lifecycle_processing_then_results(mock: MockHandle) -> None:
    task = new_task(numberResults=3, includeCost=True)
    ack = mock.post([task])
    assert ack.status_code == 200
    assert ack.json() == {"data": [{"taskType": "videoInference", "taskUUID": task["taskUUID"]}]}
    first = mock.poll(task["taskUUID"]).json()["data"]
    assert [i["status"] for i in first] == ["processing"] * 3
    assert all(0 <= i["progress"] <= 99 and i["taskType"] == "videoInference" for i in first)
    items = wait_results(mock, task["taskUUID"]).json()["data"]
    assert len(items) == 3
    assert len({i["videoUUID"] for i in items}) == 3 and len({i["seed"] for i in items}) == 3
    assert {i["videoUUID"] for i in items} == {i["videoUUID"] for i in first}
    for item in items:
        assert item["taskUUID"] == task["taskUUID"] and item["NSFWContent"] is False
        assert item["cost"] == kling.price(task) == 1.12
        assert kling.validate_result(item) == []
        kling.Result.model_validate(item)


def test_no_cost_unless_asked(mock: MockHandle) -> None:
    task = new_task(duration=4)
    mock.post([task])
    (item,) = wait_results(mock, task["taskUUID"]).json()["data"]
    assert "cost" not in item


def test_validation_errors_all_at_once(mock: MockHandle) -> None:
    task = new_task(duration=99, width=5, bogus=1)
    response = mock.post([task])
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(e["code"], e["parameter"]) for e in errors} == {
        ("valueTooLarge", "duration"),
        ("unsupportedDimensions", "width"),
        ("unknownParameter", "bogus"),
    }
    assert all(
        e["taskUUID"] == task["taskUUID"] and e["taskType"] == "videoInference" for e in errors
    )


def test_batch_runs_valid_tasks_beside_invalid_ones(mock: MockHandle) -> None:
    good, bad = new_task(), new_task(outputFormat="AVI")
    response = mock.post([good, bad])
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == [{"taskType": "videoInference", "taskUUID": good["taskUUID"]}]
    assert [(e["code"], e["taskUUID"]) for e in body["errors"]] == [
        ("invalidParameterValue", bad["taskUUID"])
    ]
    assert mock.poll(bad["taskUUID"]).json()["errors"][0]["code"] == "taskNotFound"


def test_reused_task_uuid_is_a_conflict(mock: MockHandle) -> None:
    task = new_task()
    mock.post([task])
    response = mock.post([task])
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "conflictTaskUUID"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{nope", "invalidRequestBody"),
        (b"\xff\xfe[]", "invalidRequestBody"),
        (b'{"taskType": "videoInference"}', "invalidRequestBody"),
        (b"[]", "invalidEmptyRequest"),
        (b"[NaN]", "invalidRequestBody"),
        (b"", "invalidRequestBody"),
    ],
)
def test_malformed_bodies_get_clear_400s(mock: MockHandle, content: bytes, code: str) -> None:
    response = mock.client.post(
        "/v1", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    assert mock.client.get("/health").status_code == 200  # still serving


@pytest.mark.parametrize(
    ("task", "code", "status"),
    [
        (5, "invalidRequestBody", 400),
        ({"taskType": "danceInference", "taskUUID": str(uuid.uuid4())}, "invalidTaskType", 400),
        ({"taskType": "getResponse", "taskUUID": str(uuid.uuid4())}, "taskNotFound", 404),
        ({"taskType": "videoInference", "model": "nobody:model@1"}, "unsupportedModel", 400),
    ],
)
def test_task_level_errors(mock: MockHandle, task: Any, code: str, status: int) -> None:
    response = mock.post([task])
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code


@pytest.mark.parametrize("given", ["application/x-www-form-urlencoded", "text/plain"])
def test_wrong_content_type_is_415_naming_the_header_to_send(mock: MockHandle, given: str) -> None:
    """curl -d sends a form type: the answer says which header the mock needs."""
    response = mock.client.post("/v1", content=b"[]", headers={"Content-Type": given})
    assert response.status_code == 415
    (entry,) = response.json()["errors"]
    assert entry["code"] == "unsupportedContentType"
    assert entry["parameter"] == "Content-Type"
    assert "'Content-Type: application/json'" in entry["message"]
    assert f"was {given!r}" in entry["message"]


def test_a_long_content_type_is_cut_in_the_415(mock: MockHandle) -> None:
    given = "text/" + "x" * 5000
    response = mock.client.post("/v1", content=b"[]", headers={"Content-Type": given})
    message = response.json()["errors"][0]["message"]
    assert response.status_code == 415 and given[:80] in message and len(message) < 400


@pytest.mark.runware_mock(max_body_bytes=1000)
def test_oversized_body_is_413(mock: MockHandle) -> None:
    response = mock.post([new_task(positivePrompt="x" * 2000)])
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "maxPayloadSizeExceeded"


@pytest.mark.runware_mock(api_keys=frozenset({"a", "b"}))
def test_tasks_are_private_to_their_key(mock: MockHandle) -> None:
    task = new_task()
    mock.client.post("/v1", json=[task], headers={"Authorization": "Bearer a"})
    other = mock.client.post(
        "/v1",
        json=[{"taskType": "getResponse", "taskUUID": task["taskUUID"]}],
        headers={"Authorization": "Bearer b"},
    )
    assert other.status_code == 404


def test_expired_tasks_are_not_found(mock: MockHandle) -> None:
    task = new_task()
    mock.post([task])
    skip_ahead(mock, mock.server.config.task_ttl_seconds + 1)
    assert mock.poll(task["taskUUID"]).json()["errors"][0]["code"] == "taskNotFound"


def test_ping(mock: MockHandle) -> None:
    assert mock.post([{"taskType": "ping", "ping": True}]).json() == {
        "data": [{"taskType": "ping", "pong": True}]
    }


# ── media ───────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("container", "fmt", "codec", "content_type"),
    [
        ("MP4", "mov,mp4,m4a,3gp,3g2,mj2", "h264", "video/mp4"),
        ("WEBM", "matroska,webm", "vp9", "video/webm"),
        ("MOV", "mov,mp4,m4a,3gp,3g2,mj2", "h264", "video/quicktime"),
    ],
)
def test_served_video_is_real(
    mock: MockHandle, container: str, fmt: str, codec: str, content_type: str
) -> None:
    task = new_task(outputFormat=container, width=1080, height=1920, duration=3)
    mock.post([task])
    (item,) = wait_results(mock, task["taskUUID"]).json()["data"]
    assert item["videoURL"].endswith("." + container.lower())
    response = mock.client.get(item["videoURL"])
    assert response.status_code == 200 and response.headers["content-type"] == content_type
    assert probe(response.content) == (fmt, codec, 1080, 1920, 3.0)


def test_video_is_gone_after_its_ttl(mock: MockHandle) -> None:
    task = new_task(ttl=60, duration=3)
    mock.post([task])
    (item,) = wait_results(mock, task["taskUUID"]).json()["data"]
    assert mock.client.get(item["videoURL"]).status_code == 200
    skip_ahead(mock, 61)  # past the ttl of 60 s, not past the task's expiry
    assert mock.client.get(item["videoURL"]).status_code == 410


def test_video_urls_cannot_reach_other_files(mock: MockHandle) -> None:
    for path in (
        "/video/..%2f..%2fetc%2fpasswd",
        "/video/../../pyproject.toml",
        "/video/not-a-uuid.mp4",
        f"/video/{uuid.uuid4()}.mp4",
    ):
        assert mock.client.get(path).status_code == 404, path


def test_image_upload_and_image_to_video_size(mock: MockHandle) -> None:
    image = png(300, 600)
    data_uri = "data:image/png;base64," + base64.b64encode(image).decode()
    upload = {"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()), "image": data_uri}
    (item,) = mock.post([upload]).json()["data"]
    assert item["taskType"] == "imageUpload" and item["imageUUID"] and item["imageURL"]
    assert mock.client.get(item["imageURL"]).content == image
    task = copy.deepcopy(kling.EXAMPLES[2].request)
    task["taskUUID"] = str(uuid.uuid4())
    task["inputs"]["frameImages"][0]["image"] = item["imageUUID"]
    assert mock.post([task]).status_code == 200
    (result,) = wait_results(mock, task["taskUUID"]).json()["data"]
    assert probe(mock.client.get(result["videoURL"]).content)[2:4] == (1080, 1920)  # 1:2 → 9:16


def test_image_to_video_from_inline_square_image_and_unknown_url(mock: MockHandle) -> None:
    square = copy.deepcopy(kling.EXAMPLES[2].request)
    square["taskUUID"] = str(uuid.uuid4())
    square["inputs"]["frameImages"][0]["image"] = base64.b64encode(png(64, 60)).decode()
    elsewhere = copy.deepcopy(kling.EXAMPLES[2].request)
    elsewhere["taskUUID"] = str(uuid.uuid4())
    elsewhere["inputs"]["frameImages"][0]["image"] = "https://images.example.com/unknown.jpg"
    mock.post([square, elsewhere])
    sizes = []
    for task in (square, elsewhere):
        (result,) = wait_results(mock, task["taskUUID"]).json()["data"]
        owner = mock.server.config.owner_of(API_KEY)
        video = asyncio.run(mock.server.store.get_video(owner, result["videoUUID"]))
        assert video is not None
        sizes.append((video.width, video.height))
    assert sizes == [(1440, 1440), (1920, 1080)]


# ── documented examples ─────────────────────────────────────────────────────


@pytest.mark.parametrize("example", kling.EXAMPLES, ids=lambda e: e.name)
def test_documented_request_verbatim_gets_documented_response(
    mock: MockHandle, example: Any
) -> None:
    assert mock.post([example.request]).status_code == 200
    (item,) = wait_results(mock, example.request["taskUUID"]).json()["data"]
    assert {k: v for k, v in item.items() if k != "status"} == example.response
    assert item["status"] == "success"


@pytest.mark.parametrize("example", kling.EXAMPLES, ids=lambda e: e.name)
def test_documented_parameters_replay_documented_values(mock: MockHandle, example: Any) -> None:
    task = copy.deepcopy(example.request)
    task["taskUUID"] = str(uuid.uuid4())
    mock.post([task])
    (item,) = wait_results(mock, task["taskUUID"]).json()["data"]
    assert item["videoUUID"] == example.response["videoUUID"]
    assert item["cost"] == example.response["cost"]
    assert item["taskUUID"] == task["taskUUID"]
    assert mock.client.get(item["videoURL"]).status_code == 200  # served by the mock


def test_prefer_header_picks_an_example(mock: MockHandle) -> None:
    example = kling.EXAMPLES[1]
    task = new_task()
    response = mock.post([task], headers={"Prefer": f"example={example.name}"})
    assert response.status_code == 200
    (item,) = response.json()["data"]
    assert item["videoUUID"] == example.response["videoUUID"]
    unknown = mock.post([new_task()], headers={"Prefer": "example=nope"})
    assert unknown.status_code == 400


def test_openapi_and_health(mock: MockHandle) -> None:
    anonymous = mock.client.get("/openapi.json", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["code"] == "missingApiKey"
    doc = mock.client.get("/openapi.json").json()
    assert doc["openapi"] == "3.1.0" and "/v1" in doc["paths"]
    health = mock.client.get("/health", headers={"Authorization": ""})
    assert health.status_code == 200 and health.json()["models"] == sorted(rc.MODELS)


def test_the_index_points_to_the_api(mock: MockHandle) -> None:
    index = mock.client.get("/", headers={"Authorization": ""})  # no key needed
    assert index.status_code == 200
    body = index.json()
    links = body["links"]
    assert body["models"] == sorted(rc.MODELS)  # Kling and the image model
    assert set(links) == {"rest", "websocket", "health", "openapi"}
    # every link works as it says
    assert mock.client.get(links["health"]).json()["status"] == "ok"
    assert "/v1" in mock.client.get(links["openapi"]).json()["paths"]
    ping = mock.client.post(links["rest"], json=[{"taskType": "ping", "ping": True}])
    assert ping.json() == {"data": [{"taskType": "ping", "pong": True}]}
    if mock.ws_url is not None:
        assert links["websocket"] == mock.ws_url
        with connect(links["websocket"]) as ws:
            ws.send(json.dumps([{"taskType": "authentication", "apiKey": API_KEY}]))
            assert "connectionSessionUUID" in ws.recv()
    text = mock.client.get("/", headers={"Authorization": "", "Accept": "text/html,*/*"})
    assert text.headers["content-type"].startswith("text/plain")
    assert all(url in text.text for url in links.values())


@pytest.mark.runware_mock(public_url="https://mock.example:8443")
def test_the_index_uses_the_public_url(mock: MockHandle) -> None:
    links = mock.client.get("/").json()["links"]
    assert links["rest"] == "https://mock.example:8443/v1"
    assert links["websocket"] == "wss://mock.example:8443/v1"


@pytest.mark.runware_mock(seed=42)
def test_seed_makes_results_deterministic(mock: MockHandle) -> None:
    task = new_task(taskUUID="5f0c1e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f", duration=4)
    mock.post([task])
    (item,) = wait_results(mock, task["taskUUID"]).json()["data"]
    from mockserver.core.ids import IdSource

    ids = IdSource(42)
    assert item["videoUUID"] == ids.uuid4(task["taskUUID"], "video", 0)
    assert item["seed"] == ids.integer(task["taskUUID"], "seed", 0)


def test_rich_task_runs(mock: MockHandle) -> None:
    task = copy.deepcopy(RICH)
    task["taskUUID"] = str(uuid.uuid4())
    task.pop("webhookURL")
    task.pop("uploadEndpoint")
    assert mock.post([task]).status_code == 200
    items = wait_results(mock, task["taskUUID"]).json()["data"]
    assert len(items) == 2 and all(i["videoURL"].endswith(".webm") for i in items)


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
def test_other_methods_on_v1_are_405_allowing_post(mock: MockHandle, method: str) -> None:
    response = mock.client.request(method, "/v1")
    assert response.status_code == 405 and response.headers["allow"] == "POST"


# ── uploads: what the mock keeps and hands back ─────────────────────────────


def upload(mock: MockHandle, image: str) -> Any:
    """The reply to one imageUpload of ``image`` (its data item, or its error)."""
    body = mock.post([{"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()), "image": image}])
    return body.json()


def test_an_upload_is_served_with_its_type_and_its_url_uploaded_again_is_a_new_image(
    mock: MockHandle,
) -> None:
    image = png(40, 30)
    (first,) = upload(mock, "data:image/png;base64," + base64.b64encode(image).decode())["data"]
    served = mock.client.get(first["imageURL"])
    assert (served.content, served.headers["content-type"]) == (image, "image/png")
    (again,) = upload(mock, first["imageURL"])["data"]  # the mock's own signed URL
    assert again["imageUUID"] != first["imageUUID"]
    assert again["imageUUID"] in again["imageURL"] and first["imageUUID"] not in again["imageURL"]
    served = mock.client.get(again["imageURL"])
    assert (served.content, served.headers["content-type"]) == (image, "image/png")


def test_an_upload_the_mock_cannot_read_keeps_no_bytes(mock: MockHandle) -> None:
    """A URL the mock does not fetch is handed back as it is; a UUID it does not hold gets a
    URL of the mock's that has nothing behind it (404), not bytes made up from the UUID."""
    elsewhere = "https://images.example.com/cat.png"
    (by_url,) = upload(mock, elsewhere)["data"]
    assert by_url["imageURL"] == elsewhere
    (by_uuid,) = upload(mock, str(uuid.uuid4()))["data"]
    assert by_uuid["imageURL"] != elsewhere and by_uuid["imageUUID"] in by_uuid["imageURL"]
    missing = mock.client.get(by_uuid["imageURL"])
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"]


def gif_header(width: int, height: int) -> str:
    """The shortest raw base64 image the format takes: 16 characters, a GIF's first 12
    bytes (its size is in the first 10)."""
    data = b"GIF89a" + width.to_bytes(2, "little") + height.to_bytes(2, "little") + b"\x00\x00"
    encoded = base64.b64encode(data).decode()
    assert len(encoded) == 16
    return encoded


@pytest.mark.runware_mock(max_image_pixels=5)
def test_the_upload_pixel_cap_is_read_even_from_the_shortest_base64(mock: MockHandle) -> None:
    """5 pixels (5x1) is at the cap and kept; 6 (3x2) is one past it and refused, naming
    the image and the task."""
    assert "data" in upload(mock, gif_header(5, 1))
    task_uuid = str(uuid.uuid4())
    reply = mock.post(
        [{"taskType": "imageUpload", "taskUUID": task_uuid, "image": gif_header(3, 2)}]
    )
    (err,) = reply.json()["errors"]
    assert (err["code"], err["parameter"], err["taskUUID"]) == (
        "maxImagePixelsExceeded", "image", task_uuid,
    )  # fmt: skip

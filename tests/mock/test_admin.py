"""Scenarios, the request journal, reset, and webhook/upload deliveries."""

from __future__ import annotations

import concurrent.futures
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import MockHandle
from tests.helpers import Receiver, fail_first, new_task, probe, wait_outcomes, wait_results

# ── scenarios ───────────────────────────────────────────────────────────────


def test_admin_needs_a_key(mock: MockHandle) -> None:
    for method, path in (
        ("GET", "/__admin/scenarios"),
        ("GET", "/__admin/requests"),
        ("POST", "/__admin/reset"),
        ("GET", "/__admin/deliveries"),
    ):
        response = mock.client.request(method, path, headers={"Authorization": ""})
        assert response.status_code == 401, path
        assert response.json()["errors"][0]["code"] == "missingApiKey"


def test_the_index_lists_every_endpoint_and_each_is_served(mock: MockHandle) -> None:
    """GET /__admin/ (the URL the banner prints) lists the admin API; with no key, 401."""
    refused = mock.client.get("/__admin/", headers={"Authorization": ""})
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "missingApiKey"
    for path in ("/__admin/", "/__admin"):
        listed = mock.client.get(path)
        assert listed.status_code == 200, path
        endpoints = listed.json()["endpoints"]
    paths = {e["path"]: e["methods"] for e in endpoints}
    assert {"/__admin/scenarios", "/__admin/requests", "/__admin/deliveries"} <= set(paths)
    assert paths["/__admin/reset"] == ["POST"] and "/__admin/ui" in paths
    for path, methods in paths.items():
        if "GET" in methods and "{" not in path:
            assert mock.client.get(path).status_code == 200, path
    assert all(e["description"] for e in endpoints)


def test_admin_json_is_camel_case_and_hides_delivery_secrets(mock: MockHandle) -> None:
    """The journal and the deliveries speak the wire format's camelCase; a webhook URL's
    token and an upload URL's credentials are cut as the logs cut them, in both."""
    with Receiver() as hook:
        task = new_task(webhookURL=f"{hook.url}/hook?token=s3cret-token")
        upload = new_task(uploadEndpoint=f"http://user:pa55@{hook.url[7:]}/put?sig=s1gnature")
        mock.post([task, upload])
        hook.wait_for(2)
        found = wait_outcomes(mock, 2, timeout=10)
    entry = mock.client.get("/__admin/requests").json()["requests"][0]
    assert {"taskTypes", "taskUUIDs", "errorCodes", "durationMs"} <= set(entry)
    assert not [key for key in entry if "_" in key]
    kept = {t["taskUUID"]: t for t in entry["request"]}
    assert kept[task["taskUUID"]]["webhookURL"] == f"{hook.url}/hook?[redacted]"
    assert (
        kept[upload["taskUUID"]]["uploadEndpoint"]
        == f"http://[redacted]@{hook.url[7:]}/put?[redacted]"
    )
    for outcome in found:
        assert set(outcome) == {
            "kind", "url", "taskUUID", "attempts", "status", "ok", "finished", "reason"
        }  # fmt: skip
    text = json.dumps(found) + json.dumps(entry)
    assert "s3cret-token" not in text and "pa55" not in text and "s1gnature" not in text


def test_failure_scenario_by_prompt(mock: MockHandle) -> None:
    armed = mock.client.post(
        "/__admin/scenarios",
        json={
            "match": {"promptContains": "volcano"},
            "fail": {"code": "inferenceError", "message": "GPU on fire", "afterSeconds": 0.1},
        },
    )
    assert armed.status_code == 201
    doomed, fine = new_task(positivePrompt="a volcano erupts"), new_task(duration=4)
    assert mock.post([doomed, fine]).status_code == 200
    failed = wait_results(mock, doomed["taskUUID"])
    assert failed.status_code == 200  # the poll worked; the task failed
    (err,) = failed.json()["errors"]
    assert (err["code"], err["message"], err["taskUUID"]) == (
        "inferenceError",
        "GPU on fire",
        doomed["taskUUID"],
    )
    assert wait_results(mock, fine["taskUUID"]).json()["data"][0]["status"] == "success"


def test_next_n_requests_get_429_with_retry_after(mock: MockHandle) -> None:
    mock.client.post(
        "/__admin/scenarios", json={"respond": {"status": 429, "retryAfter": 3}, "times": 2}
    )
    task = new_task()
    for _ in range(2):
        limited = mock.post([task])
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
        (err,) = limited.json()["errors"]
        assert err["code"] == "rateLimitExceeded" and err["taskUUID"] == task["taskUUID"]
    assert mock.post([task]).status_code == 200  # not registered while limited: no conflict


def test_outage_scenario_and_removal(mock: MockHandle) -> None:
    armed = mock.client.post("/__admin/scenarios", json={"respond": {"status": 503}}).json()
    assert mock.post([new_task()]).status_code == 503
    assert mock.client.get("/__admin/scenarios").json()["scenarios"][0]["used"] == 1
    assert mock.client.delete(f"/__admin/scenarios/{armed['id']}").status_code == 204
    assert mock.post([new_task()]).status_code == 200


@pytest.mark.slow
def test_latency_does_not_block_other_requests(mock: MockHandle) -> None:
    mock.client.post(
        "/__admin/scenarios",
        json={"match": {"promptContains": "zz-slow-zz"}, "latency": {"fixedMs": 3000}},
    )
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        slow = pool.submit(mock.post, [new_task(positivePrompt="a zz-slow-zz boat")])
        time.sleep(0.1)
        started = time.monotonic()
        fast = mock.post([new_task()])
        fast_done = time.monotonic() - started
        slow_was_done = slow.done()
        assert fast.status_code == 200, fast.text
        assert not slow_was_done, (fast_done, slow.result().status_code, slow.result().text[:200])
        assert slow.result().status_code == 200
    # The order is the point: the fast request finished while the slow one was held.
    entries = mock.client.get("/__admin/requests", params={"limit": 2}).json()["requests"]
    assert max(e["durationMs"] for e in entries) >= 2900  # timers may fire a hair early


@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        ([], "invalidRequestBody", None),
        ({"fail": {}}, "missingParameter", "fail.code"),
        ({"respond": {"status": 200}}, "invalidParameterValue", "respond.status"),
        ({"respond": {}}, "missingParameter", "respond.status"),
        ({"respond": {"status": "500"}}, "invalidParameterType", "respond.status"),
        (
            {"match": {"model": None}, "respond": {"status": 500}},
            "invalidParameterType",
            "match.model",
        ),
        ({"latency": {"minMs": 5}}, "missingParameter", "latency.fixedMs"),
        ({"latency": {"minMs": 5, "maxMs": 1}}, "invalidParameterValue", "latency.minMs"),
        ({"latency": {"fixedMs": "5"}}, "invalidParameterType", "latency.fixedMs"),
        ({}, "missingParameter", "fail"),
        (
            {"respond": {"status": 500}, "latency": {"fixedMs": 1}},
            "incompatibleParameters",
            "respond",
        ),
        (
            {"match": {"colour": "red"}, "respond": {"status": 500}},
            "unknownParameter",
            "match.colour",
        ),
        ({"match": "red", "respond": {"status": 500}}, "invalidParameterType", "match"),
        (
            {"match": {"model": 3}, "respond": {"status": 500}},
            "invalidParameterType",
            "match.model",
        ),
        ({"respond": {"status": 500}, "colour": 1}, "unknownParameter", "colour"),
        ({"respond": {"status": 500, "colour": 1}}, "unknownParameter", "respond.colour"),
        ({"respond": {"status": 500}, "times": 0}, "valueTooSmall", "times"),
        ({"respond": {"status": 500}, "times": True}, "invalidParameterType", "times"),
        ({"respond": {"status": 429, "retryAfter": -1}}, "valueTooSmall", "respond.retryAfter"),
        ({"respond": {"status": 429, "retryAfter": 86_401}}, "valueTooLarge", "respond.retryAfter"),
        (
            {"fail": {"code": "inferenceError", "afterSeconds": 1e308}},
            "valueTooLarge",
            "fail.afterSeconds",
        ),
        ({"latency": {"fixedMs": 60_001}}, "valueTooLarge", "latency.fixedMs"),
        ({"respond": {"status": 500}, "times": 10**7}, "valueTooLarge", "times"),
        (
            {"match": {"model": "m" * 1001}, "respond": {"status": 500}},
            "valueTooLarge",
            "match.model",
        ),
        ({"fail": {"code": "c" * 1001}}, "valueTooLarge", "fail.code"),
        ({"fail": {"code": 7}}, "invalidParameterType", "fail.code"),
        ({"fail": {"code": "inferenceErorr"}}, "invalidParameterValue", "fail.code"),
        ({"respond": {"status": 503, "code": "down"}}, "invalidParameterValue", "respond.code"),
    ],
)
def test_bad_scenarios_are_refused(
    mock: MockHandle, body: Any, code: str, parameter: str | None
) -> None:
    """Each refusal names the field and has the catalogue code of what is wrong with it."""
    response = mock.client.post("/__admin/scenarios", json=body)
    assert response.status_code == 400
    (err,) = response.json()["errors"]
    assert (err["code"], err["parameter"]) == (code, parameter), err["message"]
    assert err["message"].startswith("Bad scenario: ")
    assert mock.client.get("/__admin/scenarios").json()["scenarios"] == []


def test_a_scenario_code_must_be_in_the_catalogue(mock: MockHandle) -> None:
    typo = mock.client.post("/__admin/scenarios", json={"fail": {"code": "inferenceErorr"}})
    assert "'inferenceErorr' is not in the error catalogue" in typo.json()["errors"][0]["message"]
    assert "did you mean inferenceError?" in typo.json()["errors"][0]["message"]
    for code in ("inferenceError", "timeoutProvider"):
        assert (
            mock.client.post("/__admin/scenarios", json={"fail": {"code": code}}).status_code == 201
        )
    respond = {"respond": {"status": 503, "code": "providerInternalError"}}
    assert mock.client.post("/__admin/scenarios", json=respond).status_code == 201


def test_an_unknown_match_key_is_named(mock: MockHandle) -> None:
    body = {"match": {"prompt": "volcano"}, "respond": {"status": 500}}
    (err,) = mock.client.post("/__admin/scenarios", json=body).json()["errors"]
    assert err["parameter"] == "match.prompt"
    assert err["message"] == (
        "Bad scenario: unknown match key 'prompt'; match takes model, promptContains, "
        "taskType, taskUUID."
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"fail": {"code": "inferenceError",}}',
            "has a comma with no value after it at line 1, column 35",
        ),
        (
            b"{'fail': {}}",
            'has an unexpected character "\'" at line 1, column 2 '
            "(JSON strings and keys take double quotes)",
        ),
        (
            b'{"fail": {"code": "inferenceError"}',
            "ends before the JSON is complete (a bracket, brace or string is left open) "
            "at line 1, column 36",
        ),
        (
            b'{"latency": {"fixedMs": NaN}}',
            "has an unexpected character 'N' at line 1, column 25 (NaN is not a JSON number)",
        ),
        (b"", "is empty; send a JSON value"),
    ],
)
def test_scenario_json_errors_are_plain_words(mock: MockHandle, body: bytes, message: str) -> None:
    response = mock.client.post(
        "/__admin/scenarios", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    (err,) = response.json()["errors"]
    assert (err["code"], err["message"]) == (
        "invalidRequestBody",
        f"Bad scenario: the body {message}.",
    )


def test_an_unknown_scenario_id_is_a_404_of_its_own(mock: MockHandle) -> None:
    armed = mock.client.post("/__admin/scenarios", json={"respond": {"status": 503}}).json()
    assert mock.client.delete(f"/__admin/scenarios/{armed['id']}").status_code == 204
    for gone in (armed["id"], "nope", "x" * 5000):
        response = mock.client.delete(f"/__admin/scenarios/{gone}")
        assert response.status_code == 404
        (err,) = response.json()["errors"]
        assert (err["code"], err["parameter"]) == ("scenarioNotFound", "id")
        assert len(err["message"]) < 200


# ── journal and reset ───────────────────────────────────────────────────────


@pytest.mark.runware_mock(journal_size=3)
def test_journal_is_bounded_and_queryable(mock: MockHandle) -> None:
    tasks = [new_task() for _ in range(5)]
    for task in tasks:
        mock.post([task])
    journal = mock.client.get("/__admin/requests").json()
    assert journal["total"] == 3
    assert [e["taskUUIDs"] for e in journal["requests"]] == [[t["taskUUID"]] for t in tasks[:1:-1]]
    one = mock.client.get("/__admin/requests", params={"taskUUID": tasks[-1]["taskUUID"]}).json()
    assert len(one["requests"]) == 1 and one["requests"][0]["status"] == 200
    assert mock.client.delete("/__admin/requests").status_code == 204
    assert mock.client.get("/__admin/requests").json()["total"] == 0


def test_journal_entry_lists_every_task_of_a_frame(socket_mock: MockHandle) -> None:
    """A WebSocket frame authenticating and pinging at once: its entry names both tasks, as
    its recorded request (key redacted) shows them, and is found by either type."""
    assert socket_mock.ws_url is not None
    with connect(socket_mock.ws_url) as ws:
        ws.send(json.dumps([{"taskType": "authentication", "apiKey": "test-key"},
                            {"taskType": "ping", "ping": True}]))  # fmt: skip
        ws.recv()
    query = {"transport": "websocket", "taskType": "authentication"}
    (entry,) = socket_mock.client.get("/__admin/requests", params=query).json()["requests"]
    assert entry["taskTypes"] == ["authentication", "ping"]
    assert entry["request"][0]["apiKey"] == "***"


def test_journal_filters_by_transport_and_gives_iso_times(socket_mock: MockHandle) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    socket_mock.post([{"taskType": "ping", "ping": True}])
    assert socket_mock.ws_url is not None
    with connect(socket_mock.ws_url) as ws:
        ws.send(json.dumps([{"taskType": "authentication", "apiKey": "test-key"}]))
        ws.recv()
        ws.send(json.dumps([{"taskType": "ping", "ping": True}]))
        ws.recv()
    after = datetime.now(UTC) + timedelta(seconds=1)

    def journal(**query: str) -> httpx.Response:
        return socket_mock.client.get("/__admin/requests", params=query)

    (frame,) = journal(transport="websocket").json()["requests"]
    (rest,) = journal(transport="rest").json()["requests"]
    assert frame["transport"] == "websocket" and rest["transport"] == "rest"
    for entry in (frame, rest):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])
        assert before <= datetime.fromisoformat(entry["time"]) <= after
    for bad in ("REST", "ws", "", "rest,websocket"):
        refused = journal(transport=bad)
        assert refused.status_code == 400
        (err,) = refused.json()["errors"]
        assert (err["code"], err["parameter"]) == ("invalidParameterValue", "transport")
        assert err["message"] == "transport must be one of: rest, websocket."


def test_journal_hides_api_keys(mock: MockHandle) -> None:
    mock.post([{"taskType": "authentication", "apiKey": "secret-key"}, new_task()])
    text = json.dumps(mock.client.get("/__admin/requests").json())
    assert "secret-key" not in text


def test_reset_forgets_everything(mock: MockHandle) -> None:
    task = new_task()
    mock.post([task])
    mock.client.post("/__admin/scenarios", json={"respond": {"status": 500}, "times": 5})
    assert mock.client.post("/__admin/reset").status_code == 204
    assert mock.poll(task["taskUUID"]).status_code == 404
    assert mock.client.get("/__admin/scenarios").json()["scenarios"] == []


# ── deliveries ──────────────────────────────────────────────────────────────


def test_webhook_per_result_retried_after_failure(mock: MockHandle) -> None:
    with Receiver(fail_first(1)) as hook:
        task = new_task(numberResults=2, webhookURL=f"{hook.url}/hook?token=abc")
        mock.post([task])
        received = hook.wait_for(2)
        bodies = [json.loads(r.body) for r in received]
        assert all(r.method == "POST" and r.path == "/hook?token=abc" for r in received)
        assert all(set(b) == {"data"} and len(b["data"]) == 1 for b in bodies)
        assert {b["data"][0]["videoUUID"] for b in bodies} == {
            i["videoUUID"] for i in mock.poll(task["taskUUID"]).json()["data"]
        }
        assert len(hook.requests) == 3  # one failure, retried, plus the second result
    outcomes = mock.client.get("/__admin/deliveries").json()["deliveries"]
    assert sorted(o["attempts"] for o in outcomes) == [1, 2] and all(o["ok"] for o in outcomes)


def test_upload_puts_the_video_bytes(mock: MockHandle) -> None:
    with Receiver() as bucket:
        task = new_task(
            uploadEndpoint=f"{bucket.url}/bucket/out.mov?sig=1",
            outputFormat="MOV",
            width=1440,
            height=1440,
            duration=3,
        )
        mock.post([task])
        (put,) = bucket.wait_for(1)
        assert put.method == "PUT" and put.content_type == "video/quicktime"
        assert probe(put.body)[2:] == (1440, 1440, 3.0)


@pytest.mark.slow
def test_failing_webhook_gives_up_without_blocking(mock: MockHandle) -> None:
    mock.server.config.webhook_attempts = 2
    mock.server.config.webhook_backoff_seconds = 0.05
    with Receiver(fail_first(100)) as hook:
        doomed = new_task(webhookURL=f"{hook.url}/down")
        fine = new_task(duration=4)
        mock.post([doomed, fine])
        assert wait_results(mock, fine["taskUUID"]).status_code == 200
        (outcome,) = wait_outcomes(mock, 1, timeout=10)
    assert outcome["ok"] is False and outcome["status"] == 500
    finished = datetime.fromisoformat(outcome["finished"])  # ISO 8601, as journal times
    assert finished.tzinfo == UTC and abs(datetime.now(UTC) - finished) < timedelta(minutes=1)


def test_failed_task_webhook_carries_the_error(mock: MockHandle) -> None:
    mock.client.post(
        "/__admin/scenarios",
        json={"match": {"promptContains": "doom"}, "fail": {"code": "timeoutProvider"}},
    )
    with Receiver() as hook:
        mock.post([new_task(positivePrompt="doom", webhookURL=hook.url)])
        (received,) = hook.wait_for(1)
        assert json.loads(received.body)["errors"][0]["code"] == "timeoutProvider"


def test_unknown_scenario_match_fields_do_not_leak(mock: MockHandle) -> None:
    assert (
        mock.client.post(
            "/__admin/scenarios",
            json={"match": {"taskUUID": str(uuid.uuid4())}, "respond": {"status": 500}},
        ).status_code
        == 201
    )
    assert mock.post([new_task()]).status_code == 200  # matches nothing


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "http://10.0.0.1/hook",
        "http://\x0f.example/x",
        "ftp://127.0.0.1/x",
        "a:b",
    ],
)
def test_deliveries_only_go_to_loopback(mock: MockHandle, url: str) -> None:
    """A non-loopback or unusable webhook URL is a failed delivery, never a request out."""
    mock.post([new_task(duration=4, webhookURL=url)])
    (outcome,) = wait_outcomes(mock, 1, timeout=10)
    assert outcome["ok"] is False and outcome["attempts"] == 0 and outcome["status"] is None

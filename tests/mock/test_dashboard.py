"""The dashboard's routes over HTTP (a real server on a socket): who may read them, the
session cookie and its CSRF token, the security headers, what each view's JSON holds, and
the live stream and its bound. The browser tests (tests/browser/) show the page itself."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver.core import models as served_models
from mockserver.core.config import MockConfig
from mockserver.core.journal import REPLY_ITEMS_KEEP
from mockserver.http.dashboard import live, session
from mockserver.http.dashboard.views import model_view
from mockserver.testing import RunningMock, serve
from tests.helpers import Receiver, eventually, new_task

ADMIN = "adm-key"
USER = "user-key"
OTHER = "other-key"
VIEWS = ["session", "requests", "tasks", "deliveries", "models", "health"]


@pytest.fixture
def mock() -> Iterator[RunningMock]:
    config = MockConfig(api_keys=frozenset({USER, OTHER}), admin_key=ADMIN, job_seconds=0.5)
    with serve(config, api_key=USER) as running:
        yield running


def admin(mock: RunningMock) -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


def logged_in(mock: RunningMock) -> tuple[httpx.Client, str]:
    """A client holding a dashboard session, and its CSRF token."""
    client = httpx.Client(base_url=mock.client.base_url, timeout=30)
    response = client.post("/__admin/ui/login", json={"key": ADMIN})
    assert response.status_code == 200, response.text
    return client, response.json()["csrf"]


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_needs_the_admin_key(mock: RunningMock, view: str) -> None:
    url = f"/__admin/ui/api/{view}"
    nobody = httpx.get(f"{mock.client.base_url}{url}")
    assert nobody.status_code == 401 and nobody.json()["errors"][0]["code"] == "missingApiKey"
    tenant = httpx.get(f"{mock.client.base_url}{url}", headers={"Authorization": f"Bearer {USER}"})
    assert tenant.status_code == 403 and tenant.json()["errors"][0]["code"] == "forbidden"
    assert set(tenant.json()) == {"errors"}  # nothing of anyone's requests or tasks
    assert mock.client.get(url, headers=admin(mock)).status_code == 200


def test_login_sets_a_strict_httponly_cookie_and_refuses_other_keys(mock: RunningMock) -> None:
    base = mock.client.base_url
    for key, code in (("nope", "invalidApiKey"), (USER, "forbidden"), ("", "missingApiKey")):
        refused = httpx.post(f"{base}/__admin/ui/login", json={"key": key})
        assert refused.json()["errors"][0]["code"] == code and "set-cookie" not in refused.headers
    as_form = httpx.post(f"{base}/__admin/ui/login", content='{"key": "adm-key"}',
                         headers={"Content-Type": "text/plain"})  # fmt: skip
    assert as_form.status_code == 415
    elsewhere = httpx.post(f"{base}/__admin/ui/login", json={"key": ADMIN},
                           headers={"Origin": "http://evil.example"})  # fmt: skip
    assert elsewhere.status_code == 403
    ok = httpx.post(f"{base}/__admin/ui/login", json={"key": ADMIN})
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/__admin" in cookie
    assert ADMIN not in ok.headers["set-cookie"]  # a signed expiry, not the key


def test_the_cookie_changes_nothing_without_its_csrf_token_from_this_origin(
    mock: RunningMock,
) -> None:
    client, csrf = logged_in(mock)
    body = {"respond": {"status": 503}}
    assert client.get("/__admin/scenarios").status_code == 200  # reading needs no token
    refused = client.post("/__admin/scenarios", json=body)
    assert refused.status_code == 403 and refused.json()["errors"][0]["code"] == "forbidden"
    wrong = client.post("/__admin/scenarios", json=body, headers={"X-CSRF-Token": "0" * 40})
    assert wrong.status_code == 403
    cross = client.post("/__admin/scenarios", json=body,
                        headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"})  # fmt: skip
    assert cross.status_code == 403
    assert client.post("/__admin/reset").status_code == 403
    assert client.delete("/__admin/requests").status_code == 403
    assert mock.client.get("/__admin/scenarios", headers=admin(mock)).json() == {"scenarios": []}
    armed = client.post("/__admin/scenarios", json=body, headers={"X-CSRF-Token": csrf})
    assert armed.status_code == 201
    assert client.post("/__admin/ui/logout", headers={"X-CSRF-Token": csrf}).status_code == 204


def test_a_forged_or_expired_session_is_no_session() -> None:
    config = MockConfig(admin_key=ADMIN)
    token = session.new_session(config, now=1000.0)
    assert session.session_valid(config, token, now=1001.0)
    assert not session.session_valid(config, token, now=1000.0 + session.SESSION_SECONDS + 1)
    expiry, nonce, mac = token.split(".")
    assert not session.session_valid(config, f"{int(expiry) + 99}.{nonce}.{mac}", now=1001.0)
    assert not session.session_valid(config, f"{expiry}.{nonce}.{'0' * len(mac)}", now=1001.0)
    # another admin key (or a restart with another shared secret) ends every session
    assert not session.session_valid(
        MockConfig(admin_key="new", media_secret=config.media_secret), token, now=1001.0
    )
    assert not session.session_valid(config, "x" * 500) and not session.session_valid(config, "")


@pytest.mark.parametrize(
    "path", ["/__admin/ui", "/__admin/ui/static/app.js", "/__admin/ui/api/tasks"]
)
def test_every_dashboard_answer_has_a_strict_csp(mock: RunningMock, path: str) -> None:
    response = mock.client.get(path, headers=admin(mock))
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_the_page_loads_nothing_from_elsewhere_and_no_inline_script(mock: RunningMock) -> None:
    page = mock.client.get("/__admin/ui").text
    assert "http://" not in page and "https://" not in page and "//" not in page.replace("<!--", "")
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/__admin/ui/static/app.js" defer>']
    assert re.search(r"\son[a-z]+\s*=", page) is None  # no inline event handlers
    assert mock.client.get("/__admin/ui/static/../app.py").status_code == 404


def test_requests_filter_and_open_to_body_and_reply(mock: RunningMock) -> None:
    good, bad = new_task(), new_task(duration=-1)
    assert mock.run([good]).status_code == 200
    assert mock.run([bad]).status_code == 400

    def get(**q: str) -> Any:
        return mock.client.get("/__admin/ui/api/requests", params=q, headers=admin(mock)).json()

    rows = get()["requests"]
    assert [r["status"] for r in rows] == [400, 200]
    assert "request" not in rows[0] and rows[0]["errorMessages"]  # the message beside the code
    code = rows[0]["errorCodes"][0]
    assert [r["status"] for r in get(status="400")["requests"]] == [400]
    assert [r["status"] for r in get(errorCode=code)["requests"]] == [400]
    assert [r["taskUUIDs"] for r in get(taskUUID=good["taskUUID"])["requests"]] == [
        [good["taskUUID"]]
    ]
    assert len(get(taskType="videoInference")["requests"]) == 2
    assert [r["id"] for r in get(after=str(rows[1]["id"]))["requests"]] == [rows[0]["id"]]
    bad_filter = mock.client.get(
        "/__admin/ui/api/requests", params={"status": "4x"}, headers=admin(mock)
    )
    assert bad_filter.status_code == 400 and bad_filter.json()["errors"][0]["parameter"] == "status"
    detail = mock.client.get(
        f"/__admin/ui/api/requests/{rows[1]['id']}", headers=admin(mock)
    ).json()
    assert detail["request"] == [good]
    assert detail["reply"] == {
        "data": [{"taskType": "videoInference", "taskUUID": good["taskUUID"]}]
    }
    gone = mock.client.get("/__admin/ui/api/requests/999999", headers=admin(mock))
    assert gone.status_code == 404


def test_a_large_reply_is_not_kept(mock: RunningMock) -> None:
    tasks = [new_task() for _ in range(REPLY_ITEMS_KEEP + 1)]
    assert mock.run(tasks).status_code == 200
    row = mock.client.get("/__admin/ui/api/requests", headers=admin(mock)).json()["requests"][0]
    detail = mock.client.get(f"/__admin/ui/api/requests/{row['id']}", headers=admin(mock)).json()
    assert detail["reply"] is None and len(detail["request"]) == REPLY_ITEMS_KEEP + 1


def test_tasks_show_state_results_failure_and_deliveries(mock: RunningMock) -> None:
    doomed = {"match": {"promptContains": "doomed"}, "fail": {"code": "inferenceError"}}
    mock.client.post("/__admin/scenarios", headers=admin(mock), json=doomed)
    with Receiver() as receiver:
        done = new_task(webhookURL=f"{receiver.hook}?token=secret", includeCost=True)
        failed = new_task(positivePrompt="a doomed task")
        assert mock.run([done, failed]).status_code == 200
        tasks = mock.client.get("/__admin/ui/api/tasks", headers=admin(mock)).json()["tasks"]
        assert {t["taskUUID"]: t["state"] for t in tasks}[done["taskUUID"]] == "processing"
        receiver.wait_for(1)

        def lifecycle() -> dict[str, Any]:
            url = f"/__admin/ui/api/tasks/{done['taskUUID']}"
            return mock.client.get(url, headers=admin(mock)).json()  # type: ignore[no-any-return]

        found = eventually(lambda: (t := lifecycle())["outcomes"] and t)
    assert found["state"] == "done" and [e["event"] for e in found["events"]] == [
        "accepted", "processing", "done",
    ]  # fmt: skip
    assert found["results"][0]["kind"] == "video" and "/video/" in found["results"][0]["url"]
    assert found["cost"] is not None and found["cost"] > 0
    assert found["attempts"][0]["outcome"] == "ok" and "secret" not in str(found)  # redacted
    assert found["outcomes"][0]["ok"] and found["requests"][0]["status"] == 200
    url = f"/__admin/ui/api/tasks/{failed['taskUUID']}"
    gone = mock.client.get(url, headers=admin(mock)).json()
    assert gone["state"] == "failed" and gone["error"]["code"] == "inferenceError"
    assert gone["results"] == [] and gone["events"][-1]["event"] == "failed"
    deliveries = mock.client.get("/__admin/ui/api/deliveries", headers=admin(mock)).json()
    assert deliveries["attempts"][0]["taskUUID"] == done["taskUUID"]
    missing = mock.client.get(
        f"/__admin/ui/api/tasks/{new_task()['taskUUID']}", headers=admin(mock)
    )
    assert missing.status_code == 404
    mock.client.post("/__admin/reset", headers=admin(mock))
    assert mock.client.get("/__admin/ui/api/tasks", headers=admin(mock)).json() == {"tasks": []}


def test_models_come_from_the_validators_tables(tiny_spec_dir: Any) -> None:
    import runware_contract as rc

    kling = "klingai:kling-video@3-pro"
    shown = model_view(rc.MODELS[kling], served_models.PACKAGE)
    tables = rc.MODELS[kling].tables
    assert shown["source"]["kind"] == "package" and shown["pricing"] == tables.PRICING
    assert [p["path"] for p in shown["parameters"]] == [p["path"] for p in tables.PARAMETERS]
    assert [r["id"] for r in shown["rules"]] == [r["id"] for r in tables.RULES]
    registry = served_models.load([tiny_spec_dir], [])
    (loaded,) = set(registry.models) - set(rc.MODELS)
    view = model_view(registry.models[loaded], registry.sources[loaded])
    assert view["source"]["kind"] == "spec" and view["source"]["file"].endswith(".yaml")


def test_health_shows_lag_store_and_queues(mock: RunningMock) -> None:
    health = mock.client.get("/__admin/ui/api/health", headers=admin(mock)).json()
    assert {"loopLagMs", "loopLagMaxMs", "store", "queues", "journal"} <= set(health)
    assert health["store"]["kind"] == "memory" and "tasks" in health["store"]
    assert set(health["queues"]) >= {"scheduledCompletions", "deliveriesPending", "videoRenders"}


def stream_events(
    mock: RunningMock, headers: dict[str, str], seen: list[str], stop: threading.Event
) -> None:
    with (
        httpx.Client(base_url=mock.client.base_url, timeout=30) as client,
        client.stream("GET", "/__admin/ui/events", headers=headers) as response,
    ):
        seen.append(f"status {response.status_code}")
        for line in response.iter_lines():
            seen.append(line)
            if stop.is_set():
                return


def test_the_live_stream_says_what_changed(mock: RunningMock) -> None:
    seen: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=stream_events, args=(mock, admin(mock), seen, stop), daemon=True
    )
    thread.start()
    assert eventually(lambda: "event: health" in seen, timeout=10)
    before = len(seen)
    assert mock.run([new_task()]).status_code == 200
    assert eventually(lambda: any('"requests"' in line for line in seen[before:]), timeout=10)
    stop.set()
    thread.join(timeout=live.STREAM_SECONDS + 5)
    assert seen[0] == "status 200"


def test_streams_are_bounded(mock: RunningMock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "MAX_STREAMS", 2)
    stop = threading.Event()
    seens: list[list[str]] = [[] for _ in range(2)]
    threads = [
        threading.Thread(target=stream_events, args=(mock, admin(mock), s, stop), daemon=True)
        for s in seens
    ]
    for t in threads:
        t.start()
    assert eventually(lambda: all("event: health" in s for s in seens), timeout=10)
    third = mock.client.get("/__admin/ui/events", headers=admin(mock))
    assert third.status_code == 429 and third.json()["errors"][0]["code"] == "rateLimitExceeded"
    stop.set()
    mock.run([new_task()])  # a change, so each stream reads a line and sees stop
    for t in threads:
        t.join(timeout=live.STREAM_SECONDS + 5)
    assert eventually(lambda: mock.server.dashboard.streams.open == 0, timeout=5)

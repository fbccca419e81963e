"""The mock over WebSocket, each test in-process (Starlette's TestClient) and over a socket."""

from __future__ import annotations

import contextlib
import json
import resource
import time
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from mockserver import MockConfig, MockServer
from mockserver.http import websocket
from mockserver.http.websocket import Unauthenticated
from mockserver.testing import serve
from tests.helpers import eventually, new_task, redis_server

KEY = "ws-key"


RECV_SECONDS = 10  # how long a frame may take to arrive, in both modes


class Conn:
    """One WebSocket connection, the same API in both modes: ``recv`` the next frame (an
    error past RECV_SECONDS, never a hang), ``closed`` the server's close code and reason."""

    def __init__(
        self, send: Any, send_bytes: Any, recv: Any, closed: Callable[[], tuple[int, str]]
    ) -> None:
        self._send, self.send_bytes, self._recv = send, send_bytes, recv
        self.closed = closed

    def send(self, body: Any) -> None:
        self._send(body if isinstance(body, str) else json.dumps(body))

    def recv(self) -> dict[str, Any]:
        message = self._recv()
        assert isinstance(message, dict), message
        return message

    def auth(self, key: str = KEY, session: str | None = None) -> str:
        task: dict[str, Any] = {"taskType": "authentication", "apiKey": key}
        if session:
            task["connectionSessionUUID"] = session
        self.send([task])
        reply = self.recv()
        (item,) = reply["data"]
        assert item["taskType"] == "authentication"
        return str(item["connectionSessionUUID"])


class Harness:
    def __init__(self, mode: str, config: MockConfig) -> None:
        self.mode = mode
        self.config = config
        self._stack = contextlib.ExitStack()
        if mode == "inprocess":
            self.server = MockServer(config)
            self._client = self._stack.enter_context(TestClient(self.server.app))
        else:
            running = self._stack.enter_context(serve(config))
            self.server = running.server
            self._url = running.ws_url

    @contextlib.contextmanager
    def connect(self, query: str = "") -> Iterator[Conn]:
        if self.mode == "inprocess":
            with self._client.websocket_connect("/v1" + query) as ws:

                def message() -> Any:
                    # TestClient's receive waits forever (a server that stopped answering
                    # would hang the test): bounded as the socket's recv is.
                    async def within() -> Any:
                        with anyio.fail_after(RECV_SECONDS):
                            return await ws._send_rx.receive()

                    return ws.portal.call(within)

                def text() -> Any:
                    frame = message()
                    if frame["type"] == "websocket.close":
                        raise WebSocketDisconnect(frame.get("code", 1000), frame.get("reason"))
                    return json.loads(frame["text"])

                def closed() -> tuple[int, str]:
                    frame = message()
                    assert frame["type"] == "websocket.close", frame
                    return int(frame.get("code", 1000)), str(frame.get("reason") or "")

                yield Conn(ws.send_text, ws.send_bytes, text, closed)
        else:
            with connect(self._url + query, open_timeout=5) as sock:

                def sock_closed() -> tuple[int, str]:
                    with pytest.raises(ConnectionClosed) as ended:
                        while True:
                            sock.recv(timeout=RECV_SECONDS)
                    assert ended.value.rcvd is not None, "no close frame from the server"
                    return ended.value.rcvd.code, ended.value.rcvd.reason

                yield Conn(
                    sock.send,
                    sock.send,
                    lambda: json.loads(sock.recv(timeout=RECV_SECONDS)),
                    sock_closed,
                )

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(params=["inprocess", "socket"])
def ws(request: pytest.FixtureRequest) -> Iterator[Harness]:
    marker = request.node.get_closest_marker("runware_mock")
    settings: dict[str, Any] = {"job_seconds": 0.3, "seed": 3}
    settings.update(marker.kwargs if marker else {})
    harness = Harness(request.param, MockConfig(**settings))
    try:
        yield harness
    finally:
        harness.close()


def test_authentication_reply(ws: Harness) -> None:
    with ws.connect() as conn:
        session = conn.auth()
        uuid.UUID(session)


def test_query_string_on_the_path(ws: Harness) -> None:
    with ws.connect("?sdk=js&version=1.3.2") as conn:
        conn.auth()


@pytest.mark.runware_mock(api_keys=frozenset({KEY}))
def test_bad_key_error_names_authentication(ws: Harness) -> None:
    with ws.connect() as conn:
        conn.send([{"taskType": "authentication", "apiKey": "wrong"}])
        (err,) = conn.recv()["errors"]
        assert err["code"] == "invalidApiKey" and err["taskType"] == "authentication"
        assert err["parameter"] == "apiKey"
        conn.auth()  # the connection stays usable


def test_tasks_before_authentication_are_refused(ws: Harness) -> None:
    with ws.connect() as conn:
        conn.send([new_task()])
        (err,) = conn.recv()["errors"]
        assert err["code"] == "missingApiKey" and err["taskType"] == "authentication"


def test_ping_pong_before_and_after_authentication(ws: Harness) -> None:
    with ws.connect() as conn:
        conn.send([{"taskType": "ping", "ping": True}])
        assert conn.recv() == {"data": [{"taskType": "ping", "pong": True}]}
        conn.auth()
        conn.send([{"taskType": "ping", "ping": True}])
        assert conn.recv() == {"data": [{"taskType": "ping", "pong": True}]}


def test_lifecycle_with_polls_and_pushed_results(ws: Harness) -> None:
    task = new_task(numberResults=2, includeCost=True)
    with ws.connect() as conn:
        conn.auth()
        conn.send([task])
        assert conn.recv() == {
            "data": [{"taskType": "videoInference", "taskUUID": task["taskUUID"]}]
        }
        conn.send([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}])
        processing = conn.recv()["data"]
        assert [i["status"] for i in processing] == ["processing", "processing"]
        pushed = conn.recv()  # unsolicited, once the job time has passed
        assert [i["status"] for i in pushed["data"]] == ["success", "success"]
        assert len({i["videoUUID"] for i in pushed["data"]}) == 2
        assert all(i["cost"] == 1.12 for i in pushed["data"])
        conn.send([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}])
        assert conn.recv() == pushed


def test_errors_come_alone_in_their_frame(ws: Harness) -> None:
    good, bad = new_task(), new_task(duration=1, outputQuality=100)
    with ws.connect() as conn:
        conn.auth()
        conn.send([good, bad])
        first, second = conn.recv(), conn.recv()
        assert set(first) == {"data"} and set(second) == {"errors"}
        assert {(e["code"], e["parameter"], e["taskUUID"]) for e in second["errors"]} == {
            ("valueTooSmall", "duration", bad["taskUUID"]),
            ("valueTooLarge", "outputQuality", bad["taskUUID"]),
        }


def test_bad_frames_get_errors_and_the_connection_stays(ws: Harness) -> None:
    with ws.connect() as conn:
        conn.auth()
        for frame in ("not json", '{"taskType": "ping"}', "[]", "[NaN]"):
            conn.send(frame)
            assert conn.recv()["errors"][0]["code"] in ("invalidRequestBody", "invalidEmptyRequest")
        conn.send_bytes(b"\x00\x01")
        assert conn.recv()["errors"][0]["code"] == "invalidRequestBody"
        conn.send([{"taskType": "ping", "ping": True}])
        assert conn.recv()["data"][0]["pong"] is True


def detached_with_a_finished_task(ws: Harness) -> tuple[str, dict[str, Any]]:
    """A session whose task finished while no connection was attached, and that task."""
    task = new_task()
    with ws.connect() as conn:
        session = conn.auth()
        conn.send([task])
        conn.recv()  # ack
    # the job finishes while no connection is attached: its frame waits in the session
    assert eventually(lambda: ws.server.sessions[session].buffer, 10)
    return session, task


def test_results_buffered_for_a_resumed_session(ws: Harness) -> None:
    session, task = detached_with_a_finished_task(ws)
    with ws.connect() as conn:
        assert conn.auth(session=session) == session
        (item,) = conn.recv()["data"]
        assert item["taskUUID"] == task["taskUUID"] and item["status"] == "success"


def test_conflict_on_resend(ws: Harness) -> None:
    task = new_task()
    with ws.connect() as conn:
        conn.auth()
        conn.send([task])
        conn.recv()
        conn.send([task])
        (err,) = conn.recv()["errors"]
        assert err["code"] == "conflictTaskUUID" and err["taskUUID"] == task["taskUUID"]


def test_getresponse_for_unknown_task(ws: Harness) -> None:
    with ws.connect() as conn:
        conn.auth()
        missing = str(uuid.uuid4())
        conn.send([{"taskType": "getResponse", "taskUUID": missing}])
        (err,) = conn.recv()["errors"]
        assert err["code"] == "taskNotFound" and err["taskUUID"] == missing


def test_scenarios_apply_to_websocket_clients(ws: Harness) -> None:
    from mockserver.core.scenarios import parse

    ws.server.scenarios.add(parse({"respond": {"status": 429, "retryAfter": 2}, "times": 1}, "a"))
    ws.server.scenarios.add(
        parse(
            {
                "match": {"promptContains": "doom"},
                "fail": {"code": "inferenceError", "afterSeconds": 0},
            },
            "b",
        )
    )
    limited, doomed = new_task(), new_task(positivePrompt="doom and gloom")
    with ws.connect() as conn:
        conn.auth()
        conn.send([limited])
        (err,) = conn.recv()["errors"]
        assert (err["code"], err["taskUUID"]) == ("rateLimitExceeded", limited["taskUUID"])
        conn.send([doomed])
        assert conn.recv()["data"][0]["taskUUID"] == doomed["taskUUID"]
        pushed = conn.recv()  # the failure is pushed like a result would be
        assert pushed["errors"][0]["code"] == "inferenceError"
        assert pushed["errors"][0]["taskUUID"] == doomed["taskUUID"]


@pytest.mark.runware_mock(api_keys=frozenset({KEY, "other-key"}))
def test_a_session_resumed_with_another_key_is_a_new_session(ws: Harness) -> None:
    """A session (and the results buffered for it) belongs to its key: another valid key
    naming its connectionSessionUUID gets a fresh session and none of those results."""
    session, task = detached_with_a_finished_task(ws)
    with ws.connect() as conn:
        assert conn.auth(key="other-key", session=session) != session
        conn.send([{"taskType": "ping", "ping": True}])
        assert conn.recv()["data"] == [{"taskType": "ping", "pong": True}]  # nothing before it
    with ws.connect() as conn:
        assert conn.auth(session=session) == session  # its own key still resumes it
        (item,) = conn.recv()["data"]
        assert item["taskUUID"] == task["taskUUID"]


@pytest.mark.runware_mock(ws_auth_timeout_seconds=0.5)
def test_a_connection_that_does_not_authenticate_in_time_is_closed(ws: Harness) -> None:
    """Pings do not count as authentication: the deadline runs from the connection's start;
    the close is the connection's end (in-process, the app ends without an error)."""
    with ws.connect() as conn:
        conn.send([{"taskType": "ping", "ping": True}])
        assert conn.recv()["data"][0]["pong"] is True
        code, reason = conn.closed()
    assert code == 1008 and "authenticate within 0.5 s" in reason
    with ws.connect() as conn:  # an authenticated one stays
        conn.auth()
        time.sleep(1.0)
        conn.send([{"taskType": "ping", "ping": True}])
        assert conn.recv()["data"][0]["pong"] is True


@pytest.mark.runware_mock(ws_max_frames_per_second=2)
def test_frames_past_the_rate_are_refused_and_past_twice_it_the_connection_is_closed(
    ws: Harness,
) -> None:
    """The frames up to the rate are answered, the next ones up to twice it get
    rateLimitExceeded, and the one after closes the connection (1008): a frame sent after it
    changes nothing (in-process, the app ends without an error)."""
    with ws.connect() as conn:
        for _ in range(6):
            conn.send([{"taskType": "ping", "ping": True}])
        answers = [conn.recv() for _ in range(4)]
        assert [a.get("data", [{}])[0].get("pong") for a in answers[:2]] == [True, True]
        assert [a["errors"][0]["code"] for a in answers[2:]] == ["rateLimitExceeded"] * 2
        assert conn.closed() == (1008, "too many frames")


@pytest.mark.parametrize("store", ["memory", "redis"])
@pytest.mark.parametrize("mode", ["inprocess", "socket"])
def test_a_session_resumed_while_still_open_closes_the_connection_that_held_it(
    mode: str, store: str, tmp_path: Path
) -> None:
    """A second connection naming an open session takes it over (on every store): the first
    is closed with 4000 and its reason, and the session's results go to the second."""
    with contextlib.ExitStack() as stack:
        url = store if store == "memory" else stack.enter_context(redis_server(tmp_path)).url
        harness = Harness(mode, MockConfig(job_seconds=0.3, seed=3, store=url))
        stack.callback(harness.close)
        task = new_task()
        with harness.connect() as first, harness.connect() as second:
            session = first.auth()
            assert second.auth(session=session) == session
            assert first.closed() == (4000, websocket.RESUMED_ELSEWHERE)
            second.send([task])
            assert second.recv()["data"] == [
                {"taskType": "videoInference", "taskUUID": task["taskUUID"]}
            ]
            (item,) = second.recv()["data"]  # pushed to the connection that holds it now
            assert (item["taskUUID"], item["status"]) == (task["taskUUID"], "success")


@pytest.mark.runware_mock(ws_max_unauthenticated=3, ws_max_unauthenticated_per_client=2)
def test_unauthenticated_connections_are_capped_per_address_and_in_total(ws: Harness) -> None:
    """Past the per-address cap an upgrade is refused at once with 429 in Runware's shape;
    authenticating frees a place. (Every test client is 127.0.0.1: the total cap is checked
    at the counter.)"""
    if ws.mode == "inprocess":
        pytest.skip("the refusal is an HTTP answer to a real upgrade")
    with connect(ws._url, open_timeout=5) as first, connect(ws._url, open_timeout=5):
        with pytest.raises(InvalidStatus) as refused:
            connect(ws._url, open_timeout=5)
        response = refused.value.response
        assert response.status_code == 429 and response.headers["Retry-After"] == "1"
        assert json.loads(response.body)["errors"][0]["code"] == "rateLimitExceeded"
        first.send(json.dumps([{"taskType": "authentication", "apiKey": KEY}]))
        first.recv(timeout=5)
        with connect(ws._url, open_timeout=5):  # the authenticated one left the count
            pass
    gate = Unauthenticated(3, 2)
    assert [gate.enter(a) for a in ("a", "a", "b")] == [None, None, None]
    assert gate.enter("a") is not None and gate.enter("c") is not None  # per address; total
    gate.leave("a")
    assert gate.enter("c") is None


def test_addresses_that_left_hold_no_memory() -> None:
    gate = Unauthenticated(10, 10)
    for n in range(5):
        assert gate.enter(f"10.0.0.{n}") is None
    gate.enter("10.0.0.0")
    for n in range(5):
        gate.leave(f"10.0.0.{n}")
    assert dict(gate.by_client) == {"10.0.0.0": 1} and gate.total == 1
    gate.leave("10.0.0.0")
    assert not gate.by_client and gate.total == 0


@pytest.mark.parametrize(
    ("soft", "configured", "cap"),
    [(1024, 256, 256), (1024, 10_000, 768), (256, 10_000, 192), (100, 50, 36), (60, 50, 1)],
)
def test_unauthenticated_connections_leave_a_quarter_of_the_descriptors(
    monkeypatch: pytest.MonkeyPatch, soft: int, configured: int, cap: int
) -> None:
    """The cap is what the descriptor limit leaves after a reserve of a quarter of it (at
    least FD_RESERVE_MIN), and never below one connection."""
    monkeypatch.setattr(resource, "getrlimit", lambda _: (soft, soft))
    assert websocket.unauthenticated_cap(configured) == cap
    monkeypatch.setattr(resource, "getrlimit", lambda _: (resource.RLIM_INFINITY, 0))
    assert websocket.unauthenticated_cap(configured) == configured


def test_a_client_gone_before_the_server_closes_it_ends_its_connection_quietly() -> None:
    """The auth deadline passes and the close cannot be sent (the peer vanished: the ASGI
    server's send fails): the connection ends without an error and leaves no count behind."""
    transport = websocket.WebSocketTransport(MockServer(MockConfig(ws_auth_timeout_seconds=0.05)))
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        if not sent:
            return {"type": "websocket.connect"}
        await anyio.sleep_forever()  # the peer never says anything more
        raise AssertionError  # (unreachable)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "websocket.close":
            raise OSError("the peer is gone")  # what uvicorn raises once it has disconnected

    scope = {"type": "websocket", "path": "/v1", "headers": [], "client": ("10.0.0.1", 4000)}
    anyio.run(transport.handle, WebSocket(scope, receive, send))
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]
    assert transport.unauthenticated.total == 0 and not transport.unauthenticated.by_client

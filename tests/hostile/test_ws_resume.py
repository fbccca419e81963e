"""Two real WebSocket clients on one session: B resumes A's session while A is still open.

B owns the session from then on: A is closed with code 4000 ("session resumed by another
connection"), and A's cleanup must not detach the session B now holds, so B's later results
are pushed to B."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.helpers import T2V

from .harness import KEY, Effect, Watch, mock_process, report


def _authenticate(ws: ClientConnection, session: str | None = None) -> str:
    auth: dict[str, Any] = {"taskType": "authentication", "apiKey": KEY}
    if session is not None:
        auth["connectionSessionUUID"] = session
    ws.send(json.dumps([auth]))
    reply = json.loads(ws.recv(timeout=5))
    return str(reply["data"][0]["connectionSessionUUID"])


def _pushed(ws: ClientConnection, task_uuid: str, timeout: float) -> bool:
    """Whether a success frame for ``task_uuid`` arrives within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            return False
        items = frame.get("data") or []
        if any(i.get("taskUUID") == task_uuid and i.get("status") == "success" for i in items):
            return True
    return False


def test_resumed_session_keeps_its_pushes_after_the_old_connection_closes() -> None:
    with (
        mock_process("--job-seconds", "0.3") as proc,
        Watch(proc) as watch,
        connect(proc.ws_url, open_timeout=5) as b,
    ):
        with connect(proc.ws_url, open_timeout=5) as a:
            session = _authenticate(a)
            assert _authenticate(b, session) == session
            # A learns it lost the session: a close with a reason, not silence.
            try:
                while True:
                    a.recv(timeout=5)
            except ConnectionClosed as closed:
                a_close = (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else None
            except TimeoutError:
                a_close = None
        time.sleep(0.2)  # A's server-side cleanup has run
        task = {**T2V, "taskUUID": str(uuid.uuid4())}
        b.send(json.dumps([task]))
        got = _pushed(b, task["taskUUID"], timeout=5)
    report(Effect.of("websocket resume while the old socket is open", watch,
                     note=f"pushed to B: {got}; A closed: {a_close}"))  # fmt: skip
    assert got, "B's result was not pushed after A closed"
    assert a_close == (4000, "session resumed by another connection")

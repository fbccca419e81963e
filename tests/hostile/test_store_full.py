"""An SQLite store on a full disk (``--store sqlite:PATH?max_pages=N``).

Every write that fails answers in Runware's error shape (503 ``storageUnavailable``) over
REST and WebSocket, is rolled back and logged; the background loops (scheduler, sweep)
go on, so once eviction frees room the server works again: later tasks are accepted and
their webhooks go out, and ``--max-tasks`` still evicts."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.helpers import T2V, Receiver, eventually

from .harness import KEY, Effect, Watch, mock_process, report


def _task(hook: str, results: int) -> dict[str, Any]:
    return {**T2V, "taskUUID": str(uuid.uuid4()), "numberResults": results, "webhookURL": hook}


def test_full_disk_answers_in_runware_shape_and_the_loops_recover(tmp_path: Path) -> None:
    log = tmp_path / "mock.log"
    flags = ("--store", f"sqlite:{tmp_path / 'mock.db'}?max_pages=40", "--max-tasks", "3",
             "--job-seconds", "0.2", "--log-level", "warning")  # fmt: skip
    with (
        Receiver(keep_alive=True) as receiver,
        mock_process(*flags, log=log) as proc,
        Watch(proc) as watch,
    ):
        first = _task(receiver.hook, 20)
        answers: list[httpx.Response] = [proc.client.post("/v1", json=[first])]
        while answers[-1].status_code == 200 and len(answers) < 200:  # fill the disk
            answers.append(proc.client.post("/v1", json=[_task(receiver.hook, 20)]))
        full = answers[-1]
        with connect(proc.ws_url, open_timeout=5) as ws:
            ws.send(json.dumps([{"taskType": "authentication", "apiKey": KEY}]))
            ws.recv(timeout=5)
            ws.send(json.dumps([_task(receiver.hook, 20)]))
            try:
                ws_frame = json.loads(ws.recv(timeout=5))
            except TimeoutError:
                ws_frame = {"errors": [{"code": "(no answer within 5 s)"}]}
        # The sweep evicts past --max-tasks, which frees pages: the server accepts again.
        later = _task(receiver.hook, 20)  # as big as the one that did not fit
        accepted = eventually(
            lambda: proc.client.post("/v1", json=[{**later, "taskUUID": str(uuid.uuid4())}])
            .status_code == 200 or None,
            timeout=15, interval=0.5,
        )  # fmt: skip
        late = _task(receiver.hook, 1)
        late_code = proc.client.post("/v1", json=[late]).status_code
        delivered = eventually(
            lambda: any(b["data"][0]["taskUUID"] == late["taskUUID"]
                        for b in receiver.json_bodies), timeout=10,
        )  # fmt: skip
        oldest = proc.client.post(
            "/v1", json=[{"taskType": "getResponse", "taskUUID": first["taskUUID"]}]
        )
    text = log.read_text()
    logged = text.count("storage unavailable")
    codes = [r.status_code for r in answers]
    report(Effect.of("sqlite store on a full disk", watch,
                     statuses={str(c): codes.count(c) for c in set(codes)},
                     note=f"recovered: {bool(accepted)}; later webhook: {bool(delivered)}; "
                          f"{logged} failures logged"))  # fmt: skip
    assert full.status_code == 503, (full.status_code, full.text[:200])
    assert full.headers["content-type"].startswith("application/json")
    assert full.json()["errors"][0]["code"] == "storageUnavailable"
    assert ws_frame["errors"][0]["code"] == "storageUnavailable", ws_frame
    assert accepted and late_code == 200, "the server did not recover once room was freed"
    assert delivered, "a later task's webhook never went out"
    assert oldest.json()["errors"][0]["code"] == "taskNotFound"  # evicted past --max-tasks
    assert logged >= 2, text[-2000:]  # the REST and the WebSocket failure at least

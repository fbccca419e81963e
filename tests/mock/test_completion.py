"""Completion with a shared schedule (Redis): a task is marked finished when its last delivery
has an outcome, not before (a lease that ran out while a delivery was still going would have it
delivered twice) and not never (it would be delivered again each time its lease runs out)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_client

from mockserver import MockConfig
from mockserver.testing import serve
from tests.helpers import Receiver, RedisServer, answer, eventually, new_task, redis_server

KEY = "completion-key"
LEASE = 1.0  # seconds a claim is held unfinished


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


def test_the_last_delivery_marks_the_task_finished(redis: RedisServer) -> None:
    held = threading.Event()

    def third_waits(receiver: Receiver, handler: Any, attempt: int) -> int | None:
        if attempt == 3:  # the last result's webhook: held until the test lets it go
            held.set()
            receiver.release.wait(30)
            handler.close_connection = True
            return None  # no answer: delivered again
        return answer(200)(receiver, handler, attempt)

    config = MockConfig(
        api_keys=frozenset({KEY}),
        store=f"{redis.url}?lease={LEASE}",
        clock=time.time,
        job_seconds=0.1,
        webhook_backoff_seconds=0.1,
    )
    client = redis_client.Redis.from_url(redis.url)
    with Receiver(third_waits) as hook, serve(config, api_key=KEY) as running:
        task = new_task(numberResults=3, webhookURL=hook.hook)
        assert running.client.post("/v1", json=[task]).status_code == 200
        owner = running.server.config.owner_of(KEY)
        claim = f"rwm:claim:{owner}:{task['taskUUID']}"

        def finished() -> bool:
            return client.get(claim) == b"done" or client.pttl(claim) > LEASE * 1000

        hook.wait_for(2)
        assert held.wait(10)
        assert not finished()  # a delivery is still going
        hook.release.set()
        hook.wait_for(3)
        assert eventually(finished, 10), (client.get(claim), client.pttl(claim))
        assert client.zscore("rwm:due", f"{owner}:{task['taskUUID']}") is None
    client.close()

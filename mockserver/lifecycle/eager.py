"""``eagerly(coroutine)``: start a coroutine now, and make a task of it only if it suspends.

A task costs a turn of the event loop before it starts, and on a busy loop a turn is the
time every other ready callback takes: a WebSocket frame answered in a task of its own
waited for that before any work began. Most frames never suspend (the memory store, SQLite
writes on the loop), so they are answered at once; one that does suspend (Redis's network,
a lock held elsewhere, a latency scenario) goes on as a task from where it stopped, so the
connection reads its next frames meanwhile. Python 3.12's eager task factory does this; the
mock runs on 3.11 too.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Coroutine, Generator
from typing import Any


def eagerly(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run ``coroutine`` up to its first suspension, in a context of its own (as a task's);
    None if it finished (its exception, if any, is raised here), else the task finishing it,
    in that same context."""
    context = contextvars.copy_context()
    try:
        pending = context.run(coroutine.send, None)
    except StopIteration:
        return None
    return asyncio.get_running_loop().create_task(_resume(coroutine, pending), context=context)


@types.coroutine
def _resume(coroutine: Coroutine[Any, Any, None], pending: Any) -> Generator[Any, Any, None]:
    """Drive ``coroutine`` from the suspension that yielded ``pending`` (what ``yield from``
    does for a coroutine not yet started): what the task sends or throws goes to it."""
    while True:
        try:
            sent = yield pending
        except GeneratorExit:
            coroutine.close()
            raise
        except BaseException as exc:  # a cancellation, thrown in by the task
            try:
                pending = coroutine.throw(exc)
            except StopIteration:
                return
        else:
            try:
                pending = coroutine.send(sent)
            except StopIteration:
                return

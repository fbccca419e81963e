"""Reading a request body: bounded in bytes and time; a refused one is drained, not reset."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from starlette.types import Receive

from ..core.reply import BadRequest, ClientGone, error

# A refused body is read and dropped before the 413 goes out, as nginx's lingering close
# does: closing a socket with unread data makes the kernel send a reset, which destroys the
# 413 of a client that sends its whole body before reading (urllib and many others). Bounded
# by time, not bytes (dropping costs no memory): LINGER_SECONDS in all (nginx's
# lingering_time), LINGER_IDLE_SECONDS between chunks (lingering_timeout).
LINGER_SECONDS = 30.0
LINGER_IDLE_SECONDS = 5.0


async def discard(receive: Receive) -> None:
    """Read and drop the rest of a request body, within the linger bounds."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(LINGER_SECONDS):
            while True:
                message = await asyncio.wait_for(receive(), LINGER_IDLE_SECONDS)
                if message["type"] == "http.disconnect" or not message.get("more_body"):
                    return


async def read_body(
    headers: Mapping[str, str], receive: Receive, limit: int, seconds: float
) -> bytes:
    """The whole body (at most ``limit`` bytes), read as it arrives within ``seconds``; else
    BadRequest 413 or 408, or ClientGone."""
    too_large = BadRequest(413, error("maxPayloadSizeExceeded", f"The body is over {limit} bytes."))
    declared = headers.get("content-length", "")
    chunks: list[bytes] = []
    size = 0
    if declared.isdigit() and int(declared) > limit:
        # A client waiting for "100 Continue" has sent nothing: nothing to drain.
        if "100-continue" not in headers.get("expect", "").lower():
            await discard(receive)
        raise too_large
    try:
        async with asyncio.timeout(seconds):  # uvicorn has no body-read timeout
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if not message.get("more_body") and size <= limit:
                    chunks.append(chunk)
                    return b"".join(chunks)
                if size > limit:
                    break
                chunks.append(chunk)
    except TimeoutError:
        raise BadRequest(
            408,
            error("timeoutRequestBody", f"The body did not arrive within {seconds} s."),
        ) from None
    if message.get("more_body"):
        await discard(receive)
    raise too_large

"""The machine's limit for benchmarks/mock_vs_prism.py: the mock's own stack (uvloop, httptools)
answering every request with a fixed acknowledgement, without parsing, validating or storing
anything. No server on this stack answers faster, so mock / limit says how much of what the
machine allows the mock takes.

Usage: python benchmarks/bare_responder.py --port PORT
"""

from __future__ import annotations

import argparse
import asyncio
from typing import cast

import httptools
import uvloop

ACK = b'{"data":[{"taskType":"videoInference","taskUUID":"00000000-0000-4000-8000-000000000000"}]}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
    + str(len(ACK)).encode()
    + b"\r\n\r\n"
    + ACK
)


class Responder(asyncio.Protocol):
    """One connection: every complete request gets RESPONSE (keep-alive)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_message_complete(self) -> None:
        self.transport.write(RESPONSE)


async def serve(host: str, port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Responder, host, port)
    await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

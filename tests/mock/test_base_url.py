"""Where result URLs point: the request's Host header, else the address the server listens on."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.http.base_url import base_url


def scope(host: bytes | None, server: Any) -> dict[str, Any]:
    headers = [(b"user-agent", b"t")] + ([(b"host", host)] if host is not None else [])
    return {"type": "http", "scheme": "http", "headers": headers, "server": server}


@pytest.mark.parametrize(
    ("host", "server", "expected"),
    [
        (b"mock.test:8080", ("127.0.0.1", 9000), "http://mock.test:8080"),
        (None, ("127.0.0.1", 9000), "http://127.0.0.1:9000"),
        (b"bad host", ("::1", 9000), "http://[::1]:9000"),
        # an ASGI server without a port (a Unix socket's path, say): no ":None" in URLs
        (None, ("mock.local", None), "http://mock.local"),
        (None, None, "http://127.0.0.1:80"),
    ],
)
def test_result_urls_point_at_the_host_asked_for_else_the_listening_address(
    host: bytes | None, server: Any, expected: str
) -> None:
    assert base_url(scope(host, server), None) == expected


def test_a_public_url_wins_over_any_header() -> None:
    assert base_url(scope(b"mock.test", ("127.0.0.1", 1)), "https://x.test") == "https://x.test"

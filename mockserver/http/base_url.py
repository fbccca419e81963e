"""The base of every URL the mock hands out (videoURL, imageURL).

``--public-url`` sets it (a proxy or container address clients can reach). Without it the
request's ``Host`` header is used when it is a plain ``host[:port]``, else the address the
server is bound to: a hostile Host header cannot put anything else into a stored URL.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

from starlette.types import Scope

# A DNS name or IPv4 address, or a bracketed IPv6 address; an optional port.
HOST_PORT = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?"
)
HOST_MAX = 255
SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


def valid_host(host: str) -> bool:
    return len(host) <= HOST_MAX and HOST_PORT.fullmatch(host) is not None


def parse_public_url(text: str) -> str:
    """``text`` as a URL base (no trailing slash), or ValueError saying what is wrong."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ValueError("must start with http:// or https://")
    if not valid_host(parts.netloc):
        raise ValueError("needs a host[:port] (no user name or password)")
    if parts.query or parts.fragment or any(c.isspace() for c in text):
        raise ValueError("takes no query, fragment or white space")
    return text.rstrip("/")


def base_url(scope: Scope, public_url: str | None) -> str:
    """Where clients reach this server, for URLs in replies."""
    if public_url:
        return public_url
    host = b""
    for name, value in scope["headers"]:  # a loop, not next() over a generator: every request
        if name == b"host":
            host = value
            break
    if len(host) > HOST_MAX:
        host = b""  # not valid either way; not kept by the cache
    return _base(scope.get("scheme", "http"), host, tuple(scope.get("server") or ()))


@functools.lru_cache(maxsize=256)  # each request asks; the answers are few
def _base(scheme: str, host_header: bytes, server: tuple[str, int | None] | tuple[()]) -> str:
    host = host_header.decode("latin-1")
    if not valid_host(host):
        name, port = server or ("127.0.0.1", 80)  # ASGI: (host, port), or (path, None)
        host = f"[{name}]" if ":" in name else name
        host = host if port is None else f"{host}:{port}"
    return f"{SCHEMES.get(scheme, 'http')}://{host}"

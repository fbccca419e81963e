"""uvicorn's options for a mock server: the one builder, used by the CLI (one process or
each ``--workers`` process) and by ``testing.serve``."""

from __future__ import annotations

from typing import Any

from .core.config import MockConfig
from .http.app import MockServer
from .protocols.limits import http_protocol, ws_protocol


def shared_options(config: MockConfig) -> dict[str, Any]:
    """The options that do not depend on the process (a ``--workers`` parent hands them to
    its workers, pickled): WebSocket frames up to the body limit, no pings of uvicorn's own,
    and request_log's lines instead of uvicorn's access log (direct.py writes none)."""
    return {
        "ws_max_size": config.max_body_bytes,
        "ws_ping_interval": None,
        "access_log": False,
    }


def uvicorn_options(server: MockServer, **overrides: Any) -> dict[str, Any]:
    """Every option ``server`` runs with: the shared ones and this process's protocol classes
    (the header deadline and ``POST /v1`` answered in the protocol by ``server.rest``; the
    WebSocket frame rate), each from the server's config; ``overrides`` win."""
    config = server.config
    return {
        **shared_options(config),
        "http": http_protocol(config.header_timeout_seconds, server.rest),
        "ws": ws_protocol(config.ws_max_frames_per_second),
        **overrides,
    }

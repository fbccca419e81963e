"""One authentication path for REST, WebSocket, media and admin.

Every transport finds the key where its protocol carries it (a bearer header, an
authentication task) and asks ``refusal`` whether it may pass; each then words the 401 for
its caller. Admin routes take the admin key when one is set (``MockConfig.admin_key``).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from .config import MockConfig
from .wire import error


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if there is one."""
    header = headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def refusal(config: MockConfig, key: str | None, *, admin: bool = False) -> str | None:
    """None if ``key`` may pass; else the error code to refuse it with: ``missingApiKey``
    (no key) or ``invalidApiKey``."""
    valid = config.admin_key_is_valid if admin else config.key_is_valid
    if valid(key):
        return None
    return "invalidApiKey" if key else "missingApiKey"


def denied(config: MockConfig, request: HTTPConnection, *, admin: bool = False) -> Response | None:
    """The 401 for a media, OpenAPI or admin route whose bearer key may not pass; else None."""
    key = bearer(request.headers)
    code = refusal(config, key, admin=admin)
    if code is None:
        return None
    what = "an admin key" if admin and config.admin_key else "a valid API key"
    return JSONResponse(
        {"errors": [error(code, f"This endpoint needs {what}.", parameter="apiKey")]},
        status_code=401,
    )

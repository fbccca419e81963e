"""One authentication path for REST, WebSocket, media and admin.

Every transport finds the key where its protocol carries it (a bearer header, an
authentication task) and asks ``refusal`` whether it may pass; each then words the 401 for
its caller. Admin routes take the admin key when one is set (``MockConfig.admin_key``): a
valid API key that is not it gets 403 ``forbidden``, any other key 401. Without an admin key,
any valid API key opens them.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from ..core.config import MockConfig
from ..core.reply import error, status_of


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if there is one."""
    header = headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def refusal(config: MockConfig, key: str | None, *, admin: bool = False) -> str | None:
    """None if ``key`` may pass; else the catalogue code to refuse it with: ``missingApiKey``
    (no key), ``invalidApiKey``, or, on an admin route of a mock with an admin key,
    ``forbidden`` for a valid API key that is not the admin key."""
    if config.admin_key_is_valid(key) if admin else config.key_is_valid(key):
        return None
    if admin and config.key_is_valid(key):
        return "forbidden"
    return "invalidApiKey" if key else "missingApiKey"


def denied(config: MockConfig, request: HTTPConnection, *, admin: bool = False) -> Response | None:
    """The 401 (or 403: a valid key that is not the admin key) for a media, OpenAPI or admin
    route whose bearer key may not pass; else None."""
    key = bearer(request.headers)
    code = refusal(config, key, admin=admin)
    if code is None:
        return None
    if code == "forbidden":
        message = "This endpoint needs the admin key (--admin-key); this API key is not it."
    else:
        what = "an admin key" if admin and config.admin_key else "a valid API key"
        message = f"This endpoint needs {what}."
    return JSONResponse(
        {"errors": [error(code, message, parameter="apiKey")]}, status_code=status_of(code)
    )

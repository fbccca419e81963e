"""Runware's error replies as Starlette responses: the routes' own errors, Starlette's 404/405,
and a store failure on any Starlette route (media, admin)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..core.reply import BadRequest, error, storage_error
from ..store import StoreUnavailable


async def store_failed(request: Request, exc: Exception) -> Response:
    """A store failure on any Starlette route (media, admin), in Runware's error shape."""
    assert isinstance(exc, StoreUnavailable)
    return JSONResponse({"errors": [storage_error(exc)]}, status_code=503)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 and friends, in Runware's error shape."""
    assert isinstance(exc, HTTPException)
    code = {404: "invalidEndpoint", 405: "invalidRequestMethod"}.get(
        exc.status_code, "invalidRequest"
    )
    message = {404: "No such endpoint.", 405: "Method not allowed here."}.get(
        exc.status_code, str(exc.detail)
    )
    return JSONResponse(
        {"errors": [error(code, message)]}, status_code=exc.status_code, headers=exc.headers
    )


def bad_request_response(exc: BadRequest) -> Response:
    # 408/413 leave the body unread: the connection cannot carry another request.
    close = {"connection": "close"} if exc.status in (408, 413) else None
    return JSONResponse({"errors": [exc.error]}, status_code=exc.status, headers=close)


def not_found(message: str) -> Response:
    return JSONResponse({"errors": [error("taskNotFound", message)]}, status_code=404)


async def wrong_method(request: Request) -> Response:
    """Another method than POST on ``/v1``."""
    body = {"errors": [error("invalidRequestBody", "POST the task array to /v1.")]}
    return JSONResponse(body, status_code=405, headers={"Allow": "POST"})

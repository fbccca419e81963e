"""The GET routes beside /v1: result videos and images, and uploaded images (by signed URL or
the owner's key, whole or by byte range), the index at /, health and the OpenAPI document."""

from __future__ import annotations

import os
import re
from importlib import resources
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from ..base.security import signature_valid
from ..core.reply import JSON, error, status_of
from ..media.containers import BY_EXTENSION, CONTAINERS
from ..media.rendering import RenderBusy
from .auth import bearer, denied
from .base_url import base_url
from .byte_ranges import media_response
from .responses import not_found

if TYPE_CHECKING:
    from .state import ServerState

MEDIA_PATH = re.compile(
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    rf"\.(?P<ext>{'|'.join(map(re.escape, BY_EXTENSION))})"
)
UUID_PATH = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class MediaRoutes:
    """Media, health and OpenAPI of one MockServer."""

    def __init__(self, server: ServerState) -> None:
        self.server = server

    async def index(self, request: Request) -> Response:
        """``GET /``: where the API, its health and its OpenAPI document are (no key needed,
        like /health: it tells only what any client is configured with). JSON, or plain text
        for a client that asks for text (a browser)."""
        base = base_url(request.scope, self.server.config.public_url)
        ws_base = "ws" + base.removeprefix("http")
        links = {
            "rest": f"{base}/v1",
            "websocket": f"{ws_base}/v1",
            "health": f"{base}/health",
            "openapi": f"{base}/openapi.json",
        }
        accept = request.headers.get("accept", "")
        if "text/" in accept and "json" not in accept:
            lines = [
                "Runware API mock (runware-contract-kit).",
                f"POST a JSON array of tasks to {links['rest']}, or open a WebSocket on "
                f"{links['websocket']}; send Authorization: Bearer <key>.",
                f"Health (no key): {links['health']}",
                f"OpenAPI 3.1 document (key required): {links['openapi']}",
                f"Models: {', '.join(self.server.models)}",
            ]
            return PlainTextResponse("\n".join(lines) + "\n")
        return JSONResponse(
            {"service": "Runware API mock", "links": links, "models": self.server.models}
        )

    async def health(self, request: Request) -> Response:
        # The process id tells --workers processes apart (tests pin a connection to each).
        # loopLagMs: the longest the event loop was blocked lately (supervise.LagMonitor).
        # A store known to be broken (a damaged SQLite file) makes the server unhealthy: 503,
        # with the reason under "store" (its writes answer 503 too).
        server = self.server
        problem = server.store.problem()
        body = {"status": "ok", "models": server.models, "worker": os.getpid()}
        if problem is not None:
            body |= {"status": "unhealthy", "store": problem}
        return JSONResponse(
            body | server.lag.as_dict(), status_code=200 if problem is None else 503
        )

    def _owner(self, request: Request, kind: str, name: str) -> str | Response | None:
        """Whose media the request may see: with the signature its URL was handed out with,
        the owner the URL names (None: anyone's, for image URLs, whose UUIDs are unique); with
        a key, that key's own. Otherwise a 401 or 403 to send."""
        config = self.server.config
        signature = request.path_params.get("sig")
        owner = request.path_params.get("owner")
        signed = f"{owner}/{name}" if owner is not None else name
        if signature is not None:
            if signature_valid(config.media_secret, kind, signed, signature):
                return owner
            return JSONResponse(
                {"errors": [error("invalidSignature", "This media URL's signature is wrong.")]},
                status_code=403,
            )
        if (refused := denied(config, request)) is not None:
            return refused
        key = bearer(request.headers)
        assert key is not None  # denied checked it
        return config.owner_of(key)

    async def openapi(self, request: Request) -> Response:
        if (refused := denied(self.server.config, request)) is not None:
            return refused
        text = resources.files("runware_contract").joinpath("openapi.json").read_bytes()
        return Response(text, media_type=JSON)

    async def video(self, request: Request) -> Response:
        return await self._result_file(request, "video", request.path_params["name"])

    async def _result_file(self, request: Request, kind: str, name: str) -> Response:
        """A result's video or image file (``kind``), rendered when first asked for."""
        server = self.server
        owner = self._owner(request, kind, name)
        if isinstance(owner, Response):
            return owner
        match = MEDIA_PATH.fullmatch(name)
        video = await server.store.get_video(owner, match["uuid"]) if match and owner else None
        now = server.config.clock()
        if video is None or video.ready_at > now or match is None:
            return not_found(f"No such {kind}.")
        if video.expires_at is not None and now >= video.expires_at:
            return JSONResponse(
                {"errors": [error("taskNotFound", f"This {kind}'s ttl has passed.")]},
                status_code=410,
            )
        container = CONTAINERS[video.container]
        if BY_EXTENSION[match["ext"]] != video.container or container.media != kind:
            return not_found(f"No such {kind} in that format.")
        try:
            data = await server.media.get(video)
        except RenderBusy as busy:
            code = "renderQueueFull"
            message = f"Too many files are being rendered; retry after {busy.retry_after} s."
            return JSONResponse(
                {"errors": [error(code, message)]},
                status_code=status_of(code),
                headers={"Retry-After": str(busy.retry_after)},
            )
        return media_response(request.headers, request.method, data, container.media_type)

    async def image(self, request: Request) -> Response:
        """A result image (``/image/{sig}/{owner}/{uuid}.{ext}``, or its name with the owner's
        key), or an uploaded one (its UUID)."""
        name = request.path_params.get("name") or request.path_params["uuid"]
        if "owner" in request.path_params or MEDIA_PATH.fullmatch(name):
            return await self._result_file(request, "image", name)
        image_uuid = name
        owner = self._owner(request, "image", image_uuid)
        if isinstance(owner, Response):
            return owner
        valid = UUID_PATH.fullmatch(image_uuid)
        record = await self.server.store.get_image(image_uuid, owner) if valid else None
        if record is None or record.data is None:
            return not_found("No such image.")
        media_type = record.content_type or "application/octet-stream"
        return media_response(request.headers, request.method, record.data, media_type)

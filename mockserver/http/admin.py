"""The admin API under ``/__admin/``: its index, scenarios, the request journal, delivery
outcomes and reset. Every route takes the admin key (any valid API key when none is set;
with one set, a valid API key that is not it gets 403), or the dashboard's session cookie
with its CSRF token (``dashboard.session``). Errors are Runware's shape, with catalogue
codes; JSON keys are camelCase, as Runware's wire format, the query parameters and the logs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.journal import TRANSPORTS
from ..core.json_problems import json_problem
from ..core.reply import BadRequest, ClientGone, error, status_of
from ..core.scenarios import Scenario, ScenarioError, parse
from .body import read_body
from .dashboard.session import admin_denied
from .responses import bad_request_response

if TYPE_CHECKING:
    from .state import ServerState

# The admin API, one row an endpoint: path, methods, Admin's handler (None: served by
# another module), what it does. The routes and the index (GET /__admin/) both read it.
ENDPOINTS: tuple[tuple[str, tuple[str, ...], str | None, str], ...] = (
    ("/__admin/", ("GET",), "index", "this list"),
    ("/__admin/scenarios", ("GET", "POST", "DELETE"), "scenarios",
     "armed scenarios: list them, arm one (a JSON object), remove all"),
    ("/__admin/scenarios/{id}", ("DELETE",), "scenario", "remove one armed scenario"),
    ("/__admin/requests", ("GET", "DELETE"), "requests",
     "the request journal, newest first (query: limit, taskType, taskUUID, transport); "
     "clear it"),
    ("/__admin/deliveries", ("GET",), "deliveries",
     "webhook and upload outcomes (URLs without their query or credentials)"),
    ("/__admin/reset", ("POST",), "reset",
     "forget tasks, scenarios, the journal and pending results"),
    ("/__admin/ui", ("GET",), None, "the dashboard, a page for a browser"),
)  # fmt: skip

JOURNAL_LIMIT = re.compile(r"[0-9]{1,7}")  # ASCII digits only (str.isdigit takes "²")
# Admin bodies are small JSON objects; larger ones get 413 before they are read.
ADMIN_BODY_BYTES = 64 * 1024


def _refused(code: str, message: str, parameter: str | None = None) -> Response:
    """One admin error, answered with its code's catalogue status."""
    return JSONResponse(
        {"errors": [error(code, message, parameter=parameter)]}, status_code=status_of(code)
    )


class Admin:
    """The admin routes of one MockServer."""

    def __init__(self, server: ServerState) -> None:
        self.server = server
        self._scenario_ids = 0

    def routes(self) -> list[Route]:
        """Every endpoint of ENDPOINTS this class serves (``/__admin`` too, for the index)."""
        routes = [
            Route(path, getattr(self, handler), methods=list(methods))
            for path, methods, handler, _ in ENDPOINTS
            if handler is not None
        ]
        return [*routes, Route("/__admin", self.index, methods=["GET"])]

    def _denied(self, request: Request) -> Response | None:
        return admin_denied(self.server.config, request)

    async def index(self, request: Request) -> Response:
        if (refused := self._denied(request)) is not None:
            return refused
        endpoints = [
            {"path": path, "methods": list(methods), "description": what}
            for path, methods, _, what in ENDPOINTS
        ]
        return JSONResponse({"endpoints": endpoints})

    async def _json(self, request: Request) -> Any:
        """An admin body parsed as strict JSON, read under ADMIN_BODY_BYTES and the body
        timeout (BadRequest otherwise, saying in plain words what is wrong and where)."""
        seconds = self.server.config.body_timeout_seconds
        raw = await read_body(request.headers, request.receive, ADMIN_BODY_BYTES, seconds)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            message = f"Bad scenario: the body {json_problem(raw, exc)}."
            raise BadRequest(400, error("invalidRequestBody", message)) from None

    async def scenarios(self, request: Request) -> Response:
        if (refused := self._denied(request)) is not None:
            return refused
        scenarios = self.server.scenarios
        if request.method == "GET":
            return JSONResponse({"scenarios": [s.describe() for s in scenarios.items]})
        if request.method == "DELETE":
            scenarios.reset()
            return JSONResponse({"scenarios": []})
        try:
            body = await self._json(request)
            self._scenario_ids += 1
            scenario: Scenario = parse(body, f"s{self._scenario_ids}")
            scenarios.add(scenario)
        except BadRequest as exc:
            return bad_request_response(exc)
        except ClientGone:
            return Response(status_code=400)
        except ScenarioError as exc:
            text = str(exc)
            text += "" if text.endswith(("?", ".")) else "."
            return _refused(exc.code, f"Bad scenario: {text}", exc.parameter)
        return JSONResponse(scenario.describe(), status_code=201)

    async def scenario(self, request: Request) -> Response:
        if (refused := self._denied(request)) is not None:
            return refused
        scenario_id = request.path_params["id"]
        if self.server.scenarios.remove(scenario_id):
            return Response(status_code=204)
        shown = scenario_id if len(scenario_id) <= 100 else scenario_id[:100] + "..."
        return _refused(
            "scenarioNotFound",
            f"No scenario {shown!r} is armed (GET /__admin/scenarios lists those that are).",
            "id",
        )

    async def requests(self, request: Request) -> Response:
        if (refused := self._denied(request)) is not None:
            return refused
        journal = self.server.journal
        if request.method == "DELETE":
            journal.clear()
            return Response(status_code=204)
        q = request.query_params
        limit = q.get("limit", "100")
        if JOURNAL_LIMIT.fullmatch(limit) is None:
            message = "limit must be a whole number from 0 to 9999999."
            return _refused("invalidParameterValue", message, "limit")
        transport = q.get("transport")
        if transport is not None and transport not in TRANSPORTS:
            message = f"transport must be one of: {', '.join(TRANSPORTS)}."
            return _refused("invalidParameterValue", message, "transport")
        entries = journal.query(
            task_type=q.get("taskType"),
            task_uuid=q.get("taskUUID"),
            transport=transport,
            limit=int(limit),
        )
        return JSONResponse({"requests": entries, "total": len(journal)})

    async def deliveries(self, request: Request) -> Response:
        if (refused := self._denied(request)) is not None:
            return refused
        deliverer = self.server.deliverer
        outcomes = [o.as_dict() for o in deliverer.outcomes] if deliverer else []
        return JSONResponse({"deliveries": outcomes})

    async def reset(self, request: Request) -> Response:
        if (refused := self._denied(request)) is not None:
            return refused
        await self.server.reset()
        return Response(status_code=204)

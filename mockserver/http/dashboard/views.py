"""The data behind each dashboard view, read from the server's own state: the journal, the
task board, the deliverer, the scenarios, the model registry (the tables the validators
compile) and the health figures."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...core.models import Source
    from ..state import ServerState


def model_view(module: ModuleType, source: Source) -> dict[str, Any]:
    """One served model, from the tables its validator was compiled from."""
    tables = module.tables
    return {
        "id": module.MODEL_ID,
        "name": module.MODEL_NAME,
        "taskType": module.TASK_TYPE,
        "docs": module.DOCS,
        "source": {"kind": source.kind, "file": source.file},
        "parameters": [
            {k: v for k, v in p.items() if k not in ("anchor", "codes")} for p in tables.PARAMETERS
        ],
        "rules": [
            {"id": r.get("id"), "kind": r.get("kind"), "message": r.get("message")}
            for r in tables.RULES
        ],
        "dimensions": tables.DIMENSIONS,
        "pricing": tables.PRICING,
        "examples": [e.name for e in module.EXAMPLES],
    }


def models(server: ServerState) -> list[dict[str, Any]]:
    registry = server.registry
    return [model_view(registry.models[name], registry.sources[name]) for name in registry.names]


def deliveries(server: ServerState) -> dict[str, Any]:
    deliverer = server.deliverer
    if deliverer is None:
        return {"attempts": [], "outcomes": [], "pending": 0, "dropped": 0}
    return {
        "attempts": list(reversed(deliverer.attempt_log)),
        "outcomes": [o.as_dict() for o in reversed(deliverer.outcomes)],
        "pending": deliverer.pending,
        "dropped": deliverer.dropped,
    }


async def health(server: ServerState, clients: int) -> dict[str, Any]:
    """Loop lag, the store's counts and the queues' depths."""
    deliverer = server.deliverer
    journal = server.journal
    store: dict[str, Any] = {"kind": server.config.store.partition(":")[0]}
    try:
        store.update(await server.store.counts())
    except Exception as exc:  # a store that cannot answer is what health shows
        store["error"] = f"{type(exc).__name__}: {exc}"
    return {
        **server.lag.as_dict(),
        "store": store,
        "queues": {
            "scheduledCompletions": len(server.scheduler),
            "deliveriesPending": deliverer.pending if deliverer else 0,
            "deliveriesDropped": deliverer.dropped if deliverer else 0,
            "videoRenders": server.videos.rendering,
            "webSocketSessions": len(server.sessions),
        },
        "journal": {
            "entries": len(journal),
            "size": server.config.journal_size,
            "bodyBytes": journal.bytes_held,
            "maxBytes": journal.max_bytes,
        },
        "scenariosArmed": len(server.scenarios.items),
        "dashboardStreams": clients,
    }

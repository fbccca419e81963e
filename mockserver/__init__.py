"""A Runware API mock: REST and WebSocket on the generated contract, async video lifecycle,
documented-example replay, scenarios, webhooks, uploads and real video files."""

from .app import MockServer, create_app
from .config import MockConfig

__all__ = ["MockConfig", "MockServer", "create_app"]

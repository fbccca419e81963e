"""What the routes see of a server: ``ServerState``, the attributes and calls of
``MockServer`` they use. The routes are typed against this, not against ``MockServer``, so
``app.py`` imports them and none of them imports ``app.py`` (no circle)."""

from __future__ import annotations

from typing import Protocol

from ..core.answer import Answering
from ..core.config import MockConfig
from ..core.engine import Engine
from ..core.journal import Journal
from ..core.models import ModelRegistry
from ..core.scenarios import Scenarios
from ..core.sessions import Sessions
from ..lifecycle.delivery import Deliverer
from ..lifecycle.relay import Relay
from ..lifecycle.scheduler import Scheduler
from ..lifecycle.supervise import LagMonitor
from ..media.files import MediaFiles
from ..media.rendering import VideoFiles
from ..store import Store


class ServerState(Protocol):
    """A running mock's state, as its routes read it."""

    config: MockConfig
    store: Store
    engine: Engine
    answering: Answering
    scenarios: Scenarios
    journal: Journal
    registry: ModelRegistry
    scheduler: Scheduler
    sessions: Sessions
    relay: Relay
    videos: VideoFiles
    media: MediaFiles  # videos and result images
    lag: LagMonitor

    @property
    def deliverer(self) -> Deliverer | None: ...

    @property
    def models(self) -> list[str]: ...

    async def reset(self) -> None: ...

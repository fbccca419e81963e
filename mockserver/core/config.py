"""Settings of one mock server instance (the CLI flags, and knobs for tests)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..base.security import key_matches, owner_tag

LOOPBACK = ("127.0.0.0/8", "::1/128")  # where webhooks and uploads may go by default


@dataclass
class MockConfig:
    """Everything a MockServer needs; the defaults are the CLI's."""

    api_keys: frozenset[str] = frozenset()  # empty: any non-empty key is accepted
    job_seconds: float = 3.0  # how long a task delivered async stays "processing"
    # how long a task delivered sync (an image's default) runs before its POST is answered
    sync_job_seconds: float = 0.5
    seed: int | None = None  # deterministic UUIDs, seeds and timings
    journal_size: int = 1000  # request journal ring buffer
    task_ttl_seconds: float = 3600.0  # how long finished tasks can be polled
    session_buffer_seconds: float = 120.0  # WebSocket results kept for resume
    max_body_bytes: int = 10 * 1024 * 1024
    max_tasks_per_request: int = 100  # tasks in one REST body or WebSocket frame (tooManyTasks)
    webhook_attempts: int = 5
    webhook_timeout_seconds: float = 5.0
    webhook_backoff_seconds: float = 0.5
    # memory | sqlite:PATH (see store/). With SQLite, pass clock=time.time (as the CLI does)
    # if stored times must survive a reboot; time.monotonic holds across processes and restarts.
    store: str = "memory"
    max_tasks: int = 100_000  # tasks kept at most; the oldest are forgotten first
    max_results: int = 200_000  # results held in memory over all tasks (store.Limits)
    # bytes of results held in memory over all tasks (inline images: base64Data, dataURI)
    max_result_bytes: int = 256 * 1024 * 1024
    max_images: int = 1000  # uploaded images kept at most (and 256 MiB of them)
    max_image_pixels: int = 8192 * 8192  # imageUpload refuses larger images (header size)
    session_buffer_max: int = 1000  # WebSocket frames kept per detached session
    video_cache_bytes: int = 64 * 1024 * 1024  # rendered video files kept (LRU)
    render_queue: int = 4  # video renders waiting beside the one running; more get 503
    image_cache_bytes: int = 64 * 1024 * 1024  # rendered image files kept (LRU)
    # image renders waiting beside the one running (two tasks of 20 results); more get 503
    image_render_queue: int = 40
    max_render_pixels: int = 1 << 25  # width x height of a result image, at most (33.5 MP)
    sweep_seconds: float = 5.0  # how often expired and over-cap tasks are forgotten
    # how long one request's store calls may take together (SQLite and Redis), else 503
    store_timeout_seconds: float = 2.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    # hardening: limits on what one client can hold, and who may be reached or administer
    body_timeout_seconds: float = 10.0  # a request body must arrive within this (408)
    header_timeout_seconds: float = 10.0  # request headers must arrive within this (socket)
    ws_max_in_flight: int = 64  # task frames one WebSocket may have unanswered
    ws_max_frames_per_second: int = 200  # over this, an error; at twice this, close 1008
    ws_auth_timeout_seconds: float = 10.0  # a WebSocket must authenticate within this (1008)
    ws_max_unauthenticated: int = 256  # WebSockets open and not authenticated, at most
    ws_max_unauthenticated_per_client: int = 128  # ... from one client address
    delivery_allow: tuple[str, ...] = LOOPBACK  # webhook/upload targets
    admin_key: str | None = None  # None: any valid API key opens /__admin/
    public_url: str | None = None  # base of handed-out URLs; None: the Host header (checked)
    media_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def key_is_valid(self, key: str | None) -> bool:
        if not key:
            return False
        return not self.api_keys or key_matches(key, self.api_keys)

    def owner_of(self, key: str) -> str:
        """The owner tag of ``key``'s records (see ``security.owner_tag``)."""
        return owner_tag(self.media_secret, key)

    def admin_key_is_valid(self, key: str | None) -> bool:
        if self.admin_key is None:
            return self.key_is_valid(key)
        return key_matches(key, (self.admin_key,))

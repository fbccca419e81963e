"""Task handling shared by REST and WebSocket: validate, accept, answer polls.

``Engine.handle`` takes the parsed task array of one request or frame and returns
the ``data`` items and ``errors`` to send back. Validation is the generated
dispatch (``Registry.validate``) over the server's ``ModelRegistry``; results and prices come
from its model modules; nothing here restates a rule of the docs page.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import runware_contract as rc
from runware_contract.runtime import resolve_positions

from ..base.security import signature_valid, signed_url
from ..media.containers import CONTAINERS, DEFAULTS, UNSIZED, UNTIMED_SECONDS
from ..media.files import MediaFiles
from ..media.image_size import image_size
from ..media.images import ImageFiles, render_problem
from ..media.rendering import RenderBusy, VideoFiles
from ..store import (
    ImageRecord,
    Store,
    StoreUnavailable,
    TaskRecord,
    VideoRecord,
    request_deadline,
)
from .config import MockConfig
from .ids import IdSource
from .models import ModelRegistry
from .replay import ExampleIndex
from .reply import Reply, error, storage_error
from .scenarios import Scenarios
from .sessions import Session
from .task_types import DATA_URI_OUTPUT, LIFECYCLES, URL_OUTPUT, Lifecycle

log = logging.getLogger("mockserver")

OWNERS_KEPT, KEY_KEPT_MAX = 1024, 256  # API keys whose owner tag Engine.owner_of remembers
PLATFORM_TASKS = ("authentication", "ping", "getResponse", "imageUpload")
STORELESS_TASKS = ("authentication", "ping")  # answered without the store
DATA_URI = re.compile(r"data:(?P<type>[^;,]+)(?:;[^,]*)?;base64,(?P<data>.*)", re.S)
SIGNED_IMAGE = re.compile(r"/image/(?P<sig>[0-9a-f]{32})/(?P<uuid>[0-9a-f-]{36})$")


@dataclass(slots=True)
class RequestContext:
    """Who is asking, and how to build URLs back to this server."""

    api_key: str
    base_url: str
    session: Session | None = None
    prefer_example: str | None = None
    owner: str = ""  # the key's owner tag (set by Engine.handle)


class Refused(Exception):
    """A valid task the mock cannot run (an image beyond its render bounds, a full render
    queue): answered with ``error``, nothing stored."""

    def __init__(self, entry: Any) -> None:
        super().__init__(entry["message"])
        self.error = entry


class Engine:
    """The mock's behaviour, independent of the transport."""

    def __init__(
        self,
        config: MockConfig,
        store: Store,
        scenarios: Scenarios,
        models: ModelRegistry,
        media: MediaFiles | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.scenarios = scenarios
        self.models = models
        # the render caches inline results (base64Data, dataURI) are read from
        self.media = media or MediaFiles(
            VideoFiles(config.video_cache_bytes, config.render_queue),
            ImageFiles(config.image_cache_bytes, config.image_render_queue),
        )
        self.ids = IdSource(config.seed)
        self.examples = ExampleIndex(models.models)
        self.on_accept: list[Callable[[TaskRecord], None]] = []
        self._owners: dict[str, str] = {}

    def owner_of(self, key: str) -> str:
        """``key``'s owner tag, computed once per key (an HMAC: a cost on every request), and
        one string object per owner (less memory per kept task). At most OWNERS_KEPT keys of
        at most KEY_KEPT_MAX characters are remembered: with any key accepted, a client cannot
        grow the table."""
        owner = self._owners.get(key)
        if owner is None:
            owner = sys.intern(self.config.owner_of(key))
            if len(key) <= KEY_KEPT_MAX:
                if len(self._owners) >= OWNERS_KEPT:
                    self._owners.clear()
                self._owners[key] = owner
        return owner

    @property
    def now(self) -> float:
        return self.config.clock()

    # ── entry point ─────────────────────────────────────────────────────────

    async def handle(self, tasks: list[Any], ctx: RequestContext) -> Reply:
        """The reply to one request's (or frame's) tasks. Their store calls share one
        deadline (``request_deadline``, moved on after each task the store answered); once the
        store failed, the batch's later tasks that need it fail at once with the same error
        rather than each waiting out the timeout."""
        reply = Reply()
        ctx.owner = ctx.owner or self.owner_of(ctx.api_key)
        validate = self.models.validate
        failed: StoreUnavailable | None = None
        with request_deadline(self.config.store_timeout_seconds) as answered:
            for task in tasks:
                if not isinstance(task, dict):
                    reply.errors.append(
                        error("invalidRequestBody", "Each task must be a JSON object.")
                    )
                    continue
                problems = validate(task)
                if problems:
                    reply.errors.extend(problems)
                    continue
                if failed is not None and task["taskType"] not in STORELESS_TASKS:
                    reply.errors.append(storage_error(failed, task, logged=False))
                    continue
                try:
                    await self._dispatch(task, ctx, reply)
                except StoreUnavailable as exc:
                    failed = exc
                    reply.errors.append(storage_error(exc, task))
                else:
                    answered()
        if reply.waiting:
            await self.finish_waiting(reply)
        return reply

    async def finish_waiting(self, reply: Reply) -> None:
        """Answer the tasks delivered sync with their results (or failure), once the last of
        them is done."""
        delay = max(due for due, _, _ in reply.waiting) - self.now
        if delay > 0:
            await asyncio.sleep(delay)
        for _, failure, items in reply.waiting:
            if failure is not None:
                reply.errors.append(failure)
            else:
                reply.data.extend(items)
        reply.waiting.clear()

    async def _dispatch(self, task: dict[str, Any], ctx: RequestContext, reply: Reply) -> None:
        task_type = task["taskType"]
        if task_type == "authentication":
            reply.data.append(self.authentication_item(ctx))
        elif task_type == "ping":
            reply.data.append({"taskType": "ping", "pong": True})
        elif task_type == "getResponse":
            await self.poll(task, ctx, reply)
        elif task_type == "imageUpload":
            await self.upload(task, ctx, reply)
        else:
            await self.accept(task, ctx, reply)

    def authentication_item(self, ctx: RequestContext) -> dict[str, Any]:
        session_id = (
            ctx.session.session_id if ctx.session else self.ids.uuid4("rest-session", self.now)
        )
        return {"taskType": "authentication", "connectionSessionUUID": session_id}

    # ── async inference tasks ───────────────────────────────────────────────

    async def accept(self, task: dict[str, Any], ctx: RequestContext, reply: Reply) -> None:
        task_uuid = task["taskUUID"]
        module = self.models.model_for(task)
        assert module is not None  # validate() checked the model
        full: dict[str, Any] = module.with_defaults(task)
        lifecycle = LIFECYCLES[task["taskType"]]
        sync = lifecycle.answers_with_results(full)
        now = self.now
        ready_at = now + (self.config.sync_job_seconds if sync else self.config.job_seconds)
        record = TaskRecord(  # positional: a third of the keyword call's time
            task_uuid,
            # One string object for every record of a validated enum value (each request's
            # parse makes new ones): less memory per kept task.
            sys.intern(task["taskType"]),  # task_type
            ctx.owner,
            now,  # created
            ready_at,
            "[]",  # results_json: set_results below
            ready_at + self.config.task_ttl_seconds,  # expires_at
            full.get("webhookURL"),
            full.get("uploadEndpoint"),
            # a sync task's results are in the answer itself: nothing is pushed later
            ctx.session.session_id if ctx.session and not sync else None,
        )
        example = self.examples.match(full)
        if ctx.prefer_example is not None:
            example = self.examples.by_name(ctx.prefer_example)
        answer_now = ctx.prefer_example is not None and example is not None
        if answer_now:
            record.ready_at = now  # Prism-style: the named example answers at once
        failure = self.scenarios.failure_for(task)
        if failure is not None:
            code, message, after = failure
            record.failure = error(code, message, task=task)
            record.fail_at = now + after
            record.ready_at = max(record.ready_at, record.fail_at)
        try:
            items, videos = await self.results(record, full, module, ctx, example, lifecycle)
        except Refused as refused:
            reply.errors.append(refused.error)
            return
        record.set_results(items)
        # The store's insert is the one uniqueness check (atomic across worker processes).
        if not await self.store.add_task(record, videos):
            reply.errors.append(
                error(
                    "conflictTaskUUID",
                    f"taskUUID {task_uuid} was already used by another task.",
                    parameter="taskUUID",
                    task=task,
                )
            )
            return
        if answer_now:
            reply.data.extend(items)
        elif sync:
            reply.waiting.append((record.due, record.failure, items))
            reply.bulk += len(record.results_json)
        else:
            reply.data.append({name: task[name] for name in lifecycle.acknowledgement})
        for hook in self.on_accept:
            hook(record)

    async def results(
        self,
        record: TaskRecord,
        full: dict[str, Any],
        module: ModuleType,
        ctx: RequestContext,
        example: rc.Example | None,
        lifecycle: Lifecycle,
    ) -> tuple[list[dict[str, Any]], list[VideoRecord]]:
        """The finished items of ``full`` (the task with defaults), and the media files they
        name; each item's fields are the ones the task type's lifecycle names."""
        if example is not None and example.request.get("taskUUID") == record.task_uuid:
            return [{**example.response, "status": "success"}], []  # the documented answer

        width, height = self.requested_size(full, module) or await self.output_size(
            full, module, ctx.owner
        )
        # ``full`` has the model's defaults; the fallbacks are for a model that declares no
        # such parameter (the mock's choice, not a spec fact).
        media = lifecycle.media
        container = sys.intern(full.get("outputFormat", DEFAULTS[media]))
        if media == "image":
            problem = render_problem(container, width, height, self.config.max_render_pixels)
            if problem is not None:
                dims = module.tables.DIMENSIONS
                parameter = dims["params"][0] if dims else "width"
                raise Refused(
                    error("maxImagePixelsExceeded", problem, parameter=parameter, task=full)
                )
        seconds = int(full.get("duration", UNTIMED_SECONDS)) if media == "video" else 0
        quality = int(full.get("outputQuality", 0))
        output_type = full.get("outputType", URL_OUTPUT)
        seed = full.get(lifecycle.seed_field)  # the request's seed: the first result's
        ttl = full.get("ttl")
        items = []
        videos = []
        for index in range(int(full.get("numberResults", 1))):  # undeclared: one result
            if example is not None:
                media_uuid = example.response[lifecycle.uuid_field]
            else:
                media_uuid = self.ids.uuid4(record.task_uuid, media, index)
            result_seed = (
                seed + index
                if isinstance(seed, int)
                else self.ids.integer(record.task_uuid, "seed", index)
            )
            expires_at = record.ready_at + ttl if isinstance(ttl, int) else None
            forget_at = max(record.expires_at, expires_at or 0.0)
            video = VideoRecord(  # positional: a third of the keyword call's time
                media_uuid, container, width, height, seconds, record.ready_at, expires_at,
                forget_at, quality, result_seed,
            )  # fmt: skip
            videos.append(video)
            item: dict[str, Any] = {
                "taskType": record.task_type,
                "taskUUID": record.task_uuid,
                "status": "success",
                lifecycle.uuid_field: media_uuid,
                lifecycle.output_types[output_type]: (
                    self.url(video, media, ctx)  # the usual output: no coroutine
                    if output_type == URL_OUTPUT
                    else await self.output(video, output_type, media, ctx, full)
                ),
                lifecycle.seed_field: result_seed,
                lifecycle.nsfw_field: False,
            }
            if example is not None and lifecycle.cost_field in example.response:
                item[lifecycle.cost_field] = example.response[lifecycle.cost_field]
            elif full.get("includeCost"):
                # no price row applies (or no pricing): no cost rather than a guess
                with contextlib.suppress(rc.PriceUnavailable):
                    item[lifecycle.cost_field] = module.price(full)
            items.append(item)
        return items, videos

    async def output(
        self,
        video: VideoRecord,
        output_type: str,
        media: str,
        ctx: RequestContext,
        task: dict[str, Any],
    ) -> str:
        """The file itself, as base64 or a data URI (rendered now, off the event loop), for
        the output types other than a URL (``url``)."""
        container = CONTAINERS[video.container]
        try:
            data = await self.media.get(video)
        except RenderBusy as busy:
            message = f"Too many files are being rendered; retry after {busy.retry_after} s."
            raise Refused(error("renderQueueFull", message, task=task)) from None
        encoded = base64.b64encode(data).decode()
        if output_type == DATA_URI_OUTPUT:
            return f"data:{container.media_type};base64,{encoded}"
        return encoded

    def url(self, video: VideoRecord, media: str, ctx: RequestContext) -> str:
        """The signed URL of a result's file (rendered when fetched). The owner is part of
        the path: two keys' files may share a UUID (a documented example's), never a file."""
        container = CONTAINERS[video.container]
        return signed_url(
            self.config.media_secret,
            ctx.base_url,
            media,
            f"{ctx.owner}/{video.video_uuid}.{container.extension}",
        )

    def requested_size(self, task: dict[str, Any], module: ModuleType) -> tuple[int, int] | None:
        """The task's own width x height, when it gives both (without a coroutine: the usual
        case, on every accepted task)."""
        dims = module.tables.DIMENSIONS
        first_param, second_param = dims["params"] if dims else ("width", "height")
        first, second = task.get(first_param), task.get(second_param)
        if isinstance(first, int) and isinstance(second, int):
            return int(first), int(second)
        return None

    async def output_size(
        self, task: dict[str, Any], module: ModuleType, owner: str
    ) -> tuple[int, int]:
        """The size of a task that names none (``requested_size`` is None): among the
        dimension table's rows (those of the task's ``resolution`` preset, when it names
        one), the one whose aspect is closest to the input's (the first frame, else the
        first input image, when its size can be read), else the first."""
        dims = module.tables.DIMENSIONS
        rows = dims["rows"] if dims else [dict(zip(("width", "height"), UNSIZED, strict=True))]
        preset = task.get("resolution")
        rows = [r for r in rows if r.get("resolution") == preset] or rows
        size = await self.first_frame_size(task, module, owner)
        if size is None:
            size = await self.first_image_size(task, module, owner)
        if size is None:
            return int(rows[0]["width"]), int(rows[0]["height"])
        aspect = math.log(size[0] / size[1])
        best = min(rows, key=lambda r: abs(math.log(r["width"] / r["height"]) - aspect))
        return int(best["width"]), int(best["height"])

    async def first_image_size(
        self, task: dict[str, Any], module: ModuleType, owner: str
    ) -> tuple[int, int] | None:
        """The size of the first input image the task gives (the first parameter of the
        image-ref format, or array of them, in the spec's order)."""
        for parameter in module.tables.PARAMETERS:
            items = parameter.get("items") or {}
            if "image-ref" not in (parameter.get("format"), items.get("format")):
                continue
            value: Any = task
            for part in parameter["path"].split("."):
                value = value.get(part) if isinstance(value, dict) else None
            first = value[0] if isinstance(value, list) and value else value
            if isinstance(first, str):
                size = await self.image_size(first, owner)
                if size is not None and min(size) > 0:
                    return size
        return None

    async def first_frame_size(
        self, task: dict[str, Any], module: ModuleType, owner: str
    ) -> tuple[int, int] | None:
        for rule in module.tables.RULES:
            if rule["kind"] != "framePositions":
                continue
            items: Any = task
            for part in rule["target"].split("."):
                items = items.get(part) if isinstance(items, dict) else None
            if not isinstance(items, list) or not items:
                return None
            positions = resolve_positions(items, rule)
            first_name = next(iter(rule["positions"]))
            for item, position in zip(items, positions, strict=True):
                if position == first_name and isinstance(item, dict):
                    return await self.image_size(item.get("image"), owner)
        return None

    async def image_size(self, reference: Any, owner: str) -> tuple[int, int] | None:
        """Pixel size of an image reference the mock can see: the owner's uploaded UUID, one of
        its own image URLs, a data URI or raw base64. Other URLs are not fetched."""
        if not isinstance(reference, str):
            return None
        upload = await self.uploaded(reference, owner)
        if upload is not None:
            return upload.size
        data, _ = decode_image(reference)
        return image_size(data) if data else None

    async def uploaded(self, reference: str, owner: str) -> ImageRecord | None:
        """The upload a reference names: by its UUID (or unsigned URL) if ``owner`` made it; by
        a signed imageURL of this mock whoever made it (the signature is a capability)."""
        signed = SIGNED_IMAGE.search(reference)
        if signed and signature_valid(
            self.config.media_secret, "image", signed["uuid"], signed["sig"]
        ):
            return await self.store.get_image(signed["uuid"], None)
        return await self.store.get_image(reference.rsplit("/", 1)[-1], owner)

    # ── polling ─────────────────────────────────────────────────────────────

    async def poll(self, task: dict[str, Any], ctx: RequestContext, reply: Reply) -> None:
        record = await self.store.get_task(ctx.owner, task["taskUUID"])
        now = self.now
        if record is not None and record.expires_at <= now:
            await self.store.drop_task(ctx.owner, record.task_uuid)
            record = None
        if record is None:
            reply.errors.append(
                error(
                    "taskNotFound",
                    f"No task with taskUUID {task['taskUUID']} (unknown or expired).",
                    parameter="taskUUID",
                    task=task,
                )
            )
            return
        reply.data.extend(self.items(record, now, reply))
        reply.bulk += len(record.results_json)

    def items(self, record: TaskRecord, now: float, reply: Reply) -> list[dict[str, Any]]:
        """What a poll sees: all N processing, or all N finished; a failure is an error."""
        if record.failed(now):
            assert record.failure is not None
            reply.failures.append(record.failure)
            return []
        if not record.done(now):
            # Each processing item names the file it will become: runware 0.5.24 waits for
            # items with a videoUUID, and counts only status "success" as finished.
            progress = record.progress(now)
            field = LIFECYCLES[record.task_type].uuid_field
            return [
                {
                    "taskType": record.task_type,
                    "taskUUID": record.task_uuid,
                    "status": "processing",
                    "progress": progress,
                    field: item[field],
                }
                for item in record.results
            ]
        return record.results

    # ── uploads ─────────────────────────────────────────────────────────────

    async def upload(self, task: dict[str, Any], ctx: RequestContext, reply: Reply) -> None:
        image_uuid = self.ids.uuid4(task["taskUUID"], "image", self.now, ctx.owner)
        reference = task["image"]
        existing = await self.uploaded(reference, ctx.owner)
        data, content_type = decode_image(reference)
        size = image_size(data) if data else (existing.size if existing else None)
        cap = self.config.max_image_pixels
        if size is not None and size[0] * size[1] > cap:
            message = f"The image is {size[0]}x{size[1]} pixels; at most {cap} pixels are accepted."
            reply.errors.append(
                error("maxImagePixelsExceeded", message, parameter="image", task=task)
            )
            return
        record = ImageRecord(
            image_uuid=image_uuid,
            owner=ctx.owner,
            data=data if data is not None else (existing.data if existing else None),
            content_type=content_type or (existing.content_type if existing else None),
            size=size,
            source_url=reference if reference.startswith(("http://", "https://")) else None,
        )
        await self.store.add_image(record)
        url = record.source_url if record.data is None and record.source_url else None
        reply.data.append(
            {
                "taskType": "imageUpload",
                "taskUUID": task["taskUUID"],
                "imageUUID": image_uuid,
                "imageURL": url
                or signed_url(self.config.media_secret, ctx.base_url, "image", image_uuid),
            }
        )


def decode_image(reference: str) -> tuple[bytes | None, str | None]:
    """Bytes (and content type) of a data URI or raw base64 image; (None, None) otherwise."""
    match = DATA_URI.fullmatch(reference)
    payload, content_type = (match["data"], match["type"]) if match else (reference, None)
    if match is None and (reference.startswith(("http://", "https://")) or len(reference) < 16):
        return None, None
    try:
        return base64.b64decode(payload, validate=True), content_type
    except (binascii.Error, ValueError):
        return None, None

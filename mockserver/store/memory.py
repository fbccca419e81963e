"""``MemoryStore``: the default store, in one process's memory; nothing survives a restart."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Sequence

from runware_contract.platform import TASK_TYPES

from .expiry import ExpiryIndex
from .protocol import ImageRecord, Limits, TaskRecord, VideoRecord, merged

# The fields a result names its media file by (videoUUID, imageUUID), from the platform spec.
MEDIA_UUIDS = tuple(sorted({t["uuidField"] for t in TASK_TYPES.values()}))

# A sweep lets the event loop run whenever it has worked this long (seconds; it looks at the
# clock every SWEEP_CHUNK records): forgetting 100,000 expired tasks takes a fraction of a
# second, and the loop must not freeze for all of it. A callback that became ready during a
# slice waits a slice or two (the sweep's next step may be queued before it).
SWEEP_SLICE = 0.00025
SWEEP_CHUNK = 50


class MemoryStore:
    """Tasks and videos by (owner, UUID) (tasks in insertion order, so the oldest is evicted
    first), uploads by UUID; tasks and videos also by expiry time (``ExpiryIndex``), so a
    sweep costs what expired, not what is held."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.tasks: OrderedDict[tuple[str, str], TaskRecord] = OrderedDict()
        self.videos: dict[tuple[str, str], VideoRecord] = {}
        self.images: OrderedDict[str, ImageRecord] = OrderedDict()
        self._image_bytes = 0
        self.results = 0  # finished items held, over all tasks (Limits.max_results)
        self.result_bytes = 0  # their JSON's length (Limits.max_result_bytes)
        self._task_expiry: ExpiryIndex[tuple[str, str]] = ExpiryIndex()
        self._video_expiry: ExpiryIndex[tuple[str, str]] = ExpiryIndex()

    shared_schedule = False  # one process: its own scheduler is the schedule

    suspends = False  # see Store.suspends

    def problem(self) -> str | None:
        return None  # memory cannot fail short of the process

    async def open(self, *, ahead: bool = True) -> None:
        pass

    async def add_task(self, record: TaskRecord, videos: Sequence[VideoRecord]) -> bool:
        tasks = self.tasks
        key = (record.owner, record.task_uuid)
        if key in tasks:
            return False
        tasks[key] = record
        self._task_expiry.add(key, record.expires_at)
        self.results += record.result_count
        self.result_bytes += len(record.results_json)
        for video in videos:
            at = (record.owner, video.video_uuid)
            old = self.videos.get(at)
            if old is not None:
                self._video_expiry.discard(at, old.forget_at)
            self.videos[at] = new = merged(old, video)
            self._video_expiry.add(at, new.forget_at)
        limits = self.limits
        while len(tasks) > 1 and (
            len(tasks) > limits.max_tasks
            or self.results > limits.max_results
            or self.result_bytes > limits.max_result_bytes
        ):
            self._forget(tasks.popitem(last=False)[1])
        return True

    def _forget(self, record: TaskRecord) -> None:
        """Account for a task taken out of ``tasks``: its results and videos go too."""
        self._task_expiry.discard((record.owner, record.task_uuid), record.expires_at)
        items = record.results
        self.results -= len(items)
        self.result_bytes -= len(record.results_json)
        for item in items:
            for field in MEDIA_UUIDS:
                at = (record.owner, item.get(field, ""))
                video = self.videos.pop(at, None)
                if video is not None:
                    self._video_expiry.discard(at, video.forget_at)

    async def get_task(self, owner: str, task_uuid: str) -> TaskRecord | None:
        return self.tasks.get((owner, task_uuid))

    async def drop_task(self, owner: str, task_uuid: str) -> None:
        record = self.tasks.pop((owner, task_uuid), None)
        if record is not None:
            self._task_expiry.discard((owner, task_uuid), record.expires_at)
            self.results -= record.result_count
            self.result_bytes -= len(record.results_json)

    async def claim_completion(self, owner: str, task_uuid: str, claimant: str) -> bool:
        record = self.tasks.get((owner, task_uuid))
        if record is None or record.pushed:
            return False
        record.pushed = True
        return True

    async def finish_completion(self, owner: str, task_uuid: str) -> None:
        pass  # a claim is final already

    async def pending_completions(self, due_before: float = float("inf")) -> list[TaskRecord]:
        return [
            r
            for r in self.tasks.values()
            if not r.pushed and r.wants_completion and r.due <= due_before
        ]

    async def get_video(self, owner: str, video_uuid: str) -> VideoRecord | None:
        return self.videos.get((owner, video_uuid))

    async def add_image(self, record: ImageRecord) -> None:
        old = self.images.pop(record.image_uuid, None)
        self._image_bytes += len(record.data or b"") - len(old.data or b"" if old else b"")
        self.images[record.image_uuid] = record
        limits = self.limits
        while self.images and (
            len(self.images) > limits.max_images or self._image_bytes > limits.max_image_bytes
        ):
            _, dropped = self.images.popitem(last=False)
            self._image_bytes -= len(dropped.data or b"")

    async def get_image(self, image_uuid: str, owner: str | None) -> ImageRecord | None:
        image = self.images.get(image_uuid)
        return image if image is not None and owner in (None, image.owner) else None

    async def sweep(self, now: float) -> None:
        """Forget what expired by ``now``, found by the expiry indexes; the event loop runs
        after each ``SWEEP_SLICE`` of work (so only a large sweep suspends)."""
        tasks, videos = self.tasks, self.videos
        done = 0
        slice_started = time.perf_counter()
        for key in self._task_expiry.due(now, lambda k: _expiry(tasks.get(k))):
            record = tasks.get(key)
            if record is not None and record.expires_at <= now:
                del tasks[key]
                self.results -= record.result_count
                self.result_bytes -= len(record.results_json)
            elif record is not None:  # replaced meanwhile by a later one: keep it indexed
                self._task_expiry.add(key, record.expires_at)
            done += 1
            if done % SWEEP_CHUNK == 0 and time.perf_counter() - slice_started > SWEEP_SLICE:
                await asyncio.sleep(0)
                slice_started = time.perf_counter()
        for key in self._video_expiry.due(now, lambda k: _forget_at(videos.get(k))):
            video = videos.get(key)
            if video is not None and video.forget_at <= now:
                del videos[key]
            elif video is not None:
                self._video_expiry.add(key, video.forget_at)
            done += 1
            if done % SWEEP_CHUNK == 0 and time.perf_counter() - slice_started > SWEEP_SLICE:
                await asyncio.sleep(0)
                slice_started = time.perf_counter()

    async def counts(self) -> dict[str, int]:
        return {
            "tasks": len(self.tasks),
            "videos": len(self.videos),
            "images": len(self.images),
        }

    async def reset(self) -> None:
        self.tasks.clear()
        self.videos.clear()
        self.images.clear()
        self._task_expiry.clear()
        self._video_expiry.clear()
        self._image_bytes = 0
        self.results = 0
        self.result_bytes = 0

    async def shared_secret(self, name: str, proposed: bytes) -> bytes:
        return proposed  # one process, no restarts to survive

    async def close(self) -> None:
        await self.reset()


def _expiry(record: TaskRecord | None) -> float | None:
    return None if record is None else record.expires_at


def _forget_at(video: VideoRecord | None) -> float | None:
    return None if video is None else video.forget_at

"""``MemoryStore``: the default store, in one process's memory; nothing survives a restart."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from runware_contract.platform import TASK_TYPES

from .protocol import ImageRecord, Limits, TaskRecord, VideoRecord, merged

# The fields a result names its media file by (videoUUID, imageUUID), from the platform spec.
MEDIA_UUIDS = tuple(sorted({t["uuidField"] for t in TASK_TYPES.values()}))


class MemoryStore:
    """Tasks and videos by (owner, UUID) (tasks in insertion order, so the oldest is evicted
    first), uploads by UUID."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.tasks: OrderedDict[tuple[str, str], TaskRecord] = OrderedDict()
        self.videos: dict[tuple[str, str], VideoRecord] = {}
        self.images: OrderedDict[str, ImageRecord] = OrderedDict()
        self._image_bytes = 0
        self.results = 0  # finished items held, over all tasks (Limits.max_results)
        self.result_bytes = 0  # their JSON's length (Limits.max_result_bytes)

    shared_schedule = False  # one process: its own scheduler is the schedule

    suspends = False  # see Store.suspends

    def problem(self) -> str | None:
        return None  # memory cannot fail short of the process

    async def open(self) -> None:
        pass

    async def add_task(self, record: TaskRecord, videos: Sequence[VideoRecord]) -> bool:
        tasks = self.tasks
        key = (record.owner, record.task_uuid)
        if key in tasks:
            return False
        tasks[key] = record
        self.results += record.result_count
        self.result_bytes += len(record.results_json)
        for video in videos:
            at = (record.owner, video.video_uuid)
            self.videos[at] = merged(self.videos.get(at), video)
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
        items = record.results
        self.results -= len(items)
        self.result_bytes -= len(record.results_json)
        for item in items:
            for field in MEDIA_UUIDS:
                self.videos.pop((record.owner, item.get(field, "")), None)

    async def get_task(self, owner: str, task_uuid: str) -> TaskRecord | None:
        return self.tasks.get((owner, task_uuid))

    async def drop_task(self, owner: str, task_uuid: str) -> None:
        record = self.tasks.pop((owner, task_uuid), None)
        if record is not None:
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
        for uuid_ in [u for u, r in self.tasks.items() if r.expires_at <= now]:
            gone = self.tasks.pop(uuid_)
            self.results -= gone.result_count
            self.result_bytes -= len(gone.results_json)
        for uuid_ in [u for u, v in self.videos.items() if v.forget_at <= now]:
            del self.videos[uuid_]

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
        self._image_bytes = 0
        self.results = 0
        self.result_bytes = 0

    async def shared_secret(self, name: str, proposed: bytes) -> bytes:
        return proposed  # one process, no restarts to survive

    async def close(self) -> None:
        await self.reset()

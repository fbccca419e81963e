"""Every result's file, rendered when asked for: videos and images, each kind by its own
bounded render cache (``RenderedFiles``), chosen by the record's container."""

from __future__ import annotations

from typing import Protocol

from .containers import CONTAINERS
from .images import ImageFiles
from .rendering import Key, RenderedFiles, VideoFiles


class Media(Protocol):
    """What a file is rendered from (the store's ``VideoRecord``)."""

    @property
    def container(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def seconds(self) -> int: ...
    @property
    def quality(self) -> int: ...
    @property
    def seed(self) -> int: ...


def render_key(media: Media) -> Key:
    """What the file of ``media`` is made from (and cached by)."""
    if CONTAINERS[media.container].media == "image":
        return media.container, media.width, media.height, media.quality, media.seed
    return media.container, media.width, media.height, media.seconds


class MediaFiles:
    """The video and image render caches of one server."""

    def __init__(self, videos: VideoFiles, images: ImageFiles) -> None:
        self.videos = videos
        self.images = images

    def of(self, container: str) -> RenderedFiles:
        return self.images if CONTAINERS[container].media == "image" else self.videos

    async def get(self, media: Media, *, wait: bool = False) -> bytes:
        """The file (``RenderBusy`` past its cache's queue, unless ``wait``)."""
        return await self.of(media.container).get(*render_key(media), wait=wait)

    @property
    def rendering(self) -> int:
        return self.videos.rendering + self.images.rendering

    def close(self) -> None:
        self.videos.close()
        self.images.close()

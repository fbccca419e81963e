"""Secrets of one mock: API keys compared in constant time, and signed media URLs.

Keys are compared with ``hmac.compare_digest`` against every configured key (no
short-circuit), so the time taken says nothing about how much of a key matched or
which key it was. Media URLs (``videoURL``, ``imageURL``) carry a MAC (keyed BLAKE2b)
of their unsigned path under a per-server secret, as a path segment
(``/video/<sig>/<uuid>.mp4``, so the file name stays last): the official SDKs
download them with a plain GET and no Authorization header, so the signature is the
capability.

Records (tasks, videos, uploads) are owned by the key that created them, stored as
``owner_tag``: an HMAC of the key under the same per-store secret, never the key itself.

Keys and signatures never reach the logs: uvicorn logs WebSocket frames at debug level
(an authentication frame carries ``apiKey``), so ``redact_logs`` installs a filter on
uvicorn's loggers that logs a frame's kind and size only, and ``mask`` replaces anything
shaped like an ``apiKey`` field or a bearer token with ``***`` and the signature segment of
a media path with ``[redacted]`` (a signed URL is a capability: whoever reads it can fetch
the video). The CLI's log handler (``logs.configure``) applies the same filter to every
record it writes, whichever logger it came from.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
from collections.abc import Iterable

from websockets.frames import Frame

SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "mockserver")
_SECRET_SHAPES = re.compile(
    r"""(?P<lead>["']?apiKey["']?\s*[:=]\s*["']?|bearer\s+)(?P<secret>[^"'\s,}]+)""", re.I
)
SIGNATURE_CHARS = 32  # hex characters of a media signature (``sign``)
_SIGNED_PATH = re.compile(rf"(?P<lead>/(?:video|image)/)[0-9a-f]{{{SIGNATURE_CHARS}}}(?=/)")
REDACTED = "[redacted]"


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def key_matches(key: str | None, keys: Iterable[str]) -> bool:
    """Whether ``key`` equals one of ``keys``, looking at every one of them."""
    if not key:
        return False
    given = _bytes(key)
    found = False
    for candidate in keys:
        found |= hmac.compare_digest(given, _bytes(candidate))
    return found


def owner_tag(secret: bytes, key: str) -> str:
    """Who owns a record: a keyed hash of its API key, so stores and logs never hold a key.
    (Domain-separated from media signatures, which use the same secret.)"""
    return hmac.digest(secret, b"owner\0" + _bytes(key), "sha256")[:16].hex()


@functools.lru_cache(maxsize=8)
def _mac_key(secret: bytes) -> hashlib.blake2b:
    """BLAKE2b keyed with ``secret`` (at most 64 bytes: a longer secret is hashed first) and
    personalised apart from owner tags, before any data: ``sign`` continues a copy of it
    (keying costs a compression of its own, on every signature otherwise)."""
    key = secret if len(secret) <= hashlib.blake2b.MAX_KEY_SIZE else hashlib.sha256(secret).digest()
    return hashlib.blake2b(key=key, digest_size=SIGNATURE_CHARS // 2, person=b"rwm-media")


def sign(secret: bytes, kind: str, name: str) -> str:
    """The signature of media ``name`` (``<uuid>.mp4``) of ``kind`` (video, image): keyed
    BLAKE2b (a MAC), one hash where an HMAC-SHA256 took three (every accepted video task
    signs a URL)."""
    mac = _mac_key(secret).copy()
    mac.update(_bytes(f"/{kind}/{name}"))
    return mac.hexdigest()


def signed_url(secret: bytes, base_url: str, kind: str, name: str) -> str:
    """``<base_url>/<kind>/<signature>/<name>``: fetchable without a key."""
    return f"{base_url}/{kind}/{sign(secret, kind, name)}/{name}"


def signature_valid(secret: bytes, kind: str, name: str, signature: str | None) -> bool:
    return bool(signature) and hmac.compare_digest(
        _bytes(sign(secret, kind, name)), _bytes(signature or "")
    )


class RedactSecrets(logging.Filter):
    """Drops WebSocket frame payloads and masks API keys in a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, Frame) for a in record.args):
            record.args = tuple(
                f"{a.opcode.name} frame [{len(a.data)} bytes]" if isinstance(a, Frame) else a
                for a in record.args
            )
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        return True


def mask(text: str) -> str:
    """``text`` with API keys, bearer tokens and media signatures replaced. (Each pattern
    runs only where its fixed part occurs: on every log line, a scan of the text is cheap
    and the regular expressions are not.)"""
    lowered = text.lower()
    if "apikey" in lowered or "bearer" in lowered:
        text = _SECRET_SHAPES.sub(lambda m: m["lead"] + "***", text)
    if "/video/" in text or "/image/" in text:
        text = _SIGNED_PATH.sub(lambda m: m["lead"] + REDACTED, text)
    return text


def redact_url(url: str) -> str:
    """A delivery URL as logs show it: user info and query (where presigned upload URLs
    carry their signature, and webhook URLs their tokens) replaced."""
    base, sep, _ = url.partition("?")
    scheme, found, rest = base.partition("://")
    if found and "@" in rest.split("/", 1)[0]:
        base = f"{scheme}://{REDACTED}@{rest.split('@', 1)[1]}"
    return mask(base + (f"?{REDACTED}" if sep else ""))


def redact_logs() -> None:
    """Install ``RedactSecrets`` on the server's loggers (once)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())

"""Secrets of one mock: API keys compared in constant time, and signed media URLs.

Keys are compared with ``hmac.compare_digest`` against every configured key (no
short-circuit), so the time taken says nothing about how much of a key matched or
which key it was. Media URLs (``videoURL``, ``imageURL``) carry an HMAC signature
of their unsigned path under a per-server secret, as a path segment
(``/video/<sig>/<uuid>.mp4``, so the file name stays last): the official SDKs
download them with a plain GET and no Authorization header, so the signature is the
capability.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable


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


def sign(secret: bytes, kind: str, name: str) -> str:
    """The signature of media ``name`` (``<uuid>.mp4``) of ``kind`` (video, image)."""
    return hmac.new(secret, _bytes(f"/{kind}/{name}"), hashlib.sha256).hexdigest()[:32]


def signed_url(secret: bytes, base_url: str, kind: str, name: str) -> str:
    """``<base_url>/<kind>/<signature>/<name>``: fetchable without a key."""
    return f"{base_url}/{kind}/{sign(secret, kind, name)}/{name}"


def signature_valid(secret: bytes, kind: str, name: str, signature: str | None) -> bool:
    return bool(signature) and hmac.compare_digest(
        _bytes(sign(secret, kind, name)), _bytes(signature or "")
    )

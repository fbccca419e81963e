"""Deterministic identifiers: with a seed, every UUID and seed depends only on the seed and
the task's own taskUUID (not on request order), so concurrent clients get stable values."""

from __future__ import annotations

import hashlib
import secrets


class IdSource:
    def __init__(self, seed: int | None) -> None:
        self.seed = seed if seed is not None else secrets.randbits(63)
        self._prefix = f"{self.seed}:"

    def _digest(self, *parts: object) -> bytes:
        """SHA-256 of ``seed:part:part...`` (each accepted task asks for at least one)."""
        text = self._prefix + ":".join(map(str, parts))  # str() of a str is the str itself
        return hashlib.sha256(text.encode()).digest()

    def uuid4(self, *parts: object) -> str:
        """A version-4-shaped UUID derived from ``parts`` (version and variant bits set)."""
        raw = bytearray(self._digest(*parts)[:16])
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def integer(self, *parts: object, bits: int = 31) -> int:
        return int.from_bytes(self._digest(*parts)[:8], "big") >> (64 - bits)

    def fraction(self, *parts: object) -> float:
        return self.integer(*parts, bits=52) / float(1 << 52)

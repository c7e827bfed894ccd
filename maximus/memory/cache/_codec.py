"""The cache's records, keys and value frames: pure code, no I/O.

Values go through a ``SerializerProtocol`` (by default LangGraph's ``JsonPlusSerializer``:
msgpack, strict allowlist: builtins, datetimes, LangChain messages; never pickle). The stored
frame starts with one marker byte, raw or zlib, so compression above the threshold describes
itself: ``marker + type + b":" + data``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from langgraph.checkpoint.serde.base import SerializerProtocol

from maximus.errors import CorruptRecordError, InvalidInputError
from maximus.memory._redis import escape_glob

RAW = b"\x00"
"""Frame marker: the body follows as is."""
ZLIB = b"\x01"
"""Frame marker: the body follows zlib-compressed."""


class Namespace(StrEnum):
    """The cache's namespaces; any other ``str`` without ``:`` works too."""

    AGENTS = "agents"
    SESSIONS = "sessions"
    CONTEXTS = "contexts"
    CONFIG = "config"


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters since the manager was created."""

    backend: Literal["redis", "lru"]
    """Where calls are served from now."""
    hits: int
    misses: int
    sets: int
    deletes: int
    bytes_saved: int
    """Bytes compression kept out of the store (raw size minus compressed size, summed)."""
    errors: int
    """Redis errors other than outages (a wrong-type key...) and undecodable records."""
    fallbacks: int
    """Outages: switches from Redis to the LRU."""
    fallback_ops: int
    """Calls served by the LRU."""
    recoveries: int
    """Switches back from the LRU to Redis."""
    lru_entries: int

    @property
    def hit_rate(self) -> float:
        """Hits over lookups (0.0 before the first lookup)."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


@dataclass(frozen=True, slots=True)
class CacheHealth:
    """The answer of a health check (one ``PING``)."""

    ok: bool
    """Redis answered. The backend stays ``"lru"`` until the next probe even when it did."""
    backend: Literal["redis", "lru"]
    latency_ms: float | None
    detail: str


def cache_key(prefix: str, namespace: str, key: str) -> str:
    """The Redis key of ``key`` in ``namespace``.

    Raises:
        InvalidInputError: the namespace is empty or contains ``:``.
    """
    if not namespace or ":" in namespace:
        raise InvalidInputError(f"a cache namespace must be non-empty, without ':': {namespace!r}")
    return f"{prefix}:{namespace}:{key}"


def namespace_pattern(prefix: str, namespace: str) -> str:
    """The ``SCAN MATCH`` pattern of every key in ``namespace``."""
    return escape_glob(cache_key(prefix, namespace, "")) + "*"


def encode(value: Any, serde: SerializerProtocol, threshold: int) -> tuple[bytes, int]:
    """Frame ``value``: marker byte, then ``type:data``, compressed from ``threshold`` bytes.

    Returns:
        The frame and the bytes compression saved (0 when stored raw).
    """
    type_, data = serde.dumps_typed(value)
    body = type_.encode() + b":" + data
    if len(body) >= threshold:
        packed = zlib.compress(body, 1)
        if len(packed) < len(body):
            return ZLIB + packed, len(body) - len(packed)
    return RAW + body, 0


def decode(frame: bytes, serde: SerializerProtocol) -> Any:
    """The value in a frame made by :func:`encode`.

    Raises:
        CorruptRecordError: the frame is not one of ours or is damaged.
    """
    marker, body = frame[:1], frame[1:]
    try:
        if marker == ZLIB:
            body = zlib.decompress(body)
        elif marker != RAW:
            raise ValueError(f"unknown frame marker {marker!r}")
        type_, sep, data = body.partition(b":")
        if not sep:
            raise ValueError("no type tag")
        return serde.loads_typed((type_.decode(), data))
    except (ValueError, TypeError, zlib.error, NotImplementedError) as exc:
        raise CorruptRecordError(f"cache record cannot be decoded: {exc}") from exc

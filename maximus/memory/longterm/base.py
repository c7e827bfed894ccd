"""The backend interface every vector engine implements, and the filter it understands.

:class:`VectorBackend` is deliberately small and synchronous: it stores *points* (an id, a
vector and a flat payload made by
:func:`maximus.memory.longterm.records.to_payload`) in one collection per memory type (or one
shared collection, with ``kind`` as a filter), and answers filtered nearest-neighbour and hybrid
queries. Everything with meaning (records, TTL, the vault,
embeddings, async) lives above it, in :class:`maximus.memory.longterm.store.MemoryStore`.

Vendor imports stay inside each backend's module (``qdrant_edge.py``, ``qdrant.py``,
``chroma.py``), so importing this one costs nothing.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from maximus.errors import InvalidFilterError
from maximus.memory.longterm.records import MEMORY_TYPES, MemoryType

Layout = Literal["per_type", "single"]
_ID_NAMESPACE = uuid.UUID("6f1c8b52-9a43-4c55-b8f7-3d0f0f7b1e21")


def point_id(record_id: str) -> str:
    """The engine-side id of a record: itself if it is a UUID, else a UUID5 of it.

    Qdrant accepts only UUIDs and integers; keeping the mapping deterministic lets every
    backend and a migration agree without a lookup table.
    """
    try:
        return str(uuid.UUID(record_id))
    except ValueError:
        return str(uuid.uuid5(_ID_NAMESPACE, record_id))


@dataclass(frozen=True, slots=True)
class MemoryFilter:
    """Which records a query, list, count or delete may touch.

    ``None`` means "no condition". Scoping: a record matches ``agent_id`` when it is that
    agent's private record, or when its namespace is in ``namespaces`` (shared memory).
    """

    user_id: str | None = None
    agent_id: str | None = None
    namespaces: tuple[str, ...] = ()
    """Shared namespaces readable besides the agent's private records."""
    tags: tuple[str, ...] = ()
    """At least one of these tags."""
    since: float | None = None
    """Event time (epoch seconds) at or after this."""
    before: float | None = None
    """Event time strictly before this."""
    alive_at: float | None = None
    """Only records not expired at this time (TTL)."""
    expired_at: float | None = None
    """Only records expired at this time (for sweeping)."""
    ids: tuple[str, ...] = ()
    """Only these record ids."""

    def __post_init__(self) -> None:
        if self.since is not None and self.before is not None and self.since >= self.before:
            raise InvalidFilterError(
                f"empty time range: since ({self.since}) is not before before ({self.before})"
            )
        for name in ("tags", "namespaces", "ids"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
                raise InvalidFilterError(f"{name} must be a list of non-empty strings")


def make_filter(
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    namespaces: Sequence[str] = (),
    tags: Sequence[str] = (),
    since: datetime | float | str | None = None,
    before: datetime | float | str | None = None,
    alive_at: float | None = None,
) -> MemoryFilter:
    """Build a :class:`MemoryFilter` from caller input (ISO strings, datetimes or epochs).

    Raises:
        InvalidFilterError: a time is not parseable, or the range is empty.
    """
    return MemoryFilter(
        user_id=user_id,
        agent_id=agent_id,
        namespaces=tuple(namespaces),
        tags=tuple(tags),
        since=_epoch(since, "since"),
        before=_epoch(before, "before"),
        alive_at=alive_at,
    )


def _epoch(value: datetime | float | str | None, name: str) -> float | None:
    if value is None or isinstance(value, float | int) and not isinstance(value, bool):
        return None if value is None else float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidFilterError(f"{name}: {value!r} is not an ISO 8601 time") from exc
        if parsed.tzinfo is None:
            from datetime import UTC

            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    raise InvalidFilterError(f"{name}: expected a time, got {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class StoredPoint:
    """What a backend stores: the record id, its vector and its payload."""

    id: str
    vector: Sequence[float]
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: a payload and its score (higher is better)."""

    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)
    similarity: float | None = None
    """Cosine similarity to the query vector (comparable across collections, unlike fused
    rank scores); ``None`` means ``score`` is that similarity."""


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors."""
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = sum(x * x for x in a) ** 0.5
    nb = sum(y * y for y in b) ** 0.5
    return dot / (na * nb) if na and nb else 0.0


def collection_name(prefix: str, kind: MemoryType, layout: Layout) -> str:
    """The collection that holds ``kind`` under ``layout``."""
    return f"{prefix}_memory" if layout == "single" else f"{prefix}_{kind}"


class VectorBackend(ABC):
    """A vector engine holding the six memory collections.

    Implementations, in :mod:`maximus.memory.longterm.backends`:
    :class:`~.qdrant_edge.QdrantEdgeBackend` (default), :class:`~.qdrant.QdrantBackend` and
    :class:`~.chroma.ChromaBackend`. All methods are synchronous and thread-safe;
    :class:`~maximus.memory.longterm.store.MemoryStore` runs them off the event loop.
    """

    name: str = "backend"
    native_hybrid: bool = False
    """Whether :meth:`query` fuses keyword search inside the engine."""

    @abstractmethod
    def upsert(self, kind: MemoryType, points: Sequence[StoredPoint]) -> None:
        """Insert or replace ``points`` in ``kind``'s collection."""

    @abstractmethod
    def query(
        self,
        kind: MemoryType,
        vector: Sequence[float],
        flt: MemoryFilter,
        k: int,
        *,
        text: str | None = None,
        similarity: bool = True,
    ) -> list[Hit]:
        """The ``k`` best points by vector similarity (fused with BM25 over ``text`` when the
        engine supports it and ``text`` is given). With ``similarity`` false, fused hits may
        leave :attr:`Hit.similarity` unset (it costs fetching the vectors)."""

    @abstractmethod
    def get(self, kind: MemoryType, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Payloads of the given record ids that exist (in any order)."""

    @abstractmethod
    def scroll(
        self, kind: MemoryType, flt: MemoryFilter, limit: int, offset: str | None = None
    ) -> tuple[list[StoredPoint], str | None]:
        """A page of points (with vectors) matching ``flt``, and the offset of the next page."""

    @abstractmethod
    def delete(self, kind: MemoryType, ids: Sequence[str]) -> None:
        """Remove the given record ids (missing ones are ignored)."""

    @abstractmethod
    def delete_where(self, kind: MemoryType, flt: MemoryFilter) -> int:
        """Remove every point matching ``flt``; return how many."""

    @abstractmethod
    def count(self, kind: MemoryType, flt: MemoryFilter | None = None) -> int:
        """How many points of ``kind`` match ``flt``."""

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Make pending writes durable."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files and connections."""

    def iter_points(
        self, kind: MemoryType, flt: MemoryFilter | None = None, batch: int = 256
    ) -> Iterator[StoredPoint]:
        """Every point of ``kind`` matching ``flt``, page by page."""
        offset: str | None = None
        while True:
            page, offset = self.scroll(kind, flt or MemoryFilter(), batch, offset)
            yield from page
            if offset is None:
                return

    def kinds(self) -> tuple[MemoryType, ...]:
        """The memory types this backend holds."""
        return MEMORY_TYPES


__all__ = [
    "Hit",
    "Layout",
    "MemoryFilter",
    "StoredPoint",
    "VectorBackend",
    "collection_name",
    "cosine",
    "make_filter",
    "point_id",
]

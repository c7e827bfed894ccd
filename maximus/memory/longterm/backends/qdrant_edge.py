"""The default backend: Qdrant's own engine in process, through ``qdrant-edge-py``.

Each collection is an :class:`qdrant_edge.EdgeShard` in its own directory under ``path``: HNSW
over the dense vectors, payload indexes on every field a filter uses (``user_id`` as the
tenant key), and a BM25-scored text index on ``text`` so hybrid search runs inside the engine
(dense and BM25 prefetches fused by reciprocal rank). Writes go through the shard's WAL;
:meth:`QdrantEdgeBackend.flush` makes them durable and builds the HNSW index once enough
unindexed points have piled up (edge shards optimise only when asked).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from maximus.errors import ConfigError, CorruptStoreError
from maximus.memory.longterm.base import (
    Hit,
    Layout,
    MemoryFilter,
    StoredPoint,
    VectorBackend,
    collection_name,
    cosine,
    point_id,
)
from maximus.memory.longterm.records import MemoryType

VECTOR = "dense"
_KEYWORDS = ("id", "kind", "agent_id", "namespace", "tags")
_FLOATS = ("event_ts", "expires_at", "created_ts")


def edge_filter(flt: MemoryFilter, kind: MemoryType | None = None) -> Any:
    """``flt`` as a ``qdrant_edge.Filter`` (``kind`` adds a type condition: single layout)."""
    from qdrant_edge import (
        FieldCondition,
        Filter,
        HasIdCondition,
        MatchAny,
        MatchValue,
        RangeFloat,
    )

    must: list[Any] = []
    if kind is not None:
        must.append(FieldCondition(key="kind", match=MatchValue(kind)))
    if flt.user_id is not None:
        must.append(FieldCondition(key="user_id", match=MatchValue(flt.user_id)))
    if flt.agent_id is not None:
        private = Filter(
            must=[
                FieldCondition(key="agent_id", match=MatchValue(flt.agent_id)),
                FieldCondition(key="namespace", match=MatchValue("")),
            ]
        )
        scopes: list[Any] = [private]
        if flt.namespaces:
            scopes.append(FieldCondition(key="namespace", match=MatchAny(list(flt.namespaces))))
        must.append(Filter(should=scopes))
    if flt.tags:
        must.append(FieldCondition(key="tags", match=MatchAny(list(flt.tags))))
    if flt.since is not None or flt.before is not None:
        must.append(FieldCondition(key="event_ts", range=RangeFloat(gte=flt.since, lt=flt.before)))
    if flt.alive_at is not None:
        must.append(FieldCondition(key="expires_at", range=RangeFloat(gt=flt.alive_at)))
    if flt.expired_at is not None:
        must.append(FieldCondition(key="expires_at", range=RangeFloat(lte=flt.expired_at)))
    if flt.ids:
        must.append(HasIdCondition({point_id(i) for i in flt.ids}))
    return Filter(must=must) if must else None


class QdrantEdgeBackend(VectorBackend):
    """Qdrant Edge shards under ``path``, one per collection.

    Args:
        path: directory of the shards (created if missing).
        dim: vector size.
        prefix: collection name prefix.
        layout: ``per_type`` (one shard per memory type) or ``single``.
        hnsw_ef: search-time beam width (recall against latency).
        quantization: keep int8 scalar-quantised vectors in RAM for the HNSW walk and rescore
            the best with the originals.
        optimize_after: build the HNSW index on :meth:`flush` once this many points are not
            yet indexed.
        search_threads: the shard's search pool size (fixed when the shard is created).

    Raises:
        CorruptStoreError: a shard directory exists but cannot be opened; it is left as is.
    """

    name = "qdrant-edge"
    native_hybrid = True

    def __init__(
        self,
        path: str | Path,
        dim: int,
        *,
        prefix: str = "maximus",
        layout: Layout = "per_type",
        hnsw_ef: int = 128,
        quantization: bool = False,
        optimize_after: int = 5_000,
        search_threads: int = 1,
    ) -> None:
        try:
            import qdrant_edge  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError(
                "the qdrant-edge backend needs: pip install 'maximus[memory]'"
            ) from exc
        self.path = Path(path)
        self.dim = dim
        self.prefix = prefix
        self.layout = layout
        self.hnsw_ef = hnsw_ef
        self.quantization = quantization
        self.optimize_after = optimize_after
        self.search_threads = search_threads
        self._shards: dict[str, Any] = {}
        self._lock = threading.RLock()

    # -- shards ---------------------------------------------------------------------------

    def _name(self, kind: MemoryType) -> str:
        return collection_name(self.prefix, kind, self.layout)

    def _kind_cond(self, kind: MemoryType) -> MemoryType | None:
        return kind if self.layout == "single" else None

    def _shard(self, kind: MemoryType) -> Any:
        name = self._name(kind)
        shard = self._shards.get(name)
        if shard is not None:
            return shard
        with self._lock:
            shard = self._shards.get(name)
            if shard is None:
                shard = self._open(self.path / name)
                self._shards[name] = shard
            return shard

    def _config(self) -> Any:
        from qdrant_edge import (
            Distance,
            EdgeConfig,
            EdgeVectorParams,
            HnswIndexConfig,
            ScalarQuantizationConfig,
            ScalarType,
        )

        quant = (
            ScalarQuantizationConfig(type=ScalarType.Int8, quantile=0.99, always_ram=True)
            if self.quantization
            else None
        )
        return EdgeConfig(
            vectors={VECTOR: EdgeVectorParams(size=self.dim, distance=Distance.Cosine)},
            hnsw_config=HnswIndexConfig(m=16, ef_construct=128, full_scan_threshold=2_000),
            quantization_config=quant,
            # One search thread: a memory query is small, and handing it to a pool costs
            # more than it saves on a few busy cores.
            max_search_threads=self.search_threads,
        )

    def _open(self, where: Path) -> Any:
        from qdrant_edge import (
            EdgeShard,
            KeywordIndexParams,
            PayloadSchemaType,
            TextIndexParams,
            TokenizerType,
            UpdateOperation,
        )

        if where.exists() and any(where.iterdir()):
            try:
                shard = EdgeShard.load(str(where))
                shard.info()
            except BaseException as exc:  # noqa: BLE001 - Rust panics surface as BaseException
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                raise CorruptStoreError(
                    f"the Qdrant Edge shard at {where} cannot be opened ({exc}); "
                    "it was left untouched: restore it from a backup or move it away"
                ) from None
            return shard
        where.mkdir(parents=True, exist_ok=True)
        shard = EdgeShard.create(str(where), self._config())
        shard.update(
            UpdateOperation.create_field_index("user_id", KeywordIndexParams(is_tenant=True))
        )
        for key in _KEYWORDS:
            shard.update(UpdateOperation.create_field_index(key, PayloadSchemaType.Keyword))
        for key in _FLOATS:
            shard.update(UpdateOperation.create_field_index(key, PayloadSchemaType.Float))
        shard.update(
            UpdateOperation.create_field_index(
                "text",
                TextIndexParams(tokenizer=TokenizerType.Word, lowercase=True, scoring=True),
            )
        )
        return shard

    # -- VectorBackend ----------------------------------------------------------------------

    def upsert(self, kind: MemoryType, points: Sequence[StoredPoint]) -> None:  # noqa: D102
        from qdrant_edge import Point, UpdateOperation

        if not points:
            return
        batch = [
            Point(point_id(p.id), {VECTOR: [float(x) for x in p.vector]}, p.payload) for p in points
        ]
        shard = self._shard(kind)
        with self._lock:
            shard.update(UpdateOperation.upsert_points(batch))

    def query(  # noqa: D102
        self,
        kind: MemoryType,
        vector: Sequence[float],
        flt: MemoryFilter,
        k: int,
        *,
        text: str | None = None,
        similarity: bool = True,
    ) -> list[Hit]:
        from qdrant_edge import Fusion, Prefetch, Query, QueryRequest, SearchParams, TextQuery

        shard = self._shard(kind)
        condition = edge_filter(flt, self._kind_cond(kind))
        params = SearchParams(hnsw_ef=max(self.hnsw_ef, k))
        dense = Query.Nearest([float(x) for x in vector], using=VECTOR)
        if text and text.strip():
            depth = max(4 * k, 20)
            request = QueryRequest(
                limit=k,
                prefetches=[
                    Prefetch(limit=depth, query=dense, filter=condition, params=params),
                    Prefetch(limit=depth, query=TextQuery("text", text), filter=condition),
                ],
                # Dense ranks count double: BM25 alone ranks many near-ties on short texts.
                query=Fusion.Rrf(k=60, weights=[2.0, 1.0]),  # type: ignore[arg-type]
                with_payload=True,
                with_vector=[VECTOR] if similarity else False,
            )
            fused = shard.query(request)
            return [
                Hit(
                    str(p.payload["id"]),
                    float(p.score),
                    dict(p.payload),
                    cosine(vector, _dense(p.vector)) if similarity else None,
                )
                for p in fused
            ]
        else:
            request = QueryRequest(
                limit=k, query=dense, filter=condition, params=params, with_payload=True
            )
        points = shard.query(request)
        return [Hit(str(p.payload["id"]), float(p.score), dict(p.payload)) for p in points]

    def get(self, kind: MemoryType, ids: Sequence[str]) -> list[dict[str, Any]]:  # noqa: D102
        if not ids:
            return []
        records = self._shard(kind).retrieve([point_id(i) for i in ids], True, False)
        wanted = set(ids)
        return [
            dict(r.payload)
            for r in records
            if r.payload and r.payload.get("id") in wanted and self._is_kind(r.payload, kind)
        ]

    def _is_kind(self, payload: dict[str, Any], kind: MemoryType) -> bool:
        return self.layout == "per_type" or payload.get("kind") == kind

    def scroll(  # noqa: D102
        self, kind: MemoryType, flt: MemoryFilter, limit: int, offset: str | None = None
    ) -> tuple[list[StoredPoint], str | None]:
        from qdrant_edge import ScrollRequest

        shard = self._shard(kind)
        records, next_offset = shard.scroll(
            ScrollRequest(
                offset=offset,
                limit=limit,
                filter=edge_filter(flt, self._kind_cond(kind)),
                with_payload=True,
                with_vector=True,
            )
        )
        page = [
            StoredPoint(str(r.payload["id"]), _dense(r.vector), dict(r.payload)) for r in records
        ]
        return page, (str(next_offset) if next_offset is not None else None)

    def delete(self, kind: MemoryType, ids: Sequence[str]) -> None:  # noqa: D102
        from qdrant_edge import UpdateOperation

        if not ids:
            return
        shard = self._shard(kind)
        with self._lock:
            if self.layout == "single":
                flt = edge_filter(MemoryFilter(ids=tuple(ids)), kind)
                shard.update(UpdateOperation.delete_points_by_filter(flt))
            else:
                shard.update(UpdateOperation.delete_points([point_id(i) for i in ids]))

    def delete_where(self, kind: MemoryType, flt: MemoryFilter) -> int:  # noqa: D102
        from qdrant_edge import UpdateOperation

        condition = edge_filter(flt, self._kind_cond(kind))
        shard = self._shard(kind)
        with self._lock:
            found = self.count(kind, flt)
            if found:
                shard.update(UpdateOperation.delete_points_by_filter(condition))
        return found

    def count(self, kind: MemoryType, flt: MemoryFilter | None = None) -> int:  # noqa: D102
        from qdrant_edge import CountRequest

        condition = edge_filter(flt or MemoryFilter(), self._kind_cond(kind))
        return int(self._shard(kind).count(CountRequest(filter=condition, exact=True)))

    def optimize(self) -> None:
        """Build the HNSW indexes of every open shard now."""
        with self._lock:
            for shard in self._shards.values():
                shard.optimize()

    def flush(self) -> None:
        """Flush every open shard; index shards with many unindexed points."""
        with self._lock:
            for shard in self._shards.values():
                info = shard.info()
                if info.points_count - info.indexed_vectors_count >= self.optimize_after:
                    shard.optimize()
                shard.flush()

    def close(self) -> None:
        """Flush and close every shard."""
        with self._lock:
            for shard in self._shards.values():
                shard.flush()
                shard.close()
            self._shards.clear()


def _dense(vector: Any) -> list[float]:
    if isinstance(vector, dict):
        vector = vector.get(VECTOR, [])
    return list(vector or [])


__all__ = ["QdrantEdgeBackend", "edge_filter"]

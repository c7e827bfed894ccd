"""Qdrant server or cluster through ``qdrant-client`` (and its local mode, for tests and small
embedded use).

Each collection has a dense vector (``dense``, cosine) and a sparse BM25 vector (``bm25``,
with Qdrant's IDF modifier) made in process by Qdrant's own BM25 model
(``qdrant_edge.Bm25``, the same tokenizer Qdrant Cloud uses). Hybrid search is one
``query_points`` call: both prefetches under the same filter, fused by reciprocal rank, all in
the engine. Payload indexes are created for every filtered field (a server uses them; the
local mode ignores them).

This backend talks to ``qdrant-client`` directly rather than through ``langchain-qdrant``'s
``QdrantVectorStore``: that class fails 16 of LangChain's 25 standard vector-store tests
(non-UUID ids, ``Document.id``) and has no typed filters, so we expose none of it.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from maximus.errors import ConfigError, CorruptStoreError, StoreUnavailableError
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

DENSE = "dense"
SPARSE = "bm25"


def qdrant_filter(flt: MemoryFilter, kind: MemoryType | None = None) -> Any:
    """``flt`` as a ``qdrant_client.models.Filter`` (``None`` when it has no condition)."""
    from qdrant_client import models as m

    must: list[Any] = []
    if kind is not None:
        must.append(m.FieldCondition(key="kind", match=m.MatchValue(value=kind)))
    if flt.user_id is not None:
        must.append(m.FieldCondition(key="user_id", match=m.MatchValue(value=flt.user_id)))
    if flt.agent_id is not None:
        scopes: list[Any] = [
            m.Filter(
                must=[
                    m.FieldCondition(key="agent_id", match=m.MatchValue(value=flt.agent_id)),
                    m.FieldCondition(key="namespace", match=m.MatchValue(value="")),
                ]
            )
        ]
        if flt.namespaces:
            scopes.append(
                m.FieldCondition(key="namespace", match=m.MatchAny(any=list(flt.namespaces)))
            )
        must.append(m.Filter(should=scopes))
    if flt.tags:
        must.append(m.FieldCondition(key="tags", match=m.MatchAny(any=list(flt.tags))))
    if flt.since is not None or flt.before is not None:
        must.append(m.FieldCondition(key="event_ts", range=m.Range(gte=flt.since, lt=flt.before)))
    if flt.alive_at is not None:
        must.append(m.FieldCondition(key="expires_at", range=m.Range(gt=flt.alive_at)))
    if flt.expired_at is not None:
        must.append(m.FieldCondition(key="expires_at", range=m.Range(lte=flt.expired_at)))
    if flt.ids:
        must.append(m.HasIdCondition(has_id=[point_id(i) for i in flt.ids]))
    return m.Filter(must=must) if must else None


class QdrantBackend(VectorBackend):
    """Collections on a Qdrant server (``url``) or in qdrant-client's local mode (``path``).

    Args:
        dim: dense vector size.
        url: a Qdrant server or cluster (``http://host:6333``).
        path: a local-mode directory (used when ``url`` is ``None``; ``":memory:"`` works).
        api_key: the server's API key.
        prefix: collection name prefix.
        layout: ``per_type`` or ``single``.
        client: an existing ``QdrantClient`` (not closed by :meth:`close`).

    Raises:
        CorruptStoreError: the local-mode directory cannot be opened.
        StoreUnavailableError: the server cannot be reached.
    """

    name = "qdrant"
    native_hybrid = True

    def __init__(
        self,
        dim: int,
        *,
        url: str | None = None,
        path: str | Path | None = None,
        api_key: str | None = None,
        prefix: str = "maximus",
        layout: Layout = "per_type",
        client: Any = None,
    ) -> None:
        try:
            from qdrant_client import QdrantClient
            from qdrant_edge import Bm25
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("the qdrant backend needs: pip install 'maximus[memory]'") from exc
        self.dim = dim
        self.prefix = prefix
        self.layout = layout
        self.where = url or str(path)
        self._owns_client = client is None
        if client is None:
            try:
                client = (
                    QdrantClient(url=url, api_key=api_key, timeout=10)
                    if url
                    else QdrantClient(path=str(path))
                )
            except Exception as exc:
                if url:
                    raise StoreUnavailableError(
                        f"Qdrant at {url} cannot be reached: {exc}"
                    ) from exc
                raise CorruptStoreError(
                    f"the Qdrant local store at {path} cannot be opened ({exc}); "
                    "it was left untouched"
                ) from exc
        self.client = client
        self._bm25 = Bm25()
        self._ready: set[str] = set()
        self._lock = threading.RLock()

    def _collection(self, kind: MemoryType) -> str:
        from qdrant_client import models as m

        name = collection_name(self.prefix, kind, self.layout)
        if name in self._ready:
            return name
        with self._lock:
            if name in self._ready:
                return name
            try:
                exists = self.client.collection_exists(name)
                if not exists:
                    self.client.create_collection(
                        name,
                        vectors_config={
                            DENSE: m.VectorParams(size=self.dim, distance=m.Distance.COSINE)
                        },
                        sparse_vectors_config={
                            SPARSE: m.SparseVectorParams(modifier=m.Modifier.IDF)
                        },
                    )
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # local mode: "indexes have no effect"
                        for key in ("user_id", "agent_id", "namespace", "kind", "tags", "id"):
                            self.client.create_payload_index(name, key, m.PayloadSchemaType.KEYWORD)
                        for key in ("event_ts", "expires_at"):
                            self.client.create_payload_index(name, key, m.PayloadSchemaType.FLOAT)
            except Exception as exc:
                raise StoreUnavailableError(
                    f"Qdrant at {self.where}: cannot open collection {name}: {exc}"
                ) from exc
            self._ready.add(name)
        return name

    def _kind_cond(self, kind: MemoryType) -> MemoryType | None:
        return kind if self.layout == "single" else None

    def _sparse(self, text: str, *, query: bool) -> Any:
        from qdrant_client import models as m

        vec = self._bm25.embed_query(text) if query else self._bm25.embed_document(text)
        return m.SparseVector(indices=list(vec.indices), values=list(vec.values))

    def upsert(self, kind: MemoryType, points: Sequence[StoredPoint]) -> None:  # noqa: D102
        from qdrant_client import models as m

        if not points:
            return
        name = self._collection(kind)
        structs = [
            m.PointStruct(
                id=point_id(p.id),
                vector={
                    DENSE: [float(x) for x in p.vector],
                    SPARSE: self._sparse(str(p.payload.get("text", "")), query=False),
                },
                payload=p.payload,
            )
            for p in points
        ]
        with self._lock:
            self.client.upsert(name, structs, wait=True)

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
        from qdrant_client import models as m

        name = self._collection(kind)
        condition = qdrant_filter(flt, self._kind_cond(kind))
        dense = [float(x) for x in vector]
        if text and text.strip():
            depth = max(4 * k, 20)
            result = self.client.query_points(
                name,
                prefetch=[
                    m.Prefetch(query=dense, using=DENSE, limit=depth, filter=condition),
                    m.Prefetch(
                        query=self._sparse(text, query=True),
                        using=SPARSE,
                        limit=depth,
                        filter=condition,
                    ),
                ],
                query=m.FusionQuery(fusion=m.Fusion.RRF),
                limit=k,
                with_payload=True,
                with_vectors=[DENSE] if similarity else False,
            )
            return [
                Hit(
                    str(p.payload["id"]),
                    float(p.score),
                    dict(p.payload),
                    cosine(vector, _dense(p.vector)) if similarity else None,
                )
                for p in result.points
            ]
        else:
            result = self.client.query_points(
                name, query=dense, using=DENSE, query_filter=condition, limit=k, with_payload=True
            )
        return [Hit(str(p.payload["id"]), float(p.score), dict(p.payload)) for p in result.points]

    def get(self, kind: MemoryType, ids: Sequence[str]) -> list[dict[str, Any]]:  # noqa: D102
        if not ids:
            return []
        records = self.client.retrieve(
            self._collection(kind), [point_id(i) for i in ids], with_payload=True
        )
        wanted = set(ids)
        return [
            dict(r.payload)
            for r in records
            if r.payload
            and r.payload.get("id") in wanted
            and (self.layout == "per_type" or r.payload.get("kind") == kind)
        ]

    def scroll(  # noqa: D102
        self, kind: MemoryType, flt: MemoryFilter, limit: int, offset: str | None = None
    ) -> tuple[list[StoredPoint], str | None]:
        records, next_offset = self.client.scroll(
            self._collection(kind),
            scroll_filter=qdrant_filter(flt, self._kind_cond(kind)),
            limit=limit,
            offset=offset,
            with_payload=True,
            with_vectors=[DENSE],
        )
        page = [
            StoredPoint(str(r.payload["id"]), list(_dense(r.vector)), dict(r.payload))
            for r in records
        ]
        return page, (str(next_offset) if next_offset is not None else None)

    def delete(self, kind: MemoryType, ids: Sequence[str]) -> None:  # noqa: D102
        from qdrant_client import models as m

        if not ids:
            return
        name = self._collection(kind)
        if self.layout == "single":
            selector: Any = m.FilterSelector(
                filter=qdrant_filter(MemoryFilter(ids=tuple(ids)), kind)
            )
        else:
            selector = m.PointIdsList(points=[point_id(i) for i in ids])
        with self._lock:
            self.client.delete(name, selector, wait=True)

    def delete_where(self, kind: MemoryType, flt: MemoryFilter) -> int:  # noqa: D102
        from qdrant_client import models as m

        name = self._collection(kind)
        with self._lock:
            found = self.count(kind, flt)
            if found:
                condition = qdrant_filter(flt, self._kind_cond(kind))
                self.client.delete(name, m.FilterSelector(filter=condition), wait=True)
        return found

    def count(self, kind: MemoryType, flt: MemoryFilter | None = None) -> int:  # noqa: D102
        condition = qdrant_filter(flt or MemoryFilter(), self._kind_cond(kind))
        return int(self.client.count(self._collection(kind), count_filter=condition).count)

    def close(self) -> None:
        """Close the client if this backend made it."""
        if self._owns_client:
            self.client.close()


def _dense(vector: Any) -> Sequence[float]:
    if isinstance(vector, dict):
        return list(vector.get(DENSE, []))
    return list(vector or [])


__all__ = ["QdrantBackend", "qdrant_filter"]

"""Chroma, embedded (``path``) or a Chroma server (``url``), through ``chromadb``.

Collections use cosine HNSW. Chroma metadata is flat, so each point stores the filtered
fields as metadata (tags as ``tag:<name>`` flags) and the whole payload as JSON; the keyword
text is the Chroma document. Chroma's local engine has no BM25 index: hybrid search fetches a
deeper list of vector candidates and re-ranks them with BM25
(:mod:`maximus.memory.longterm.backends.hybrid`).

:meth:`ChromaBackend.langchain_store` gives ``langchain_chroma.Chroma`` over the same client,
for LangChain code that wants a plain vector store.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from maximus.errors import ConfigError, CorruptStoreError, StoreUnavailableError
from maximus.memory.longterm.backends.hybrid import fuse_with_bm25
from maximus.memory.longterm.base import (
    Hit,
    Layout,
    MemoryFilter,
    StoredPoint,
    VectorBackend,
    collection_name,
)
from maximus.memory.longterm.records import MemoryType

_FIELDS = ("id", "kind", "user_id", "agent_id", "namespace", "event_ts", "expires_at")


def chroma_where(flt: MemoryFilter, kind: MemoryType | None = None) -> dict[str, Any] | None:
    """``flt`` as a Chroma ``where`` clause (``None`` when it has no condition)."""
    parts: list[dict[str, Any]] = []
    if kind is not None:
        parts.append({"kind": kind})
    if flt.user_id is not None:
        parts.append({"user_id": flt.user_id})
    if flt.agent_id is not None:
        private = {"$and": [{"agent_id": flt.agent_id}, {"namespace": ""}]}
        if flt.namespaces:
            parts.append({"$or": [private, {"namespace": {"$in": list(flt.namespaces)}}]})
        else:
            parts.append(private)
    if flt.tags:
        parts.append(_any([{f"tag:{t}": True} for t in flt.tags]))
    if flt.since is not None:
        parts.append({"event_ts": {"$gte": flt.since}})
    if flt.before is not None:
        parts.append({"event_ts": {"$lt": flt.before}})
    if flt.alive_at is not None:
        parts.append({"expires_at": {"$gt": flt.alive_at}})
    if flt.expired_at is not None:
        parts.append({"expires_at": {"$lte": flt.expired_at}})
    if flt.ids:
        parts.append({"id": {"$in": list(flt.ids)}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _any(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$or": parts}


def _metadata(payload: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {key: payload[key] for key in _FIELDS}
    for tag in payload.get("tags", []):
        meta[f"tag:{tag}"] = True
    meta["payload"] = json.dumps(payload, ensure_ascii=False)
    return meta


class ChromaBackend(VectorBackend):
    """Chroma collections, embedded under ``path`` or on the server at ``url``.

    Raises:
        CorruptStoreError: the embedded store's files cannot be opened (left untouched).
        StoreUnavailableError: the server cannot be reached.
    """

    name = "chroma"
    native_hybrid = False

    def __init__(
        self,
        dim: int,
        *,
        path: str | Path | None = None,
        url: str | None = None,
        prefix: str = "maximus",
        layout: Layout = "per_type",
        client: Any = None,
    ) -> None:
        try:
            import chromadb
            from chromadb.config import Settings as ChromaSettings
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("the chroma backend needs: pip install 'maximus[memory]'") from exc
        self.dim = dim
        self.prefix = prefix
        self.layout = layout
        self.where = url or str(path)
        options = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if client is None:
            try:
                if url:
                    parsed = urlparse(url)
                    client = chromadb.HttpClient(
                        host=parsed.hostname or "localhost",
                        port=parsed.port or 8000,
                        ssl=parsed.scheme == "https",
                        settings=options,
                    )
                else:
                    client = chromadb.PersistentClient(path=str(path), settings=options)
                    client.list_collections()
            except Exception as exc:
                if url:
                    raise StoreUnavailableError(
                        f"Chroma at {url} cannot be reached: {exc}"
                    ) from exc
                raise CorruptStoreError(
                    f"the Chroma store at {path} cannot be opened ({exc}); it was left untouched"
                ) from exc
        self.client = client
        self._collections: dict[str, Any] = {}
        self._lock = threading.RLock()

    def _collection(self, kind: MemoryType) -> Any:
        name = collection_name(self.prefix, kind, self.layout)
        found = self._collections.get(name)
        if found is not None:
            return found
        with self._lock:
            try:
                found = self.client.get_or_create_collection(
                    name, metadata={"hnsw:space": "cosine"}, embedding_function=None
                )
            except Exception as exc:
                raise StoreUnavailableError(
                    f"Chroma at {self.where}: cannot open collection {name}: {exc}"
                ) from exc
            self._collections[name] = found
            return found

    def _kind_cond(self, kind: MemoryType) -> MemoryType | None:
        return kind if self.layout == "single" else None

    def upsert(self, kind: MemoryType, points: Sequence[StoredPoint]) -> None:  # noqa: D102
        if not points:
            return
        collection = self._collection(kind)
        with self._lock:
            collection.upsert(
                ids=[self._cid(kind, p.id) for p in points],
                embeddings=[[float(x) for x in p.vector] for p in points],
                metadatas=[_metadata(p.payload) for p in points],
                documents=[str(p.payload.get("text", "")) for p in points],
            )

    def _cid(self, kind: MemoryType, record_id: str) -> str:
        return f"{kind}:{record_id}" if self.layout == "single" else record_id

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
        hybrid = bool(text and text.strip())
        depth = max(4 * k, 20) if hybrid else k
        result = self._collection(kind).query(
            query_embeddings=[[float(x) for x in vector]],
            n_results=depth,
            where=chroma_where(flt, self._kind_cond(kind)),
            include=["metadatas", "distances"],
        )
        hits = [
            Hit(str(meta["id"]), 1.0 - float(dist), json.loads(meta["payload"]))
            for meta, dist in zip(result["metadatas"][0], result["distances"][0], strict=True)
        ]
        return fuse_with_bm25(hits, text or "", k) if hybrid else hits

    def get(self, kind: MemoryType, ids: Sequence[str]) -> list[dict[str, Any]]:  # noqa: D102
        if not ids:
            return []
        result = self._collection(kind).get(
            ids=[self._cid(kind, i) for i in ids], include=["metadatas"]
        )
        return [json.loads(meta["payload"]) for meta in result["metadatas"]]

    def scroll(  # noqa: D102
        self, kind: MemoryType, flt: MemoryFilter, limit: int, offset: str | None = None
    ) -> tuple[list[StoredPoint], str | None]:
        start = int(offset or 0)
        result = self._collection(kind).get(
            where=chroma_where(flt, self._kind_cond(kind)),
            limit=limit + 1,
            offset=start,
            include=["metadatas", "embeddings"],
        )
        metas = result["metadatas"]
        vectors = result["embeddings"]
        page = [
            StoredPoint(str(meta["id"]), [float(x) for x in vec], json.loads(meta["payload"]))
            for meta, vec in zip(metas[:limit], vectors[:limit], strict=True)
        ]
        return page, (str(start + limit) if len(metas) > limit else None)

    def delete(self, kind: MemoryType, ids: Sequence[str]) -> None:  # noqa: D102
        if ids:
            with self._lock:
                self._collection(kind).delete(ids=[self._cid(kind, i) for i in ids])

    def delete_where(self, kind: MemoryType, flt: MemoryFilter) -> int:  # noqa: D102
        where = chroma_where(flt, self._kind_cond(kind))
        with self._lock:
            found = self._collection(kind).get(where=where, include=[])["ids"]
            if found:
                self._collection(kind).delete(ids=found)
        return len(found)

    def count(self, kind: MemoryType, flt: MemoryFilter | None = None) -> int:  # noqa: D102
        where = chroma_where(flt or MemoryFilter(), self._kind_cond(kind))
        if where is None:
            return int(self._collection(kind).count())
        return len(self._collection(kind).get(where=where, include=[])["ids"])

    def langchain_store(self, kind: MemoryType, embeddings: Any) -> Any:
        """``langchain_chroma.Chroma`` over ``kind``'s collection."""
        from langchain_chroma import Chroma

        return Chroma(
            client=self.client,
            collection_name=collection_name(self.prefix, kind, self.layout),
            embedding_function=embeddings,
        )


__all__ = ["ChromaBackend", "chroma_where"]

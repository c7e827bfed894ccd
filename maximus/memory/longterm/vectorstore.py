"""A LangChain ``VectorStore`` on Qdrant Edge, for plain documents (RAG over files, etc.).

Memory records go through :class:`maximus.memory.MemoryStore`; this class is for LangChain
code that wants a standard vector store in process with the same engine. It passes
``langchain-tests``' ``VectorStoreIntegrationTests``: any string id (mapped to a UUID5 for the
engine, the original kept in the payload), ``Document.id`` set on every result, idempotent
adds, ``get_by_ids``, deletes of missing ids.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from maximus.memory.longterm.base import point_id

_VECTOR = "dense"


class QdrantEdgeVectorStore(VectorStore):
    """Documents in one Qdrant Edge shard at ``path`` (created on the first add).

    Args:
        path: the shard directory.
        embedding: the embeddings used for texts and queries.
    """

    def __init__(self, path: str | Path, embedding: Embeddings) -> None:
        self.path = Path(path)
        self._embedding = embedding
        self._shard: Any = None
        self._lock = threading.RLock()

    @property
    def embeddings(self) -> Embeddings:  # noqa: D102
        return self._embedding

    def _open(self, dim: int | None) -> Any:
        with self._lock:
            if self._shard is None:
                from qdrant_edge import Distance, EdgeConfig, EdgeShard, EdgeVectorParams

                if self.path.exists() and any(self.path.iterdir()):
                    self._shard = EdgeShard.load(str(self.path))
                elif dim is not None:
                    self.path.mkdir(parents=True, exist_ok=True)
                    config = EdgeConfig(
                        vectors={_VECTOR: EdgeVectorParams(size=dim, distance=Distance.Cosine)}
                    )
                    self._shard = EdgeShard.create(str(self.path), config)
            return self._shard

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[Any, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed and store ``texts``; an existing id is replaced."""
        from qdrant_edge import Point, UpdateOperation

        texts = list(texts)
        if not texts:
            return []
        ids = [i or str(uuid.uuid4()) for i in ids] if ids else [str(uuid.uuid4()) for _ in texts]
        metadatas = metadatas or [{} for _ in texts]
        vectors = self._embedding.embed_documents(texts)
        shard = self._open(len(vectors[0]))
        points = [
            Point(
                point_id(doc_id),
                {_VECTOR: [float(x) for x in vector]},
                {"doc_id": doc_id, "page_content": text, "metadata": meta},
            )
            for doc_id, text, meta, vector in zip(ids, texts, metadatas, vectors, strict=True)
        ]
        with self._lock:
            shard.update(UpdateOperation.upsert_points(points))
        return ids

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Store ``documents`` under ``ids=`` or their own ``Document.id`` (else new UUIDs)."""
        ids = kwargs.pop("ids", None) or [doc.id or str(uuid.uuid4()) for doc in documents]
        return self.add_texts(
            [d.page_content for d in documents], [d.metadata for d in documents], ids=ids
        )

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete documents by id (missing ids are ignored); ``None`` deletes nothing."""
        from qdrant_edge import UpdateOperation

        shard = self._open(None)
        if shard is None or not ids:
            return True
        with self._lock:
            shard.update(UpdateOperation.delete_points([point_id(i) for i in ids]))
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents with these ids that exist."""
        shard = self._open(None)
        if shard is None or not ids:
            return []
        records = shard.retrieve([point_id(i) for i in ids], True, False)
        return [_document(r.payload) for r in records if r.payload]

    def similarity_search_with_score(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """The ``k`` documents nearest ``query``, with cosine similarity."""
        return self.similarity_search_with_score_by_vector(
            self._embedding.embed_query(query), k, **kwargs
        )

    def similarity_search_with_score_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """The ``k`` documents nearest ``embedding``, with cosine similarity."""
        from qdrant_edge import Query, QueryRequest

        shard = self._open(None)
        if shard is None:
            return []
        request = QueryRequest(
            limit=k,
            query=Query.Nearest([float(x) for x in embedding], using=_VECTOR),
            with_payload=True,
        )
        return [(_document(p.payload), float(p.score)) for p in shard.query(request)]

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        """The ``k`` documents nearest ``query``."""
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[Document]:
        """The ``k`` documents nearest ``embedding``."""
        return [
            doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k, **kwargs)
        ]

    def _select_relevance_score_fn(self) -> Any:
        return lambda score: (score + 1.0) / 2.0

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[Any, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        path: str | Path | None = None,
        **kwargs: Any,
    ) -> QdrantEdgeVectorStore:
        """A new store at ``path`` holding ``texts``."""
        if path is None:
            raise ValueError("QdrantEdgeVectorStore.from_texts needs path=")
        store = cls(path, embedding)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    def close(self) -> None:
        """Flush and close the shard."""
        with self._lock:
            if self._shard is not None:
                self._shard.flush()
                self._shard.close()
                self._shard = None


def _document(payload: dict[str, Any]) -> Document:
    return Document(
        page_content=payload.get("page_content", ""),
        metadata=dict(payload.get("metadata") or {}),
        id=payload.get("doc_id"),
    )


__all__ = ["QdrantEdgeVectorStore"]

"""LangChain's standard tests (``langchain-tests``) for the retriever and the vector stores we
expose: ``MemoryRetriever`` (on Qdrant Edge with real MiniLM), ``QdrantEdgeVectorStore``, and
``langchain_chroma.Chroma`` as :meth:`ChromaBackend.langchain_store` returns it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import (
    RetrieversIntegrationTests,
    VectorStoreIntegrationTests,
)

from maximus.memory.longterm.backends.chroma import ChromaBackend
from maximus.memory.longterm.vectorstore import QdrantEdgeVectorStore
from maximus.tools.memory import MemoryRetriever
from tests.support.memory import store

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def filled_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    memory = store("qdrant-edge", tmp_path_factory.mktemp("retriever") / "edge")
    memory.add(
        [
            {"kind": "semantic", "name": f"city {i}", "summary": f"city number {i} has a harbour"}
            for i in range(8)
        ]
    )
    yield memory
    memory.close()


class TestMemoryRetriever(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _store(self, filled_store: Any) -> None:
        self.memory = filled_store

    @property
    def retriever_constructor(self) -> type[MemoryRetriever]:
        return MemoryRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"store": self.memory, "memory_type": "semantic"}

    @property
    def retriever_query_example(self) -> str:
        return "which city has a harbour"


class TestQdrantEdgeVectorStore(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, tmp_path: Path) -> Iterator[VectorStore]:  # type: ignore[override]
        store = QdrantEdgeVectorStore(tmp_path / "vs", self.get_embeddings())
        yield store
        store.close()


class TestChromaLangchainStore(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, tmp_path: Path) -> Iterator[VectorStore]:  # type: ignore[override]
        backend = ChromaBackend(6, path=tmp_path / "chroma", prefix=f"t{uuid.uuid4().hex[:8]}")
        yield backend.langchain_store("resource", self.get_embeddings())

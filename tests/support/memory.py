"""Memory test helpers: real MiniLM embeddings (loaded once), and stores on each engine."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from maximus.config import MemorySettings
from maximus.memory.longterm.base import VectorBackend
from maximus.memory.longterm.embeddings import MINILM_DIM, OnnxMiniLMEmbeddings
from maximus.memory.longterm.store import MemoryStore
from maximus.memory.longterm.vault import VaultCipher

ENGINES = ("qdrant-edge", "qdrant-local", "chroma")
KEY = "q3mVhP9H6bB0mF4V0s0wq3b8h1y6x1r1nQ2Jm7bqkVY="
"""A fixed Fernet key for tests (32 url-safe base64 bytes)."""


@lru_cache(maxsize=1)
def embeddings() -> OnnxMiniLMEmbeddings:
    """The real all-MiniLM-L6-v2 (int8 ONNX), shared by every test in the process."""
    return OnnxMiniLMEmbeddings()


def backend(engine: str, path: Path) -> VectorBackend:
    """A fresh backend of ``engine`` under ``path``."""
    if engine == "qdrant-edge":
        from maximus.memory.longterm.backends.qdrant_edge import QdrantEdgeBackend

        return QdrantEdgeBackend(path, MINILM_DIM)
    if engine == "qdrant-local":
        from maximus.memory.longterm.backends.qdrant import QdrantBackend

        return QdrantBackend(MINILM_DIM, path=path)
    from maximus.memory.longterm.backends.chroma import ChromaBackend

    return ChromaBackend(MINILM_DIM, path=path)


class Clock:
    """A settable clock (epoch seconds) for TTL tests."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def store(
    engine: str,
    path: Path,
    *,
    key: str = KEY,
    clock: Clock | None = None,
    **settings: object,
) -> MemoryStore:
    """A memory store on ``engine`` with the test key and the given settings."""
    import time

    return MemoryStore(
        backend(engine, path),
        embeddings(),
        MemorySettings(**settings),  # type: ignore[arg-type]
        cipher=VaultCipher([key]),
        clock=clock or time.time,
    )

"""Open a backend by name: ``qdrant-edge`` (default), ``qdrant`` or ``chroma``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from maximus.errors import ConfigError
from maximus.memory.longterm.base import VectorBackend

if TYPE_CHECKING:
    from maximus.config import Settings

BackendName = Literal["qdrant-edge", "qdrant", "chroma"]
BACKENDS: tuple[BackendName, ...] = ("qdrant-edge", "qdrant", "chroma")


def open_backend(
    name: str,
    path: Path | str | None,
    url: str | None,
    *,
    settings: Settings,
    dim: int,
) -> VectorBackend:
    """The backend ``name`` at ``url`` (servers) or ``path`` (embedded; default
    ``<data_dir>/memory/<name>``).

    Raises:
        ConfigError: unknown name, or the backend's package is missing.
        CorruptStoreError: the embedded store cannot be opened.
        StoreUnavailableError: the server cannot be reached.
    """
    memory = settings.memory
    where = Path(path) if path is not None else settings.data_dir / "memory" / name
    if name == "qdrant-edge":
        from maximus.memory.longterm.backends.qdrant_edge import QdrantEdgeBackend

        return QdrantEdgeBackend(where, dim, prefix=memory.collection_prefix, layout=memory.layout)
    if name == "qdrant":
        from maximus.memory.longterm.backends.qdrant import QdrantBackend

        key = memory.api_key.get_secret_value() if memory.api_key else None
        return QdrantBackend(
            dim,
            url=url,
            path=None if url else where,
            api_key=key,
            prefix=memory.collection_prefix,
            layout=memory.layout,
        )
    if name == "chroma":
        from maximus.memory.longterm.backends.chroma import ChromaBackend

        return ChromaBackend(
            dim,
            path=None if url else where,
            url=url,
            prefix=memory.collection_prefix,
            layout=memory.layout,
        )
    raise ConfigError(f"unknown memory backend {name!r}; expected one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "BackendName", "open_backend"]

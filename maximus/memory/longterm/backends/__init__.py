"""Vector backends: embedded Qdrant (``qdrant_edge``), Qdrant server (``qdrant``), Chroma
(``chroma``), and the BM25 fusion they share (``hybrid``). Each imports its engine lazily."""

from maximus.memory.longterm.backends.factory import BACKENDS, BackendName, open_backend

__all__ = ["BACKENDS", "BackendName", "open_backend"]

"""Memory: session checkpointers, thread helpers, the cache, the sinks for lessons, and the
long-term MIRIX memory (records, store, backends, vault, migration).

Vendor engines (qdrant-edge, qdrant-client, chromadb, onnxruntime, torch) are imported only
when a backend or an embedding model is opened, never by importing this package.

Names load on first use, so importing one part (the checkpointer, say) does not load the
others (the vector engines, the embedder).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "Hit": "maximus.memory.base",
    "MemoryFilter": "maximus.memory.base",
    "StoredPoint": "maximus.memory.base",
    "VectorBackend": "maximus.memory.base",
    "make_filter": "maximus.memory.base",
    "CacheHealth": "maximus.memory.cache",
    "CacheManager": "maximus.memory.cache",
    "CacheStats": "maximus.memory.cache",
    "Namespace": "maximus.memory.cache",
    "AsyncRedisSaver": "maximus.memory.checkpoint",
    "RedisSaver": "maximus.memory.checkpoint",
    "OnnxMiniLMEmbeddings": "maximus.memory.embeddings",
    "SentenceTransformerMiniLMEmbeddings": "maximus.memory.embeddings",
    "make_embeddings": "maximus.memory.embeddings",
    "InProcessLessonSink": "maximus.memory.lessons",
    "Lesson": "maximus.memory.lessons",
    "LessonSink": "maximus.memory.lessons",
    "Priority": "maximus.memory.lessons",
    "open_lesson_sink": "maximus.memory.lessons",
    "DualWriteBackend": "maximus.memory.migration",
    "VerifyReport": "maximus.memory.migration",
    "migrate": "maximus.memory.migration",
    "verify": "maximus.memory.migration",
    "CoreMemory": "maximus.memory.records",
    "EpisodicMemory": "maximus.memory.records",
    "MEMORY_TYPES": "maximus.memory.records",
    "MemoryRecord": "maximus.memory.records",
    "MemoryType": "maximus.memory.records",
    "ProceduralMemory": "maximus.memory.records",
    "ResourceMemory": "maximus.memory.records",
    "SemanticMemory": "maximus.memory.records",
    "VaultEntry": "maximus.memory.records",
    "QueueDepth": "maximus.memory.reflection_queue",
    "QueueStats": "maximus.memory.reflection_queue",
    "RedisLessonQueue": "maximus.memory.reflection_queue",
    "lesson_id": "maximus.memory.reflection_queue",
    "redis_lesson_log": "maximus.memory.reflection_queue",
    "run_worker": "maximus.memory.reflection_queue",
    "ThreadSummary": "maximus.memory.sessions",
    "adelete_thread": "maximus.memory.sessions",
    "aget_thread": "maximus.memory.sessions",
    "alist_threads": "maximus.memory.sessions",
    "delete_thread": "maximus.memory.sessions",
    "get_thread": "maximus.memory.sessions",
    "list_threads": "maximus.memory.sessions",
    "open_checkpointer": "maximus.memory.sessions",
    "open_sync_checkpointer": "maximus.memory.sessions",
    "MemoryStore": "maximus.memory.store",
    "Page": "maximus.memory.store",
    "SearchResult": "maximus.memory.store",
    "VaultCipher": "maximus.memory.vault",
    "generate_key": "maximus.memory.vault",
}

if TYPE_CHECKING:
    from maximus.memory.base import Hit, MemoryFilter, StoredPoint, VectorBackend, make_filter
    from maximus.memory.cache import CacheHealth, CacheManager, CacheStats, Namespace
    from maximus.memory.checkpoint import AsyncRedisSaver, RedisSaver
    from maximus.memory.embeddings import (
        OnnxMiniLMEmbeddings,
        SentenceTransformerMiniLMEmbeddings,
        make_embeddings,
    )
    from maximus.memory.lessons import (
        InProcessLessonSink,
        Lesson,
        LessonSink,
        Priority,
        open_lesson_sink,
    )
    from maximus.memory.migration import DualWriteBackend, VerifyReport, migrate, verify
    from maximus.memory.records import (
        MEMORY_TYPES,
        CoreMemory,
        EpisodicMemory,
        MemoryRecord,
        MemoryType,
        ProceduralMemory,
        ResourceMemory,
        SemanticMemory,
        VaultEntry,
    )
    from maximus.memory.reflection_queue import (
        QueueDepth,
        QueueStats,
        RedisLessonQueue,
        lesson_id,
        redis_lesson_log,
        run_worker,
    )
    from maximus.memory.sessions import (
        ThreadSummary,
        adelete_thread,
        aget_thread,
        alist_threads,
        delete_thread,
        get_thread,
        list_threads,
        open_checkpointer,
        open_sync_checkpointer,
    )
    from maximus.memory.store import MemoryStore, Page, SearchResult
    from maximus.memory.vault import VaultCipher, generate_key


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "MEMORY_TYPES",
    "CoreMemory",
    "DualWriteBackend",
    "EpisodicMemory",
    "Hit",
    "MemoryFilter",
    "MemoryRecord",
    "MemoryStore",
    "MemoryType",
    "OnnxMiniLMEmbeddings",
    "Page",
    "ProceduralMemory",
    "ResourceMemory",
    "SearchResult",
    "SemanticMemory",
    "SentenceTransformerMiniLMEmbeddings",
    "StoredPoint",
    "VaultCipher",
    "VaultEntry",
    "VectorBackend",
    "VerifyReport",
    "generate_key",
    "make_embeddings",
    "make_filter",
    "migrate",
    "verify",
    "AsyncRedisSaver",
    "CacheHealth",
    "CacheManager",
    "CacheStats",
    "Namespace",
    "InProcessLessonSink",
    "Lesson",
    "LessonSink",
    "Priority",
    "QueueDepth",
    "QueueStats",
    "RedisLessonQueue",
    "RedisSaver",
    "ThreadSummary",
    "adelete_thread",
    "aget_thread",
    "alist_threads",
    "delete_thread",
    "get_thread",
    "lesson_id",
    "list_threads",
    "open_lesson_sink",
    "open_checkpointer",
    "open_sync_checkpointer",
    "redis_lesson_log",
    "run_worker",
]

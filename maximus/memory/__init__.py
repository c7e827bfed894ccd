"""Memory: session checkpointers, thread helpers, the cache, the sinks for lessons, and the
long-term MIRIX memory (records, store, backends, vault, migration).

Vendor engines (qdrant-edge, qdrant-client, chromadb, onnxruntime, torch) are imported only
when a backend or an embedding model is opened, never by importing this package.

Names load on first use, so importing one part (the checkpointer, say) does not load the
others (the vector engines, the embedder).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maximus._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Hit": "maximus.memory.longterm.base",
    "MemoryFilter": "maximus.memory.longterm.base",
    "StoredPoint": "maximus.memory.longterm.base",
    "VectorBackend": "maximus.memory.longterm.base",
    "make_filter": "maximus.memory.longterm.base",
    "CacheHealth": "maximus.memory.cache",
    "CacheManager": "maximus.memory.cache",
    "CacheStats": "maximus.memory.cache",
    "Namespace": "maximus.memory.cache",
    "AsyncRedisSaver": "maximus.memory.checkpoint",
    "RedisSaver": "maximus.memory.checkpoint",
    "OnnxMiniLMEmbeddings": "maximus.memory.longterm.embeddings",
    "SentenceTransformerMiniLMEmbeddings": "maximus.memory.longterm.embeddings",
    "make_embeddings": "maximus.memory.longterm.embeddings",
    "InProcessLessonSink": "maximus.memory.lessons",
    "Lesson": "maximus.memory.lessons",
    "LessonSink": "maximus.memory.lessons",
    "Priority": "maximus.memory.lessons",
    "open_lesson_sink": "maximus.memory.lessons",
    "DualWriteBackend": "maximus.memory.longterm.migration",
    "VerifyReport": "maximus.memory.longterm.migration",
    "migrate": "maximus.memory.longterm.migration",
    "verify": "maximus.memory.longterm.migration",
    "CoreMemory": "maximus.memory.longterm.records",
    "EpisodicMemory": "maximus.memory.longterm.records",
    "MEMORY_TYPES": "maximus.memory.longterm.records",
    "MemoryRecord": "maximus.memory.longterm.records",
    "MemoryType": "maximus.memory.longterm.records",
    "ProceduralMemory": "maximus.memory.longterm.records",
    "ResourceMemory": "maximus.memory.longterm.records",
    "SemanticMemory": "maximus.memory.longterm.records",
    "VaultEntry": "maximus.memory.longterm.records",
    "QueueDepth": "maximus.memory.lessons.queue",
    "QueueStats": "maximus.memory.lessons.queue",
    "RedisLessonQueue": "maximus.memory.lessons.queue",
    "lesson_id": "maximus.memory.lessons.queue",
    "redis_lesson_log": "maximus.memory.lessons.queue",
    "run_worker": "maximus.memory.lessons.queue",
    "ThreadSummary": "maximus.memory.checkpoint.sessions",
    "adelete_thread": "maximus.memory.checkpoint.sessions",
    "aget_thread": "maximus.memory.checkpoint.sessions",
    "alist_threads": "maximus.memory.checkpoint.sessions",
    "delete_thread": "maximus.memory.checkpoint.sessions",
    "get_thread": "maximus.memory.checkpoint.sessions",
    "list_threads": "maximus.memory.checkpoint.sessions",
    "open_checkpointer": "maximus.memory.checkpoint.sessions",
    "open_sync_checkpointer": "maximus.memory.checkpoint.sessions",
    "MemoryStore": "maximus.memory.longterm.store",
    "Page": "maximus.memory.longterm.store",
    "SearchResult": "maximus.memory.longterm.store",
    "VaultCipher": "maximus.memory.longterm.vault",
    "generate_key": "maximus.memory.longterm.vault",
}

if TYPE_CHECKING:
    from maximus.memory.cache import CacheHealth, CacheManager, CacheStats, Namespace
    from maximus.memory.checkpoint import AsyncRedisSaver, RedisSaver
    from maximus.memory.checkpoint.sessions import (
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
    from maximus.memory.lessons import (
        InProcessLessonSink,
        Lesson,
        LessonSink,
        Priority,
        open_lesson_sink,
    )
    from maximus.memory.lessons.queue import (
        QueueDepth,
        QueueStats,
        RedisLessonQueue,
        lesson_id,
        redis_lesson_log,
        run_worker,
    )
    from maximus.memory.longterm.base import (
        Hit,
        MemoryFilter,
        StoredPoint,
        VectorBackend,
        make_filter,
    )
    from maximus.memory.longterm.embeddings import (
        OnnxMiniLMEmbeddings,
        SentenceTransformerMiniLMEmbeddings,
        make_embeddings,
    )
    from maximus.memory.longterm.migration import DualWriteBackend, VerifyReport, migrate, verify
    from maximus.memory.longterm.records import (
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
    from maximus.memory.longterm.store import MemoryStore, Page, SearchResult
    from maximus.memory.longterm.vault import VaultCipher, generate_key


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


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

"""Memory: session checkpointers, thread helpers, the cache, the sinks for lessons, and the
long-term MIRIX memory (records, store, backends, vault, migration).

Vendor engines (qdrant-edge, qdrant-client, chromadb, onnxruntime, torch) are imported only
when a backend or an embedding model is opened, never by importing this package.
"""

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

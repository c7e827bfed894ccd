"""Memory: session checkpointers, thread helpers, the cache, and the sinks for lessons."""

from maximus.memory.cache import CacheHealth, CacheManager, CacheStats, Namespace
from maximus.memory.checkpoint import AsyncRedisSaver, RedisSaver
from maximus.memory.lessons import (
    InProcessLessonSink,
    Lesson,
    LessonSink,
    Priority,
    open_lesson_sink,
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

__all__ = [
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

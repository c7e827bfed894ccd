"""Open the lesson sink the settings call for: in-process, or the Redis reflection queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from maximus.config import Settings, get_settings
from maximus.memory.lessons.base import LessonSink, LessonWriter
from maximus.memory.lessons.sink import InProcessLessonSink


@asynccontextmanager
async def open_lesson_sink(
    settings: Settings | None = None, writer: LessonWriter | None = None
) -> AsyncIterator[LessonSink]:
    """The sink the settings call for, open for the block and flushed and closed after it.

    With ``redis_url`` set (and ``lesson_queue.enabled``), lessons go through the Redis
    reflection queue (:class:`~maximus.memory.lessons.queue.RedisLessonQueue`), written by
    ``writer`` or, by default, into the Redis lesson log. Otherwise an in-process sink.
    """
    settings = settings or get_settings()
    options = settings.lesson_queue
    if not settings.redis_url or not options.enabled:
        sink = InProcessLessonSink(writer, batch_size=options.batch_size)
        try:
            yield sink
        finally:
            await sink.aclose()
        return
    from maximus.memory._redis import async_client
    from maximus.memory.lessons.queue import RedisLessonQueue, redis_lesson_log

    client = async_client(settings.redis_url, decode_responses=True)
    queue = RedisLessonQueue(
        client,
        writer or redis_lesson_log(client, prefix=options.prefix, keep=options.keep),
        prefix=options.prefix,
        group=options.group,
        batch_size=options.batch_size,
        batch_timeout=options.batch_timeout,
        maxlen=options.maxlen,
        claim_idle_ms=options.claim_idle_ms,
        max_deliveries=options.max_deliveries,
        done_ttl=options.done_ttl,
        flush_timeout=options.flush_timeout,
    )
    if options.consume:
        queue.start()
    try:
        yield queue
    finally:
        try:
            await queue.aclose()
        finally:
            await client.aclose()


__all__ = ["open_lesson_sink"]

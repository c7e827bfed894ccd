"""The reflection queue: reflection's lesson writes as prioritised jobs in Redis Streams.

:class:`RedisLessonQueue` is a :class:`~maximus.memory.lessons.LessonSink` whose jobs survive a
process restart, are written once, and can be taken by any replica:

* ``CRITICAL`` lessons are written inline, before :meth:`~RedisLessonQueue.submit` returns, and
  are *not* recorded in a stream: the streams are a to-do list, not a log. Only when that inline
  write fails is the lesson enqueued with the ``HIGH`` jobs, so the worker retries it.
* ``HIGH`` and ``BATCH`` lessons are ``XADD``-ed to ``<prefix>:{lessons}:p2`` and ``...:p3``
  (``MAXLEN ~ maxlen`` bounds each: past it the oldest jobs are dropped). Every key of a queue
  shares the ``{lessons}`` hash tag, so on a Cluster they sit in one slot and the transactions
  below work; a prefix with its own tag (``{tenant}``) moves the whole queue to that slot.
* Workers read through one consumer group. ``p2`` is always drained before ``p3`` is read, so
  ``HIGH`` jobs go first; each is written alone. ``BATCH`` jobs are written together once
  ``batch_size`` wait or ``batch_timeout`` seconds have passed since the first.

Delivery is at least once, made "done once" as far as Redis can: an entry is acknowledged only
after the writer succeeded, in one ``MULTI`` that ``XACK``-s and ``XDEL``-s it and records its
lesson id (:func:`lesson_id`, a hash of the lesson) in the ``...:done`` sorted set, trimmed to
``done_ttl`` seconds. Before writing, a worker skips ids already in that set, so a job
``XADD``-ed twice (a client retry after a timeout) or re-delivered after a slow ack is not
written again. One window is left: a crash between the writer's success and the ack; writers
that must be exactly-once can upsert by :func:`lesson_id`.

Entries whose consumer died stay pending and are taken over with ``XAUTOCLAIM`` once idle for
``claim_idle_ms``; that is also how a failed write is retried. An entry that has been delivered
``max_deliveries`` times without success (or cannot be decoded) moves to ``...:dead`` with the
error and its original id and fields.

Producing needs no worker. :meth:`~RedisLessonQueue.start` (or ``async with``) runs one as a
task of the running loop; :meth:`~RedisLessonQueue.flush` drains the streams through it, and
:meth:`~RedisLessonQueue.aclose` flushes, stops it (what it could not finish stays pending for
the next worker) and closes the client if the queue made it. :func:`run_worker` is the same
for a worker process. Cancelling the worker task behaves like a crash: nothing is acked.

Redis being down never reaches the agent: :meth:`~RedisLessonQueue.submit` then hands the lesson
to an in-process :class:`~maximus.memory.lessons.InProcessLessonSink` over the same writer (not
durable, logged as a warning) and leaves Redis alone for ``retry_after`` seconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Mapping
from typing import Any, TypeAlias, Unpack, cast

import redis.asyncio
import redis.asyncio.cluster
from redis.exceptions import RedisClusterException, RedisError, ResponseError

from maximus.errors import ConfigError, CorruptRecordError, StoreUnavailableError
from maximus.memory._redis import async_client
from maximus.memory.lessons._jobs import (
    QueueDepth,
    QueueOptions,
    QueueStats,
    StreamKeys,
    dump_lesson,
    lesson_id,
    load_lesson,
    stream_keys,
)
from maximus.memory.lessons.base import Lesson, LessonWriter, Priority
from maximus.memory.lessons.sink import InProcessLessonSink

logger = logging.getLogger(__name__)

AsyncRedis: TypeAlias = redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster
"""An asyncio client: a single node or a Cluster."""

_REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, RedisClusterException, OSError)
_CLAIM_COUNT = 100
_POLL_S = 0.05


@dataclasses.dataclass(slots=True)
class _Job:
    stream: str
    entry_id: str
    fields: dict[str, str]
    lesson_id: str
    lesson: Lesson
    deliveries: int


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _consumer_name() -> str:
    """``hostname-pid-random``: unique per process, readable in ``XINFO CONSUMERS``."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class RedisLessonQueue:
    """A durable :class:`~maximus.memory.lessons.LessonSink` over Redis Streams.

    Producing needs no worker; :meth:`start` (or ``async with``) runs one in this event loop.

    Args:
        connection: a URL, or a client (single node or Cluster) that stays the caller's to close;
            its ``socket_timeout``, if any, must exceed ``block_ms``.
        writer: where lessons end up.
        prefix: first part of every key.
        group: the consumer group all replicas share.
        consumer: this worker's name; a fresh ``hostname-pid-random`` by default.
        cluster: with a URL, whether it is a Redis Cluster (``None``: ask the server).
            ``redis-sentinel://`` URLs work too.
        batch_size: ``BATCH`` lessons written together.
        batch_timeout: seconds a ``BATCH`` lesson may wait for others.
        maxlen: approximate bound of each stream (oldest jobs dropped past it); ``None``: none.
        block_ms: longest wait of one ``XREADGROUP``.
        claim_idle_ms: idle time after which a pending job is taken over (crash recovery and
            retry delay); must exceed the longest write plus ``batch_timeout``.
        max_deliveries: deliveries of a job before it is dead-lettered.
        done_ttl: seconds a written lesson id is remembered for de-duplication.
        retry_after: seconds Redis is left alone after a failed ``XADD``.
        flush_timeout: longest wait of :meth:`flush` (and of :meth:`aclose`'s flush).

    Raises:
        ConfigError: an option is out of range.
    """

    def __init__(
        self,
        connection: str | AsyncRedis,
        writer: LessonWriter,
        *,
        prefix: str = "maximus",
        group: str = "lesson-writers",
        consumer: str | None = None,
        cluster: bool | None = False,
        batch_size: int = 10,
        batch_timeout: float = 0.5,
        maxlen: int | None = 100_000,
        block_ms: int = 1000,
        claim_idle_ms: int = 60_000,
        max_deliveries: int = 5,
        done_ttl: float = 3600.0,
        retry_after: float = 5.0,
        flush_timeout: float = 10.0,
    ) -> None:
        if batch_size < 1 or max_deliveries < 1 or block_ms < 1 or batch_timeout < 0:
            raise ConfigError(
                "batch_size, max_deliveries and block_ms must be positive and batch_timeout"
                f" not negative (got {batch_size}, {max_deliveries}, {block_ms}, {batch_timeout})"
            )
        if claim_idle_ms <= batch_timeout * 1000:
            raise ConfigError(
                f"claim_idle_ms ({claim_idle_ms}) must exceed batch_timeout ({batch_timeout}s):"
                " a batch held that long would be reclaimed by another worker"
            )
        if isinstance(connection, str):
            self._client: AsyncRedis = async_client(
                connection, cluster=cluster, decode_responses=True
            )
            self._owns_client = True
        else:
            self._client, self._owns_client = connection, False
        self.keys = stream_keys(prefix)
        self.group = group
        self.consumer = consumer or _consumer_name()
        self._writer = writer
        self._batch_size = batch_size
        self._batch_timeout = batch_timeout
        self._maxlen = maxlen
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._max_deliveries = max_deliveries
        self._done_ttl = done_ttl
        self._retry_after = retry_after
        self._flush_timeout = flush_timeout
        self._stats = cast(QueueStats, dict.fromkeys(QueueStats.__annotations__, 0))
        self._fallback: InProcessLessonSink | None = None
        self._down_until = 0.0
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._groups_ready = False
        self._buffer: list[_Job] = []
        self._deadline = 0.0
        self._next_claim = 0.0
        self._claim_cursor = {self.keys.high: "0-0", self.keys.batch: "0-0"}

    @property
    def stats(self) -> QueueStats:
        """A copy of this object's counters."""
        return QueueStats(**self._stats)

    # -- producer ------------------------------------------------------------------------------

    async def submit(self, lesson: Lesson) -> None:
        """Write a ``CRITICAL`` lesson now; enqueue the others. Never raises."""
        self._stats["submitted"] += 1
        if lesson.priority is Priority.CRITICAL:
            try:
                await self._writer([lesson])
            except Exception:  # a sink never takes the agent down: the worker retries it
                self._stats["failed"] += 1
                logger.warning("inline lesson write failed; queueing it for retry", exc_info=True)
            else:
                self._stats["written"] += 1
                return
        key = self.keys.batch if lesson.priority is Priority.BATCH else self.keys.high
        if time.monotonic() >= self._down_until:
            try:
                await self._client.xadd(key, dump_lesson(lesson), maxlen=self._maxlen)  # type: ignore[arg-type]
            except _REDIS_ERRORS as exc:
                self._down_until = time.monotonic() + self._retry_after
                logger.warning("lesson queue: Redis unavailable (%s); using in-process sink", exc)
            else:
                self._stats["enqueued"] += 1
                return
        self._stats["fallback"] += 1
        if self._fallback is None:
            self._fallback = InProcessLessonSink(
                self._writer, batch_size=self._batch_size, batch_timeout=self._batch_timeout
            )
        await self._fallback.submit(lesson)

    async def depth(self) -> QueueDepth:
        """Jobs waiting, pending and dead, across all workers.

        Raises:
            StoreUnavailableError: Redis cannot be reached.
        """
        try:
            await self._ensure_groups()
            pipe = self._client.pipeline(transaction=False)
            for key in (self.keys.high, self.keys.batch, self.keys.dead):
                pipe.xlen(key)
            pipe.xpending(self.keys.high, self.group)
            pipe.xpending(self.keys.batch, self.group)
            high, batch, dead, *pending = await pipe.execute()
        except _REDIS_ERRORS as exc:
            raise StoreUnavailableError(f"lesson queue depth: Redis unavailable: {exc}") from exc
        return QueueDepth(
            high=int(high),
            batch=int(batch),
            pending=sum(int(p["pending"]) for p in pending),
            dead=int(dead),
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Run this object's worker in the running loop (once); returns its task."""
        if self._worker is None or self._worker.done():
            self._stopping = False
            self._worker = asyncio.get_running_loop().create_task(
                self._run(), name=f"maximus-lesson-queue-{self.consumer}"
            )
            self._worker.add_done_callback(self._worker_done)
        return self._worker

    async def flush(self) -> None:
        """Write what this process holds and, with a worker, drain the streams.

        Without a worker, queued lessons stay in Redis for any replica to write. Waits at most
        ``flush_timeout`` seconds; never raises.
        """
        if self._fallback is not None:
            await self._fallback.flush()
        worker = self._worker
        if worker is None or worker.done():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(waiter)
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self._flush_timeout)
        except TimeoutError:
            logger.warning("lesson queue: flush gave up after %ss", self._flush_timeout)

    async def aclose(self) -> None:
        """Flush, stop the worker (what it could not write stays pending), close our client."""
        await self.flush()
        worker = self._worker
        if worker is not None and not worker.done():
            self._stopping = True
            self._wake.set()
            await asyncio.wait({worker}, timeout=self._flush_timeout)
            if not worker.done():
                worker.cancel()  # in-flight jobs stay pending and are reclaimed elsewhere
                await asyncio.wait({worker})
        if self._fallback is not None:
            await self._fallback.aclose()
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> RedisLessonQueue:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _release_drain_waiters(self) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        self._release_drain_waiters()
        if not task.cancelled() and task.exception() is not None:
            logger.error("lesson queue worker died", exc_info=task.exception())

    # -- worker --------------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.05
        while not self._stopping:
            try:
                await self._step()
                backoff = 0.05
            except _REDIS_ERRORS as exc:
                if isinstance(exc, ResponseError) and "NOGROUP" in str(exc):
                    self._groups_ready = False  # the server lost its data; start over
                logger.warning("lesson queue worker: Redis error (%s); retrying", exc)
                self._release_drain_waiters()  # flush() cannot drain what it cannot reach
                await self._pause(backoff)
                backoff = min(backoff * 2, 5.0)
        try:
            await self._write_batch()
            await self._forget_consumer()
        except _REDIS_ERRORS as exc:  # what was not acked stays pending for another worker
            logger.warning("lesson queue worker: could not finish cleanly (%s)", exc)

    async def _pause(self, seconds: float) -> None:
        """Sleep, unless :meth:`flush` or :meth:`aclose` wakes the worker first."""
        wake = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({wake}, timeout=max(0.0, seconds))
        finally:
            wake.cancel()

    async def _step(self) -> None:
        """One turn: reclaim when due, write a due batch, then read (``p2`` before ``p3``)."""
        self._wake.clear()
        if not self._groups_ready:
            await self._ensure_groups()
        if time.monotonic() >= self._next_claim:
            await self._reclaim()
            self._next_claim = time.monotonic() + self._claim_idle_ms / 2000
        draining = bool(self._drain_waiters)
        if self._buffer and (draining or time.monotonic() >= self._deadline):
            await self._write_batch()
        high = await self._read({self.keys.high: ">"}, self._batch_size, None)
        if high:
            await self._take(high)
            return
        room = self._batch_size - len(self._buffer)
        if draining or self._buffer:
            # Redis rounds BLOCK timeouts up to its timer tick (100 ms by default): while a batch
            # is due the worker polls instead, so batch_timeout holds and held jobs do not idle.
            batch = await self._read({self.keys.batch: ">"}, room, None)
            if batch:
                await self._take(batch)
            elif draining:
                await self._write_batch()
                self._release_drain_waiters()
            else:
                now = time.monotonic()
                await self._pause(min(_POLL_S, self._deadline - now, self._next_claim - now))
            return
        block = min(self._block_ms / 1000, self._next_claim - time.monotonic())
        if block > 0:
            streams = {self.keys.high: ">", self.keys.batch: ">"}
            await self._take(await self._read_or_wake(streams, room, block))

    async def _ensure_groups(self) -> None:
        for key in (self.keys.high, self.keys.batch):
            try:
                await self._client.xgroup_create(key, self.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._groups_ready = True

    async def _read(self, streams: dict[str, str], count: int, block: float | None) -> list[_Job]:
        reply: Any = await self._client.xreadgroup(
            self.group,
            self.consumer,
            streams,  # type: ignore[arg-type]
            count=count,
            block=None if block is None else max(1, int(block * 1000)),
        )
        jobs: list[_Job] = []
        # RESP2 replies [[stream, entries]]; RESP3 {stream: [entries]}.
        for stream, entries in reply.items() if isinstance(reply, dict) else reply or []:
            if entries and isinstance(entries[0], list):
                entries = entries[0]
            for entry_id, fields in entries:
                job = await self._job(_s(stream), _s(entry_id), fields, 1)
                if job is not None:
                    jobs.append(job)
        return jobs

    async def _read_or_wake(self, streams: dict[str, str], count: int, block: float) -> list[_Job]:
        """A blocking read that :meth:`flush` and :meth:`aclose` can cut short.

        A read cut short may have been answered already: those entries stay pending under this
        consumer and are reclaimed after ``claim_idle_ms``, never lost.
        """
        read = asyncio.ensure_future(self._read(streams, count, block))
        wake = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({read, wake}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            if not read.done():
                read.cancel()
                await asyncio.wait({read})
        return [] if read.cancelled() else read.result()

    async def _job(
        self, stream: str, entry_id: str, raw: Mapping[Any, Any] | None, deliveries: int
    ) -> _Job | None:
        fields = {_s(k): _s(v) for k, v in (raw or {}).items()}
        try:
            lid, lesson = load_lesson(fields)
        except CorruptRecordError as exc:
            await self._dead_letter(stream, entry_id, fields, deliveries, str(exc))
            return None
        return _Job(stream, entry_id, fields, lid, lesson, deliveries)

    async def _take(self, jobs: list[_Job]) -> None:
        """Write ``HIGH`` jobs one at a time, then buffer ``BATCH`` ones."""
        for job in jobs:
            if job.stream == self.keys.high:
                await self._write([job])
        for job in jobs:
            if job.stream != self.keys.high:
                if not self._buffer:
                    self._deadline = time.monotonic() + self._batch_timeout
                self._buffer.append(job)
                if len(self._buffer) >= self._batch_size:
                    await self._write_batch()

    async def _write_batch(self) -> None:
        jobs, self._buffer = self._buffer, []
        if jobs:
            await self._write(jobs)

    async def _write(self, jobs: list[_Job]) -> None:
        ids = [job.lesson_id for job in jobs]
        scores = await self._client.zmscore(self.keys.done, ids)
        fresh: dict[str, _Job] = {}
        for job, score in zip(jobs, scores, strict=True):
            if score is None and job.lesson_id not in fresh:
                fresh[job.lesson_id] = job
        self._stats["duplicates"] += len(jobs) - len(fresh)
        if fresh:
            try:
                await self._writer([job.lesson for job in fresh.values()])
            except Exception as exc:  # the writer's failure is the job's, not the worker's
                await self._failed(jobs, exc)
                return
        await self._ack(jobs)
        self._stats["written"] += len(fresh)

    async def _ack(self, jobs: list[_Job]) -> None:
        now = time.time()
        pipe = self._client.pipeline(transaction=True)
        pipe.zadd(self.keys.done, {job.lesson_id: now for job in jobs})
        pipe.zremrangebyscore(self.keys.done, "-inf", now - self._done_ttl)
        for stream in {job.stream for job in jobs}:
            entry_ids = [job.entry_id for job in jobs if job.stream == stream]
            pipe.xack(stream, self.group, *entry_ids)
            pipe.xdel(stream, *entry_ids)
        await pipe.execute()

    async def _failed(self, jobs: list[_Job], exc: Exception) -> None:
        self._stats["failed"] += len(jobs)
        logger.warning("lesson queue: writing %d lessons failed: %r", len(jobs), exc)
        for job in jobs:
            if job.deliveries >= self._max_deliveries:
                error = f"{type(exc).__name__}: {exc}"
                await self._dead_letter(job.stream, job.entry_id, job.fields, job.deliveries, error)
        # the others stay pending; XAUTOCLAIM hands them out again after claim_idle_ms

    async def _dead_letter(
        self, stream: str, entry_id: str, fields: dict[str, str], deliveries: int, error: str
    ) -> None:
        record = fields | {
            "error": error[:2000],
            "source": stream,
            "entry_id": entry_id,
            "deliveries": str(deliveries),
            "consumer": self.consumer,
            "failed_at": repr(time.time()),
        }
        pipe = self._client.pipeline(transaction=True)
        pipe.xadd(self.keys.dead, record, maxlen=self._maxlen)  # type: ignore[arg-type]
        pipe.xack(stream, self.group, entry_id)
        pipe.xdel(stream, entry_id)
        await pipe.execute()
        self._stats["dead_lettered"] += 1
        logger.error("lesson queue: %s %s dead-lettered: %s", stream, entry_id, error)

    async def _reclaim(self) -> None:
        """Take over jobs pending longer than ``claim_idle_ms`` (``p2`` first)."""
        for stream in (self.keys.high, self.keys.batch):
            reply = await self._client.xautoclaim(
                stream,
                self.group,
                self.consumer,
                min_idle_time=self._claim_idle_ms,
                start_id=self._claim_cursor[stream],
                count=_CLAIM_COUNT,
            )
            self._claim_cursor[stream] = _s(reply[0])
            entries = [(_s(entry_id), raw) for entry_id, raw in reply[1]]
            if not entries:
                continue
            # XAUTOCLAIM does not say how often an entry was delivered; XPENDING does.
            pipe = self._client.pipeline(transaction=False)
            for entry_id, _ in entries:
                pipe.xpending_range(stream, self.group, entry_id, entry_id, 1)
            counts = {
                _s(r[0]["message_id"]): int(r[0]["times_delivered"])
                for r in await pipe.execute()
                if r
            }
            self._stats["reclaimed"] += len(entries)
            held = {job.entry_id for job in self._buffer if job.stream == stream}
            jobs: list[_Job] = []
            for entry_id, raw in entries:
                if entry_id in held:
                    continue
                if not raw:  # trimmed away (Redis 6.2 still reports it): nothing to write
                    await self._client.xack(stream, self.group, entry_id)
                    continue
                deliveries = counts.get(entry_id, 1)
                if deliveries > self._max_deliveries:
                    fields = {_s(k): _s(v) for k, v in (raw or {}).items()}
                    error = f"delivered {deliveries - 1} times without an acknowledgement"
                    await self._dead_letter(stream, entry_id, fields, deliveries - 1, error)
                    continue
                job = await self._job(stream, entry_id, raw, deliveries)
                if job is not None:
                    jobs.append(job)
            await self._take(jobs)

    async def _forget_consumer(self) -> None:
        """Drop this consumer from the group on a clean stop, unless it still owns jobs."""
        for stream in (self.keys.high, self.keys.batch):
            mine = await self._client.xpending_range(
                stream, self.group, "-", "+", 1, consumername=self.consumer
            )
            if mine:
                return
        for stream in (self.keys.high, self.keys.batch):
            await self._client.xgroup_delconsumer(stream, self.group, self.consumer)


async def run_worker(
    connection: str | AsyncRedis,
    writer: LessonWriter,
    *,
    stop: asyncio.Event | None = None,
    **options: Unpack[QueueOptions],
) -> QueueStats:
    """Consume the queue until ``stop`` is set (or the task is cancelled); for a worker process.

    Example::

        asyncio.run(run_worker("redis://localhost:6379/0", write_lessons, prefix="maximus"))

    Returns:
        The worker's counters.
    """
    queue = RedisLessonQueue(connection, writer, **options)
    async with queue:
        if stop is None:
            await asyncio.Future()  # until cancelled
        else:
            await stop.wait()
    return queue.stats


def redis_lesson_log(
    connection: str | AsyncRedis, *, prefix: str = "maximus", keep: int = 10_000
) -> LessonWriter:
    """A writer that appends lessons, as JSON, to the capped list ``<prefix>:{lessons}:log``.

    It is the durable destination of the queue until long-term memory takes lessons; the
    newest ``keep`` stay. Each lesson carries its :func:`lesson_id`, so a re-delivered job is
    recognisable.
    """
    client = (
        async_client(connection, decode_responses=True)
        if isinstance(connection, str)
        else connection
    )
    key = f"{prefix}:{{lessons}}:log"

    async def write(lessons: list[Lesson]) -> None:
        pipe = client.pipeline(transaction=False)
        pipe.rpush(key, *(json.dumps(dump_lesson(lesson)) for lesson in lessons))
        pipe.ltrim(key, -keep, -1)
        await pipe.execute()

    return write


__all__ = [
    "AsyncRedis",
    "QueueDepth",
    "QueueOptions",
    "QueueStats",
    "RedisLessonQueue",
    "StreamKeys",
    "dump_lesson",
    "lesson_id",
    "load_lesson",
    "redis_lesson_log",
    "run_worker",
    "stream_keys",
]

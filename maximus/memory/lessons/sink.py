"""Lesson sinks: where reflection's lessons go, off the critical path, by priority.

Priorities follow the seed plan's "async reflection with priority":

* ``CRITICAL`` (1) is written inline, before :meth:`LessonSink.submit` returns;
* ``HIGH`` (2) is written as soon as the background worker gets to it;
* ``BATCH`` (3) is written in batches, when ``batch_size`` lessons wait or ``batch_timeout``
  seconds have passed since the first of them.

The in-process sink is the default. Durable sinks (memory, a Redis stream) implement the same
protocol. A sink never raises into the agent: a failed write is logged and counted.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque

from maximus.memory.lessons.base import Lesson, LessonWriter, Priority

logger = logging.getLogger(__name__)


class InProcessLessonSink:
    """The default sink: a priority queue drained by a background task into ``writer``.

    Args:
        writer: where lessons end up; by default they are kept in :attr:`lessons`.
        batch_size: ``BATCH`` lessons written together.
        batch_timeout: seconds a ``BATCH`` lesson may wait for others.
        keep: how many lessons the default writer keeps.
    """

    def __init__(
        self,
        writer: LessonWriter | None = None,
        *,
        batch_size: int = 10,
        batch_timeout: float = 0.5,
        keep: int = 1000,
    ) -> None:
        self.lessons: deque[Lesson] = deque(maxlen=keep)
        self.written = 0
        self.failed = 0
        self._writer = writer or self._keep
        self._batch_size = batch_size
        self._batch_timeout = batch_timeout
        self._seq = itertools.count()
        self._queue: asyncio.PriorityQueue[tuple[int, int, Lesson]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._pending: list[Lesson] = []

    async def _keep(self, lessons: list[Lesson]) -> None:
        self.lessons.extend(lessons)

    async def submit(self, lesson: Lesson) -> None:
        """Write a ``CRITICAL`` lesson now; queue the others for the worker."""
        if lesson.priority is Priority.CRITICAL:
            await self._write([lesson])
            return
        queue = self._ensure_worker()
        queue.put_nowait((int(lesson.priority), next(self._seq), lesson))

    async def flush(self) -> None:
        """Write every queued and batched lesson."""
        queue = self._queue
        while queue is not None and not queue.empty():
            _, _, lesson = queue.get_nowait()
            queue.task_done()
            self._pending.append(lesson)
        pending, self._pending = self._pending, []
        if pending:
            await self._write(pending)

    async def aclose(self) -> None:
        """Flush, then stop the worker."""
        await self.flush()
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None

    def _ensure_worker(self) -> asyncio.PriorityQueue[tuple[int, int, Lesson]]:
        loop = asyncio.get_running_loop()
        worker = self._worker
        if self._queue is None or worker is None or worker.done() or worker.get_loop() is not loop:
            # A queue belongs to one loop; carry over what the old loop left behind.
            old, self._queue = self._queue, asyncio.PriorityQueue()
            while old is not None and not old.empty():
                self._queue.put_nowait(old.get_nowait())
            self._worker = loop.create_task(self._run(self._queue), name="maximus-lessons")
        return self._queue

    async def _run(self, queue: asyncio.PriorityQueue[tuple[int, int, Lesson]]) -> None:
        deadline: float | None = None
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                priority, _, lesson = await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                deadline = None
                pending, self._pending = self._pending, []
                await self._write(pending)
                continue
            queue.task_done()
            if priority < Priority.BATCH:
                await self._write([lesson])
                continue
            self._pending.append(lesson)
            if deadline is None:
                deadline = time.monotonic() + self._batch_timeout
            if len(self._pending) >= self._batch_size:
                deadline = None
                pending, self._pending = self._pending, []
                await self._write(pending)

    async def _write(self, lessons: list[Lesson]) -> None:
        if not lessons:
            return
        try:
            await self._writer(lessons)
            self.written += len(lessons)
        except Exception:  # a sink must never take the agent down
            self.failed += len(lessons)
            logger.warning("lesson sink failed to write %d lessons", len(lessons), exc_info=True)


__all__ = ["InProcessLessonSink"]

"""Jobs of the reflection queue: stream keys, the entry codec, and the queue's typed records.

Pure code with no I/O, shared by :mod:`maximus.memory.lessons.queue` and by tools that
inspect a queue (``XRANGE`` the dead-letter stream, say).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import NamedTuple, TypedDict

from maximus.errors import CorruptRecordError
from maximus.memory.lessons.base import Lesson, Priority

SCHEMA_VERSION = "1"
"""The ``v`` field of every job; bumped when the entry layout changes."""

_KINDS = ("procedural", "episodic")


class StreamKeys(NamedTuple):
    """The keys of one queue, all in the same Cluster slot."""

    high: str
    """Stream of ``HIGH`` jobs (and ``CRITICAL`` ones whose inline write failed)."""
    batch: str
    """Stream of ``BATCH`` jobs."""
    dead: str
    """Dead-letter stream: jobs that kept failing, with the error."""
    done: str
    """Sorted set of written lesson ids, scored by the time they were written."""


def stream_keys(prefix: str) -> StreamKeys:
    """The keys of the queue under ``prefix``."""
    base = f"{prefix}:{{lessons}}"
    return StreamKeys(f"{base}:p2", f"{base}:p3", f"{base}:dead", f"{base}:done")


def _lesson_json(lesson: Lesson) -> str:
    data = {f.name: getattr(lesson, f.name) for f in dataclasses.fields(Lesson)}
    data["priority"] = int(lesson.priority)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def lesson_id(lesson: Lesson) -> str:
    """A stable id for ``lesson``: a hash of all its fields (``created_at`` included)."""
    return hashlib.sha256(_lesson_json(lesson).encode()).hexdigest()[:32]


def dump_lesson(lesson: Lesson) -> dict[str, str]:
    """The stream entry fields of a job: schema version, lesson id and the lesson as JSON."""
    return {"v": SCHEMA_VERSION, "id": lesson_id(lesson), "lesson": _lesson_json(lesson)}


def load_lesson(fields: Mapping[str, str]) -> tuple[str, Lesson]:
    """Decode the fields written by :func:`dump_lesson` into ``(lesson id, lesson)``.

    Unknown JSON keys are ignored, so a newer producer does not poison older workers.

    Raises:
        CorruptRecordError: the entry is not a job this module wrote.
    """
    try:
        data = json.loads(fields["lesson"])
        if not isinstance(data, dict):
            raise TypeError("the lesson is not a JSON object")
        known = {f.name for f in dataclasses.fields(Lesson)}
        values = {k: v for k, v in data.items() if k in known}
        values["priority"] = Priority(values.get("priority", Priority.BATCH))
        lesson = Lesson(**values)
        if not isinstance(lesson.text, str) or lesson.kind not in _KINDS:
            raise ValueError(f"bad text or kind {lesson.kind!r}")
        if lesson.thread_id is not None and not isinstance(lesson.thread_id, str):
            raise TypeError("thread_id is not a string")
        if not all(isinstance(n, int) for n in (lesson.run, lesson.step_id)):
            raise TypeError("run and step_id must be integers")
        if not isinstance(lesson.created_at, int | float):
            raise TypeError("created_at is not a number")
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptRecordError(f"not a lesson job: {exc}") from exc
    return fields.get("id") or lesson_id(lesson), lesson


class QueueStats(TypedDict):
    """Counters of one :class:`RedisLessonQueue` object since it was made."""

    submitted: int
    """Lessons given to :meth:`RedisLessonQueue.submit`."""
    enqueued: int
    """Lessons added to a stream."""
    fallback: int
    """Lessons handed to the in-process sink because Redis was down."""
    written: int
    """Lessons written by the writer, inline or by this object's worker."""
    failed: int
    """Lessons whose write raised (they are retried, or dead-lettered)."""
    duplicates: int
    """Jobs skipped because their lesson id was already written."""
    dead_lettered: int
    """Jobs moved to the dead-letter stream by this worker."""
    reclaimed: int
    """Pending jobs this worker took over with ``XAUTOCLAIM``."""


class QueueDepth(TypedDict):
    """How much work waits in the queue (all workers together)."""

    high: int
    """``HIGH`` jobs not yet written (waiting or pending)."""
    batch: int
    """``BATCH`` jobs not yet written (waiting or pending)."""
    pending: int
    """Jobs delivered to a worker and not yet acknowledged."""
    dead: int
    """Entries in the dead-letter stream."""


class QueueOptions(TypedDict, total=False):
    """Keyword options of :class:`RedisLessonQueue`, for :func:`run_worker`."""

    prefix: str
    group: str
    consumer: str | None
    cluster: bool
    batch_size: int
    batch_timeout: float
    maxlen: int | None
    block_ms: int
    claim_idle_ms: int
    max_deliveries: int
    done_ttl: float
    retry_after: float
    flush_timeout: float


__all__ = [
    "SCHEMA_VERSION",
    "QueueDepth",
    "QueueOptions",
    "QueueStats",
    "StreamKeys",
    "dump_lesson",
    "lesson_id",
    "load_lesson",
    "stream_keys",
]

"""The reflection queue's pure parts: keys, job encoding, ids and option checks (no server)."""

from __future__ import annotations

import json

import pytest

from maximus.errors import ConfigError, CorruptRecordError
from maximus.memory.lessons import Lesson, LessonSink, Priority
from maximus.memory.lessons.queue import (
    RedisLessonQueue,
    dump_lesson,
    lesson_id,
    load_lesson,
    stream_keys,
)


async def nowhere(lessons: list[Lesson]) -> None:
    raise AssertionError("no write expected")


@pytest.mark.parametrize("priority", list(Priority))
def test_a_lesson_round_trips_through_its_stream_fields(priority: Priority) -> None:
    lesson = Lesson("use the cache → faster", "episodic", priority, "thread-1", 3, 7, False)
    fields = dump_lesson(lesson)
    assert set(fields) == {"v", "id", "lesson"} and all(isinstance(v, str) for v in fields.values())
    loaded_id, loaded = load_lesson(fields)
    assert loaded == lesson and loaded_id == lesson_id(lesson)
    assert loaded.priority is priority  # an IntEnum again, not a bare int


def test_the_lesson_id_is_stable_and_tells_lessons_apart() -> None:
    lesson = Lesson("a", "procedural", created_at=1.5)
    assert lesson_id(lesson) == lesson_id(Lesson("a", "procedural", created_at=1.5))
    assert lesson_id(lesson) != lesson_id(Lesson("a", "procedural", created_at=1.6))
    assert len(lesson_id(lesson)) == 32


def test_unknown_fields_from_a_newer_producer_are_ignored() -> None:
    fields = dump_lesson(Lesson("a", "procedural", created_at=1.0))
    data = json.loads(fields["lesson"]) | {"embedding_model": "next-year"}
    assert load_lesson(fields | {"lesson": json.dumps(data)})[1].text == "a"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"lesson": "{not json"},
        {"lesson": "[1, 2]"},
        {"lesson": json.dumps({"kind": "procedural"})},
        {"lesson": json.dumps({"text": "a", "kind": "gossip"})},
        {"lesson": json.dumps({"text": "a", "kind": "episodic", "priority": 9})},
        {"lesson": json.dumps({"text": "a", "kind": "episodic", "run": "one"})},
        {"lesson": json.dumps({"text": 5, "kind": "episodic"})},
    ],
)
def test_foreign_entries_are_corrupt_records(fields: dict[str, str]) -> None:
    with pytest.raises(CorruptRecordError, match="not a lesson job"):
        load_lesson(fields)


def test_all_keys_share_one_cluster_slot_under_the_prefix() -> None:
    keys = stream_keys("acme")
    assert [key.removeprefix("acme:{lessons}:") for key in keys] == ["p2", "p3", "dead", "done"]
    assert stream_keys("{tenant}").high.startswith("{tenant}:")  # a prefix's own tag wins


def test_the_queue_is_a_lesson_sink_and_does_no_io_when_built() -> None:
    queue = RedisLessonQueue("redis://127.0.0.1:1/0", nowhere)  # nothing listens on port 1
    assert isinstance(queue, LessonSink)
    assert queue.consumer != RedisLessonQueue("redis://127.0.0.1:1/0", nowhere).consumer


@pytest.mark.parametrize(
    "options",
    [
        {"batch_size": 0},
        {"max_deliveries": 0},
        {"block_ms": 0},
        {"batch_timeout": 2.0, "claim_idle_ms": 1000},
    ],
)
def test_options_out_of_range_are_config_errors(options: dict[str, int | float]) -> None:
    with pytest.raises(ConfigError):
        RedisLessonQueue("redis://127.0.0.1:1/0", nowhere, **options)  # type: ignore[arg-type]


async def test_open_lesson_sink_is_in_process_without_redis() -> None:
    from maximus.config import load_settings
    from maximus.memory.lessons import InProcessLessonSink, open_lesson_sink

    async with open_lesson_sink(load_settings()) as sink:
        assert isinstance(sink, InProcessLessonSink)
        await sink.submit(Lesson("kept", "procedural", Priority.CRITICAL))
        assert [lesson.text for lesson in sink.lessons] == ["kept"]
    disabled = load_settings(redis_url="redis://127.0.0.1:1/0", lesson_queue={"enabled": False})
    async with open_lesson_sink(disabled) as sink:
        assert isinstance(sink, InProcessLessonSink)

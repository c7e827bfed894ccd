"""The Redis-backed reflection queue, against real servers: priorities, batching, restarts
(worker, process and server), replicas, dead letters and a Redis that is down."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio
from redis.asyncio.cluster import RedisCluster

from maximus.errors import StoreUnavailableError
from maximus.memory.lessons import Lesson, Priority
from maximus.memory.lessons.queue import (
    QueueOptions,
    RedisLessonQueue,
    dump_lesson,
    load_lesson,
    run_worker,
    stream_keys,
)
from tests.support.redis import ROOT, key_prefix, kill_server, start_server, stop_server

pytestmark = pytest.mark.integration

CRITICAL, HIGH, BATCH = Priority.CRITICAL, Priority.HIGH, Priority.BATCH


class Recorder:
    """A lesson writer that records each call's texts; it can fail or hang on demand."""

    def __init__(self, *, fail: bool = False, fail_first: int = 0, delay: float = 0.0) -> None:
        self.batches: list[list[str]] = []
        self.times: dict[str, float] = {}
        self.attempts: Counter[str] = Counter()
        self.fail = fail
        self.fail_first = fail_first
        self.delay = delay
        self.entered = asyncio.Event()
        self.gate: asyncio.Event | None = None

    async def __call__(self, lessons: list[Lesson]) -> None:
        self.attempts.update(lesson.text for lesson in lessons)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail or self.fail_first > 0:
            self.fail_first -= 1
            raise ConnectionError("vector store down")
        self.batches.append([lesson.text for lesson in lessons])
        now = time.monotonic()
        self.times.update((lesson.text, now) for lesson in lessons)

    @property
    def texts(self) -> list[str]:
        return [text for batch in self.batches for text in batch]


def lesson(text: str, priority: Priority) -> Lesson:
    return Lesson(text, "procedural", priority, thread_id="t1", run=1, step_id=2)


async def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.01)


class Queues:
    """Makes queues on one server and prefix; closes them and deletes the keys afterwards."""

    def __init__(self, url: str, *, cluster: bool = False) -> None:
        self.url, self.cluster, self.prefix = url, cluster, key_prefix()
        self.keys = stream_keys(self.prefix)
        self.made: list[RedisLessonQueue] = []
        cls = RedisCluster if cluster else redis.asyncio.Redis
        self.raw: Any = cls.from_url(url, decode_responses=True)

    def __call__(self, writer: Recorder, **options: Any) -> RedisLessonQueue:
        options = {"batch_timeout": 0.05, "block_ms": 200, "claim_idle_ms": 5000} | options
        queue = RedisLessonQueue(
            self.url, writer, prefix=self.prefix, cluster=self.cluster, **options
        )
        self.made.append(queue)
        return queue

    async def pending(self) -> int:
        total = 0
        for key in (self.keys.high, self.keys.batch):
            total += int((await self.raw.xpending(key, "lesson-writers"))["pending"])
        return total

    async def aclose(self) -> None:
        for queue in self.made:
            await queue.aclose()
        await self.raw.delete(*self.keys)
        await self.raw.aclose()


@asynccontextmanager
async def open_queues(url: str, *, cluster: bool = False) -> AsyncIterator[Queues]:
    queues = Queues(url, cluster=cluster)
    try:
        yield queues
    finally:
        await queues.aclose()


@pytest.fixture
async def queues(plain_redis_url: str) -> AsyncIterator[Queues]:
    async with open_queues(plain_redis_url) as made:
        yield made


@pytest.mark.parametrize("kind", ["plain", "valkey", "cluster"])
async def test_priorities_are_honoured(kind: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("plain_redis_url" if kind == "plain" else f"{kind}_url")
    async with open_queues(url, cluster=kind == "cluster") as queues:
        producer_writes, worker_writes = Recorder(), Recorder()
        producer = queues(producer_writes)
        await producer.submit(lesson("critical", CRITICAL))
        assert producer_writes.texts == ["critical"]  # written before submit returned
        for i in range(4):
            await producer.submit(lesson(f"b{i}", BATCH))
        for i in range(4):
            await producer.submit(lesson(f"h{i}", HIGH))
        assert producer_writes.texts == ["critical"]  # nothing else on the caller's path
        assert (await producer.depth())["high"] == 4

        worker = queues(worker_writes, batch_size=4)
        worker.start()
        await wait_until(lambda: len(worker_writes.texts) == 8)
        assert worker_writes.batches[:4] == [["h0"], ["h1"], ["h2"], ["h3"]]  # one at a time
        assert worker_writes.batches[4:] == [["b0", "b1", "b2", "b3"]]  # then one batch
        assert await producer.depth() == {"high": 0, "batch": 0, "pending": 0, "dead": 0}
        assert producer.stats["enqueued"] == 8 and worker.stats["written"] == 8


async def test_batches_by_size_then_by_timeout(queues: Queues) -> None:
    writes = Recorder()
    producer = queues(Recorder())
    for i in range(7):
        await producer.submit(lesson(f"b{i}", BATCH))
    worker = queues(writes, batch_size=3, batch_timeout=0.3, claim_idle_ms=2000)
    started = time.monotonic()
    worker.start()
    await wait_until(lambda: len(writes.texts) == 7)
    assert [len(batch) for batch in writes.batches] == [3, 3, 1]
    assert writes.times["b6"] - started >= 0.3  # the last one waited for company

    submitted = time.monotonic()
    await producer.submit(lesson("late", BATCH))
    await wait_until(lambda: "late" in writes.texts)
    assert writes.times["late"] - submitted >= 0.3 and writes.batches[-1] == ["late"]


async def test_flush_and_aclose_write_the_buffered_batch(queues: Queues) -> None:
    writes = Recorder()
    queue = queues(writes, batch_size=100, batch_timeout=30, claim_idle_ms=60_000)
    queue.start()
    await queue.submit(lesson("a", BATCH))
    await queue.flush()
    assert writes.texts == ["a"]  # without waiting for the 30 s timeout
    await queue.submit(lesson("b", BATCH))
    await wait_until(lambda: queue.stats["enqueued"] == 2)
    await queue.aclose()
    assert writes.texts == ["a", "b"]
    assert await queues.pending() == 0


async def test_a_failed_write_survives_and_a_new_worker_writes_it_once(queues: Queues) -> None:
    broken, fixed = Recorder(fail=True), Recorder()
    first = queues(broken, claim_idle_ms=150)
    first.start()
    await first.submit(lesson("h", HIGH))
    await first.submit(lesson("b", BATCH))
    await wait_until(lambda: set(broken.attempts) == {"h", "b"})
    await first.aclose()  # a restart: the failed jobs stay pending under the old consumer
    assert await queues.pending() == 2

    second = queues(fixed, claim_idle_ms=150)  # a new consumer name, as after a restart
    assert second.consumer != first.consumer
    second.start()
    await wait_until(lambda: len(fixed.texts) == 2)
    assert sorted(fixed.texts) == ["b", "h"] and second.stats["reclaimed"] == 2
    assert await second.depth() == {"high": 0, "batch": 0, "pending": 0, "dead": 0}
    await asyncio.sleep(0.4)  # two more reclaim passes: nothing is written twice
    assert sorted(fixed.texts) == ["b", "h"]


async def test_a_worker_killed_mid_write_leaves_the_job_to_another(queues: Queues) -> None:
    hung, fixed = Recorder(), Recorder()
    hung.gate = asyncio.Event()  # never set: the write is in flight when the worker dies
    first = queues(hung, claim_idle_ms=150)
    task = first.start()
    await first.submit(lesson("h", HIGH))
    await asyncio.wait_for(hung.entered.wait(), 5)
    task.cancel()  # a crash: no ack, no clean stop
    await asyncio.wait({task})
    assert await queues.pending() == 1

    second = queues(fixed, claim_idle_ms=150)
    second.start()
    await wait_until(lambda: fixed.texts == ["h"])
    await asyncio.sleep(0.4)
    assert fixed.texts == ["h"] and await queues.pending() == 0


PRODUCER = """
import asyncio, sys
from maximus.memory.lessons import Lesson, Priority
from maximus.memory.lessons.queue import RedisLessonQueue

async def never(lessons):
    raise AssertionError("the producer writes nothing itself")

async def main(url, prefix):
    queue = RedisLessonQueue(url, never, prefix=prefix)
    await queue.submit(Lesson("from-high", "procedural", Priority.HIGH))
    await queue.submit(Lesson("from-batch", "episodic", Priority.BATCH))
    assert queue.stats["enqueued"] == 2, queue.stats
    await queue.aclose()

asyncio.run(main(*sys.argv[1:]))
"""

HANGING_WORKER = """
import asyncio, sys
from maximus.memory.lessons.queue import RedisLessonQueue

async def hang(lessons):
    print("writing", flush=True)
    await asyncio.Event().wait()

async def main(url, prefix):
    queue = RedisLessonQueue(
        url, hang, prefix=prefix, claim_idle_ms=150, block_ms=100, batch_timeout=0.05
    )
    queue.start()
    await asyncio.Event().wait()

asyncio.run(main(*sys.argv[1:]))
"""


async def test_jobs_survive_real_process_exits_and_kills(queues: Queues) -> None:
    producer = subprocess.run(
        [sys.executable, "-c", PRODUCER, queues.url, queues.prefix],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert producer.returncode == 0, producer.stderr
    assert (await queues.raw.xlen(queues.keys.high), await queues.raw.xlen(queues.keys.batch)) == (
        1,
        1,
    )

    worker = subprocess.Popen(
        [sys.executable, "-c", HANGING_WORKER, queues.url, queues.prefix],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(worker.stdout.readline), 30)  # type: ignore[union-attr]
        assert line.strip() == "writing"  # it holds the HIGH job, mid-write
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        worker.stdout.close()  # type: ignore[union-attr]
    assert await queues.pending() >= 1

    writes = Recorder()
    queue = queues(writes, claim_idle_ms=150)
    queue.start()
    await wait_until(lambda: sorted(writes.texts) == ["from-batch", "from-high"])
    await asyncio.sleep(0.4)
    assert sorted(writes.texts) == ["from-batch", "from-high"]
    assert await queue.depth() == {"high": 0, "batch": 0, "pending": 0, "dead": 0}


async def test_jobs_survive_a_redis_crash_with_aof(tmp_path: Path) -> None:
    name = f"rq-aof-{uuid.uuid4().hex[:8]}"
    record = start_server("plain", name=name, aof=True, dir=tmp_path / "redis")
    try:
        async with open_queues(record["url"]) as queues:
            broken, local = Recorder(fail=True), Recorder()
            producer = queues(local, retry_after=0.05)
            first = queues(broken, claim_idle_ms=150)
            first.start()
            await producer.submit(lesson("pending", HIGH))
            await wait_until(lambda: broken.attempts["pending"] == 1)
            await first.aclose()  # "pending" is in the PEL now
            await producer.submit(lesson("waiting", BATCH))  # enqueued, never delivered

            kill_server(name)  # SIGKILL: only what the AOF holds comes back
            await producer.submit(lesson("outage", HIGH))  # no raise: written in-process
            await producer.flush()
            assert local.texts == ["outage"] and producer.stats["fallback"] == 1
            restarted = start_server(
                "plain", name=name, aof=True, dir=tmp_path / "redis", port=record["ports"][0]
            )
            assert restarted["url"] == record["url"]
            await asyncio.sleep(0.06)  # retry_after: the producer tries Redis again
            await producer.submit(lesson("after", HIGH))
            assert producer.stats["enqueued"] == 3

            writes = Recorder()
            second = queues(writes, claim_idle_ms=150)
            second.start()
            await wait_until(lambda: sorted(writes.texts) == ["after", "pending", "waiting"])
            assert second.stats["reclaimed"] == 1  # "pending" came back from the PEL
    finally:
        stop_server(name)


async def test_two_replicas_write_each_job_exactly_once(queues: Queues) -> None:
    first, second = Recorder(delay=0.005), Recorder(delay=0.005)
    producer = queues(Recorder())
    for i in range(40):
        await producer.submit(lesson(f"l{i}", HIGH if i % 2 else BATCH))
    replicas = [queues(first, batch_size=4), queues(second, batch_size=4)]
    for replica in replicas:
        replica.start()
    await wait_until(lambda: len(first.texts) + len(second.texts) == 40)
    await asyncio.sleep(0.2)
    counts = Counter(first.texts + second.texts)
    assert set(counts) == {f"l{i}" for i in range(40)} and set(counts.values()) == {1}
    assert first.texts and second.texts  # both replicas took work
    assert await queues.pending() == 0


@pytest.mark.parametrize("kind", ["plain", "cluster"])
async def test_a_job_that_keeps_failing_is_dead_lettered(
    kind: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("plain_redis_url" if kind == "plain" else "cluster_url")
    async with open_queues(url, cluster=kind == "cluster") as queues:
        broken = Recorder(fail=True)
        queue = queues(broken, max_deliveries=3, claim_idle_ms=100, batch_timeout=0.01)
        queue.start()
        jobs = {
            queues.keys.high: lesson("poison-h", HIGH),
            queues.keys.batch: lesson("poison-b", BATCH),
        }
        ids = {job.text: await queues.raw.xadd(key, dump_lesson(job)) for key, job in jobs.items()}
        await wait_until(lambda: queue.stats["dead_lettered"] == 2)

        assert broken.attempts == {"poison-h": 3, "poison-b": 3}  # max_deliveries attempts each
        dead = await queues.raw.xrange(queues.keys.dead)
        by_text = {load_lesson(fields)[1].text: fields for _, fields in dead}
        assert set(by_text) == {"poison-h", "poison-b"}
        for text, fields in by_text.items():
            assert fields["error"] == "ConnectionError: vector store down"
            assert fields["entry_id"] == ids[text] and fields["deliveries"] == "3"
            assert jobs[fields["source"]].text == text
        assert await queue.depth() == {"high": 0, "batch": 0, "pending": 0, "dead": 2}


async def test_a_job_whose_worker_keeps_dying_is_dead_lettered(queues: Queues) -> None:
    hung = Recorder()
    hung.gate = asyncio.Event()
    first = queues(hung, claim_idle_ms=100, max_deliveries=1)
    task = first.start()
    await first.submit(lesson("crasher", HIGH))
    await asyncio.wait_for(hung.entered.wait(), 5)
    task.cancel()
    await asyncio.wait({task})

    writes = Recorder()
    second = queues(writes, claim_idle_ms=100, max_deliveries=1)
    second.start()
    await wait_until(lambda: second.stats["dead_lettered"] == 1)
    [(_, fields)] = await queues.raw.xrange(queues.keys.dead)
    assert "without an acknowledgement" in fields["error"] and writes.texts == []


async def test_a_corrupt_entry_goes_straight_to_the_dead_letter_stream(queues: Queues) -> None:
    writes = Recorder()
    queue = queues(writes)
    queue.start()
    await queues.raw.xadd(queues.keys.high, {"lesson": "{not json"})
    await queue.submit(lesson("fine", HIGH))
    await wait_until(lambda: writes.texts == ["fine"] and queue.stats["dead_lettered"] == 1)
    [(_, fields)] = await queues.raw.xrange(queues.keys.dead)
    assert fields["lesson"] == "{not json" and "not a lesson job" in fields["error"]


async def test_a_job_added_twice_is_written_once(queues: Queues) -> None:
    writes = Recorder()
    job = lesson("retried xadd", HIGH)
    await queues.raw.xadd(queues.keys.high, dump_lesson(job))
    await queues.raw.xadd(queues.keys.high, dump_lesson(job))  # a client retry after a timeout
    queue = queues(writes)
    queue.start()
    await wait_until(lambda: queue.stats["duplicates"] == 1)
    assert writes.texts == ["retried xadd"] and await queues.pending() == 0


async def test_a_failed_critical_write_is_retried_by_the_worker(queues: Queues) -> None:
    flaky = Recorder(fail_first=1)
    queue = queues(flaky)
    await queue.submit(lesson("must keep", CRITICAL))  # the inline write fails, no raise
    assert flaky.texts == [] and queue.stats["enqueued"] == 1
    queue.start()
    await wait_until(lambda: flaky.texts == ["must keep"])


@pytest.mark.parametrize(
    "options", [{}, {"protocol": 3}, {"protocol": 3, "decode_responses": True}]
)
async def test_a_callers_client_of_any_protocol_works_and_stays_open(
    queues: Queues, options: dict[str, Any]
) -> None:
    client = redis.asyncio.Redis.from_url(queues.url, **options)
    flaky = Recorder(fail_first=1)
    queue = RedisLessonQueue(
        client, flaky, prefix=queues.prefix, claim_idle_ms=100, batch_timeout=0.05
    )
    queue.start()
    await queue.submit(lesson("h", HIGH))
    await queue.submit(lesson("b", BATCH))
    await wait_until(lambda: sorted(flaky.texts) == ["b", "h"])  # read, failed, reclaimed
    assert queue.stats["reclaimed"] == 1
    await queue.aclose()
    assert await client.ping()  # not ours to close
    await client.aclose()


async def test_run_worker_consumes_until_stopped(queues: Queues) -> None:
    writes, stop = Recorder(), asyncio.Event()
    options = QueueOptions(prefix=queues.prefix, batch_timeout=0.05, block_ms=100)
    worker = asyncio.create_task(run_worker(queues.url, writes, stop=stop, **options))
    producer = queues(Recorder())
    await producer.submit(lesson("h", HIGH))
    await producer.submit(lesson("b", BATCH))
    await wait_until(lambda: sorted(writes.texts) == ["b", "h"])
    stop.set()
    stats = await asyncio.wait_for(worker, 5)
    assert stats["written"] == 2 and await queues.pending() == 0


async def test_redis_down_never_reaches_the_agent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"  # nothing listens there
    writes = Recorder()
    queue = RedisLessonQueue(url, writes, prefix=key_prefix(), block_ms=100)
    queue.start()  # the worker backs off instead of dying
    await queue.submit(lesson("c", CRITICAL))
    await queue.submit(lesson("h", HIGH))
    await queue.submit(lesson("b", BATCH))
    assert writes.texts == ["c"]
    await queue.flush()
    assert sorted(writes.texts) == ["b", "c", "h"]  # through the in-process fallback
    assert queue.stats["fallback"] == 2
    with pytest.raises(StoreUnavailableError):
        await queue.depth()
    started = time.monotonic()
    await queue.aclose()
    assert time.monotonic() - started < 5

"""Runs shared by every replica through Redis (used when ``MAXIMUS_REDIS_URL`` is set).

:class:`SharedRunManager` keeps the in-process manager's interface, and adds:

- run records in Redis, so any replica answers ``get``, ``list``, ``join`` and ``cancel``;
- the thread's lock as a Redis list, so ``reject``, ``enqueue``, ``interrupt`` and
  ``rollback`` hold across replicas;
- each run's events copied into a Redis Stream (entry ``n-0`` is SSE event ``n``), so
  ``join_stream`` and ``Last-Event-ID`` work from any replica;
- leases: the replica running a run renews its lease; a run whose lease expires (its
  process was killed) goes back to the queue, and a worker resumes it from its last
  checkpoint. Background runs (``runs.create``) go to that queue from the start.

Streamed and waited-for runs run in the replica that accepted them (their client is
connected there); readers on that replica follow the in-memory log, others the stream.
Key layout and scripts: :mod:`maximus.server._run_keys`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from maximus.errors import ConflictError, RateLimitedError, ThreadNotFoundError
from maximus.server import _run_keys as lua
from maximus.server._events import Event, StreamLagged
from maximus.server._run_keys import RunKeys, decode_record, encode_record, event_seq
from maximus.server._serde import to_jsonable
from maximus.server._shared_reads import TERMINAL, follow_stream, view, wait_for_end
from maximus.server.run_manager import Executor, RunManager, RunRecord, current_run_id

logger = logging.getLogger("maximus.server.runs")


@dataclass(frozen=True, slots=True)
class SharedRunsConfig:
    """Where and how runs are shared."""

    redis_url: str
    prefix: str
    lease_seconds: float = 10.0
    """A run whose worker has not renewed its lease for this long is taken over."""
    ttl_seconds: int = 86_400
    """Finished runs and their events are kept this long."""
    workers: int = 16
    """Background runs this process runs at once (0: it takes none from the queue)."""
    stream_max_events: int = 1024
    max_connections: int = 256
    """Redis connections this process opens for shared runs, at most."""


Revive = Callable[..., RunRecord]


class SharedRunManager(RunManager):
    """A :class:`RunManager` whose runs, locks, events and cancels live in Redis."""

    def __init__(
        self,
        executor: Executor,
        config: SharedRunsConfig,
        *,
        revive: Revive,
        keep_finished: int = 2048,
        max_active: int = 4096,
        on_finish: Callable[[RunRecord], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(
            executor, keep_finished=keep_finished, max_active=max_active, on_finish=on_finish
        )
        self.config = config
        self.keys = RunKeys(config.prefix)
        self.worker_id = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self._revive = revive
        self._lease_ms = int(config.lease_seconds * 1000)
        self._redis: Any = None
        self._background: list[asyncio.Task[None]] = []
        self._handing_back = False
        self._scripts: dict[str, Any] = {}
        self._retrying: set[asyncio.Task[None]] = set()

    # --- start and stop -----------------------------------------------------------------

    async def start(self) -> None:
        from redis.asyncio import BlockingConnectionPool, Redis

        # Many runs at once share a bounded pool: a command waits for a free connection
        # instead of failing when the pool is full.
        pool = BlockingConnectionPool.from_url(
            self.config.redis_url, max_connections=self.config.max_connections, timeout=30
        )
        self._redis = Redis(connection_pool=pool)
        for name in ("SUBMIT", "CLAIM", "HEARTBEAT", "REAP", "HAND_BACK", "FINISH"):
            self._scripts[name] = self._redis.register_script(getattr(lua, name))
        self._background.append(asyncio.create_task(self._listen_cancels(), name="run-cancels"))
        self._background.append(asyncio.create_task(self._reap_loop(), name="run-reaper"))
        if self.config.workers > 0:
            self._background.append(asyncio.create_task(self._work_loop(), name="run-worker"))

    async def shutdown(self, grace: float) -> int:
        """Stop taking runs; runs still going after ``grace`` go back to the queue, where
        another replica's worker resumes them from their last checkpoint."""
        self.accepting = False
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._handing_back = True
        cut = await super().shutdown(grace)
        if self._retrying:
            await asyncio.wait(self._retrying, timeout=5.0)
        if self._redis is not None:
            await self._redis.aclose()
        return cut

    # --- submit -------------------------------------------------------------------------

    def _fields(self, run: RunRecord) -> dict[str, Any]:
        request = {k: v for k, v in run.request.items() if k != "_body"}
        return {
            **run.as_dict(),
            "owner": run.owner,
            "graph_id": run.graph_id,
            "request": request,
            "stateless": run.stateless,
            "attempt": run.attempt,
            "result": to_jsonable(run.result),
            "error": run.error,
        }

    async def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        return await self._scripts[name](keys=keys, args=args)

    async def asubmit(self, run: RunRecord) -> RunRecord:
        if not self.accepting:
            raise RateLimitedError("the server is shutting down; retry on another replica")
        if self.active_count >= self._max_active:
            raise RateLimitedError(f"{self._max_active} runs are in flight; retry shortly")
        k = self.keys
        answer = await self._script(
            "SUBMIT",
            [
                k.active(run.thread_id),
                k.record(run.run_id),
                k.thread_runs(run.thread_id),
                k.queue,
                k.owner(run.run_id),
                k.leases,
            ],
            [
                run.run_id,
                run.multitask_strategy,
                encode_record(self._fields(run)),
                self.config.ttl_seconds,
                "" if run.background else self.worker_id,
                self._lease_ms,
            ],
        )
        if int(answer[0]) == 2:
            return run  # a cron's fire made again: the first one stands
        if int(answer[0]) == 0:
            raise ConflictError(
                f"thread {run.thread_id!r} is busy with run {answer[1].decode()!r}; "
                "use multitask_strategy enqueue or interrupt"
            )
        for other in answer[1:]:
            await self._cancel_id(other.decode(), run.multitask_strategy)
        if not run.background:
            self._launch(run)
        return run

    def _launch(self, run: RunRecord) -> None:
        self._active.setdefault(run.thread_id, []).append(run)
        self._active_count += 1
        self._runs[run.run_id] = run
        run.task = asyncio.create_task(self._run(run), name=f"run-{run.run_id}")

    # --- running ------------------------------------------------------------------------

    async def _run(self, run: RunRecord) -> None:
        current_run_id.set(run.run_id)
        writer = asyncio.create_task(self._write_events(run))
        beat = asyncio.create_task(self._heartbeat(run))
        lost = False
        try:
            await self._await_turn(run)
            run.set_status("running")
            await self._redis.set(
                self.keys.record(run.run_id),
                encode_record(self._fields(run)),
                ex=self.config.ttl_seconds,
            )
            await self._executor(run)
        except asyncio.CancelledError:
            run.set_status(run.cancel_status or "interrupted")
            lost = run.cancel_status is None and self._handing_back
            if run.cancel_status == "pending":  # the lease was lost: another worker has it
                lost = True
        except Exception as exc:
            logger.exception("run %s failed outside its graph", run.run_id)
            run.error = {"error": type(exc).__name__, "message": "internal error in the run"}
            run.events.append("error", run.error)
            run.set_status("error")
        finally:
            beat.cancel()
            # Shielded: a second cancel (a late cancel message) must not cut the wrap-up.
            await asyncio.shield(self._wrap_up(run, writer, beat, lost))

    async def _wrap_up(
        self, run: RunRecord, writer: asyncio.Task[None], beat: asyncio.Task[None], lost: bool
    ) -> None:
        run.events.close()
        await asyncio.gather(writer, beat, return_exceptions=True)
        if lost:
            await self._hand_back(run)
            run.done.set()
        else:
            # A rollback deletes the run's checkpoints before the thread's next run starts.
            if run.rollback:
                await self._after(run)
            await self._finish(run)
            run.done.set()
            if not run.rollback:
                await self._after(run)
        self._forget_active(run)
        self._finished.append(run.run_id)
        self._evict()

    async def _after(self, run: RunRecord) -> None:
        if self._on_finish is None:
            return
        try:
            await self._on_finish(run)
        except Exception:
            logger.warning("after-run hook failed for %s", run.run_id, exc_info=True)

    async def _finish(self, run: RunRecord) -> None:
        if not await self._try_finish(run):
            # Redis is away: the run's end is recorded when it is back, so its thread is not
            # left locked (and its expired lease does not get it run again).
            task = asyncio.create_task(self._finish_later(run), name=f"finish-{run.run_id}")
            self._retrying.add(task)
            task.add_done_callback(self._retrying.discard)

    async def _finish_later(self, run: RunRecord) -> None:
        pause = 0.1
        for _ in range(600):
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)
            if await self._try_finish(run, quiet=True):
                logger.info("the end of run %s is recorded", run.run_id)
                return
        logger.error("gave up recording the end of run %s", run.run_id)

    async def _try_finish(self, run: RunRecord, *, quiet: bool = False) -> bool:
        k = self.keys
        try:
            await asyncio.shield(
                self._script(
                    "FINISH",
                    [
                        k.record(run.run_id),
                        k.active(run.thread_id),
                        k.leases,
                        k.owner(run.run_id),
                        k.events(run.run_id),
                        k.cancel(run.run_id),
                    ],
                    [
                        run.run_id,
                        encode_record(self._fields(run)),
                        self.config.ttl_seconds,
                        self.worker_id,
                        run.events.last_seq + 1,
                    ],
                )
            )
        except Exception:
            if not quiet:
                logger.error("could not record the end of run %s", run.run_id, exc_info=True)
            return False
        return True

    async def _hand_back(self, run: RunRecord) -> None:
        k = self.keys
        try:
            handed = await self._script(
                "HAND_BACK",
                [k.owner(run.run_id), k.leases, k.queue],
                [run.run_id, self.worker_id],
            )
        except Exception:
            logger.error("could not hand run %s back", run.run_id, exc_info=True)
            return
        if handed:
            logger.warning("run %s handed back to the queue at its last checkpoint", run.run_id)

    async def _await_turn(self, run: RunRecord) -> None:
        """Until the run holds its thread's lock (it is the head of the active list)."""
        key = self.keys.active(run.thread_id)
        pause = 0.01
        while True:
            head = await self._redis.lindex(key, 0)
            if head is None or head.decode() == run.run_id:
                return
            if not await self._redis.exists(self.keys.record(head.decode())):
                await self._redis.lrem(key, 1, head)  # a run deleted or expired
                continue
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)

    async def _heartbeat(self, run: RunRecord) -> None:
        k = self.keys
        while True:
            await asyncio.sleep(self.config.lease_seconds / 3)
            try:
                held, action = await self._script(
                    "HEARTBEAT",
                    [k.owner(run.run_id), k.leases, k.cancel(run.run_id)],
                    [run.run_id, self.worker_id, self._lease_ms],
                )
            except Exception:
                logger.warning("lease renewal failed for %s", run.run_id, exc_info=True)
                continue
            if not held:
                logger.warning("run %s was taken over by another worker", run.run_id)
                run.cancel_status = "pending"
                if run.task is not None:
                    run.task.cancel()
                return
            if action:
                self._cancel_local(run, action.decode())

    async def _write_events(self, run: RunRecord) -> None:
        """Copy the run's events into its stream, in batches, as they come."""
        key = self.keys.events(run.run_id)
        batch: list[Event] = []
        try:
            async for event in run.events.follow(0):
                batch.append(event)
                if run.events.last_seq > event.seq and len(batch) < 64:
                    continue  # more are waiting: send them together
                await self._xadd(key, batch)
                batch = []
            if batch:
                await self._xadd(key, batch)
        except StreamLagged:
            logger.warning("run %s wrote events faster than Redis took them", run.run_id)
        except Exception:
            logger.warning("events of run %s not shared", run.run_id, exc_info=True)

    async def _xadd(self, key: str, batch: list[Event]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in batch:
                pipe.xadd(
                    key,
                    {"e": event.event, "d": event.data},
                    id=f"{event.seq}-0",
                    maxlen=self.config.stream_max_events,
                    approximate=True,
                )
            pipe.expire(key, self.config.ttl_seconds)
            await pipe.execute()

    # --- workers ------------------------------------------------------------------------

    async def _work_loop(self) -> None:
        k = self.keys
        while True:
            try:
                busy = sum(1 for r in self._runs.values() if r.background and not r.finished)
                if busy >= self.config.workers:
                    await asyncio.sleep(0.05)
                    continue
                run_id = await self._script(
                    "CLAIM", [k.queue, k.leases], [k.prefix, self.worker_id, self._lease_ms]
                )
                if run_id is None:
                    await asyncio.sleep(0.05)
                    continue
                await self._take(run_id.decode())
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("the worker loop failed; retrying", exc_info=True)
                await asyncio.sleep(1.0)

    async def _take(self, run_id: str) -> None:
        """Start a claimed run here (resuming it when another worker had started it)."""
        k = self.keys
        raw = await self._redis.get(k.record(run_id))
        if raw is None:  # deleted meanwhile
            await self._redis.zrem(k.leases, run_id)
            await self._redis.delete(k.owner(run_id))
            return
        record = decode_record(raw)
        if record["status"] in TERMINAL:
            await self._redis.zrem(k.leases, run_id)
            await self._redis.delete(k.owner(run_id))
            return
        if record["status"] == "running":
            record["attempt"] = int(record.get("attempt", 1)) + 1
            logger.warning("taking over run %s (attempt %d)", run_id, record["attempt"])
        last = await self._redis.xrevrange(k.events(run_id), count=1)
        first = event_seq(last[0][0]) + 1 if last else 1
        run = self._revive(record, first_event=first)
        if run.run_id in self._runs:  # a stale local copy from an earlier attempt
            self._runs.pop(run.run_id)
        action = await self._redis.get(k.cancel(run_id))
        self._launch(run)
        if action:
            self._cancel_local(run, action.decode())

    async def _reap_loop(self) -> None:
        k = self.keys
        while True:
            await asyncio.sleep(max(self.config.lease_seconds / 2, 0.1))
            try:
                ids = await self._script("REAP", [k.leases, k.queue], [k.prefix])
            except Exception:
                logger.warning("reaping expired leases failed", exc_info=True)
                continue
            for run_id in ids:
                logger.warning("run %s lost its worker; queued to be taken over", run_id.decode())

    # --- cancel -------------------------------------------------------------------------

    def _cancel_local(self, run: RunRecord, action: str) -> None:
        if run.cancel_status is not None:  # already being cancelled
            return
        run.rollback = action == "rollback"
        self.cancel(run, status="interrupted")

    async def _cancel_id(self, run_id: str, action: str) -> None:
        local = self._runs.get(run_id)
        if local is not None and not local.finished and local.task is not None:
            self._cancel_local(local, action)
            return
        await self._redis.set(self.keys.cancel(run_id), action, ex=self.config.ttl_seconds)
        await self._redis.publish(self.keys.channel, f"{run_id}:{action}")
        await self._finish_if_queued(run_id)

    async def _finish_if_queued(self, run_id: str) -> None:
        """A run still waiting in the queue is cancelled on the spot (no worker holds it)."""
        k = self.keys
        removed = await self._redis.lrem(k.queue, 0, run_id)
        if not removed:
            return
        raw = await self._redis.get(k.record(run_id))
        if raw is None:
            return
        record = decode_record(raw)
        record["status"] = "interrupted"
        await self._script(
            "FINISH",
            [
                k.record(run_id),
                k.active(record["thread_id"]),
                k.leases,
                k.owner(run_id),
                k.events(run_id),
                k.cancel(run_id),
            ],
            [run_id, encode_record(record), self.config.ttl_seconds, self.worker_id, 1],
        )

    async def _listen_cancels(self) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.subscribe(self.keys.channel)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    run_id, _, action = message["data"].decode().rpartition(":")
                    local = self._runs.get(run_id)
                    if local is not None and not local.finished:
                        self._cancel_local(local, action)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("the cancel listener lost Redis; reconnecting", exc_info=True)
                await asyncio.sleep(1.0)

    async def request_cancel(self, run: RunRecord, *, action: str = "interrupt") -> None:
        await self._cancel_id(run.run_id, action)

    # --- queries ------------------------------------------------------------------------

    async def find(self, run_id: str, *, owner: str, thread_id: str | None = None) -> RunRecord:
        local = self._runs.get(run_id)
        if local is not None and local.task is not None and not local.finished:
            return self.get(run_id, owner=owner, thread_id=thread_id)
        raw = await self._redis.get(self.keys.record(run_id))
        if raw is None:
            raise ThreadNotFoundError(f"no run {run_id!r}")
        run = view(decode_record(raw))
        if run.owner != owner or (thread_id and run.thread_id != thread_id):
            raise ThreadNotFoundError(f"no run {run_id!r}")
        return run

    async def list_thread(self, thread_id: str) -> list[RunRecord]:
        ids = await self._redis.zrevrange(self.keys.thread_runs(thread_id), 0, 999)
        if not ids:
            return []
        raws = await self._redis.mget([self.keys.record(i.decode()) for i in ids])
        return [view(decode_record(raw)) for raw in raws if raw is not None]

    async def wait(self, run: RunRecord) -> None:
        if run.task is not None:
            await run.done.wait()
        else:
            await wait_for_end(self._redis, self.keys, run)

    def follow(self, run: RunRecord, after: int = 0) -> AsyncIterator[Event]:
        if run.task is not None:
            return run.events.follow(after)
        return follow_stream(self._redis, self.keys, run, after)

    async def thread_runs_state(self, thread_id: str) -> tuple[bool, Any]:
        k = self.keys
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.llen(k.active(thread_id))
            pipe.zrevrange(k.thread_runs(thread_id), 0, 0)
            busy, newest = await pipe.execute()
        if not newest:
            return bool(busy), None
        raw = await self._redis.get(k.record(newest[0].decode()))
        return bool(busy), decode_record(raw)["status"] if raw else None

    async def drop_thread(self, thread_id: str) -> None:
        for run in await self.list_thread(thread_id):
            await self.remove(run)
        await self._redis.delete(self.keys.thread_runs(thread_id), self.keys.active(thread_id))

    async def remove(self, run: RunRecord) -> None:
        if not run.finished:
            await self._cancel_id(run.run_id, "interrupt")
        self._runs.pop(run.run_id, None)
        k = self.keys
        await self._redis.delete(k.record(run.run_id), k.events(run.run_id))
        await self._redis.zrem(k.thread_runs(run.thread_id), run.run_id)


__all__ = ["SharedRunManager", "SharedRunsConfig"]

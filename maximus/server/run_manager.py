"""Runs: background execution, double-texting, join, cancel and event buffers.

One :class:`RunManager` per server process. A run is an ``asyncio`` task that streams its
graph into the run's :class:`~maximus.server._events.EventLog`; requests only read logs.
Runs on one thread take the thread's lock in arrival order (FIFO), which gives ``enqueue``
for free; ``reject`` refuses when the thread is busy; ``interrupt`` and ``rollback`` cancel
the thread's runs first. Finished runs are kept (with their bounded logs) up to a limit, for
``join`` and ``Last-Event-ID`` resumption.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from maximus.errors import ConflictError, RateLimitedError, ThreadNotFoundError
from maximus.server._events import Event, EventLog

logger = logging.getLogger("maximus.server.runs")

RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]

current_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "maximus_run_id", default=None
)
"""The run the current task works for (read by the JSON log formatter)."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(slots=True, eq=False)
class RunRecord:
    """One run: what was asked, where it stands, and its events."""

    run_id: str
    thread_id: str
    assistant_id: str
    graph_id: str
    owner: str
    request: dict[str, Any]
    """The validated request body (input, command, config, stream modes...)."""
    events: EventLog
    metadata: dict[str, Any] = field(default_factory=dict)
    multitask_strategy: MultitaskStrategy = "reject"
    stateless: bool = False
    status: RunStatus = "pending"
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    result: Any = None
    error: dict[str, str] | None = None
    cancel_status: RunStatus | None = None
    rollback: bool = False
    """Cancelled with ``rollback``: the run's checkpoints are deleted when it stops."""
    attempt: int = 1
    """1, then 2, 3... each time another worker takes the run over (shared runs)."""
    background: bool = False
    """Created by ``runs.create`` (run by a worker), not by ``stream`` or ``wait``."""
    done: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    started: float = field(default_factory=time.perf_counter)

    def set_status(self, status: RunStatus) -> None:
        self.status = status
        self.updated_at = now_iso()

    @property
    def finished(self) -> bool:
        return self.done.is_set()

    def as_dict(self) -> dict[str, Any]:
        """The SDK's ``Run`` shape."""
        return {
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "assistant_id": self.assistant_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "status": self.status,
            "metadata": self.metadata,
            "multitask_strategy": self.multitask_strategy,
            "kwargs": {
                k: self.request.get(k)
                for k in ("input", "command", "config", "context", "stream_mode")
                if self.request.get(k) is not None
            },
        }


Executor = Callable[[RunRecord], Awaitable[None]]
"""Runs a record's graph to the end, writing its events, result and final status."""


class RunManager:
    """Starts, tracks, cancels and forgets runs.

    Args:
        executor: the coroutine that runs one record.
        keep_finished: finished runs kept for ``join`` and resumption.
        max_active: runs pending or running at once; past it new runs get 429.
        on_finish: called with each finished run (metrics, stateless clean-up).
    """

    def __init__(
        self,
        executor: Executor,
        *,
        keep_finished: int = 2048,
        max_active: int = 4096,
        on_finish: Callable[[RunRecord], Awaitable[None]] | None = None,
    ) -> None:
        self._executor = executor
        self._keep = keep_finished
        self._max_active = max_active
        self._on_finish = on_finish
        self._runs: OrderedDict[str, RunRecord] = OrderedDict()
        self._finished: deque[str] = deque()
        """Ids of finished runs, oldest first: eviction is O(1) per run."""
        self._active: dict[str, list[RunRecord]] = {}
        self._active_count = 0
        self._locks: dict[str, asyncio.Lock] = {}
        self.accepting = True

    # --- queries ------------------------------------------------------------------------

    def get(self, run_id: str, *, owner: str, thread_id: str | None = None) -> RunRecord:
        """A run of ``owner`` (on ``thread_id`` when given).

        Raises:
            ThreadNotFoundError: no such run for this owner; another owner's run looks the
                same as a missing one.
        """
        run = self._runs.get(run_id)
        if run is None or run.owner != owner or (thread_id and run.thread_id != thread_id):
            raise ThreadNotFoundError(f"no run {run_id!r}")
        return run

    def for_thread(self, thread_id: str) -> list[RunRecord]:
        """The runs kept for a thread, newest first."""
        return [r for r in reversed(self._runs.values()) if r.thread_id == thread_id]

    def owned(self, owner: str) -> list[RunRecord]:
        """The owner's runs this process holds (what ``cancel_many`` by status sees)."""
        return [r for r in self._runs.values() if r.owner == owner]

    def active(self, thread_id: str) -> list[RunRecord]:
        """Runs pending or running on a thread."""
        return list(self._active.get(thread_id, ()))

    @property
    def active_count(self) -> int:
        return self._active_count

    @property
    def pending_count(self) -> int:
        return sum(1 for runs in self._active.values() for r in runs if r.status == "pending")

    # --- what the routes use (a shared manager answers these from Redis) -----------------

    async def find(self, run_id: str, *, owner: str, thread_id: str | None = None) -> RunRecord:
        """:meth:`get`, for runs that may live in another replica."""
        return self.get(run_id, owner=owner, thread_id=thread_id)

    async def list_thread(self, thread_id: str) -> list[RunRecord]:
        """The thread's runs, newest first."""
        return self.for_thread(thread_id)

    def follow(self, run: RunRecord, after: int = 0) -> AsyncIterator[Event]:
        """The run's events numbered above ``after``, until it ends."""
        return run.events.follow(after)

    async def wait(self, run: RunRecord) -> None:
        """Until the run has finished (its ``result``, ``error`` and ``status`` are final)."""
        await run.done.wait()

    async def request_cancel(self, run: RunRecord, *, action: str = "interrupt") -> None:
        """Cancel ``run`` wherever it runs; ``rollback`` also deletes its checkpoints."""
        run.rollback = action == "rollback"
        self.cancel(run)

    async def remove(self, run: RunRecord) -> None:
        """Forget a run (cancelling it first)."""
        self.delete(run)

    async def asubmit(self, run: RunRecord) -> RunRecord:
        """:meth:`submit`, for managers that ask a shared store first."""
        return self.submit(run)

    async def thread_runs_state(self, thread_id: str) -> tuple[bool, RunStatus | None]:
        """Whether the thread has runs pending or running, and its newest run's status."""
        last = next(iter(self.for_thread(thread_id)), None)
        return bool(self.active(thread_id)), last.status if last else None

    async def drop_thread(self, thread_id: str) -> None:
        """Cancel and forget the runs of a deleted thread."""
        self.forget_thread(thread_id)

    async def start(self) -> None:
        """Start background work (a shared manager's workers and cancel listener)."""

    # --- lifecycle ----------------------------------------------------------------------

    def submit(self, run: RunRecord) -> RunRecord:
        """Start ``run`` under its multitask strategy.

        Raises:
            ConflictError: the thread is busy and the strategy is ``reject``.
            RateLimitedError: the server is shutting down or has too many runs in flight.
        """
        if run.run_id in self._runs:  # a cron's fire made again: the first one stands
            return self._runs[run.run_id]
        if not self.accepting:
            raise RateLimitedError("the server is shutting down; retry on another replica")
        if self.active_count >= self._max_active:
            raise RateLimitedError(f"{self._max_active} runs are in flight; retry shortly")
        busy = self.active(run.thread_id)
        if busy:
            if run.multitask_strategy == "reject":
                raise ConflictError(
                    f"thread {run.thread_id!r} is busy with run {busy[0].run_id!r}; "
                    "use multitask_strategy enqueue or interrupt"
                )
            if run.multitask_strategy in ("interrupt", "rollback"):
                for other in busy:
                    other.rollback = run.multitask_strategy == "rollback"
                    self.cancel(other, status="interrupted")
        self._active.setdefault(run.thread_id, []).append(run)
        self._active_count += 1
        self._runs[run.run_id] = run
        run.task = asyncio.create_task(self._run(run), name=f"run-{run.run_id}")
        return run

    async def _run(self, run: RunRecord) -> None:
        current_run_id.set(run.run_id)
        lock = self._locks.setdefault(run.thread_id, asyncio.Lock())
        locked = False
        try:
            await lock.acquire()
            locked = True
            run.set_status("running")
            await self._executor(run)
        except asyncio.CancelledError:
            run.set_status(run.cancel_status or "interrupted")
            raise
        except Exception as exc:  # the executor reports its own errors; this is a backstop
            logger.exception("run %s failed outside its graph", run.run_id)
            run.error = {"error": type(exc).__name__, "message": "internal error in the run"}
            run.set_status("error")
        finally:
            run.events.close()
            run.done.set()
            # The run stays "active" through its after-run hook (stateless clean-up), so a
            # shutdown waits for that too.
            if self._on_finish is not None:
                try:
                    await asyncio.shield(self._on_finish(run))
                except Exception:
                    logger.warning("after-run hook failed for %s", run.run_id, exc_info=True)
            # The thread's next run waits for the hook too (a rollback deletes checkpoints).
            if locked:
                lock.release()
            self._forget_active(run)
            self._finished.append(run.run_id)
            self._evict()

    def _forget_active(self, run: RunRecord) -> None:
        runs = self._active.get(run.thread_id)
        if runs and run in runs:
            runs.remove(run)
            self._active_count -= 1
        if not runs:
            self._active.pop(run.thread_id, None)
            lock = self._locks.get(run.thread_id)
            if lock is not None and not lock.locked():
                del self._locks[run.thread_id]

    def _evict(self) -> None:
        while len(self._finished) > self._keep:
            self._runs.pop(self._finished.popleft(), None)

    def cancel(self, run: RunRecord, *, status: RunStatus = "interrupted") -> None:
        """Cancel a pending or running run; its last checkpoint stays, so it can resume."""
        if run.finished or run.task is None:
            return
        run.cancel_status = status
        run.task.cancel()

    def delete(self, run: RunRecord) -> None:
        """Forget a run (cancelling it first if it is still going)."""
        self.cancel(run)
        self._runs.pop(run.run_id, None)

    def forget_thread(self, thread_id: str) -> None:
        """Cancel and forget every run of a deleted thread."""
        for run in self.for_thread(thread_id):
            self.delete(run)

    async def shutdown(self, grace: float) -> int:
        """Stop accepting runs, give in-flight ones ``grace`` seconds, cancel the rest.

        Returns:
            How many runs were cancelled (each stays at its last checkpoint, resumable).
        """
        self.accepting = False
        pending = [r.task for runs in self._active.values() for r in runs if r.task]
        if not pending:
            return 0
        _, still = await asyncio.wait(pending, timeout=grace)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=5.0)
        return len(still)


__all__ = ["MultitaskStrategy", "RunManager", "RunRecord", "RunStatus", "current_run_id"]

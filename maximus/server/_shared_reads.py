"""Reading shared runs held by another process: the record as a read-only view, waiting for
its end, and following its event stream (see :mod:`maximus.server.shared_runs`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from maximus.errors import ThreadNotFoundError
from maximus.server._events import Event, EventLog, StreamLagged
from maximus.server._run_keys import (
    END_EVENT,
    RunKeys,
    decode_record,
    event_seq,
    stored_run_fields,
)
from maximus.server.run_manager import RunRecord

TERMINAL = frozenset({"success", "error", "timeout", "interrupted"})


def view(fields: dict[str, Any]) -> RunRecord:
    """A read-only view of a run held elsewhere (no task, an empty log)."""
    run = RunRecord(
        **stored_run_fields(fields),
        request=fields["request"],
        events=EventLog(16),
        status=fields["status"],
        updated_at=fields["updated_at"],
        result=fields.get("result"),
        error=fields.get("error"),
        background=True,
    )
    if run.status in TERMINAL:
        run.done.set()
    return run


async def wait_for_end(redis: Any, keys: RunKeys, run: RunRecord) -> None:
    """Poll the record (backing off to 4 reads a second) until the run has ended; copy its
    outcome into ``run``."""
    pause = 0.01
    while not run.finished:
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 0.25)
        raw = await redis.get(keys.record(run.run_id))
        if raw is None:
            raise ThreadNotFoundError(f"no run {run.run_id!r}")
        fresh = decode_record(raw)
        if fresh["status"] in TERMINAL:
            run.status, run.result = fresh["status"], fresh.get("result")
            run.error = fresh.get("error")
            run.updated_at = fresh["updated_at"]
            run.done.set()


async def follow_stream(
    redis: Any, keys: RunKeys, run: RunRecord, after: int
) -> AsyncIterator[Event]:
    """The run's events numbered above ``after`` from its stream, until its end marker.

    Raises:
        StreamLagged: the events after ``after`` were trimmed away.
    """
    key = keys.events(run.run_id)
    first = await redis.xrange(key, count=1)
    if first and after + 1 < event_seq(first[0][0]):
        raise StreamLagged(f"events up to {event_seq(first[0][0]) - 1} are no longer kept")
    last = f"{after}-0"
    while True:
        answer = await redis.xread({key: last}, count=256, block=1000)
        if not answer:
            # No end marker (its writer died, or the events expired): the record decides.
            raw = await redis.get(keys.record(run.run_id))
            if raw is None or decode_record(raw)["status"] in TERMINAL:
                if not await redis.xread({key: last}, count=1):
                    return
            continue
        for entry_id, fields in answer[0][1]:
            last = entry_id.decode()
            name = fields[b"e"].decode()
            if name == END_EVENT:
                return
            yield Event(event_seq(entry_id), name, fields[b"d"])


__all__ = ["TERMINAL", "follow_stream", "view", "wait_for_end"]

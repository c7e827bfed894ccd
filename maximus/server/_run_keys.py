"""Shared runs in Redis: key names, record encoding and the Lua scripts (pure; no I/O).

Every replica and worker of one deployment shares these keys under ``{prefix}:runs``:

- ``run:{run_id}``: the run's record (JSON), kept ``ttl`` seconds after its last change;
- ``thread:{thread_id}:runs``: the thread's runs (sorted set, by creation time);
- ``thread:{thread_id}:active``: the thread's runs not yet finished, in arrival order (a
  list); the head holds the thread's lock, so ``enqueue`` is FIFO across replicas;
- ``events:{run_id}``: the run's events (a Redis Stream; event ``n`` is entry ``n-0``, so the
  SSE id and the stream id are the same number), capped and expiring with the record;
- ``queue``: runs waiting for a worker (a list; pushed left, taken right);
- ``leases``: runs being worked on (sorted set: run id by lease deadline, Redis time in ms),
  with ``owner:{run_id}`` naming the worker; an expired lease sends the run back to the queue;
- ``cancel:{run_id}`` and the ``cancel`` channel: a cancel asked on any replica.

The scripts are atomic, so a run is taken by one worker at a time and a thread's lock is
decided by one script. Keys are built inside scripts from the prefix: shared runs need a
single Redis (or one shard), not a Redis Cluster.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from maximus.server._serde import dumps

END_EVENT = "__end__"
"""The stream entry after a run's last event: readers stop there (it is never sent)."""


class RunKeys(NamedTuple):
    """Key names under one prefix."""

    prefix: str

    def record(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}"

    def thread_runs(self, thread_id: str) -> str:
        return f"{self.prefix}:thread:{thread_id}:runs"

    def active(self, thread_id: str) -> str:
        return f"{self.prefix}:thread:{thread_id}:active"

    def events(self, run_id: str) -> str:
        return f"{self.prefix}:events:{run_id}"

    def owner(self, run_id: str) -> str:
        return f"{self.prefix}:owner:{run_id}"

    def cancel(self, run_id: str) -> str:
        return f"{self.prefix}:cancel:{run_id}"

    @property
    def queue(self) -> str:
        return f"{self.prefix}:queue"

    @property
    def leases(self) -> str:
        return f"{self.prefix}:leases"

    @property
    def channel(self) -> str:
        return f"{self.prefix}:cancel"


def encode_record(fields: dict[str, Any]) -> bytes:
    return dumps(fields)


def decode_record(raw: bytes | str) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(raw)
    return value


def stored_run_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The :class:`~maximus.server.run_manager.RunRecord` fields that a stored record fixes for
    the run's whole life (who, where, how), as keyword arguments."""
    return {
        "run_id": record["run_id"],
        "thread_id": record["thread_id"],
        "assistant_id": record["assistant_id"],
        "graph_id": record["graph_id"],
        "owner": record["owner"],
        "metadata": record.get("metadata") or {},
        "multitask_strategy": record["multitask_strategy"],
        "stateless": record["stateless"],
        "created_at": record["created_at"],
        "attempt": record.get("attempt", 1),
    }


def event_seq(entry_id: bytes | str) -> int:
    """The event number of a stream entry id (``7-0`` is event 7)."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

SUBMIT = (
    _NOW
    + """
-- KEYS: active, record, thread_runs, queue, owner, leases
-- ARGV: run_id, strategy, record, ttl, owner ('' = queue it), lease_ms
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {2}  -- made already (a cron's fire, tried again)
end
local busy = redis.call('LRANGE', KEYS[1], 0, -1)
if #busy > 0 and ARGV[2] == 'reject' then
  return {0, busy[1]}
end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('EXPIRE', KEYS[3], ARGV[4])
if ARGV[5] == '' then
  redis.call('LPUSH', KEYS[4], ARGV[1])
else
  redis.call('SET', KEYS[5], ARGV[5], 'PX', ARGV[6])
  redis.call('ZADD', KEYS[6], now + tonumber(ARGV[6]), ARGV[1])
end
if ARGV[2] == 'interrupt' or ARGV[2] == 'rollback' then
  local out = {1}
  for _, id in ipairs(busy) do table.insert(out, id) end
  return out
end
return {1}
"""
)
"""Takes a thread's lock or queues behind it (or refuses, for ``reject``), stores the record,
and either leases the run to its replica (stream, wait) or queues it for a worker."""

CLAIM = (
    _NOW
    + """
-- KEYS: queue, leases; ARGV: prefix, worker, lease_ms
local id = redis.call('RPOP', KEYS[1])
if not id then return false end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), id)
redis.call('SET', ARGV[1] .. ':owner:' .. id, ARGV[2], 'PX', ARGV[3])
return id
"""
)
"""Takes the next queued run and leases it to a worker, in one step (a worker that dies
right after still holds a lease, which expires)."""

HEARTBEAT = (
    _NOW
    + """
-- KEYS: owner, leases, cancel; ARGV: run_id, worker, lease_ms
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return {0, false} end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[3]), ARGV[1])
return {1, redis.call('GET', KEYS[3])}
"""
)
"""Extends a worker's lease if it still holds it; answers ``[held, cancel action]``."""

REAP = (
    _NOW
    + """
-- KEYS: leases, queue; ARGV: prefix
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('DEL', ARGV[1] .. ':owner:' .. id)
  redis.call('RPUSH', KEYS[2], id)
end
return ids
"""
)
"""Sends runs whose lease expired (their worker died) back to the queue, first in line."""

HAND_BACK = """
-- KEYS: owner, leases, queue; ARGV: run_id, worker
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('RPUSH', KEYS[3], ARGV[1])
return 1
"""
"""A worker shutting down gives its unfinished run back to the queue."""

FINISH = """
-- KEYS: record, active, leases, owner, events, cancel
-- ARGV: run_id, record, ttl, worker, end_seq
local holder = redis.call('GET', KEYS[4])
if holder and holder ~= ARGV[4] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[4], KEYS[6])
pcall(redis.call, 'XADD', KEYS[5], ARGV[5] .. '-0', 'e', '__end__', 'd', '')
redis.call('EXPIRE', KEYS[5], ARGV[3])
return 1
"""
"""Stores the final record, releases the thread and the lease, and ends the event stream;
refused (0) when another worker has taken the run over."""

__all__ = [
    "CLAIM",
    "END_EVENT",
    "FINISH",
    "HAND_BACK",
    "HEARTBEAT",
    "REAP",
    "SUBMIT",
    "RunKeys",
    "decode_record",
    "encode_record",
    "event_seq",
    "stored_run_fields",
]

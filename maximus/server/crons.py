"""Crons: runs on a schedule, for a thread or stateless, fired once per tick across replicas.

A cron is a document stored with the sessions (like assistants), owned by its creator. With
Redis, its next fire time is also in a sorted set that every process running workers polls:
one Lua script leases the due crons to one process (pushing their score a lease ahead and
remembering the fire time being served), which creates the run with an id derived from the
cron and the fire time, then moves the cron to its next time. The run id makes a fire
idempotent: if the process dies after creating the run, the next process to take the lease
finds the run made and only moves the cron on, so a tick runs once. Without Redis, one
process owns its crons and fires them itself.

Schedules are cron expressions (``croniter``): five fields, or six with seconds last.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from maximus.errors import InvalidInputError, ThreadNotFoundError
from maximus.server.assistants import AssistantBackend, RedisAssistants, SqliteAssistants
from maximus.server.run_manager import now_iso

logger = logging.getLogger("maximus.server.crons")
CRON_NAMESPACE = uuid.UUID("5d2f3b9c-8a55-4a7e-9f5e-3b3b2f0c1e11")
"""``uuid5`` namespace of the run ids crons make (one per cron and fire time)."""
TICK_SECONDS = 0.5
LEASE_MS = 30_000

CLAIM_DUE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- KEYS: due, firing; ARGV: lease_ms
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 20)
local out = {}
for i = 1, #ids, 2 do
  redis.call('HSETNX', KEYS[2], ids[i], ids[i + 1])
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ids[i])
  table.insert(out, ids[i])
  table.insert(out, redis.call('HGET', KEYS[2], ids[i]))
end
return out
"""
"""Leases the due crons to the caller; answers ``[id, fire_ms, ...]`` (a fire a dead process
was serving keeps its original time)."""

Fire = Callable[[dict[str, Any], str], Awaitable[None]]
"""Creates the run of one fire: the cron document and the run id to use."""


def next_fire_ms(schedule: str, after_ms: int) -> int:
    """The first time ``schedule`` fires strictly after ``after_ms`` (epoch ms, UTC).

    Raises:
        InvalidInputError: not a cron expression.
    """
    from croniter import croniter

    try:
        it = croniter(schedule, datetime.fromtimestamp(after_ms / 1000, UTC))
    except (ValueError, KeyError) as exc:
        raise InvalidInputError(f"schedule {schedule!r} is not a cron expression") from exc
    return int(it.get_next(datetime).timestamp() * 1000)


def run_id_for(cron_id: str, fire_ms: int) -> str:
    return str(uuid.uuid5(CRON_NAMESPACE, f"{cron_id}:{fire_ms}"))


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The SDK's ``Cron``."""
    nxt = doc.get("next_ms")
    return {
        **{k: v for k, v in doc.items() if k not in ("owner", "next_ms")},
        "user_id": doc["owner"],
        "next_run_date": datetime.fromtimestamp(nxt / 1000, UTC).isoformat() if nxt else None,
    }


def _end_ms(end_time: Any) -> int | None:
    if end_time is None:
        return None
    if isinstance(end_time, str):
        end_time = datetime.fromisoformat(end_time)
    if end_time.tzinfo is None:
        end_time = end_time.replace(tzinfo=UTC)
    return int(end_time.timestamp() * 1000)


class Crons:
    """Create, search, update, delete crons; :meth:`run` fires them (in worker processes)."""

    def __init__(self, backend: AssistantBackend, *, redis_prefix: str | None = None) -> None:
        self.backend = backend
        self._prefix = redis_prefix
        self._script: Any = None

    @property
    def _shared(self) -> bool:
        return self._prefix is not None

    async def _schedule(self, doc: dict[str, Any]) -> None:
        if not self._shared:
            return
        redis = self.backend.redis  # type: ignore[attr-defined]
        due = f"{self._prefix}:crons:due"
        if doc["enabled"] and doc.get("next_ms"):
            await redis.zadd(due, {doc["cron_id"]: doc["next_ms"]})
        else:
            await redis.zrem(due, doc["cron_id"])

    async def create(self, owner: str, thread_id: str | None, body: Any) -> dict[str, Any]:
        now_ms = int(time.time() * 1000)
        payload = body.model_dump(
            mode="json",
            exclude_none=True,
            exclude={"schedule", "end_time", "enabled", "timezone", "on_run_completed"},
        )
        doc = {
            "cron_id": str(uuid.uuid4()),
            "assistant_id": body.assistant_id,
            "thread_id": thread_id,
            "on_run_completed": body.on_run_completed,
            "end_time": body.end_time.isoformat() if body.end_time else None,
            "schedule": body.schedule,
            "timezone": body.timezone,
            "created_at": now_iso(),
            "updated_at": now_iso(),
            "payload": payload,
            "owner": owner,
            "metadata": body.metadata or {},
            "enabled": body.enabled,
            "next_ms": next_fire_ms(body.schedule, now_ms),
        }
        await self.backend.put(doc)
        await self._schedule(doc)
        return public(doc)

    async def get(self, cron_id: str, owner: str) -> dict[str, Any]:
        doc = await self.backend.get(cron_id)
        if doc is None or doc["owner"] != owner:
            raise ThreadNotFoundError(f"no cron {cron_id!r}")
        return doc

    async def update(self, cron_id: str, owner: str, body: Any) -> dict[str, Any]:
        doc = await self.get(cron_id, owner)
        changed = body.model_dump(mode="json", exclude_unset=True)
        for key in ("schedule", "end_time", "enabled", "timezone", "metadata", "on_run_completed"):
            if key in changed:
                doc[key] = changed.pop(key)
        doc["payload"].update(changed)
        doc["next_ms"] = next_fire_ms(doc["schedule"], int(time.time() * 1000))
        doc["updated_at"] = now_iso()
        await self.backend.put(doc)
        await self._schedule(doc)
        return public(doc)

    async def delete(self, cron_id: str, owner: str) -> None:
        doc = await self.get(cron_id, owner)
        doc["enabled"] = False
        await self._schedule(doc)
        await self.backend.delete(cron_id, owner)

    async def search(self, owner: str, filters: dict[str, Any]) -> list[dict[str, Any]]:
        found = []
        for doc in await self.backend.owned(owner):
            if any(
                filters.get(k) is not None and doc.get(k) != filters[k]
                for k in ("assistant_id", "thread_id", "enabled")
            ):
                continue
            found.append(public(doc))
        found.sort(key=lambda c: c["created_at"], reverse=True)
        return found

    # --- firing -------------------------------------------------------------------------

    async def run(self, fire: Fire) -> None:
        """Fire due crons until cancelled."""
        while True:
            try:
                await (self._tick_shared(fire) if self._shared else self._tick_local(fire))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("firing crons failed; retrying", exc_info=True)
            await asyncio.sleep(TICK_SECONDS)

    async def _fire(self, fire: Fire, doc: dict[str, Any], fire_ms: int) -> dict[str, Any]:
        try:
            await fire(doc, run_id_for(doc["cron_id"], fire_ms))
        except Exception:
            logger.warning("cron %s could not start its run", doc["cron_id"], exc_info=True)
        end = _end_ms(doc.get("end_time"))
        following = next_fire_ms(doc["schedule"], max(fire_ms, int(time.time() * 1000)))
        doc["next_ms"] = None if end is not None and following > end else following
        return doc

    async def _tick_local(self, fire: Fire) -> None:
        now_ms = int(time.time() * 1000)
        for doc in await self.backend.every():
            if doc["enabled"] and doc.get("next_ms") and doc["next_ms"] <= now_ms:
                await self.backend.put(await self._fire(fire, doc, doc["next_ms"]))

    async def _tick_shared(self, fire: Fire) -> None:
        redis = self.backend.redis  # type: ignore[attr-defined]
        if self._script is None:
            self._script = redis.register_script(CLAIM_DUE)
        due, firing = f"{self._prefix}:crons:due", f"{self._prefix}:crons:firing"
        answer = await self._script(keys=[due, firing], args=[LEASE_MS])
        for i in range(0, len(answer), 2):
            cron_id, fire_ms = answer[i].decode(), int(float(answer[i + 1]))
            doc = await self.backend.get(cron_id)
            if doc is None or not doc["enabled"]:
                await redis.zrem(due, cron_id)
                await redis.hdel(firing, cron_id)
                continue
            doc = await self._fire(fire, doc, fire_ms)
            await self.backend.put(doc)
            await self._schedule(doc)
            await redis.hdel(firing, cron_id)


def open_crons(settings: Any) -> Crons:
    """Crons stored where the sessions are."""
    if settings.redis_url:
        prefix = settings.sessions.key_prefix
        return Crons(RedisAssistants(settings.redis_url, prefix, kind="cron"), redis_prefix=prefix)
    return Crons(SqliteAssistants(Path(settings.data_dir) / "crons.sqlite", table="crons"))


__all__ = ["Crons", "next_fire_ms", "open_crons", "run_id_for"]

"""What keeps the cache going while Redis is down: the LRU, the outage journal and its replay.

While Redis cannot be reached, values live in an in-process :class:`LRU` (with TTLs) and a
:class:`Journal` records which keys and namespaces changed. Once Redis answers again, the
journal's :class:`Replay` plan (values still in the LRU are set with their remaining TTL,
deleted keys and cleared namespaces are removed) is run by :func:`replay` or :func:`areplay`.
Past its limit of changed keys, the journal clears their namespaces on Redis rather than
replaying key by key (a miss beats a stale value). :class:`OutageLog` logs one warning per
outage and one info line when it ends.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from maximus.memory._redis import AsyncRedis, SyncRedis, aunlink_matching, unlink_matching

logger = logging.getLogger(__name__)

REPLAY_ROUNDS = 5
"""Replay rounds tried per probe before staying on the LRU (writers kept racing the replay)."""


class LRU:
    """An in-process LRU of frames with TTLs; not thread-safe (the manager holds a lock)."""

    def __init__(self, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self._clock = clock
        self._items: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> bytes | None:
        """The live frame under ``key``, marked most recently used."""
        entry = self.entry(key)
        return None if entry is None else entry[0]

    def entry(self, key: str) -> tuple[bytes, int | None] | None:
        """The live frame under ``key`` and its remaining TTL in ms (``None``: no expiry)."""
        item = self._items.get(key)
        if item is None:
            return None
        frame, expires = item
        left = None if expires is None else expires - self._clock()
        if left is not None and left <= 0:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return frame, None if left is None else max(1, int(left * 1000))

    def set(self, key: str, frame: bytes, ttl: float | None) -> None:
        """Store ``frame``, evicting the least recently used entries past ``size``."""
        self._items[key] = (frame, None if ttl is None else self._clock() + ttl)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def delete(self, key: str) -> bool:
        """Drop ``key``; whether a live entry was there."""
        live = self.entry(key) is not None
        self._items.pop(key, None)
        return live

    def clear(self, prefix: str = "") -> int:
        """Drop every key starting with ``prefix``; returns how many."""
        doomed = [k for k in self._items if k.startswith(prefix)]
        for key in doomed:
            del self._items[key]
        return len(doomed)


class Replay(NamedTuple):
    """What to do on Redis to catch up with the LRU."""

    clears: list[str]
    """``SCAN MATCH`` patterns to unlink first."""
    sets: list[tuple[str, bytes, int | None]]
    """``(key, frame, ttl_ms)`` to set next."""
    unlinks: list[str]
    """Keys to unlink."""
    version: int
    """The journal version this replay brings Redis up to."""


class Journal:
    """The keys and namespaces changed during an outage, each with the version it changed at."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new outage, or Redis caught up)."""
        self.version = self.flushed = 0
        self.keys: dict[str, tuple[int, str]] = {}
        self.clears: dict[str, int] = {}

    def touched(self, key: str, pattern: str) -> None:
        """``key`` (in the namespace matched by ``pattern``) was set or deleted."""
        self.version += 1
        self.keys[key] = (self.version, pattern)
        if len(self.keys) > self.limit:  # too many to replay: clear their namespaces instead
            for _, ns in self.keys.values():
                self.clears[ns] = self.version
            self.keys.clear()

    def cleared(self, pattern: str) -> None:
        """The namespace matched by ``pattern`` was cleared."""
        self.version += 1
        self.clears[pattern] = self.version

    def plan(self, lru: LRU) -> Replay:
        """What Redis lacks since the last flushed version, as the LRU has it now."""
        sets: list[tuple[str, bytes, int | None]] = []
        unlinks: list[str] = []
        for key, (version, _) in self.keys.items():
            if version > self.flushed:
                entry = lru.entry(key)
                if entry is None:
                    unlinks.append(key)
                else:
                    sets.append((key, *entry))
        clears = [p for p, version in self.clears.items() if version > self.flushed]
        return Replay(clears, sets, unlinks, self.version)


class OutageLog:
    """One warning when an outage starts, one info line when it ends."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.down = False

    def failed(self, exc: BaseException, consequence: str) -> bool:
        """Log the outage if it is new; returns whether it was."""
        if self.down:
            return False
        self.down = True
        logger.warning("%s: Redis is unreachable (%s); %s", self.what, exc, consequence)
        return True

    def ok(self) -> None:
        """Log the end of the outage, if there was one."""
        if self.down:
            self.down = False
            logger.info("%s: Redis is reachable again", self.what)


def replay(client: SyncRedis, plan: Replay) -> None:
    """Run ``plan`` on Redis: clears first, then sets and unlinks in one pipeline."""
    for pattern in plan.clears:
        unlink_matching(client, pattern)
    if plan.sets or plan.unlinks:
        pipe = client.pipeline(transaction=False)
        for key, frame, px in plan.sets:
            pipe.set(key, frame, px=px)
        for key in plan.unlinks:  # one by one: a Cluster pipeline cannot span slots in one
            pipe.unlink(key)
        pipe.execute()


async def areplay(client: AsyncRedis, plan: Replay) -> None:
    """The async twin of :func:`replay`."""
    for pattern in plan.clears:
        await aunlink_matching(client, pattern)
    if plan.sets or plan.unlinks:
        pipe = client.pipeline(transaction=False)
        for key, frame, px in plan.sets:
            pipe.set(key, frame, px=px)
        for key in plan.unlinks:
            pipe.unlink(key)
        await pipe.execute()

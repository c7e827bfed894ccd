"""Run events: a bounded, replayable log per run, and the mapping of ``astream`` parts to it.

Each run appends its events to one :class:`EventLog`, a ring of at most ``capacity`` events
numbered from 1. Every reader (the request that started the run, ``join`` streams, clients
resuming with ``Last-Event-ID``) follows the log at its own pace: the run never waits for a
reader, so a slow client cannot stall the run or other streams, and memory stays bounded. A
reader that falls more than ``capacity`` events behind gets :class:`StreamLagged`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal, NamedTuple, get_args

from maximus.server._serde import dumps

StreamModeName = Literal[
    "values",
    "updates",
    "messages",
    "messages-tuple",
    "custom",
    "debug",
    "tasks",
    "checkpoints",
    "events",
]
STREAM_MODES: frozenset[str] = frozenset(get_args(StreamModeName))
"""The ``stream_mode`` values the server accepts (``events``: ``astream_events`` v2)."""


class Event(NamedTuple):
    """One server-sent event: its number, name and JSON payload."""

    seq: int
    event: str
    data: bytes


class StreamLagged(Exception):
    """A reader fell so far behind that the events it needs were dropped from the ring."""


class EventLog:
    """A bounded, append-only log of a run's events that many readers can follow."""

    def __init__(self, capacity: int, *, first: int = 1) -> None:
        self._events: deque[Event] = deque(maxlen=capacity)
        self._next = first
        """The number the next event gets (a run taken over continues its numbering)."""
        self._start = first
        self._changed = asyncio.Event()
        self.closed = False

    @property
    def last_seq(self) -> int:
        """The number of the newest event (0 before the first)."""
        return self._next - 1

    def append(self, event: str, data: Any) -> None:
        """Add an event (``data`` is JSON-encoded now) and wake the readers."""
        payload = data if isinstance(data, bytes) else dumps(data)
        self._events.append(Event(self._next, event, payload))
        self._next += 1
        self._wake()

    def close(self) -> None:
        """No more events: readers stop once they have read the last one."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def follow(self, after: int = 0) -> AsyncIterator[Event]:
        """The events numbered above ``after``, as they come, until the log closes.

        Raises:
            StreamLagged: an event this reader needs was already dropped.
        """
        # A log that starts later (a run taken over) has nothing before its first number.
        after = max(after, self._start - 1)
        while True:
            while after < self.last_seq:
                first = self._events[0].seq
                if after + 1 < first:
                    raise StreamLagged(
                        f"the reader is {self.last_seq - after} events behind; "
                        f"only the last {len(self._events)} are kept"
                    )
                yield self._events[after + 1 - first]
                after += 1
            if self.closed:
                return
            await self._changed.wait()


class _MessageTracker:
    """Turns ``messages`` chunks into langgraph-api's ``messages/*`` events (legacy mode)."""

    def __init__(self) -> None:
        self.seen: dict[str, Any] = {}

    def events(self, message: Any, metadata: Any) -> Iterable[tuple[str, Any]]:
        from langchain_core.messages import BaseMessageChunk, message_chunk_to_message

        key = getattr(message, "id", None) or str(id(message))
        if key in self.seen:
            self.seen[key] = self.seen[key] + message
        else:
            self.seen[key] = message
            yield "messages/metadata", {key: {"metadata": metadata}}
        if isinstance(message, BaseMessageChunk):
            yield "messages/partial", [self.seen[key]]
        else:
            yield "messages/complete", [message_chunk_to_message(self.seen[key])]


def graph_modes(requested: Iterable[str]) -> list[str]:
    """The LangGraph stream modes that produce the ``requested`` SDK modes (plus ``values``,
    which the server always needs for the run's result)."""
    modes = {
        "messages" if m in ("messages", "messages-tuple") else m for m in requested if m != "events"
    }
    modes.add("values")
    return sorted(modes)


class PartMapper:
    """Maps ``astream(..., subgraphs=True)`` parts to SDK events for one run."""

    def __init__(self, requested: Iterable[str], subgraphs: bool) -> None:
        self.requested = set(requested)
        self.subgraphs = subgraphs
        self._messages = _MessageTracker()
        self.values: Any = None
        """The last full ``values`` of the root graph: the run's result."""
        self.first_values: Any = None
        """The first ``values`` (the thread's state with the run's input)."""
        self.interrupts: list[Any] = []

    def events(self, ns: tuple[str, ...], mode: str, chunk: Any) -> Iterable[tuple[str, Any]]:
        """The events for one part (none when its mode was not requested)."""
        root = not ns
        if root and mode == "values":
            if isinstance(chunk, dict) and set(chunk) == {"__interrupt__"}:
                # As ``invoke`` does locally: the state, with the pending interrupts.
                self.interrupts = list(chunk["__interrupt__"])
                chunk = self.result()
            else:
                if self.values is None:
                    self.first_values = chunk
                self.values = chunk
        if root and mode == "updates" and isinstance(chunk, dict) and "__interrupt__" in chunk:
            self.interrupts = list(chunk["__interrupt__"])
        if ns and not self.subgraphs:
            return
        suffix = "|" + "|".join(ns) if ns else ""
        if mode == "messages":
            message, metadata = chunk
            if "messages-tuple" in self.requested:
                yield "messages" + suffix, [message, metadata]
            if "messages" in self.requested:
                for name, data in self._messages.events(message, metadata):
                    yield name + suffix, data
            return
        if mode in self.requested:
            yield mode + suffix, chunk

    def result(self) -> Any:
        """What ``wait`` and ``join`` return: the final values, plus pending interrupts."""
        values = dict(self.values) if isinstance(self.values, dict) else self.values
        if self.interrupts and isinstance(values, dict):
            values["__interrupt__"] = self.interrupts
        return values


__all__ = [
    "STREAM_MODES",
    "Event",
    "EventLog",
    "PartMapper",
    "StreamLagged",
    "StreamModeName",
    "graph_modes",
]

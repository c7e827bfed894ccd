"""Threads over the checkpointer: create, read, search, delete, state and history.

A thread is its checkpoints. Creating one writes an empty root checkpoint whose metadata
names the owner (``user_id``), the creation time and the caller's metadata; every run on the
thread carries the same keys in its config, so every later checkpoint has them too and the
owner check needs one read of the latest checkpoint. Another owner's thread is reported as
missing (404), so thread ids cannot be probed.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from maximus.errors import ConflictError, ThreadNotFoundError
from maximus.server.run_manager import RunManager, now_iso

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple

    from maximus.server.graphs import GraphRegistry

OWNER_KEY = "user_id"
META_KEY = "thread_metadata"
CREATED_KEY = "thread_created_at"
GRAPH_KEY = "graph_id"
_CARRIED = (OWNER_KEY, META_KEY, CREATED_KEY, GRAPH_KEY)


def root_config(thread_id: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def carried_metadata(tup: CheckpointTuple) -> dict[str, Any]:
    """The thread keys a run must carry so its checkpoints keep them."""
    return {k: tup.metadata[k] for k in _CARRIED if k in tup.metadata}  # type: ignore[literal-required]


def user_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The metadata a caller gave the thread, plus the graph it last ran."""
    raw = metadata.get(META_KEY)
    try:
        found = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        found = {}
    if metadata.get(GRAPH_KEY):
        found.setdefault("graph_id", metadata[GRAPH_KEY])
    return found if isinstance(found, dict) else {}


def checkpoint_dict(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    c = config["configurable"]
    return {
        "thread_id": c["thread_id"],
        "checkpoint_ns": c.get("checkpoint_ns", ""),
        "checkpoint_id": c.get("checkpoint_id"),
        "checkpoint_map": c.get("checkpoint_map"),
    }


def state_dict(snapshot: Any) -> dict[str, Any]:
    """A ``StateSnapshot`` in the SDK's ``ThreadState`` shape."""
    tasks = []
    for task in snapshot.tasks:
        sub = task.state
        tasks.append(
            {
                "id": task.id,
                "name": task.name,
                "error": f"{type(task.error).__name__}: {task.error}" if task.error else None,
                "interrupts": list(task.interrupts),
                "checkpoint": checkpoint_dict(sub) if isinstance(sub, dict) else None,
                "state": state_dict(sub) if sub is not None and not isinstance(sub, dict) else None,
                "result": getattr(task, "result", None),
            }
        )
    metadata = dict(snapshot.metadata or {})
    return {
        "values": snapshot.values,
        "next": list(snapshot.next),
        "checkpoint": checkpoint_dict(snapshot.config),
        "metadata": {k: v for k, v in metadata.items() if k not in (META_KEY, CREATED_KEY)},
        "created_at": snapshot.created_at,
        "parent_checkpoint": checkpoint_dict(snapshot.parent_config),
        "tasks": tasks,
        "interrupts": list(snapshot.interrupts),
    }


class Threads:
    """Thread operations for one owner at a time."""

    def __init__(
        self, saver: BaseCheckpointSaver[Any], graphs: GraphRegistry, runs: RunManager
    ) -> None:
        self.saver = saver
        self.graphs = graphs
        self.runs = runs

    async def latest(self, thread_id: str, owner: str) -> CheckpointTuple:
        """The thread's latest root checkpoint.

        Raises:
            ThreadNotFoundError: no such thread, or it is another owner's.
        """
        tup = await self.saver.aget_tuple(root_config(thread_id))  # type: ignore[arg-type]
        if tup is None or tup.metadata.get(OWNER_KEY) != owner:
            raise ThreadNotFoundError(f"no thread {thread_id!r}")
        return tup

    async def create(
        self,
        owner: str,
        *,
        thread_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        if_exists: str = "raise",
        graph_id: str | None = None,
    ) -> CheckpointTuple:
        """Create a thread (an empty root checkpoint that names its owner).

        Raises:
            ConflictError: the id is taken (and ``if_exists`` is not ``do_nothing`` for the
                owner's own thread).
        """
        from langgraph.checkpoint.base import empty_checkpoint

        thread_id = thread_id or str(uuid.uuid4())
        config = root_config(thread_id)
        found = await self.saver.aget_tuple(config)  # type: ignore[arg-type]
        if found is not None:
            if if_exists == "do_nothing" and found.metadata.get(OWNER_KEY) == owner:
                return found
            raise ConflictError(f"thread {thread_id!r} already exists")
        meta: dict[str, Any] = {
            "source": "input",
            "step": -1,
            "parents": {},
            OWNER_KEY: owner,
            META_KEY: json.dumps(metadata or {}, default=str),
            CREATED_KEY: now_iso(),
        }
        if graph_id:
            meta[GRAPH_KEY] = graph_id
        checkpoint = empty_checkpoint()
        saved = await self.saver.aput(config, checkpoint, meta, {})  # type: ignore[arg-type]
        tup = await self.saver.aget_tuple(saved)
        assert tup is not None
        return tup

    def graph_for(self, tup: CheckpointTuple) -> Any:
        """The graph that last ran on the thread (``None`` before its first run)."""
        graph_id = tup.metadata.get(GRAPH_KEY)
        if graph_id is None:
            return None
        try:
            return self.graphs.resolve(str(graph_id))[1]
        except ThreadNotFoundError:  # a graph this server no longer serves
            return None

    def _state_graph(self, tup: CheckpointTuple) -> Any:
        return self.graph_for(tup) or self.graphs.default()

    async def describe(self, tup: CheckpointTuple, *, with_state: bool = True) -> dict[str, Any]:
        """A checkpoint tuple as the SDK's ``Thread``."""
        thread_id = tup.config["configurable"]["thread_id"]
        values: Any = {
            k: v
            for k, v in tup.checkpoint.get("channel_values", {}).items()
            if not k.startswith(("branch:", "__"))
        }
        interrupts: dict[str, list[Any]] = {}
        graph = self.graph_for(tup) if with_state else None
        if graph is not None:
            snapshot = await graph.aget_state(root_config(thread_id))
            values = snapshot.values
            for task in snapshot.tasks:
                if task.interrupts:
                    interrupts[task.id] = list(task.interrupts)
        busy, last = await self.runs.thread_runs_state(thread_id)
        if busy:
            status = "busy"
        elif interrupts:
            status = "interrupted"
        elif last == "error":
            status = "error"
        else:
            status = "idle"
        return {
            "thread_id": thread_id,
            "created_at": tup.metadata.get(CREATED_KEY) or tup.checkpoint["ts"],
            "updated_at": tup.checkpoint["ts"],
            "metadata": user_metadata(dict(tup.metadata)),
            "status": status,
            "values": values,
            "interrupts": interrupts,
        }

    async def search(
        self,
        owner: str,
        *,
        metadata: dict[str, Any] | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """The owner's threads, newest first, filtered by metadata and status."""
        from maximus.memory.checkpoint.sessions import alist_threads

        filtering = bool(metadata or status)
        summaries = await alist_threads(
            self.saver, user_id=owner, limit=10_000 if filtering else offset + limit
        )
        found: list[dict[str, Any]] = []
        for summary in summaries:
            tup = await self.saver.aget_tuple(root_config(summary.thread_id))  # type: ignore[arg-type]
            if tup is None:
                continue
            thread = await self.describe(tup)
            if metadata and any(thread["metadata"].get(k) != v for k, v in metadata.items()):
                continue
            if status and thread["status"] != status:
                continue
            found.append(thread)
            if len(found) >= offset + limit:
                break
        return found[offset : offset + limit]

    async def _put_copy(
        self, thread_id: str, tup: CheckpointTuple, metadata: dict[str, Any], *, parent: bool
    ) -> CheckpointTuple:
        """Write ``tup``'s checkpoint again (as the newest of ``thread_id``) with ``metadata``;
        every channel is written, so savers that keep values by version have them all."""
        from langgraph.checkpoint.base import copy_checkpoint
        from langgraph.checkpoint.base.id import uuid6

        checkpoint = copy_checkpoint(tup.checkpoint)
        checkpoint["id"] = str(uuid6())
        checkpoint["ts"] = now_iso()
        config = root_config(thread_id)
        if parent:
            config = root_config(thread_id, tup.config["configurable"]["checkpoint_id"])
        versions = dict(checkpoint.get("channel_versions", {}))
        saved = await self.saver.aput(config, checkpoint, metadata, versions)  # type: ignore[arg-type]
        found = await self.saver.aget_tuple(saved)
        assert found is not None
        return found

    async def update_metadata(
        self, thread_id: str, owner: str, metadata: dict[str, Any]
    ) -> CheckpointTuple:
        """Merge ``metadata`` into the thread's (a new checkpoint with the same values)."""
        tup = await self.latest(thread_id, owner)
        # The caller's own metadata (``user_metadata`` also shows the graph, which is kept
        # apart in its own key).
        raw = tup.metadata.get(META_KEY)
        merged = {**(json.loads(raw) if isinstance(raw, str) else {}), **metadata}
        meta = {**tup.metadata, "source": "update", META_KEY: json.dumps(merged, default=str)}
        return await self._put_copy(thread_id, tup, meta, parent=True)

    async def copy(self, thread_id: str, owner: str) -> CheckpointTuple:
        """A new thread of ``owner`` with the source's latest state and metadata."""
        tup = await self.latest(thread_id, owner)
        meta = {**tup.metadata, CREATED_KEY: now_iso()}
        return await self._put_copy(str(uuid.uuid4()), tup, meta, parent=False)

    async def prune(self, thread_ids: list[str], owner: str, strategy: str) -> int:
        """Delete the owner's threads, or (``keep_latest``) all but their latest checkpoint;
        other owners' and missing threads are skipped."""
        pruned = 0
        for thread_id in thread_ids:
            try:
                tup = await self.latest(thread_id, owner)
            except ThreadNotFoundError:
                continue
            if strategy == "delete":
                await self.delete(thread_id, owner)
            else:
                await self.saver.adelete_thread(thread_id)
                await self._put_copy(thread_id, tup, dict(tup.metadata), parent=False)
            pruned += 1
        return pruned

    async def delete(self, thread_id: str, owner: str) -> None:
        await self.latest(thread_id, owner)
        await self.runs.drop_thread(thread_id)
        await self.saver.adelete_thread(thread_id)

    async def state(
        self, thread_id: str, owner: str, checkpoint_id: str | None = None, subgraphs: bool = False
    ) -> dict[str, Any]:
        tup = await self.latest(thread_id, owner)
        graph = self._state_graph(tup)
        snapshot = await graph.aget_state(
            root_config(thread_id, checkpoint_id), subgraphs=subgraphs
        )
        if checkpoint_id and not snapshot.config:
            raise ThreadNotFoundError(f"no checkpoint {checkpoint_id!r} in thread {thread_id!r}")
        return state_dict(snapshot)

    async def update_state(
        self,
        thread_id: str,
        owner: str,
        values: Any,
        *,
        as_node: str | None = None,
        checkpoint_id: str | None = None,
    ) -> dict[str, Any]:
        """Apply a human edit as if ``as_node`` had written ``values``; a new checkpoint."""
        tup = await self.latest(thread_id, owner)
        graph = self._state_graph(tup)
        config = root_config(thread_id, checkpoint_id)
        config["configurable"][OWNER_KEY] = owner
        config["metadata"] = carried_metadata(tup)
        saved = await graph.aupdate_state(config, values, as_node=as_node)
        return {"checkpoint": checkpoint_dict(saved)}

    async def history(
        self,
        thread_id: str,
        owner: str,
        *,
        limit: int = 10,
        before: str | None = None,
        metadata: dict[str, Any] | None = None,
        checkpoint_id: str | None = None,
    ) -> list[dict[str, Any]]:
        tup = await self.latest(thread_id, owner)
        graph = self._state_graph(tup)
        states = []
        async for snapshot in graph.aget_state_history(
            root_config(thread_id, checkpoint_id),
            limit=limit,
            before=root_config(thread_id, before) if before else None,
            filter=metadata or None,
        ):
            states.append(state_dict(snapshot))
        return states


__all__ = ["Threads", "carried_metadata", "root_config", "state_dict"]

"""Redis checkpoint savers that need no modules: plain Redis 6.2+, Valkey, Cluster, Sentinel.

``RedisSaver`` (sync, here) and ``AsyncRedisSaver`` (:mod:`.aio`) share the key layout, the
Lua scripts and the (de)serialisation in :mod:`.base`. A ``put`` or ``put_writes`` is one
script call, so one round trip; the first ``put`` of a run also updates the thread and run
registries in the same pipeline.

Example:
    ```python
    from maximus.memory.checkpoint import RedisSaver

    with RedisSaver.from_url("redis://localhost:6379/0") as saver:
        saver.setup()
        graph = builder.compile(checkpointer=saver)
    ```
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from redis.exceptions import NoScriptError

from maximus.errors import ConflictError, CorruptRecordError
from maximus.memory._redis import redact_url
from maximus.memory.checkpoint.base import (
    DELETE_RUN_LUA,
    GET_LUA,
    GET_MANY_LUA,
    LOCK_RELEASE_LUA,
    PRUNE_LATEST_LUA,
    PUT_LUA,
    PUT_WRITES_LUA,
    REGISTRY_PAGE,
    SCRIPTS,
    SHAS,
    BaseRedisSaver,
    Command,
    ListPlan,
    copy_commands,
    delete_commands,
    dump_put,
    dump_writes,
    lex_range,
    load_tuple,
    metadata_matches,
    ns_of,
    order_members,
    plan_list,
    read_thread_commands,
    stored_config,
    thread_id_of,
)

PAGE = 64
"""Checkpoints fetched per round trip while listing."""


class RedisSaver(BaseRedisSaver):
    """Synchronous Redis checkpointer; use :class:`AsyncRedisSaver` with ``ainvoke``.

    Args:
        client: a ``redis.Redis``, ``redis.cluster.RedisCluster`` or Sentinel master client.
            It is not closed by the saver unless the saver created it (:meth:`from_url`).
        **kwargs: see :class:`~maximus.memory.checkpoint.base.BaseRedisSaver`.
    """

    def __init__(self, client: Any, *, owns_client: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client
        self._owns_client = owns_client

    @classmethod
    @contextmanager
    def from_url(cls, url: str, **kwargs: Any) -> Iterator[RedisSaver]:
        """Open a saver on ``url`` (``redis://``, ``rediss://``, ``redis-sentinel://``, or a
        Cluster node), and close the client it created when the block ends."""
        from maximus.memory._redis import sync_client

        client = sync_client(url)
        saver = cls(client, owns_client=True, url=redact_url(url), **kwargs)
        try:
            yield saver
        finally:
            saver.close()

    def close(self) -> None:
        """Close the client if this saver created it."""
        if self._owns_client:
            self.client.close()

    # -- plumbing -----------------------------------------------------------------------------
    def _eval(self, src: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return self.client.evalsha(SHAS[src], len(keys), *keys, *args)
        except NoScriptError:
            self.client.script_load(src)
            return self.client.evalsha(SHAS[src], len(keys), *keys, *args)

    def setup(self) -> None:
        """Record the key layout version (idempotent) and load the Lua scripts."""
        with self._errors("setup"):
            if self._check_layout(self.client.get(self.keys.layout)):
                self.client.set(self.keys.layout, self.LAYOUT_VERSION)
            for src in SCRIPTS:
                self.client.script_load(src)

    # -- reads --------------------------------------------------------------------------------
    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        thread_id = thread_id_of(config)
        checkpoint_id = (config.get("configurable") or {}).get("checkpoint_id") or ""
        keys = self.keys.thread(thread_id)
        with self._errors("get_tuple"):
            raw = self._eval(GET_LUA, keys, (ns_of(config), checkpoint_id, self._read_ttl()))
        return load_tuple(self.serde, thread_id, raw, keys[1]) if raw else None

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        remaining = limit
        for thread_id in self._threads_to_list(config):
            for tup in self._list_thread(thread_id, config, filter, before, remaining):
                yield tup
                if remaining is not None:
                    remaining -= 1
                    if remaining <= 0:
                        return

    def _threads_to_list(self, config: RunnableConfig | None) -> Iterator[str]:
        if config is not None:
            yield thread_id_of(config)
            return
        with self._errors("list"):
            threads = self.client.zrevrange(self.keys.threads, 0, -1)
        for raw in threads:
            yield raw.decode() if isinstance(raw, bytes) else str(raw)

    def _list_thread(
        self,
        thread_id: str,
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> Iterator[CheckpointTuple]:
        plan = plan_list(config or {"configurable": {}}, before)
        keys = self.keys.thread(thread_id)
        if plan.checkpoint_id is not None and plan.ns is not None:
            tup = self.get_tuple(stored_config(thread_id, plan.ns, plan.checkpoint_id))
            if tup and metadata_matches(tup.metadata, filter):
                yield tup
            return
        for members in self._member_pages(keys, plan, limit if not filter else None):
            with self._errors("list"):
                raws = self._eval(GET_MANY_LUA, keys, (self._read_ttl(), *members))
            for raw in raws:
                if not raw:
                    continue  # deleted between the index read and the fetch
                tup = load_tuple(self.serde, thread_id, raw, keys[1])
                if plan.checkpoint_id and tup.checkpoint["id"] != plan.checkpoint_id:
                    continue
                if metadata_matches(tup.metadata, filter):
                    yield tup

    def _member_pages(
        self, keys: builtins.list[str], plan: ListPlan, limit: int | None
    ) -> Iterator[builtins.list[str]]:
        page = min(PAGE, limit) if limit else PAGE
        if plan.ns is None:  # every namespace: sort the whole index by checkpoint id
            with self._errors("list"):
                members = order_members(self.client.zrange(keys[0], 0, -1), plan)
            for i in range(0, len(members), page):
                yield members[i : i + page]
            return
        high, low = lex_range(plan)
        while True:
            with self._errors("list"):
                raw = self.client.zrevrangebylex(keys[0], high, low, 0, page)
            members = [m.decode() if isinstance(m, bytes) else m for m in raw]
            if not members:
                return
            yield members
            if len(members) < page:
                return
            high = "(" + members[-1]

    def thread_ids(
        self, *, user_id: str | None = None, limit: int | None = None
    ) -> builtins.list[str]:
        """Thread ids, most recently started run first; only ``user_id``'s when given.

        Entries whose thread has expired or been deleted elsewhere are dropped on the way.
        """
        key = self.keys.user(user_id) if user_id else self.keys.threads
        found: builtins.list[str] = []
        start = 0
        with self._errors("thread_ids"):
            while limit is None or len(found) < limit:
                page = [
                    t.decode() if isinstance(t, bytes) else str(t)
                    for t in self.client.zrevrange(key, start, start + REGISTRY_PAGE - 1)
                ]
                if not page:
                    break
                start += len(page)
                alive = self._pipeline([("EXISTS", (self.keys.thread(t)[0],)) for t in page])
                stale = [t for t, ok in zip(page, alive, strict=True) if not ok]
                if stale:
                    self.client.zrem(key, *stale)
                    start -= len(stale)
                found += [t for t, ok in zip(page, alive, strict=True) if ok]
        return found if limit is None else found[:limit]

    # -- writes -------------------------------------------------------------------------------
    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        thread_id = thread_id_of(config)
        put = dump_put(self.serde, config, checkpoint, metadata, new_versions, self.ttl)
        keys = self.keys.thread(thread_id)
        registry = self._registry_commands(thread_id, put)
        with self._errors("put"):
            if not registry:
                self._eval(PUT_LUA, keys, put.argv)
            else:
                script: Command = ("EVALSHA", (SHAS[PUT_LUA], len(keys), *keys, *put.argv))
                results = self._pipeline([script, *registry], raise_on_error=False)
                self._raise_pipeline_errors(results)
                if isinstance(results[0], NoScriptError):
                    self._eval(PUT_LUA, keys, put.argv)
        return stored_config(thread_id, ns_of(config), checkpoint["id"])

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        if not writes:
            return
        thread_id = thread_id_of(config)
        argv = dump_writes(self.serde, config, writes, task_id, task_path, self.ttl)
        with self._errors("put_writes"):
            self._eval(PUT_WRITES_LUA, self.keys.thread(thread_id), argv)

    # -- maintenance --------------------------------------------------------------------------
    def _pipeline(
        self, cmds: Sequence[Command], *, raise_on_error: bool = True
    ) -> builtins.list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for name, args in cmds:
            pipe.execute_command(name, *args)
        return list(pipe.execute(raise_on_error=raise_on_error))

    def delete_thread(self, thread_id: str) -> None:
        keys = self.keys.thread(thread_id)
        with self._errors("delete_thread"):
            try:
                tup = self.get_tuple(stored_config(thread_id, "", ""))
            except CorruptRecordError:
                tup = None  # a damaged thread can still be deleted; its user entry goes stale
            runs = self.client.zrange(keys[6], 0, -1)
            user = tup.metadata.get("user_id") if tup else None
            self._pipeline(delete_commands(self.keys, thread_id, runs, user))
        self._forget(thread_id)

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        for run_id in run_ids:
            run_key = self.keys.run(run_id)
            with self._errors("delete_for_runs"):
                for raw in self.client.smembers(run_key):
                    thread_id = raw.decode() if isinstance(raw, bytes) else str(raw)
                    self._eval(DELETE_RUN_LUA, self.keys.thread(thread_id), (run_id,))
                self.client.delete(run_key)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        dst = self.keys.thread(target_thread_id)
        with self._errors("copy_thread"):
            data = self._pipeline(read_thread_commands(self.keys.thread(source_thread_id)))
            cmds = copy_commands(self.keys, target_thread_id, dst, data, self.ttl)
            if cmds:
                self._pipeline(cmds)

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Keep only the newest checkpoint of each namespace (``keep_latest``) or delete all.

        ``keep_latest`` drops older checkpoints, their writes and every channel blob the kept
        checkpoints no longer read. Graphs using LangGraph's beta ``DeltaChannel`` need their
        ancestors; do not prune those threads.
        """
        for thread_id in thread_ids:
            if strategy == "delete":
                self.delete_thread(thread_id)
            elif strategy == "keep_latest":
                with self._errors("prune"):
                    self._eval(PRUNE_LATEST_LUA, self.keys.thread(thread_id), ())
            else:
                raise CorruptRecordError(f"unknown prune strategy {strategy!r}")

    @contextmanager
    def lock(self, thread_id: str, *, lease_s: float = 600.0) -> Iterator[None]:
        """Hold a thread for one writer; a second holder gets :class:`ConflictError`.

        The lease expires by itself after ``lease_s`` so a crashed holder never wedges a thread.
        """
        key, token = self.keys.lock(thread_id), uuid.uuid4().hex
        with self._errors("lock"):
            taken = self.client.set(key, token, nx=True, px=int(lease_s * 1000))
        if not taken:
            raise ConflictError(f"thread {thread_id!r} is busy: another run is writing to it")
        try:
            yield
        finally:
            with self._errors("unlock"):
                self._eval(LOCK_RELEASE_LUA, [key], (token,))

    # -- the async twins belong to AsyncRedisSaver --------------------------------------------
    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        raise _use_async()

    async def alist(  # type: ignore[override]
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        raise _use_async()

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        raise _use_async()

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        raise _use_async()


def _use_async() -> NotImplementedError:
    return NotImplementedError(
        "RedisSaver is synchronous; use maximus.memory.checkpoint.AsyncRedisSaver "
        "with ainvoke/astream"
    )


from maximus.memory.checkpoint.aio import AsyncRedisSaver  # noqa: E402

__all__ = ["AsyncRedisSaver", "RedisSaver"]

"""``AsyncRedisSaver``: the asyncio twin of :class:`~maximus.memory.checkpoint.RedisSaver`.

Same keys, scripts and (de)serialisation (:mod:`.base`); only the I/O differs. The sync
methods work from other threads (``graph.get_state`` in a worker thread, say) by running on
the saver's event loop, as LangGraph's ``AsyncPostgresSaver`` does.
"""

from __future__ import annotations

import asyncio
import builtins
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

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
T = TypeVar("T")


_Call = tuple[tuple[Any, ...], "asyncio.Future[Any]"]


class _AutoPipeline:
    """Sends script calls that arrive while another is in flight as one pipeline.

    A lone caller goes straight to the server. Under load (hundreds of runs on one event
    loop) the calls made during one loop turn share a round trip and a connection, which is
    what bounds the saver's CPU and connection count, the way ioredis' auto-pipelining does.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.in_flight = 0
        self.pending: builtins.list[_Call] = []

    async def call(self, *args: Any) -> Any:
        if self.in_flight == 0:
            self.in_flight += 1
            try:
                return await self.client.execute_command(*args)
            finally:
                self.in_flight -= 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not self.pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self.pending.append((args, future))
        return await future

    def _flush(self) -> None:
        batch, self.pending = self.pending, []
        if batch:
            task = asyncio.ensure_future(self._send(batch))
            task.add_done_callback(_consume)

    async def _send(
        self, batch: builtins.list[tuple[tuple[Any, ...], asyncio.Future[Any]]]
    ) -> None:
        self.in_flight += 1
        try:
            pipe = self.client.pipeline(transaction=False)
            for args, _ in batch:
                pipe.execute_command(*args)
            results = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # handed to every caller, who maps it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        finally:
            self.in_flight -= 1
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


def _consume(task: asyncio.Task[None]) -> None:
    """Retrieve a send task's outcome; its callers already received any error."""
    if not task.cancelled():
        task.exception()


class AsyncRedisSaver(BaseRedisSaver):
    """Asynchronous Redis checkpointer for ``ainvoke``/``astream`` and the server.

    Args:
        client: a ``redis.asyncio.Redis``, ``redis.asyncio.cluster.RedisCluster`` or Sentinel
            master client; closed by the saver only if the saver created it.
        **kwargs: see :class:`~maximus.memory.checkpoint.base.BaseRedisSaver`.
    """

    def __init__(self, client: Any, *, owns_client: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = client
        self._owns_client = owns_client
        self.loop: asyncio.AbstractEventLoop | None = None
        self._batcher = _AutoPipeline(client)

    @classmethod
    @asynccontextmanager
    async def from_url(
        cls, url: str, *, pool_size: int = 64, **kwargs: Any
    ) -> AsyncIterator[AsyncRedisSaver]:
        """Open a saver on ``url`` and close the client it created when the block ends.

        ``pool_size`` bounds the connections; more concurrent callers wait for one (and most
        share one anyway: see :class:`_AutoPipeline`).
        """
        from maximus.memory._redis import async_client

        client = async_client(url, pool_size=pool_size)
        saver = cls(client, owns_client=True, url=redact_url(url), **kwargs)
        saver.loop = asyncio.get_running_loop()
        try:
            yield saver
        finally:
            await saver.aclose()

    async def aclose(self) -> None:
        """Close the client if this saver created it."""
        if self._owns_client:
            await self.client.aclose()

    # -- plumbing -----------------------------------------------------------------------------
    async def _eval(self, src: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await self._batcher.call("EVALSHA", SHAS[src], len(keys), *keys, *args)
        except NoScriptError:
            await self.client.script_load(src)
            return await self.client.evalsha(SHAS[src], len(keys), *keys, *args)

    async def _pipeline(
        self, cmds: Sequence[Command], *, raise_on_error: bool = True
    ) -> builtins.list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for name, args in cmds:
            pipe.execute_command(name, *args)
        return list(await pipe.execute(raise_on_error=raise_on_error))

    async def asetup(self) -> None:
        """Record the key layout version (idempotent) and load the Lua scripts."""
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        with self._errors("setup"):
            if self._check_layout(await self.client.get(self.keys.layout)):
                await self.client.set(self.keys.layout, self.LAYOUT_VERSION)
            for src in SCRIPTS:
                await self.client.script_load(src)

    # -- reads --------------------------------------------------------------------------------
    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        thread_id = thread_id_of(config)
        checkpoint_id = (config.get("configurable") or {}).get("checkpoint_id") or ""
        keys = self.keys.thread(thread_id)
        with self._errors("get_tuple"):
            raw = await self._eval(GET_LUA, keys, (ns_of(config), checkpoint_id, self._read_ttl()))
        return load_tuple(self.serde, thread_id, raw, keys[1]) if raw else None

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        remaining = limit
        for thread_id in await self._threads_to_list(config):
            async for tup in self._list_thread(thread_id, config, filter, before, remaining):
                yield tup
                if remaining is not None:
                    remaining -= 1
                    if remaining <= 0:
                        return

    async def _threads_to_list(self, config: RunnableConfig | None) -> builtins.list[str]:
        if config is not None:
            return [thread_id_of(config)]
        with self._errors("list"):
            threads = await self.client.zrevrange(self.keys.threads, 0, -1)
        return [t.decode() if isinstance(t, bytes) else str(t) for t in threads]

    async def _list_thread(
        self,
        thread_id: str,
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> AsyncIterator[CheckpointTuple]:
        plan = plan_list(config or {"configurable": {}}, before)
        keys = self.keys.thread(thread_id)
        if plan.checkpoint_id is not None and plan.ns is not None:
            tup = await self.aget_tuple(stored_config(thread_id, plan.ns, plan.checkpoint_id))
            if tup and metadata_matches(tup.metadata, filter):
                yield tup
            return
        async for members in self._member_pages(keys, plan, limit if not filter else None):
            with self._errors("list"):
                raws = await self._eval(GET_MANY_LUA, keys, (self._read_ttl(), *members))
            for raw in raws:
                if not raw:
                    continue  # deleted between the index read and the fetch
                tup = load_tuple(self.serde, thread_id, raw, keys[1])
                if plan.checkpoint_id and tup.checkpoint["id"] != plan.checkpoint_id:
                    continue
                if metadata_matches(tup.metadata, filter):
                    yield tup

    async def _member_pages(
        self, keys: builtins.list[str], plan: ListPlan, limit: int | None
    ) -> AsyncIterator[builtins.list[str]]:
        page = min(PAGE, limit) if limit else PAGE
        if plan.ns is None:  # every namespace: sort the whole index by checkpoint id
            with self._errors("list"):
                members = order_members(await self.client.zrange(keys[0], 0, -1), plan)
            for i in range(0, len(members), page):
                yield members[i : i + page]
            return
        high, low = lex_range(plan)
        while True:
            with self._errors("list"):
                raw = await self.client.zrevrangebylex(keys[0], high, low, 0, page)
            members = [m.decode() if isinstance(m, bytes) else m for m in raw]
            if not members:
                return
            yield members
            if len(members) < page:
                return
            high = "(" + members[-1]

    async def athread_ids(
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
                    for t in await self.client.zrevrange(key, start, start + REGISTRY_PAGE - 1)
                ]
                if not page:
                    break
                start += len(page)
                alive = await self._pipeline([("EXISTS", (self.keys.thread(t)[0],)) for t in page])
                stale = [t for t, ok in zip(page, alive, strict=True) if not ok]
                if stale:
                    await self.client.zrem(key, *stale)
                    start -= len(stale)
                found += [t for t, ok in zip(page, alive, strict=True) if ok]
        return found if limit is None else found[:limit]

    # -- writes -------------------------------------------------------------------------------
    async def aput(
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
                await self._eval(PUT_LUA, keys, put.argv)
            else:
                script: Command = ("EVALSHA", (SHAS[PUT_LUA], len(keys), *keys, *put.argv))
                results = await self._pipeline([script, *registry], raise_on_error=False)
                self._raise_pipeline_errors(results)
                if isinstance(results[0], NoScriptError):
                    await self._eval(PUT_LUA, keys, put.argv)
        return stored_config(thread_id, ns_of(config), checkpoint["id"])

    async def aput_writes(
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
            await self._eval(PUT_WRITES_LUA, self.keys.thread(thread_id), argv)

    # -- maintenance --------------------------------------------------------------------------
    async def adelete_thread(self, thread_id: str) -> None:
        keys = self.keys.thread(thread_id)
        with self._errors("delete_thread"):
            try:
                tup = await self.aget_tuple(stored_config(thread_id, "", ""))
            except CorruptRecordError:
                tup = None  # a damaged thread can still be deleted; its user entry goes stale
            runs = await self.client.zrange(keys[6], 0, -1)
            user = tup.metadata.get("user_id") if tup else None
            await self._pipeline(delete_commands(self.keys, thread_id, runs, user))
        self._forget(thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        for run_id in run_ids:
            run_key = self.keys.run(run_id)
            with self._errors("delete_for_runs"):
                for raw in await self.client.smembers(run_key):
                    thread_id = raw.decode() if isinstance(raw, bytes) else str(raw)
                    await self._eval(DELETE_RUN_LUA, self.keys.thread(thread_id), (run_id,))
                await self.client.delete(run_key)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        dst = self.keys.thread(target_thread_id)
        with self._errors("copy_thread"):
            data = await self._pipeline(read_thread_commands(self.keys.thread(source_thread_id)))
            cmds = copy_commands(self.keys, target_thread_id, dst, data, self.ttl)
            if cmds:
                await self._pipeline(cmds)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """See :meth:`RedisSaver.prune <maximus.memory.checkpoint.RedisSaver.prune>`."""
        for thread_id in thread_ids:
            if strategy == "delete":
                await self.adelete_thread(thread_id)
            elif strategy == "keep_latest":
                with self._errors("prune"):
                    await self._eval(PRUNE_LATEST_LUA, self.keys.thread(thread_id), ())
            else:
                raise CorruptRecordError(f"unknown prune strategy {strategy!r}")

    @asynccontextmanager
    async def alock(self, thread_id: str, *, lease_s: float = 600.0) -> AsyncIterator[None]:
        """Hold a thread for one writer; a second holder gets :class:`ConflictError`."""
        key, token = self.keys.lock(thread_id), uuid.uuid4().hex
        with self._errors("lock"):
            taken = await self.client.set(key, token, nx=True, px=int(lease_s * 1000))
        if not taken:
            raise ConflictError(f"thread {thread_id!r} is busy: another run is writing to it")
        try:
            yield
        finally:
            with self._errors("unlock"):
                await self._eval(LOCK_RELEASE_LUA, [key], (token,))

    # -- sync twins, for callers on other threads ---------------------------------------------
    def _sync(self, coro: Coroutine[Any, Any, T], name: str) -> T:
        loop = self.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            coro.close()
            raise NotImplementedError(
                f"AsyncRedisSaver.{name} was called from its own event loop; use "
                f"`await saver.a{name}(...)` there, or maximus.memory.checkpoint.RedisSaver"
            )
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self._sync(self.aget_tuple(config), "get_tuple")

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        async def collect() -> builtins.list[CheckpointTuple]:
            return [t async for t in self.alist(config, filter=filter, before=before, limit=limit)]

        yield from self._sync(collect(), "list")

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._sync(self.aput(config, checkpoint, metadata, new_versions), "put")

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._sync(self.aput_writes(config, writes, task_id, task_path), "put_writes")

    def delete_thread(self, thread_id: str) -> None:
        self._sync(self.adelete_thread(thread_id), "delete_thread")


__all__ = ["AsyncRedisSaver"]

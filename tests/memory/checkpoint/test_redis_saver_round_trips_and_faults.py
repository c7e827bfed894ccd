"""The Redis savers beyond conformance: round trips, TTL, layout, locks and faults.

Every fault must end in a typed error and leave the thread readable: Redis killed mid-run and
restarted from its AOF, Redis down at start, a concurrent writer, a 10 MB value, and foreign
or damaged keys in the database.
"""

from __future__ import annotations

import operator
import threading
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
import redis
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from maximus.errors import (
    ConfigError,
    ConflictError,
    CorruptRecordError,
    StoreUnavailableError,
)
from maximus.memory.checkpoint import AsyncRedisSaver, RedisSaver
from maximus.memory.checkpoint.base import THREAD_KEYS, Keys
from tests.support.redis import key_prefix, kill_server, start_server, stop_server

pytestmark = pytest.mark.integration


class Trail(TypedDict):
    visited: Annotated[list[str], operator.add]


def _linear(n: int, on_node: Any = None) -> StateGraph[Trail]:
    builder = StateGraph(Trail)
    names = [f"n{i}" for i in range(1, n + 1)]
    for name in names:

        def node(state: Trail, name: str = name) -> dict[str, list[str]]:
            if on_node is not None:
                on_node(name)
            return {"visited": [name]}

        builder.add_node(name, node)
    builder.add_edge(START, names[0])
    for a, b in zip(names, names[1:], strict=False):
        builder.add_edge(a, b)
    builder.add_edge(names[-1], END)
    return builder


def _put(saver: RedisSaver, thread: str, parent: str | None = None, **values: Any) -> dict:
    cp = empty_checkpoint()
    cp["id"] = str(uuid6(clock_seq=-1))
    cp["channel_values"] = values
    cp["channel_versions"] = {k: saver.get_next_version(None, None) for k in values}
    config: dict[str, Any] = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    if parent:
        config["configurable"]["checkpoint_id"] = parent
    return saver.put(config, cp, {"source": "loop", "step": 0}, cp["channel_versions"])


class CountingConnection(redis.Connection):
    """Counts how many times the client writes to the socket: one per round trip."""

    sends = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sends += 1
        super().send_packed_command(command, check_health)


def test_put_and_put_writes_are_one_round_trip_each(plain_redis_url: str):
    pool = redis.ConnectionPool.from_url(plain_redis_url, connection_class=CountingConnection)
    client = redis.Redis(connection_pool=pool)
    saver = RedisSaver(client, prefix=key_prefix())
    saver.setup()
    first = _put(saver, "t1", messages=["hi"])  # first put of the thread: script + registry
    CountingConnection.sends = 0
    _put(saver, "t1", first["configurable"]["checkpoint_id"], messages=["hi", "there"])
    assert CountingConnection.sends == 1
    CountingConnection.sends = 0
    saver.put_writes(first, [("messages", "x"), ("other", 1)], "task-1")
    assert CountingConnection.sends == 1
    CountingConnection.sends = 0
    assert saver.get_tuple({"configurable": {"thread_id": "t1"}}) is not None
    assert CountingConnection.sends == 1
    client.close()


def test_graph_sessions_resume_across_saver_instances(plain_redis_url: str):
    def ask(state: Trail) -> dict[str, list[str]]:
        answer = interrupt("approve?")
        return {"visited": [f"ask:{answer}"]}

    builder = StateGraph(Trail)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    prefix = key_prefix()
    config = {"configurable": {"thread_id": "session-1"}}
    with RedisSaver.from_url(plain_redis_url, prefix=prefix) as saver:
        saver.setup()
        out = builder.compile(checkpointer=saver).invoke({"visited": []}, config)
        assert "__interrupt__" in out
    with RedisSaver.from_url(plain_redis_url, prefix=prefix) as saver:  # a new process, say
        graph = builder.compile(checkpointer=saver)
        assert graph.get_state(config).next == ("ask",)
        assert graph.invoke(Command(resume="yes"), config) == {"visited": ["ask:yes"]}


async def test_async_graph_run_and_history(valkey_url: str):
    prefix = key_prefix()
    async with AsyncRedisSaver.from_url(valkey_url, prefix=prefix) as saver:
        await saver.asetup()
        graph = _linear(4).compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "a1"}}
        out = await graph.ainvoke({"visited": []}, config, durability="sync")
        assert out["visited"] == ["n1", "n2", "n3", "n4"]
        history = [s async for s in graph.aget_state_history(config)]
        assert len(history) == 6  # input, then one per node, then the final state
        assert [len(s.values.get("visited", [])) for s in history] == [4, 3, 2, 1, 0, 0]


def test_ttl_covers_every_thread_key_and_refreshes_on_read(plain_redis_url: str):
    prefix = key_prefix()
    raw = redis.Redis.from_url(plain_redis_url)
    keys = Keys(prefix).thread("ttl-thread")
    with RedisSaver.from_url(plain_redis_url, prefix=prefix, ttl=300) as saver:
        first = _put(saver, "ttl-thread", messages=["a"])
        saver.put_writes(first, [("messages", "b")], "task")
        saver.put(
            {**first, "metadata": {"run_id": "r1"}},
            {**empty_checkpoint(), "id": str(uuid6(clock_seq=-1))},
            {"source": "loop", "step": 1, "run_id": "r1"},
            {},
        )
        ttls = {name: raw.ttl(key) for name, key in zip(THREAD_KEYS, keys, strict=True)}
        assert all(0 < t <= 300 for t in ttls.values()), ttls
        for key in keys:
            raw.expire(key, 5)
        saver.get_tuple({"configurable": {"thread_id": "ttl-thread"}})
        assert raw.ttl(keys[1]) <= 5  # no refresh unless asked for
    with RedisSaver.from_url(
        plain_redis_url, prefix=prefix, ttl=300, refresh_on_read=True
    ) as saver:
        saver.get_tuple({"configurable": {"thread_id": "ttl-thread"}})
        assert all(raw.ttl(key) > 200 for key in keys)
    raw.close()


def test_setup_is_idempotent_and_guards_the_layout(plain_redis_url: str):
    prefix = key_prefix()
    raw = redis.Redis.from_url(plain_redis_url)
    with RedisSaver.from_url(plain_redis_url, prefix=prefix) as saver:
        saver.setup()
        saver.setup()
        assert raw.get(f"{prefix}:layout") == b"1"
        raw.set(f"{prefix}:layout", 99)
        with pytest.raises(ConfigError, match="layout v99"):
            saver.setup()
        raw.set(f"{prefix}:layout", "banana")
        with pytest.raises(CorruptRecordError):
            saver.setup()
    raw.close()


def test_all_keys_of_a_thread_share_one_cluster_slot(cluster_url: str):
    raw = redis.Redis.from_url(cluster_url)
    keys = Keys(key_prefix()).thread("user}{weird")
    slots = {raw.execute_command("CLUSTER", "KEYSLOT", k) for k in keys}
    assert len(slots) == 1
    raw.close()


def test_redis_down_at_start_is_a_clear_error(tmp_path: Path):
    record = start_server("plain", name=f"down-{key_prefix()}")
    url = record["url"]
    stop_server(record["name"])
    with pytest.raises(StoreUnavailableError, match="unreachable"):
        with RedisSaver.from_url(url):
            pass
    # a client given to the saver fails on first use, with the same typed error
    saver = RedisSaver(redis.Redis.from_url(url, socket_connect_timeout=0.5))
    with pytest.raises(StoreUnavailableError, match="get_tuple"):
        saver.get_tuple({"configurable": {"thread_id": "x"}})


async def test_async_redis_down_at_start_is_a_clear_error():
    record = start_server("plain", name=f"down-{key_prefix()}")
    stop_server(record["name"])
    with pytest.raises(StoreUnavailableError):
        async with AsyncRedisSaver.from_url(record["url"]) as saver:
            await saver.asetup()


def test_redis_killed_mid_run_resumes_from_aof_with_nothing_acknowledged_lost(tmp_path: Path):
    name = f"aof-{key_prefix()}"
    record = start_server("plain", name=name, aof=True, dir=tmp_path / "aof")
    port = record["ports"][0]
    config = {"configurable": {"thread_id": "crash"}}

    def crash_at_n5(node: str) -> None:
        if node == "n5":
            kill_server(name)

    try:
        with RedisSaver.from_url(record["url"], prefix="crash") as saver:
            saver.setup()
            graph = _linear(8, crash_at_n5).compile(checkpointer=saver)
            with pytest.raises(StoreUnavailableError):
                graph.invoke({"visited": []}, config, durability="sync")
        # restart on the same port and data dir: the AOF is replayed
        start_server("plain", name=name, aof=True, dir=tmp_path / "aof", port=port)
        with RedisSaver.from_url(record["url"], prefix="crash") as saver:
            graph = _linear(8).compile(checkpointer=saver)
            state = graph.get_state(config)
            assert state.values["visited"] == ["n1", "n2", "n3", "n4"]
            assert state.next == ("n5",)
            out = graph.invoke(None, config, durability="sync")
            assert out["visited"] == [f"n{i}" for i in range(1, 9)]
    finally:
        stop_server(name)


def test_concurrent_writers_on_one_thread_leave_it_consistent(plain_redis_url: str):
    prefix = key_prefix()
    errors: list[BaseException] = []
    ids: list[str] = []

    def writer(tag: str) -> None:
        try:
            with RedisSaver.from_url(plain_redis_url, prefix=prefix) as saver:
                parent = None
                for i in range(60):
                    stored = _put(saver, "shared", parent, value=f"{tag}-{i}")
                    parent = stored["configurable"]["checkpoint_id"]
                    saver.put_writes(stored, [("value", f"w-{tag}-{i}")], f"task-{tag}")
                    ids.append(parent)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with RedisSaver.from_url(plain_redis_url, prefix=prefix) as saver:
        listed = list(saver.list({"configurable": {"thread_id": "shared", "checkpoint_ns": ""}}))
        assert sorted(t.checkpoint["id"] for t in listed) == sorted(ids)
        by_id = {t.checkpoint["id"]: t for t in listed}
        for tup in listed:
            assert tup.checkpoint["channel_values"]["value"].split("-")[0] in "ab"
            assert len(tup.pending_writes or []) == 1
            if tup.parent_config:
                assert tup.parent_config["configurable"]["checkpoint_id"] in by_id


def test_thread_lock_turns_a_second_writer_away(plain_redis_url: str):
    with RedisSaver.from_url(plain_redis_url, prefix=key_prefix()) as saver:
        with saver.lock("busy", lease_s=5):
            with pytest.raises(ConflictError, match="busy"):
                with saver.lock("busy"):
                    pass
        with saver.lock("busy", lease_s=0.05):  # released: free again; and the lease expires
            pass
        with saver.lock("busy", lease_s=0.05):
            import time

            deadline = time.monotonic() + 2
            while saver.client.exists(saver.keys.lock("busy")) and time.monotonic() < deadline:
                time.sleep(0.02)
            with saver.lock("busy"):
                pass


def test_a_10_mb_state_value_round_trips(plain_redis_url: str):
    big = "x" * (10 * 1024 * 1024)
    with RedisSaver.from_url(plain_redis_url, prefix=key_prefix()) as saver:
        stored = _put(saver, "big", blob=big, small=1)
        saver.put_writes(stored, [("blob", big)], "task")
        tup = saver.get_tuple(stored)
        assert tup is not None
        assert tup.checkpoint["channel_values"]["blob"] == big
        assert tup.pending_writes is not None and tup.pending_writes[0][2] == big


def test_malformed_keys_give_typed_errors_and_spare_other_threads(plain_redis_url: str):
    prefix = key_prefix()
    raw = redis.Redis.from_url(plain_redis_url)
    keys = Keys(prefix)
    with RedisSaver.from_url(plain_redis_url, prefix=prefix) as saver:
        saver.setup()
        good = _put(saver, "good", v=1)
        _put(saver, "wrongtype", v=1)
        _put(saver, "garbage", v=1)
        raw.delete(keys.thread("wrongtype")[1])
        raw.set(keys.thread("wrongtype")[1], "not a hash")
        field = raw.hkeys(keys.thread("garbage")[1])[0]
        raw.hset(keys.thread("garbage")[1], field, b"\xc1\xff garbage")
        raw.set(f"{prefix}:v1:junk", "junk")
        raw.zadd(keys.threads, {"ghost": 1})  # registry entry with no data
        with pytest.raises(CorruptRecordError, match="wrong type"):
            saver.get_tuple({"configurable": {"thread_id": "wrongtype"}})
        with pytest.raises(CorruptRecordError, match="cannot be decoded"):
            saver.get_tuple({"configurable": {"thread_id": "garbage"}})
        tup = saver.get_tuple(good)
        assert tup is not None and tup.checkpoint["channel_values"] == {"v": 1}
        listed = list(saver.list({"configurable": {"thread_id": "ghost"}}))
        assert listed == []
        saver.delete_thread("garbage")  # a damaged thread can still be removed
        assert saver.get_tuple({"configurable": {"thread_id": "garbage"}}) is None
    raw.close()


async def test_200_concurrent_async_runs_share_the_pool_without_errors(plain_redis_url: str):
    import asyncio

    async with AsyncRedisSaver.from_url(plain_redis_url, prefix=key_prefix(), pool_size=8) as saver:
        await saver.asetup()
        graph = _linear(5).compile(checkpointer=saver)
        outs = await asyncio.gather(
            *(
                graph.ainvoke({"visited": []}, {"configurable": {"thread_id": f"c{i}"}})
                for i in range(200)
            )
        )
        assert all(out["visited"] == ["n1", "n2", "n3", "n4", "n5"] for out in outs)
        assert len(await saver.athread_ids()) == 200
        # redis-py's default pool would have failed this burst with "Too many connections"
        assert saver.client.connection_pool.max_connections == 8


async def test_savers_close_only_the_clients_they_created(plain_redis_url: str):
    import redis.asyncio

    given = redis.Redis.from_url(plain_redis_url)
    RedisSaver(given, prefix=key_prefix()).close()
    assert given.ping()  # still the caller's, still open
    given.close()
    agiven = redis.asyncio.Redis.from_url(plain_redis_url)
    await AsyncRedisSaver(agiven, prefix=key_prefix()).aclose()
    assert await agiven.ping()
    await agiven.aclose()

"""The cache manager, the LLM cache and the node cache against real Redis-protocol servers.

Each test uses its own key prefix on the session's shared servers; the fault tests start
(and kill, and restart) their own server.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from typing import Any, TypedDict

import pytest
import redis
import redis.cluster
from langchain_core.globals import get_llm_cache, set_llm_cache
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.types import CachePolicy

from maximus.memory._redis import is_cluster, sync_client
from maximus.memory.cache import (
    CacheManager,
    Namespace,
    decode,
    install_llm_cache,
    llm_cache,
    node_cache,
)
from maximus.memory.cache._codec import RAW, ZLIB
from tests.support.redis import key_prefix, kill_server, start_server, stop_server

pytestmark = pytest.mark.integration

LOGGER = "maximus.memory.cache"


@pytest.fixture
def prefix() -> str:
    return key_prefix()


def raw_client(url: str) -> redis.Redis | redis.cluster.RedisCluster:
    """A client that is not the cache's, to look at what really is in Redis."""
    return sync_client(url)


def keys_under(url: str, pattern: str) -> list[bytes]:
    with raw_client(url) as client:
        return list(client.scan_iter(match=pattern, count=1000))


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``check`` until it holds or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- basics on every single-node kind ----------------------------------------------------


def test_get_set_delete_round_trip(any_redis_url: str, prefix: str) -> None:
    values: dict[str, Any] = {
        "dict": {"a": 1, "nested": [1, 2.5, "x"]},
        "text": "héllo",
        "bytes": b"\x00\xff",
        "message": AIMessage("hi", id="m1"),
        "messages": [HumanMessage("q"), AIMessage("a")],
    }
    with CacheManager(any_redis_url, prefix=prefix) as cache:
        for key, value in values.items():
            cache.set(Namespace.AGENTS, key, value)
        for key, value in values.items():
            assert cache.get(Namespace.AGENTS, key) == value
        assert cache.get(Namespace.SESSIONS, "dict", default="absent") == "absent"
        assert cache.delete(Namespace.AGENTS, "dict") is True
        assert cache.delete(Namespace.AGENTS, "dict") is False
        assert cache.get(Namespace.AGENTS, "dict") is None
        assert keys_under(any_redis_url, f"{prefix}:agents:text") == [
            f"{prefix}:agents:text".encode()
        ]


def test_ttl_expires_and_default_ttl_applies(plain_redis_url: str, prefix: str) -> None:
    with CacheManager(plain_redis_url, prefix=prefix, default_ttl=100) as cache:
        cache.set(Namespace.CONTEXTS, "short", "v", ttl=1)
        cache.set(Namespace.CONTEXTS, "default", "v")
        assert cache.get(Namespace.CONTEXTS, "short") == "v"
        with raw_client(plain_redis_url) as client:
            assert 90_000 < client.pttl(cache.key(Namespace.CONTEXTS, "default")) <= 100_000
            assert 0 < client.pttl(cache.key(Namespace.CONTEXTS, "short")) <= 1000
        assert eventually(lambda: cache.get(Namespace.CONTEXTS, "short") is None, timeout=3)
        assert cache.get(Namespace.CONTEXTS, "default") == "v"


def test_values_compress_from_the_threshold(plain_redis_url: str, prefix: str) -> None:
    with CacheManager(plain_redis_url, prefix=prefix, compress_threshold=256) as cache:
        small, big = "tiny", "a repeated context line. " * 400
        cache.set(Namespace.CONTEXTS, "small", small)
        assert cache.stats().bytes_saved == 0
        cache.set(Namespace.CONTEXTS, "big", big)
        with raw_client(plain_redis_url) as client:
            stored_small = client.get(cache.key(Namespace.CONTEXTS, "small"))
            stored_big = client.get(cache.key(Namespace.CONTEXTS, "big"))
        assert stored_small[:1] == RAW and small.encode() in stored_small
        assert stored_big[:1] == ZLIB
        body = zlib.decompress(stored_big[1:])
        assert big.encode() in body
        assert len(stored_big) < len(body) / 10
        assert cache.stats().bytes_saved == len(body) - (len(stored_big) - 1)
        assert cache.get(Namespace.CONTEXTS, "big") == big


@pytest.mark.parametrize("where", ["plain", "cluster"])
def test_clear_namespace_removes_only_that_namespace(
    where: str, request: pytest.FixtureRequest, prefix: str
) -> None:
    url = str(request.getfixturevalue("plain_redis_url" if where == "plain" else "cluster_url"))
    other = key_prefix()
    with (
        CacheManager(url, prefix=prefix) as cache,
        CacheManager(url, prefix=other) as neighbour,
    ):
        for i in range(1200):  # more than two SCAN pages of 500
            cache.set(Namespace.SESSIONS, f"s{i}", i)
        for i in range(20):
            cache.set(Namespace.AGENTS, f"a{i}", i)
            cache.set("sessions2", f"x{i}", i)  # shares the namespace's text, not the namespace
            neighbour.set(Namespace.SESSIONS, f"n{i}", i)
        assert cache.clear_namespace(Namespace.SESSIONS) == 1200
        assert keys_under(url, f"{prefix}:sessions:*") == []
        assert len(keys_under(url, f"{prefix}:agents:*")) == 20
        assert len(keys_under(url, f"{prefix}:sessions2:*")) == 20
        assert len(keys_under(url, f"{other}:sessions:*")) == 20
        assert cache.get(Namespace.AGENTS, "a3") == 3
        assert cache.clear_namespace(Namespace.SESSIONS) == 0


def test_stats_count_hits_misses_and_hit_rate(plain_redis_url: str, prefix: str) -> None:
    with CacheManager(plain_redis_url, prefix=prefix) as cache:
        assert cache.stats().hit_rate == 0.0
        cache.set(Namespace.CONFIG, "k", {"model": "x"})
        for _ in range(3):
            cache.get(Namespace.CONFIG, "k")
        cache.get(Namespace.CONFIG, "missing")
        cache.delete(Namespace.CONFIG, "k")
        stats = cache.stats()
        assert (stats.hits, stats.misses, stats.sets, stats.deletes) == (3, 1, 1, 1)
        assert stats.hit_rate == 0.75
        assert (stats.backend, stats.fallbacks, stats.fallback_ops, stats.errors) == (
            "redis",
            0,
            0,
            0,
        )


def test_health_pings_redis(plain_redis_url: str, prefix: str) -> None:
    with CacheManager(plain_redis_url, prefix=prefix) as cache:
        health = cache.health()
        assert health.ok and health.backend == "redis" and health.detail == "PONG"
        assert health.latency_ms is not None and health.latency_ms < 1000
    with CacheManager(f"redis://127.0.0.1:{free_port()}/0", prefix=prefix) as dead:
        health = dead.health()
        assert not health.ok and health.latency_ms is None
        assert "ConnectionError" in health.detail or "StoreUnavailable" in health.detail


def test_undecodable_and_wrong_type_records_are_misses(plain_redis_url: str, prefix: str) -> None:
    with CacheManager(plain_redis_url, prefix=prefix) as cache, raw_client(plain_redis_url) as raw:
        raw.set(cache.key(Namespace.AGENTS, "foreign"), b"not a frame")
        raw.rpush(cache.key(Namespace.AGENTS, "list"), b"x")
        assert cache.get(Namespace.AGENTS, "foreign", default="d") == "d"
        assert cache.get(Namespace.AGENTS, "list", default="d") == "d"
        stats = cache.stats()
        assert (stats.errors, stats.misses, stats.backend, stats.fallbacks) == (2, 2, "redis", 0)


async def test_async_twins(any_redis_url: str, prefix: str) -> None:
    async with CacheManager(any_redis_url, prefix=prefix, compress_threshold=64) as cache:
        await cache.aset(Namespace.SESSIONS, "s", {"turns": ["a" * 200]})
        await cache.aset(Namespace.AGENTS, "a", 1, ttl=30)
        assert await cache.aget(Namespace.SESSIONS, "s") == {"turns": ["a" * 200]}
        assert cache.get(Namespace.SESSIONS, "s") == {"turns": ["a" * 200]}  # same data, sync
        assert await cache.adelete(Namespace.AGENTS, "a") is True
        assert await cache.aget(Namespace.AGENTS, "a", default=0) == 0
        for i in range(30):
            await cache.aset(Namespace.CONTEXTS, f"c{i}", i)
        assert await cache.aclear_namespace(Namespace.CONTEXTS) == 30
        assert (await cache.ahealth()).ok
        stats = cache.stats()
        assert stats.hits == 2 and stats.misses == 1 and stats.bytes_saved > 0


def test_async_client_follows_the_event_loop(plain_redis_url: str, prefix: str) -> None:
    cache = CacheManager(plain_redis_url, prefix=prefix)
    asyncio.run(cache.aset(Namespace.AGENTS, "k", "v"))
    assert asyncio.run(cache.aget(Namespace.AGENTS, "k")) == "v"  # a second loop
    asyncio.run(cache.aclose())


# -- Cluster and Sentinel ----------------------------------------------------------------


def test_cluster_spreads_keys_and_clears_every_primary(cluster_url: str, prefix: str) -> None:
    with CacheManager(cluster_url, prefix=prefix) as cache:
        for i in range(300):
            cache.set(Namespace.AGENTS, f"k{i}", {"i": i})
        assert all(cache.get(Namespace.AGENTS, f"k{i}") == {"i": i} for i in range(300))
        assert cache.backend == "redis" and is_cluster(cluster_url)
        with raw_client(cluster_url) as client:
            assert isinstance(client, redis.cluster.RedisCluster)
            primaries = client.get_primaries()
            per_node = [
                len(list(client.scan_iter(match=f"{prefix}:*", target_nodes=node)))
                for node in primaries
            ]
        assert len(primaries) == 3 and all(n > 0 for n in per_node) and sum(per_node) == 300
        assert cache.clear_namespace(Namespace.AGENTS) == 300
        assert keys_under(cluster_url, f"{prefix}:*") == []


async def test_cluster_async(cluster_url: str, prefix: str) -> None:
    async with CacheManager(cluster_url, prefix=prefix) as cache:
        for i in range(50):
            await cache.aset(Namespace.CONTEXTS, f"c{i}", i)
        assert [await cache.aget(Namespace.CONTEXTS, f"c{i}") for i in range(50)] == list(range(50))
        assert await cache.aclear_namespace(Namespace.CONTEXTS) == 50


async def test_sentinel_url(sentinel_url: str, prefix: str) -> None:
    async with CacheManager(sentinel_url, prefix=prefix) as cache:
        cache.set(Namespace.CONFIG, "k", "sync")
        await cache.aset(Namespace.CONFIG, "j", "async")
        assert await cache.aget(Namespace.CONFIG, "k") == "sync"
        assert cache.get(Namespace.CONFIG, "j") == "async"
        assert cache.health().ok and (await cache.ahealth()).ok
        assert cache.clear_namespace(Namespace.CONFIG) == 2


# -- faults: Redis goes away and comes back -----------------------------------------------


@pytest.fixture
def own_server() -> Iterator[dict[str, Any]]:
    """A plain server of this test's own, which the test may kill and restart."""
    name = f"cache-fault-{uuid.uuid4().hex[:8]}"
    record = start_server("plain", name=name)
    try:
        yield record
    finally:
        stop_server(name)


def test_outage_falls_back_to_the_lru_and_comes_back(
    own_server: dict[str, Any], prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    url, port = str(own_server["url"]), int(own_server["ports"][0])
    cache = CacheManager(url, prefix=prefix, retry_interval=0.2)
    cache.set(Namespace.AGENTS, "before", "on redis")
    assert cache.get(Namespace.AGENTS, "before") == "on redis"

    kill_server(str(own_server["name"]))
    started = time.monotonic()
    cache.set(Namespace.AGENTS, "during", {"v": 1})
    cache.set(Namespace.AGENTS, "gone", "x")
    assert cache.delete(Namespace.AGENTS, "gone") is True
    cache.set(Namespace.SESSIONS, "short", "s", ttl=0.05)
    for _ in range(20):
        assert cache.get(Namespace.AGENTS, "during") == {"v": 1}
    assert cache.get(Namespace.AGENTS, "before") is None  # only what the LRU saw
    assert time.monotonic() - started < 2  # fail-fast: no stall per call
    stats = cache.stats()
    assert (stats.backend, stats.fallbacks, stats.recoveries) == ("lru", 1, 0)
    assert stats.fallback_ops >= 24
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    assert not cache.health().ok
    time.sleep(0.06)  # past the 50 ms TTL, so the replay must not resurrect "short"

    start_server("plain", name=str(own_server["name"]), port=port)
    assert eventually(
        lambda: cache.get(Namespace.AGENTS, "during") is not None and not (cache.backend == "lru")
    )
    cache.set(Namespace.AGENTS, "after", "back")
    with raw_client(url) as fresh:
        assert fresh.get(cache.key(Namespace.AGENTS, "after")) is not None
        assert fresh.get(cache.key(Namespace.AGENTS, "during")) is not None  # replayed
        assert 0 < fresh.pttl(cache.key(Namespace.AGENTS, "during")) <= 3_600_000
        assert fresh.exists(cache.key(Namespace.AGENTS, "gone")) == 0
        assert fresh.exists(cache.key(Namespace.SESSIONS, "short")) == 0
    assert cache.get(Namespace.AGENTS, "after") == "back"
    stats = cache.stats()
    assert (stats.backend, stats.fallbacks, stats.recoveries, stats.lru_entries) == (
        "redis",
        1,
        1,
        0,
    )
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert any("reachable again" in r.getMessage() for r in caplog.records)
    cache.close()


def test_outage_replays_deletes_and_namespace_clears(own_server: dict[str, Any]) -> None:
    url, port, name = str(own_server["url"]), int(own_server["ports"][0]), str(own_server["name"])
    prefix = key_prefix()
    kill_server(name)
    with CacheManager(url, prefix=prefix, retry_interval=0.1) as cache:
        cache.set(Namespace.CONTEXTS, "old", "x")
        cache.clear_namespace(Namespace.CONTEXTS)
        cache.delete(Namespace.CONFIG, "stale")
        cache.set(Namespace.CONTEXTS, "new", "fresh")
        assert cache.backend == "lru"
        start_server("plain", name=name, port=port)
        with raw_client(url) as raw:
            # what a Redis that kept its data through the outage would still hold
            for key in ("stale", "old"):
                raw.set(cache.key(Namespace.CONTEXTS, key), b"from before")
            raw.set(cache.key(Namespace.CONFIG, "stale"), b"from before")
            raw.set(cache.key(Namespace.CONFIG, "kept"), b"untouched")
            # no cache call has probed yet: the next one after retry_interval replays
            assert eventually(
                lambda: (
                    cache.get(Namespace.CONTEXTS, "new") == "fresh" and (cache.backend == "redis")
                )
            )
            assert raw.exists(cache.key(Namespace.CONTEXTS, "stale")) == 0  # namespace cleared
            assert raw.exists(cache.key(Namespace.CONTEXTS, "old")) == 0
            assert raw.exists(cache.key(Namespace.CONFIG, "stale")) == 0  # deleted key
            assert raw.get(cache.key(Namespace.CONFIG, "kept")) == b"untouched"
            assert raw.get(cache.key(Namespace.CONTEXTS, "new")) is not None


def test_concurrent_callers_through_an_outage_keep_their_last_writes(
    own_server: dict[str, Any], prefix: str
) -> None:
    url, port, name = str(own_server["url"]), int(own_server["ports"][0]), str(own_server["name"])
    cache = CacheManager(url, prefix=prefix, retry_interval=0.05)
    stop, last, failures = threading.Event(), [0] * 8, []

    def writer(n: int) -> None:
        i = 0
        try:
            while not stop.is_set():
                i += 1
                cache.set(Namespace.SESSIONS, f"w{n}", i)
                last[n] = i
                cache.get(Namespace.SESSIONS, f"w{(n + 1) % 8}")
        except Exception as exc:  # any escape is the failure under test
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.1)
        kill_server(name)
        assert eventually(lambda: cache.backend == "lru")
        start_server("plain", name=name, port=port)
        assert eventually(lambda: cache.backend == "redis")
        time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    stats = cache.stats()
    assert stats.fallbacks >= 1 and stats.recoveries >= 1 and stats.backend == "redis"
    assert stats.fallback_ops > 0
    with raw_client(url) as raw:
        for n in range(8):
            stored = raw.get(cache.key(Namespace.SESSIONS, f"w{n}"))
            assert stored is not None and decode(stored, cache.serde) == last[n]
    cache.close()


def test_redis_down_at_start(prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    cache = CacheManager(url, prefix=prefix, retry_interval=0.1)  # no I/O, so no error
    cache.set(Namespace.CONFIG, "k", "from lru")
    assert cache.get(Namespace.CONFIG, "k") == "from lru"
    assert cache.backend == "lru" and cache.stats().fallbacks == 1
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    name = f"cache-late-{uuid.uuid4().hex[:8]}"
    start_server("plain", name=name, port=port)
    try:
        assert eventually(
            lambda: cache.get(Namespace.CONFIG, "k") == "from lru" and (cache.backend == "redis")
        )
        cache.set(Namespace.CONFIG, "k2", "on redis")
        with raw_client(url) as fresh:
            assert fresh.get(cache.key(Namespace.CONFIG, "k2")) is not None
        assert cache.health().ok and cache.stats().recoveries == 1
        cache.close()
    finally:
        stop_server(name)


async def test_redis_down_at_start_async(prefix: str) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    async with CacheManager(url, prefix=prefix, retry_interval=0.1) as cache:
        await cache.aset(Namespace.SESSIONS, "s", [1, 2])
        assert await cache.aget(Namespace.SESSIONS, "s") == [1, 2]
        assert cache.backend == "lru" and not (await cache.ahealth()).ok
        name = f"cache-late-{uuid.uuid4().hex[:8]}"
        await asyncio.to_thread(start_server, "plain", name=name, port=port)
        try:
            deadline = time.monotonic() + 5
            while cache.backend == "lru" and time.monotonic() < deadline:
                await cache.aget(Namespace.SESSIONS, "s")
                await asyncio.sleep(0.02)
            assert cache.backend == "redis"
            assert await cache.aget(Namespace.SESSIONS, "s") == [1, 2]  # replayed
            assert (await cache.ahealth()).ok
        finally:
            await asyncio.to_thread(stop_server, name)


# -- LangChain's LLM cache ----------------------------------------------------------------


@pytest.mark.parametrize("where", ["plain", "cluster"])
def test_llm_cache_serves_repeated_prompts(
    where: str, request: pytest.FixtureRequest, prefix: str
) -> None:
    url = str(request.getfixturevalue("plain_redis_url" if where == "plain" else "cluster_url"))
    cache = llm_cache(url, prefix=prefix, ttl=60)
    model = FakeListChatModel(responses=["first", "second", "third"], cache=cache)
    assert model.invoke("what is 2+2?").content == "first"
    assert model.invoke("what is 2+2?").content == "first"  # from the cache
    assert model.invoke("another prompt").content == "second"
    stored = keys_under(url, f"{prefix}:*")
    assert len(stored) == 2
    with raw_client(url) as raw:
        assert raw.type(stored[0]) == b"string"  # no RedisJSON needed
        assert 0 < raw.ttl(stored[0]) <= 60
    cache.clear()
    assert keys_under(url, f"{prefix}:*") == []
    assert model.invoke("what is 2+2?").content == "third"


async def test_llm_cache_installed_globally(plain_redis_url: str, prefix: str) -> None:
    previous = get_llm_cache()
    try:
        cache = install_llm_cache(plain_redis_url, prefix=prefix)
        assert get_llm_cache() is cache
        model = FakeListChatModel(responses=["one", "two"])  # no cache= : the global one
        assert (await model.ainvoke("hello")).content == "one"
        assert (await model.ainvoke("hello")).content == "one"
        assert model.invoke("hello").content == "one"
    finally:
        set_llm_cache(previous)


def test_llm_cache_outage_is_a_miss(prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    cache = llm_cache(f"redis://127.0.0.1:{free_port()}/0", prefix=prefix, cluster=False)
    model = FakeListChatModel(responses=["a", "b"], cache=cache)
    assert model.invoke("q").content == "a"
    assert model.invoke("q").content == "b"  # nothing cached, nothing raised
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


# -- LangGraph's node cache ---------------------------------------------------------------


class Numbers(TypedDict):
    x: int
    y: int


def counting_graph(cache: Any) -> tuple[Any, list[int]]:
    calls: list[int] = []

    def double(state: Numbers) -> dict[str, int]:
        calls.append(state["x"])
        return {"y": state["x"] * 2}

    builder = StateGraph(Numbers)
    builder.add_node("double", double, cache_policy=CachePolicy(ttl=60))
    builder.add_edge(START, "double")
    builder.add_edge("double", END)
    return builder.compile(cache=cache), calls


@pytest.mark.parametrize("where", ["plain", "cluster"])
def test_node_cache_skips_repeated_node_runs(
    where: str, request: pytest.FixtureRequest, prefix: str
) -> None:
    url = str(request.getfixturevalue("plain_redis_url" if where == "plain" else "cluster_url"))
    graph, calls = counting_graph(node_cache(url, prefix=f"{prefix}:nodes:"))
    assert graph.invoke({"x": 3}) == {"x": 3, "y": 6}
    assert graph.invoke({"x": 3}) == {"x": 3, "y": 6}
    assert calls == [3]
    assert graph.invoke({"x": 4})["y"] == 8 and calls == [3, 4]
    stored = keys_under(url, f"{prefix}:nodes:*")
    assert len(stored) == 2
    with raw_client(url) as raw:
        assert 0 < raw.ttl(stored[0]) <= 60
    graph.clear_cache()
    assert keys_under(url, f"{prefix}:nodes:*") == []
    assert graph.invoke({"x": 3})["y"] == 6 and calls == [3, 4, 3]


@pytest.mark.parametrize("where", ["plain", "cluster"])
async def test_node_cache_async(where: str, request: pytest.FixtureRequest, prefix: str) -> None:
    url = str(request.getfixturevalue("plain_redis_url" if where == "plain" else "cluster_url"))
    graph, calls = counting_graph(node_cache(url, prefix=f"{prefix}:nodes:"))
    assert (await graph.ainvoke({"x": 5}))["y"] == 10
    assert (await graph.ainvoke({"x": 5}))["y"] == 10
    assert calls == [5]
    await graph.aclear_cache(["double"])
    assert (await graph.ainvoke({"x": 5}))["y"] == 10 and calls == [5, 5]


def test_node_cache_outage_runs_nodes(prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    cache = node_cache(f"redis://127.0.0.1:{free_port()}/0", prefix=prefix, cluster=False)
    graph, calls = counting_graph(cache)
    assert graph.invoke({"x": 1})["y"] == 2
    assert graph.invoke({"x": 1})["y"] == 2
    assert calls == [1, 1]
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1

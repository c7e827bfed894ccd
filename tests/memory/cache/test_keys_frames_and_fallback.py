"""The cache's pure parts: keys, frames, the fallback LRU, the outage journal, URL parsing."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from pydantic import BaseModel

from maximus.errors import ConfigError, CorruptRecordError, InvalidInputError
from maximus.memory._redis import escape_glob, is_sentinel_url, parse_sentinel_url
from maximus.memory.cache import (
    CacheManager,
    CacheStats,
    Namespace,
    cache_key,
    decode,
    encode,
    namespace_pattern,
)
from maximus.memory.cache._codec import RAW, ZLIB
from maximus.memory.cache._fallback import LRU, Journal

SERDE = JsonPlusSerializer(allowed_msgpack_modules=None)


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- keys ---------------------------------------------------------------------------------


def test_keys_are_prefix_namespace_key() -> None:
    assert cache_key("maximus:cache", Namespace.AGENTS, "a:b") == "maximus:cache:agents:a:b"
    assert [str(ns) for ns in Namespace] == ["agents", "sessions", "contexts", "config"]
    for bad in ("", "a:b"):
        with pytest.raises(InvalidInputError):
            cache_key("p", bad, "k")


def test_namespace_pattern_escapes_glob_characters() -> None:
    assert namespace_pattern("t[1]*", "config") == r"t\[1\]\*:config:*"
    assert escape_glob(r"a?b\c") == r"a\?b\\c"


# -- frames -------------------------------------------------------------------------------


def test_small_values_are_stored_raw() -> None:
    frame, saved = encode({"a": 1}, SERDE, threshold=1024)
    assert frame[:1] == RAW and saved == 0
    assert decode(frame, SERDE) == {"a": 1}


def test_values_from_the_threshold_are_compressed() -> None:
    value = "the same line again. " * 100
    frame, saved = encode(value, SERDE, threshold=64)
    assert frame[:1] == ZLIB
    body = zlib.decompress(frame[1:])
    assert body.startswith(b"msgpack:") and saved == len(body) - (len(frame) - 1) > 1000
    assert decode(frame, SERDE) == value


def test_incompressible_values_stay_raw() -> None:
    noise = bytes(range(256)) * 2  # zlib cannot shrink 512 distinct-ish bytes enough
    frame, saved = encode(zlib.compress(noise * 8), SERDE, threshold=1)
    assert frame[:1] == RAW and saved == 0


class Secret(BaseModel):
    """A class no allowlist names."""

    a: int


def test_messages_round_trip_and_unknown_classes_do_not_load() -> None:
    message = AIMessage("hi", id="1")
    assert decode(encode(message, SERDE, 1024)[0], SERDE) == message
    when = datetime(2020, 1, 2, tzinfo=UTC)
    assert decode(encode(when, SERDE, 1024)[0], SERDE) == when
    # the strict serializer builds no class it was not told about: plain data comes back
    assert decode(encode(Secret(a=1), SERDE, 1024)[0], SERDE) == {"a": 1}


@pytest.mark.parametrize(
    "frame",
    [b"", b"\x07msgpack:x", ZLIB + b"not zlib", RAW + b"no-type-tag", RAW + b"weird:data"],
)
def test_damaged_frames_raise_corrupt_record(frame: bytes) -> None:
    with pytest.raises(CorruptRecordError):
        decode(frame, SERDE)


# -- the fallback LRU ---------------------------------------------------------------------


def test_lru_expires_entries_by_ttl() -> None:
    clock = Clock()
    lru = LRU(10, clock)
    lru.set("a", b"1", ttl=2.0)
    lru.set("b", b"2", ttl=None)
    assert lru.entry("a") == (b"1", 2000) and lru.entry("b") == (b"2", None)
    clock.now += 1.5
    assert lru.entry("a") == (b"1", 500)
    clock.now += 0.5
    assert lru.get("a") is None and len(lru) == 1
    assert lru.get("b") == b"2"


def test_lru_evicts_the_least_recently_used() -> None:
    lru = LRU(2)
    lru.set("a", b"1", None)
    lru.set("b", b"2", None)
    assert lru.get("a") == b"1"  # now b is the oldest
    lru.set("c", b"3", None)
    assert lru.get("b") is None and lru.get("a") == b"1" and lru.get("c") == b"3"


def test_lru_delete_and_clear_by_prefix() -> None:
    lru = LRU(10)
    for key in ("p:agents:1", "p:agents:2", "p:config:1"):
        lru.set(key, b"v", None)
    assert lru.delete("p:agents:1") is True and lru.delete("p:agents:1") is False
    assert lru.clear("p:agents:") == 1 and len(lru) == 1
    assert lru.clear() == 1 and len(lru) == 0


# -- the outage journal ----------------------------------------------------------------------


def test_journal_plans_sets_unlinks_and_clears() -> None:
    lru, journal = LRU(10), Journal(limit=100)
    lru.set("p:a:1", b"v1", ttl=10)
    journal.touched("p:a:1", "p:a:*")
    journal.touched("p:a:2", "p:a:*")  # deleted: not in the LRU
    journal.cleared("p:c:*")
    plan = journal.plan(lru)
    assert plan.clears == ["p:c:*"] and plan.unlinks == ["p:a:2"] and plan.version == 3
    assert [(k, f) for k, f, _ in plan.sets] == [("p:a:1", b"v1")]
    assert 9000 < (plan.sets[0][2] or 0) <= 10_000
    journal.flushed = plan.version
    assert journal.plan(lru) == ([], [], [], 3)
    lru.set("p:a:3", b"v3", None)
    journal.touched("p:a:3", "p:a:*")
    assert journal.plan(lru) == ([], [("p:a:3", b"v3", None)], [], 4)


def test_journal_overflow_clears_namespaces_instead() -> None:
    lru, journal = LRU(10), Journal(limit=3)
    for i in range(4):
        journal.touched(f"p:a:{i}", "p:a:*")
    assert journal.keys == {} and journal.clears == {"p:a:*": 4}
    lru.set("p:b:1", b"v", None)
    journal.touched("p:b:1", "p:b:*")
    assert journal.plan(lru) == (["p:a:*"], [("p:b:1", b"v", None)], [], 5)


# -- the manager without a server ---------------------------------------------------------


def test_manager_construction_does_no_io_and_checks_arguments() -> None:
    cache = CacheManager("redis://127.0.0.1:1/0")  # nothing listens there; nothing is tried
    assert cache.backend == "redis" and cache.stats().fallbacks == 0
    with pytest.raises(ConfigError):
        CacheManager()
    with pytest.raises(ConfigError):
        CacheManager("redis-sentinel://127.0.0.1:26379")  # no service name
    with pytest.raises(ConfigError):
        CacheManager("redis://x", lru_size=-1)
    with pytest.raises(InvalidInputError):
        cache.set(Namespace.AGENTS, "k", 1, ttl=0)


def test_hit_rate_before_any_lookup_is_zero() -> None:
    stats = CacheStats("redis", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert stats.hit_rate == 0.0
    assert CacheStats("lru", 3, 1, 0, 0, 0, 0, 0, 0, 0, 0).hit_rate == 0.75


# -- Sentinel URLs ------------------------------------------------------------------------


def test_sentinel_urls_parse() -> None:
    url = "redis-sentinel://user:p%40ss@h1:26379,h2:26380/mymaster/3"
    assert is_sentinel_url(url) and is_sentinel_url("redis+sentinel://h/m")
    assert not is_sentinel_url("redis://h:6379/0")
    parsed = parse_sentinel_url(url)
    assert parsed.sentinels == [("h1", 26379), ("h2", 26380)]
    assert (parsed.service, parsed.db, parsed.username, parsed.password) == (
        "mymaster",
        3,
        "user",
        "p@ss",
    )
    assert parse_sentinel_url("redis+sentinel://h/m") == (
        [("h", 26379)],
        "m",
        0,
        None,
        None,
    )


@pytest.mark.parametrize(
    "url",
    [
        "redis://h:1/0",
        "redis-sentinel:///svc",
        "redis-sentinel://h:1",
        "redis-sentinel://h:port/svc",
        "redis-sentinel://h:1/svc/notanumber",
        "redis-sentinel://h:1/svc/0/extra",
    ],
)
def test_bad_sentinel_urls_raise_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        parse_sentinel_url(url)


def test_from_settings_uses_the_cache_url_then_the_sessions_url() -> None:
    from maximus.config import load_settings
    from maximus.errors import ConfigError
    from maximus.memory.cache import CacheManager

    with pytest.raises(ConfigError, match="MAXIMUS_CACHE__URL"):
        CacheManager.from_settings(load_settings())
    settings = load_settings(
        redis_url="redis://127.0.0.1:1/0", cache={"prefix": "p", "compress_threshold": 7}
    )
    manager = CacheManager.from_settings(settings)
    assert (manager.url, manager.prefix, manager.compress_threshold) == (
        "redis://127.0.0.1:1/0",
        "p",
        7,
    )
    own = load_settings(redis_url="redis://a:1/0", cache={"url": "redis://b:2/0"})
    assert CacheManager.from_settings(own).url == "redis://b:2/0"

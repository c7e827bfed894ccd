"""The cache manager: namespaced values in Redis, an in-process LRU while Redis is down.

:class:`CacheManager` stores values under ``<prefix>:<namespace>:<key>``, framed by
:mod:`._codec` (a strict ``JsonPlusSerializer``, zlib above ``compress_threshold``). Every
method has an async twin (``get``/``aget``...) sharing the same routing, counters and LRU.

The sync client (``redis.Redis``) and the async one (``redis.asyncio.Redis``) cannot share one
pool object in redis-py, so the manager builds one pool per flavour, lazily, from the same
URL and options (fail-fast timeouts, one immediate retry), and ``close``/``aclose`` close both.
The async client is rebuilt if a different event loop uses the manager.

When Redis cannot be reached the manager never raises: it logs one warning per outage,
counts it, and serves from an in-process LRU (with TTLs). It probes Redis at most every
``retry_interval`` seconds; when Redis answers, it replays what changed during the outage
(values still in the LRU are set with their remaining TTL, deleted keys and cleared
namespaces are removed), then serves from Redis again. Past ``4 * lru_size`` changed keys, a
namespace is cleared on Redis rather than replayed key by key (a miss beats a stale value).
A process cut off alone replays over what others wrote meanwhile, for the keys it changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, TypeVar

import redis.cluster
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from redis.exceptions import RedisError

from maximus._closing import Closing
from maximus.config import Settings, get_settings
from maximus.errors import ConfigError, CorruptRecordError, InvalidInputError
from maximus.memory._redis import (
    OUTAGE_ERRORS,
    REDIS_ERRORS,
    AsyncRedis,
    SyncRedis,
    async_client,
    aunlink_matching,
    is_cluster,
    is_sentinel_url,
    parse_sentinel_url,
    sync_client,
    unlink_matching,
)
from maximus.memory.cache._clients import LoopBound, client_options
from maximus.memory.cache._codec import (
    CacheHealth,
    CacheStats,
    cache_key,
    decode,
    encode,
    namespace_pattern,
)
from maximus.memory.cache._fallback import (
    LRU,
    REPLAY_ROUNDS,
    Journal,
    OutageLog,
    Replay,
    areplay,
    replay,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


class _Route(Enum):
    REDIS = "redis"
    LRU = "lru"
    PROBE = "probe"


@dataclass(slots=True)
class _Counters:
    hits: int = 0
    misses: int = 0
    sets: int = 0
    deletes: int = 0
    bytes_saved: int = 0
    errors: int = 0
    fallbacks: int = 0
    fallback_ops: int = 0
    recoveries: int = 0


class CacheManager(Closing):
    """Namespaced get/set/delete over Redis with TTLs, compression, stats and an LRU fallback.

    No I/O happens here: clients are built on first use. Calls never raise Redis errors; see
    the module docstring for the outage behaviour.

    Args:
        url: a ``redis://``, ``rediss://`` or ``redis-sentinel://`` URL (a Cluster node's URL
            gives a Cluster client). Needed unless clients are given.
        client: a sync client to use instead of one built from ``url`` (not closed by us).
            It must not decode responses.
        async_client: the same for the async methods.
        prefix: the first part of every key.
        default_ttl: seconds a value lives when ``set`` gets no ``ttl``; ``None``: forever.
        compress_threshold: serialized size in bytes from which values are zlib-compressed.
        lru_size: entries the fallback LRU holds.
        retry_interval: seconds between probes of Redis while on the LRU.
        socket_timeout: seconds a command may take before it counts as an outage.
        connect_timeout: seconds a connection may take before it counts as an outage.
        cluster: whether ``url`` is a Cluster; ``None`` asks the server on first use.
        serde: the value serializer; a strict ``JsonPlusSerializer`` by default.

    Raises:
        ConfigError: no URL and no client, a malformed Sentinel URL, or a bad size.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: SyncRedis | None = None,
        async_client: AsyncRedis | None = None,
        prefix: str = "maximus:cache",
        default_ttl: float | None = 3600.0,
        compress_threshold: int = 1024,
        lru_size: int = 1024,
        retry_interval: float = 5.0,
        socket_timeout: float = 1.0,
        connect_timeout: float = 0.25,
        cluster: bool | None = None,
        serde: SerializerProtocol | None = None,
    ) -> None:
        if url is None and client is None and async_client is None:
            raise ConfigError("CacheManager needs a Redis URL or a client")
        if url is not None and is_sentinel_url(url):
            parse_sentinel_url(url)  # a malformed URL fails here, not on first use
            cluster = False
        if lru_size < 0 or compress_threshold < 0 or retry_interval < 0:
            raise ConfigError("lru_size, compress_threshold and retry_interval must be >= 0")
        self.url = url
        self.prefix = prefix
        self.default_ttl = default_ttl
        self.compress_threshold = compress_threshold
        self.retry_interval = retry_interval
        self.serde = serde or JsonPlusSerializer(allowed_msgpack_modules=None)
        self._cluster = cluster
        self._timeouts = (socket_timeout, connect_timeout)
        self._sync = client
        self._owns_sync = client is None
        self._async = LoopBound(self._build_async)
        self._async.client = async_client
        self._owns_async = async_client is None
        self._lock = threading.Lock()
        self._building = threading.Lock()
        self._lru = LRU(lru_size)
        self._journal = Journal(max(4 * lru_size, 1024))
        self._on_lru = False
        self._next_probe = 0.0
        self._log = OutageLog(f"cache {prefix!r}")
        self._counts = _Counters()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> CacheManager:
        """A manager on ``MAXIMUS_CACHE__URL`` (else ``MAXIMUS_REDIS_URL``), set as configured.

        Raises:
            ConfigError: neither URL is set.
        """
        settings = settings or get_settings()
        url = settings.cache_url
        if url is None:
            raise ConfigError("the cache needs MAXIMUS_CACHE__URL or MAXIMUS_REDIS_URL")
        options = settings.cache
        return cls(
            url,
            prefix=options.prefix,
            default_ttl=options.default_ttl,
            compress_threshold=options.compress_threshold,
            lru_size=options.lru_size,
            retry_interval=options.retry_interval,
        )

    # -- public API ---------------------------------------------------------------------

    @property
    def backend(self) -> Literal["redis", "lru"]:
        """Where calls are served from now."""
        return "lru" if self._on_lru else "redis"

    def key(self, namespace: str, key: str) -> str:
        """The Redis key of ``key`` in ``namespace``."""
        return cache_key(self.prefix, namespace, key)

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default`` on a miss."""
        full = self.key(namespace, key)
        frame = self._call(lambda c: c.get(full), lambda: self._lru.get(full), None)
        return self._loaded(full, frame, default)

    async def aget(self, namespace: str, key: str, default: Any = None) -> Any:
        """The async twin of :meth:`get`."""
        full = self.key(namespace, key)
        frame = await self._acall(lambda c: c.get(full), lambda: self._lru.get(full), None)
        return self._loaded(full, frame, default)

    def set(self, namespace: str, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (``default_ttl`` when ``None``)."""
        full, frame, px, ttl = self._framed(namespace, key, value, ttl)
        self._call(
            lambda c: c.set(full, frame, px=px), lambda: self._lru_set(full, frame, ttl), None
        )

    async def aset(self, namespace: str, key: str, value: Any, ttl: float | None = None) -> None:
        """The async twin of :meth:`set`."""
        full, frame, px, ttl = self._framed(namespace, key, value, ttl)
        await self._acall(
            lambda c: c.set(full, frame, px=px), lambda: self._lru_set(full, frame, ttl), None
        )

    def delete(self, namespace: str, key: str) -> bool:
        """Remove ``key``; whether it was there."""
        full = self.key(namespace, key)
        self._count("deletes")
        return bool(self._call(lambda c: c.unlink(full), lambda: self._lru_delete(full), 0))

    async def adelete(self, namespace: str, key: str) -> bool:
        """The async twin of :meth:`delete`."""
        full = self.key(namespace, key)
        self._count("deletes")
        return bool(await self._acall(lambda c: c.unlink(full), lambda: self._lru_delete(full), 0))

    def clear_namespace(self, namespace: str) -> int:
        """Remove every key of ``namespace`` (``SCAN`` + ``UNLINK``); returns how many."""
        pattern = namespace_pattern(self.prefix, namespace)
        return int(
            self._call(
                lambda c: unlink_matching(c, pattern),
                lambda: self._lru_clear(namespace, pattern),
                0,
            )
        )

    async def aclear_namespace(self, namespace: str) -> int:
        """The async twin of :meth:`clear_namespace`."""
        pattern = namespace_pattern(self.prefix, namespace)
        return int(
            await self._acall(
                lambda c: aunlink_matching(c, pattern),
                lambda: self._lru_clear(namespace, pattern),
                0,
            )
        )

    def health(self) -> CacheHealth:
        """``PING`` Redis now, whatever the backend; changes nothing."""
        start = time.perf_counter()
        try:
            self._client().ping()
        except REDIS_ERRORS as exc:
            return CacheHealth(False, self.backend, None, f"{type(exc).__name__}: {exc}")
        return CacheHealth(True, self.backend, (time.perf_counter() - start) * 1000, "PONG")

    async def ahealth(self) -> CacheHealth:
        """The async twin of :meth:`health`."""
        start = time.perf_counter()
        try:
            await self._aclient().ping()
        except REDIS_ERRORS as exc:
            return CacheHealth(False, self.backend, None, f"{type(exc).__name__}: {exc}")
        return CacheHealth(True, self.backend, (time.perf_counter() - start) * 1000, "PONG")

    def stats(self) -> CacheStats:
        """A snapshot of the counters."""
        with self._lock:
            c = self._counts
            return CacheStats(
                self.backend,
                c.hits,
                c.misses,
                c.sets,
                c.deletes,
                c.bytes_saved,
                c.errors,
                c.fallbacks,
                c.fallback_ops,
                c.recoveries,
                len(self._lru),
            )

    def close(self) -> None:
        """Close the sync client if we built it."""
        if self._owns_sync and self._sync is not None:
            self._sync.close()
            self._sync = None

    async def aclose(self) -> None:
        """Close both clients if we built them."""
        if self._owns_async and (client := self._async.take()) is not None:
            await client.aclose()
        self.close()

    async def __aenter__(self) -> CacheManager:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- clients --------------------------------------------------------------------------

    def _client(self) -> SyncRedis:
        if self._sync is not None:
            return self._sync
        if self.url is None:
            raise ConfigError("this CacheManager has only an async client; use the a* methods")
        with self._building:  # not self._lock: building may do I/O (the cluster probe)
            if self._sync is None:
                built = sync_client(
                    self.url, cluster=self._cluster, **client_options(False, *self._timeouts)
                )
                self._cluster = isinstance(built, redis.cluster.RedisCluster)
                self._sync = built
        return self._sync

    def _aclient(self) -> AsyncRedis:
        if not self._owns_async and self._async.client is not None:
            return self._async.client
        if self.url is None:
            raise ConfigError("this CacheManager has only a sync client; pass async_client=")
        return self._async.get()

    def _build_async(self) -> AsyncRedis:
        assert self.url is not None  # _aclient checked
        if self._cluster is None:  # one blocking INFO, once; fails fast when Redis is down
            self._cluster = is_cluster(self.url, **client_options(False, *self._timeouts))
        return async_client(
            self.url, cluster=self._cluster, **client_options(True, *self._timeouts)
        )

    # -- routing and fallback -------------------------------------------------------------

    def _route(self) -> _Route:
        with self._lock:
            if not self._on_lru:
                return _Route.REDIS
            now = time.monotonic()
            if now < self._next_probe:
                return _Route.LRU
            self._next_probe = now + self.retry_interval  # one prober at a time
            return _Route.PROBE

    def _call(self, on_redis: Callable[[SyncRedis], Any], on_lru: Callable[[], T], failed: T) -> T:
        for _ in range(2):  # a second pass when Redis came back while this call was routed
            route = self._route()
            try:
                if route is _Route.PROBE:
                    route = self._probe(self._client())
                if route is _Route.REDIS:
                    result: T = on_redis(self._client())
                    return result
            except OUTAGE_ERRORS as exc:
                self._outage(exc)
            except RedisError as exc:
                return self._failed(exc, failed)
            outcome = self._from_lru(on_lru)
            if outcome[0]:
                return outcome[1]
        return failed

    async def _acall(
        self,
        on_redis: Callable[[AsyncRedis], Awaitable[Any]],
        on_lru: Callable[[], T],
        failed: T,
    ) -> T:
        for _ in range(2):
            route = self._route()
            try:
                if route is _Route.PROBE:
                    route = await self._aprobe(self._aclient())
                if route is _Route.REDIS:
                    result: T = await on_redis(self._aclient())
                    return result
            except OUTAGE_ERRORS as exc:
                self._outage(exc)
            except RedisError as exc:
                return self._failed(exc, failed)
            outcome = self._from_lru(on_lru)
            if outcome[0]:
                return outcome[1]
        return failed

    def _probe(self, client: SyncRedis) -> _Route:
        client.ping()
        for plan in self._replays():
            replay(client, plan)
        if self._on_lru:
            # Writers on other threads kept the journal from draining within the rounds:
            # replay the rest with them held off (one pipeline), so recovery always ends.
            with self._lock:
                replay(client, self._journal.plan(self._lru))
                self._recovered()
        return _Route.LRU if self._on_lru else _Route.REDIS

    async def _aprobe(self, client: AsyncRedis) -> _Route:
        await client.ping()
        for plan in self._replays():
            await areplay(client, plan)
        return _Route.LRU if self._on_lru else _Route.REDIS

    def _replays(self) -> Iterator[Replay]:
        """Replays to run until Redis caught up; then switches back to Redis."""
        for _ in range(REPLAY_ROUNDS):
            with self._lock:
                plan = self._journal.plan(self._lru)
                if not (plan.clears or plan.sets or plan.unlinks):
                    self._recovered()
                    return
            yield plan
            with self._lock:
                self._journal.flushed = plan.version

    def _recovered(self) -> None:
        """Back on Redis (called under the lock, once the journal is replayed)."""
        self._on_lru = False
        self._lru.clear()
        self._journal.reset()
        self._counts.recoveries += 1
        self._log.ok()

    def _outage(self, exc: BaseException) -> None:
        with self._lock:
            self._next_probe = time.monotonic() + self.retry_interval
            if self._on_lru:
                return
            self._on_lru = True
            self._lru.clear()
            self._journal.reset()
            self._counts.fallbacks += 1
        self._log.failed(
            exc, f"serving from the in-process LRU, probing every {self.retry_interval:g}s"
        )

    def _failed(self, exc: RedisError, failed: T) -> T:
        self._count("errors")
        logger.warning("cache %r: Redis error, treated as a miss: %s", self.prefix, exc)
        return failed

    def _from_lru(
        self, on_lru: Callable[[], T]
    ) -> tuple[Literal[True], T] | tuple[Literal[False], None]:
        """Run ``on_lru`` if still on the LRU: a write landing there after the replay is lost."""
        with self._lock:
            if not self._on_lru:
                return False, None
            self._counts.fallback_ops += 1
            return True, on_lru()

    # -- LRU side (called under the lock) -------------------------------------------------

    def _lru_set(self, full: str, frame: bytes, ttl: float | None) -> None:
        self._lru.set(full, frame, ttl)
        self._journal.touched(full, self._pattern_of(full))

    def _lru_delete(self, full: str) -> int:
        self._journal.touched(full, self._pattern_of(full))
        return int(self._lru.delete(full))

    def _lru_clear(self, namespace: str, pattern: str) -> int:
        self._journal.cleared(pattern)
        return self._lru.clear(cache_key(self.prefix, namespace, ""))

    def _pattern_of(self, full: str) -> str:
        namespace = full[len(self.prefix) + 1 :].partition(":")[0]
        return namespace_pattern(self.prefix, namespace)

    # -- values ---------------------------------------------------------------------------

    def _framed(
        self, namespace: str, key: str, value: Any, ttl: float | None
    ) -> tuple[str, bytes, int | None, float | None]:
        full = self.key(namespace, key)
        ttl = self.default_ttl if ttl is None else ttl
        if ttl is not None and ttl <= 0:
            raise InvalidInputError(f"a cache TTL must be positive, got {ttl}")
        frame, saved = encode(value, self.serde, self.compress_threshold)
        with self._lock:
            self._counts.sets += 1
            self._counts.bytes_saved += saved
        return full, frame, None if ttl is None else max(1, round(ttl * 1000)), ttl

    def _loaded(self, full: str, frame: bytes | None, default: Any) -> Any:
        if frame is not None:
            try:
                value = decode(frame, self.serde)
            except CorruptRecordError as exc:
                self._count("errors")
                logger.warning("cache %r: %s (key %s), treated as a miss", self.prefix, exc, full)
            else:
                self._count("hits")
                return value
        self._count("misses")
        return default

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self._counts, name, getattr(self._counts, name) + 1)

"""LangChain's LLM cache and LangGraph's node cache on the cache's Redis.

:func:`llm_cache` (and :func:`install_llm_cache`, which also makes it LangChain's global
cache) and :func:`node_cache` put them on the same Redis as :class:`~.manager.CacheManager`,
plain (no modules) or Cluster. Like the manager, they degrade to misses on outages, logged
once per outage. This module imports langchain-redis (and so redisvl and numpy), which is
why the package imports it only when one of its names is asked for.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

import langchain_redis
import redis.cluster
from langchain_core.caches import RETURN_VAL_TYPE
from langchain_core.globals import set_llm_cache
from langchain_core.load import dumps, load
from langgraph.cache.base import FullKey
from langgraph.cache.base import Namespace as NodeNamespace
from langgraph.cache.redis import RedisCache as LangGraphRedisCache
from langgraph.checkpoint.serde.base import SerializerProtocol

from maximus.errors import ConfigError
from maximus.memory._redis import (
    OUTAGE_ERRORS,
    REDIS_ERRORS,
    AsyncRedis,
    SyncRedis,
    async_client,
    aunlink_matching,
    escape_glob,
    sync_client,
    unlink_matching,
)
from maximus.memory.cache._clients import LoopBound, client_options
from maximus.memory.cache._fallback import OutageLog

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class LLMCache(langchain_redis.RedisCache):
    """langchain-redis's ``RedisCache`` on plain Redis: JSON strings, not RedisJSON documents.

    The upstream class stores entries with ``JSON.SET``, which needs the RedisJSON module;
    this one keeps its keys (``<prefix>:<md5(prompt)>:<md5(llm_string)>``), TTL and payload
    (LangChain's serialized generations, revived with the ``"core"`` allowlist) in plain
    ``SET``/``GET``, so it works on managed Redis, Valkey and Cluster. Outages are misses,
    logged once; ``clear`` walks every primary with ``SCAN``.

    Args:
        client: a sync client that does not decode responses.
        ttl: seconds an entry lives; ``None``: forever.
        prefix: the first part of every key.
    """

    def __init__(self, client: SyncRedis, *, ttl: int | None = None, prefix: str) -> None:
        self._log = OutageLog(f"LLM cache {prefix!r}")
        try:
            super().__init__(ttl=ttl, prefix=prefix, redis_client=client)  # type: ignore[arg-type]
        except OUTAGE_ERRORS as exc:  # it tags the connection; a down Redis must not stop startup
            self._log.failed(exc, "lookups miss until it is back")
            self.redis, self.ttl, self.prefix = client, ttl, prefix  # type: ignore[assignment]

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """The generations cached for this prompt and model, or ``None``."""
        key = self._key(prompt, llm_string)
        try:
            raw = self.redis.get(key)
        except REDIS_ERRORS as exc:
            self._log.failed(exc, "lookups miss until it is back")
            return None
        self._log.ok()
        if raw is None:
            return None
        try:
            return [load(gen, allowed_objects="core") for gen in json.loads(raw)]
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning(
                "LLM cache: entry %s cannot be decoded (%s), treated as a miss", key, exc
            )
            return None

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Cache ``return_val`` for this prompt and model."""
        payload = "[" + ",".join(dumps(gen) for gen in return_val) + "]"
        try:
            self.redis.set(self._key(prompt, llm_string), payload, ex=self.ttl)
        except REDIS_ERRORS as exc:
            self._log.failed(exc, "updates are dropped until it is back")
        else:
            self._log.ok()

    def clear(self, **kwargs: Any) -> None:
        """Remove every entry under the prefix."""
        try:
            unlink_matching(self.redis, escape_glob(f"{self.prefix}:") + "*")
        except REDIS_ERRORS as exc:
            self._log.failed(exc, "clear did nothing")


class NodeCache(LangGraphRedisCache[T]):
    """LangGraph's Redis node cache, fixed for Clusters and made async and outage-proof.

    Keys and entry format are upstream's (``<prefix><ns...>:<key>``, ``encoding:data``).
    Differences: reads are one pipeline of ``GET`` (``MGET`` fails across Cluster slots),
    ``clear`` uses ``SCAN`` on every primary instead of ``KEYS``, the async methods use an
    async client instead of blocking the event loop, and an outage is a miss or a dropped
    write, logged once, instead of being silently swallowed.

    Args:
        client: a sync client that does not decode responses.
        async_client: its async twin; built per event loop from ``build_async`` if not given.
        build_async: makes the async client (``node_cache`` passes one).
        prefix: the first part of every key.
        serde: the value serializer (upstream's default when ``None``).
    """

    def __init__(
        self,
        client: SyncRedis,
        *,
        async_client: AsyncRedis | None = None,
        build_async: Callable[[], AsyncRedis] | None = None,
        prefix: str = "maximus:cache:nodes:",
        serde: SerializerProtocol | None = None,
    ) -> None:
        super().__init__(client, serde=serde, prefix=prefix)
        self._async = LoopBound(build_async or _no_async_client)
        self._async.client = async_client
        self._fixed_async = async_client is not None
        self._log = OutageLog(f"node cache {prefix!r}")

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, T]:
        """The cached values of ``keys`` that are there."""
        if not keys:
            return {}
        pipe = self.redis.pipeline(transaction=False)
        for ns, key in keys:
            pipe.get(self._make_key(ns, key))
        return self._decoded(keys, self._guard(pipe.execute, []))

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, T]:
        """The async twin of :meth:`get`."""
        if not keys:
            return {}
        pipe = self._aclient().pipeline(transaction=False)
        for ns, key in keys:
            pipe.get(self._make_key(ns, key))
        return self._decoded(keys, await self._aguard(pipe.execute(), []))

    def set(self, pairs: Mapping[FullKey, tuple[T, int | None]]) -> None:
        """Cache each value for its TTL in seconds (``None``: forever)."""
        if pairs:
            pipe = self.redis.pipeline(transaction=False)
            for key, value, ttl in self._encoded(pairs):
                pipe.set(key, value, ex=ttl)
            self._guard(pipe.execute, None)

    async def aset(self, pairs: Mapping[FullKey, tuple[T, int | None]]) -> None:
        """The async twin of :meth:`set`."""
        if pairs:
            pipe = self._aclient().pipeline(transaction=False)
            for key, value, ttl in self._encoded(pairs):
                pipe.set(key, value, ex=ttl)
            await self._aguard(pipe.execute(), None)

    def clear(self, namespaces: Sequence[NodeNamespace] | None = None) -> None:
        """Remove the entries of ``namespaces`` (all of them when ``None``)."""
        for pattern in self._patterns(namespaces):
            self._guard(partial(unlink_matching, self.redis, pattern), 0)

    async def aclear(self, namespaces: Sequence[NodeNamespace] | None = None) -> None:
        """The async twin of :meth:`clear`."""
        for pattern in self._patterns(namespaces):
            await self._aguard(aunlink_matching(self._aclient(), pattern), 0)

    def _aclient(self) -> AsyncRedis:
        if self._fixed_async and self._async.client is not None:
            return self._async.client
        return self._async.get()

    def _patterns(self, namespaces: Sequence[NodeNamespace] | None) -> list[str]:
        if namespaces is None:
            return [escape_glob(self.prefix) + "*"]
        return [escape_glob(self._make_key(ns, "")) + "*" for ns in namespaces]

    def _encoded(
        self, pairs: Mapping[FullKey, tuple[T, int | None]]
    ) -> Iterator[tuple[str, bytes, int | None]]:
        for (ns, key), (value, ttl) in pairs.items():
            encoding, data = self.serde.dumps_typed(value)
            yield self._make_key(ns, key), encoding.encode() + b":" + data, ttl

    def _decoded(self, keys: Sequence[FullKey], raws: list[bytes | None]) -> dict[FullKey, T]:
        values: dict[FullKey, T] = {}
        for full_key, raw in zip(keys, raws, strict=False):
            if raw is None:
                continue
            encoding, _, data = raw.partition(b":")
            try:
                values[full_key] = self.serde.loads_typed((encoding.decode(), data))
            except (ValueError, TypeError, NotImplementedError) as exc:
                logger.warning("node cache: entry %s cannot be decoded (%s)", full_key, exc)
        return values

    def _guard(self, call: Callable[[], R], failed: R) -> R:
        try:
            result = call()
        except REDIS_ERRORS as exc:
            self._log.failed(exc, "nodes run uncached until it is back")
            return failed
        self._log.ok()
        return result

    async def _aguard(self, call: Awaitable[R], failed: R) -> R:
        try:
            result = await call
        except REDIS_ERRORS as exc:
            self._log.failed(exc, "nodes run uncached until it is back")
            return failed
        self._log.ok()
        return result


def _no_async_client() -> AsyncRedis:
    raise ConfigError("this NodeCache was given only a sync client; pass async_client=")


def _sync_from(source: str | SyncRedis, cluster: bool | None) -> SyncRedis:
    if isinstance(source, str):
        return sync_client(source, cluster=cluster, **client_options(False, 1.0, 0.25))
    return source


def llm_cache(
    source: str | SyncRedis,
    *,
    ttl: int | None = None,
    prefix: str = "maximus:cache:llm",
    cluster: bool | None = None,
) -> LLMCache:
    """LangChain's Redis LLM cache on ``source`` (a URL or a sync client), plain Redis ready.

    Raises:
        StoreUnavailableError: ``source`` is a URL, ``cluster`` is ``None`` and the server
            cannot be reached (pass ``cluster=False`` to build it without asking).
    """
    return LLMCache(_sync_from(source, cluster), ttl=ttl, prefix=prefix)


def install_llm_cache(
    source: str | SyncRedis,
    *,
    ttl: int | None = None,
    prefix: str = "maximus:cache:llm",
    cluster: bool | None = None,
) -> LLMCache:
    """Make :func:`llm_cache` LangChain's global LLM cache (``set_llm_cache``); returns it."""
    cache = llm_cache(source, ttl=ttl, prefix=prefix, cluster=cluster)
    set_llm_cache(cache)
    return cache


def node_cache(
    source: str | SyncRedis,
    *,
    async_client: AsyncRedis | None = None,
    prefix: str = "maximus:cache:nodes:",
    cluster: bool | None = None,
    serde: SerializerProtocol | None = None,
) -> NodeCache[Any]:
    """A LangGraph node cache (``compile(cache=...)``) on ``source`` (a URL or a sync client).

    From a URL, the async client is built from the same URL, once per event loop.

    Raises:
        StoreUnavailableError: ``source`` is a URL, ``cluster`` is ``None`` and the server
            cannot be reached (pass ``cluster=False`` to build it without asking).
    """
    client = _sync_from(source, cluster)
    build_async = None
    if isinstance(source, str):
        cluster = isinstance(client, redis.cluster.RedisCluster)
        build_async = partial(_async_for, source, cluster)
    return NodeCache(
        client, async_client=async_client, build_async=build_async, prefix=prefix, serde=serde
    )


def _async_for(url: str, cluster: bool) -> AsyncRedis:
    return async_client(url, cluster=cluster, **client_options(True, 1.0, 0.25))

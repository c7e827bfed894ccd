"""Redis clients from a URL: a single node, a Cluster or a Sentinel-watched master.

One place turns a connection URL into a redis-py client, so the cache and the checkpoint
saver agree on what a URL means:

- ``redis://`` / ``rediss://`` / ``unix://``: a single node, or a Redis Cluster when the node
  reports ``cluster_enabled:1`` (or when ``cluster=True`` is passed).
- ``redis-sentinel://[[user]:password@]host:port[,host:port...]/service[/db]`` (also spelled
  ``redis+sentinel://``, as langchain-redis does): the current master of ``service``, found
  through the listed Sentinels, which follows failovers.

Building a client does no I/O, except the cluster probe when ``cluster`` is left to ``None``:
that opens one short-lived sync connection and sends ``INFO cluster``. Pass ``cluster=`` to
skip it. Keyword arguments go to redis-py unchanged (``socket_timeout``, ``retry``...).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, TypeAlias
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.sentinel
import redis.cluster
import redis.sentinel
from redis.exceptions import RedisClusterException, RedisError

from maximus.errors import ConfigError, StoreUnavailableError

SyncRedis: TypeAlias = redis.Redis | redis.cluster.RedisCluster
"""A sync client: a single node (Sentinel masters are ``redis.Redis`` too) or a Cluster."""
AsyncRedis: TypeAlias = redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster
"""The asyncio twin of :data:`SyncRedis`."""

SENTINEL_SCHEMES = ("redis-sentinel", "redis+sentinel")
"""URL schemes that name a Sentinel-watched master."""
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,  # includes BusyLoading, MasterNotFound, MaxConnections
    redis.exceptions.TimeoutError,
    redis.exceptions.ClusterError,  # CLUSTERDOWN, TRYAGAIN...
    RedisClusterException,  # "cannot connect to any startup node"
    StoreUnavailableError,
)
"""Errors meaning the server cannot be reached right now (as opposed to a bad command)."""
REDIS_ERRORS: tuple[type[BaseException], ...] = (
    RedisError,
    RedisClusterException,
    StoreUnavailableError,
)
"""Every error a Redis call can raise, outages and bad commands alike."""
SCAN_COUNT = 500
"""Keys asked of each ``SCAN`` step, and the size of each ``UNLINK`` batch."""


class SentinelURL(NamedTuple):
    """A parsed ``redis-sentinel://`` URL."""

    sentinels: list[tuple[str, int]]
    """``(host, port)`` of each Sentinel."""
    service: str
    """The master's name, as configured in the Sentinels."""
    db: int
    """Database number on the master."""
    username: str | None
    """ACL user for the master (and the Sentinels), if any."""
    password: str | None
    """Password for the master (and the Sentinels), if any."""


def is_sentinel_url(url: str) -> bool:
    """Whether ``url`` names a Sentinel-watched master rather than a node."""
    return urlsplit(url).scheme in SENTINEL_SCHEMES


def parse_sentinel_url(url: str) -> SentinelURL:
    """Parse ``redis-sentinel://[[user]:password@]host:port[,host:port]/service[/db]``.

    Raises:
        ConfigError: the URL is not a Sentinel URL or lacks a host or a service name.
    """
    parts = urlsplit(url)
    if parts.scheme not in SENTINEL_SCHEMES:
        raise ConfigError(f"not a Sentinel URL (want redis-sentinel://...): {redact_url(url)}")
    credentials, _, hosts = parts.netloc.rpartition("@")
    username, _, password = credentials.partition(":")
    sentinels: list[tuple[str, int]] = []
    for host in filter(None, hosts.split(",")):
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "26379")
        if not port.isdigit():
            raise ConfigError(f"bad Sentinel address {host!r} in {redact_url(url)}")
        sentinels.append((name.strip("[]"), int(port)))
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not sentinels or not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ConfigError(
            f"a Sentinel URL needs redis-sentinel://host:port/service[/db]: {redact_url(url)}"
        )
    return SentinelURL(
        sentinels=sentinels,
        service=path[0],
        db=int(path[1]) if len(path) == 2 else 0,
        username=unquote(username) or None,
        password=unquote(password) or None,
    )


def is_cluster(target: str | SyncRedis, **kwargs: Any) -> bool:
    """Whether ``target`` (a URL or a sync client) is a Redis Cluster node.

    A ``RedisCluster`` client is one without asking; any other client, or a node URL, is asked
    ``INFO cluster``. A Sentinel URL is never a cluster.

    Raises:
        StoreUnavailableError: the server cannot be reached.
    """
    if isinstance(target, redis.cluster.RedisCluster):
        return True
    if isinstance(target, str):
        if is_sentinel_url(target):
            return False
        with redis.Redis.from_url(target, **kwargs) as probe:
            return _cluster_enabled(probe, target)
    return _cluster_enabled(target, None)


def sync_client(url: str, *, cluster: bool | None = None, **kwargs: Any) -> SyncRedis:
    """A sync client for ``url`` (see the module docstring for the schemes).

    Args:
        url: the server's URL.
        cluster: ``True``/``False`` to say whether it is a Cluster; ``None`` asks the server.
        **kwargs: passed to redis-py (and to the Sentinels' connections, for ``socket_*``).

    Raises:
        StoreUnavailableError: ``cluster`` was ``None`` and the server cannot be reached.
        ConfigError: a malformed Sentinel URL.
    """
    if is_sentinel_url(url):
        where = parse_sentinel_url(url)
        sentinel = redis.sentinel.Sentinel(
            where.sentinels, sentinel_kwargs=_sentinel_kwargs(where, kwargs), **kwargs
        )
        master: redis.Redis = sentinel.master_for(where.service, **_master_kwargs(where))
        return master
    if cluster is None:
        client = redis.Redis.from_url(url, **kwargs)
        try:
            if not _cluster_enabled(client, url):
                return client
        except BaseException:
            client.close()
            raise
        client.close()
    elif not cluster:
        return redis.Redis.from_url(url, **kwargs)
    return redis.cluster.RedisCluster.from_url(url, **kwargs)


def async_client(
    url: str, *, cluster: bool | None = None, pool_size: int | None = None, **kwargs: Any
) -> AsyncRedis:
    """The asyncio twin of :func:`sync_client`.

    ``pool_size`` bounds a single node's connections with a *blocking* pool: a burst of
    callers beyond it waits for a free connection instead of failing with "Too many
    connections" (redis-py's default pool). On a Cluster it is the limit per node.

    The cluster probe (only when ``cluster`` is ``None``) is a blocking one-off ``INFO cluster``
    over a short-lived sync connection; pass ``cluster=`` from a running event loop to avoid it.
    The client binds to the event loop that first uses it.

    Raises:
        StoreUnavailableError: ``cluster`` was ``None`` and the server cannot be reached.
        ConfigError: a malformed Sentinel URL.
    """
    if is_sentinel_url(url):
        where = parse_sentinel_url(url)
        sentinel = redis.asyncio.sentinel.Sentinel(
            where.sentinels, sentinel_kwargs=_sentinel_kwargs(where, kwargs), **kwargs
        )
        master: redis.asyncio.Redis = sentinel.master_for(where.service, **_master_kwargs(where))
        return master
    if cluster is None:
        cluster = is_cluster(url, **_probe_kwargs(kwargs))
    if cluster:
        if pool_size:
            kwargs["max_connections"] = pool_size
        return redis.asyncio.cluster.RedisCluster.from_url(url, **kwargs)
    if pool_size:
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url, max_connections=pool_size, timeout=None, **kwargs
        )
        return redis.asyncio.Redis.from_pool(pool)
    return redis.asyncio.Redis.from_url(url, **kwargs)


def escape_glob(text: str) -> str:
    """``text`` with the glob characters of ``SCAN MATCH`` escaped, to match it literally."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def unlink_matching(client: SyncRedis, pattern: str, *, count: int = SCAN_COUNT) -> int:
    """UNLINK every key matching the glob ``pattern``; returns how many went.

    Walks the keyspace with ``SCAN MATCH pattern COUNT count`` (never ``KEYS``), on every
    primary of a Cluster, and unlinks each page of keys as it comes (a Cluster client splits
    the UNLINK by slot). Keys written during the walk may survive it.
    """
    removed = 0
    batch: list[bytes | str] = []
    for key in client.scan_iter(match=pattern, count=count):
        batch.append(key)
        if len(batch) >= count:
            removed += int(client.unlink(*batch))
            batch.clear()
    if batch:
        removed += int(client.unlink(*batch))
    return removed


async def aunlink_matching(client: AsyncRedis, pattern: str, *, count: int = SCAN_COUNT) -> int:
    """The asyncio twin of :func:`unlink_matching`."""
    removed = 0
    batch: list[bytes | str] = []
    async for key in client.scan_iter(match=pattern, count=count):
        batch.append(key)
        if len(batch) >= count:
            removed += int(await client.unlink(*batch))
            batch.clear()
    if batch:
        removed += int(await client.unlink(*batch))
    return removed


def _cluster_enabled(client: redis.Redis, url: str | None) -> bool:
    try:
        info = client.info("cluster")
    except OUTAGE_ERRORS as exc:
        where = redact_url(url) if url else "the server"
        raise StoreUnavailableError(f"Redis at {where} is unreachable: {exc}") from exc
    except RedisError:  # a server or proxy that refuses INFO cannot be a cluster node
        return False
    return bool(info.get("cluster_enabled"))


def _probe_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    # only what a sync probe understands: async-only options (an asyncio Retry) stay out
    keep = ("socket_timeout", "socket_connect_timeout", "username", "password", "ssl_cert_reqs")
    return {k: v for k, v in kwargs.items() if k in keep}


def _sentinel_kwargs(where: SentinelURL, kwargs: dict[str, Any]) -> dict[str, Any]:
    options = {k: v for k, v in kwargs.items() if k.startswith("socket_")}
    if where.password:  # Sentinels usually share the master's password (requirepass)
        options.update(username=where.username, password=where.password)
    return options


def _master_kwargs(where: SentinelURL) -> dict[str, Any]:
    options: dict[str, Any] = {"db": where.db}
    if where.password:
        options.update(username=where.username, password=where.password)
    return options


def redact_url(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


__all__ = [
    "OUTAGE_ERRORS",
    "REDIS_ERRORS",
    "SCAN_COUNT",
    "AsyncRedis",
    "SentinelURL",
    "SyncRedis",
    "async_client",
    "aunlink_matching",
    "escape_glob",
    "is_cluster",
    "is_sentinel_url",
    "parse_sentinel_url",
    "redact_url",
    "sync_client",
    "unlink_matching",
]

"""Session-wide servers for the tests: Redis-protocol servers started lazily by the project's own
script, and a local Gemini API. Loaded as a plugin by ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.gemini_server import GeminiServer
from tests.support.redis import start_server, stop_server

SINGLE_NODE_KINDS = ("plain", "redis8", "valkey")


def _serve(kind: str) -> Iterator[str]:
    record = start_server(kind)
    try:
        yield str(record["url"])
    finally:
        stop_server(str(record["name"]))


@pytest.fixture(scope="session")
def plain_redis_url() -> Iterator[str]:
    """Redis 8.2 with no modules: what managed Redis offers."""
    yield from _serve("plain")


@pytest.fixture(scope="session")
def redis8_url() -> Iterator[str]:
    """Redis 8.2 with RediSearch and RedisJSON."""
    yield from _serve("redis8")


@pytest.fixture(scope="session")
def valkey_url() -> Iterator[str]:
    """Valkey 8."""
    yield from _serve("valkey")


@pytest.fixture(scope="session")
def cluster_url() -> Iterator[str]:
    """A 3-master Redis Cluster; the URL names one node."""
    yield from _serve("cluster")


@pytest.fixture(scope="session")
def sentinel_url() -> Iterator[str]:
    """A plain master behind one Sentinel (``redis-sentinel://`` URL)."""
    yield from _serve("sentinel")


@pytest.fixture(scope="session", params=SINGLE_NODE_KINDS)
def any_redis_url(request: pytest.FixtureRequest) -> str:
    """Each single-node server kind in turn."""
    return str(request.getfixturevalue(f"{request.param.replace('plain', 'plain_redis')}_url"))


@pytest.fixture
def gemini() -> Iterator[GeminiServer]:
    """A local HTTP server that speaks the Gemini API, answering as a scripted agent."""
    server = GeminiServer()
    yield server
    server.close()

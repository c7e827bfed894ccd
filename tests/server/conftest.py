"""A session-wide server (SQLite sessions, API keys for alice and bob, the test graphs)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.http import KEYS, http_server, server_env


@pytest.fixture(scope="session")
def server() -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="maximus-server-") as data:
        with http_server(server_env(Path(data))) as record:
            yield record


@pytest.fixture(scope="session")
def url(server: dict[str, Any]) -> str:
    return str(server["url"])


@pytest.fixture
def alice(url: str) -> Any:
    from langgraph_sdk import get_client

    return get_client(url=url, api_key=KEYS["alice"])


@pytest.fixture
def bob(url: str) -> Any:
    from langgraph_sdk import get_client

    return get_client(url=url, api_key=KEYS["bob"])


@pytest.fixture
def alice_sync(url: str) -> Iterator[Any]:
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=url, api_key=KEYS["alice"])
    yield client


@pytest.fixture(scope="session")
def replica_urls(plain_redis_url: str) -> Iterator[list[str]]:
    """Three ``maximus serve`` replicas sharing one Redis and one key prefix (runs shared)."""
    import uuid
    from contextlib import ExitStack

    prefix = f"t{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="maximus-replicas-") as data, ExitStack() as stack:
        env = server_env(
            Path(data),
            redis_url=plain_redis_url,
            sessions__key_prefix=prefix,
            lesson_queue__prefix=prefix + "q",
            server__run_lease_seconds="1",
        )
        yield [stack.enter_context(http_server(env))["url"] for _ in range(3)]


class RoundRobin:
    """An httpx transport that sends each request to the next replica in turn."""

    def __init__(self, urls: list[str]) -> None:
        import itertools

        import httpx

        self._next = itertools.cycle([httpx.URL(u) for u in urls])
        self._transport = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: Any) -> Any:
        target = next(self._next)
        request.url = request.url.copy_with(host=target.host, port=target.port)
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self._transport.aclose()


def round_robin_client(urls: list[str], user: str) -> Any:
    """The SDK client over three replicas, each request to the next one."""
    import httpx
    from langgraph_sdk.client import LangGraphClient

    http = httpx.AsyncClient(
        base_url=urls[0],
        transport=RoundRobin(urls),  # type: ignore[arg-type]
        headers={"x-api-key": KEYS[user]},
        timeout=httpx.Timeout(connect=5, read=300, write=300, pool=5),
    )
    return LangGraphClient(http)


@pytest.fixture(params=["sqlite", "replicas"])
def deployment(request: pytest.FixtureRequest) -> dict[str, Any]:
    """``alice`` and ``bob`` SDK clients on one process with SQLite sessions, or on three
    replicas on one Redis with every request sent round-robin."""
    from langgraph_sdk import get_client

    if request.param == "sqlite":
        url = request.getfixturevalue("url")
        return {
            "alice": get_client(url=url, api_key=KEYS["alice"]),
            "bob": get_client(url=url, api_key=KEYS["bob"]),
        }
    urls = request.getfixturevalue("replica_urls")
    return {"alice": round_robin_client(urls, "alice"), "bob": round_robin_client(urls, "bob")}

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

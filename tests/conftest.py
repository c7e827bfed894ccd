"""Shared fixtures: every test gets its own data directory and a clean model environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from maximus.config import get_settings

pytest_plugins = ["tests.support.servers"]

_KINDS = ("integration", "local_model")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test has a kind: ``integration``, ``local_model``, or else ``unit``."""
    for item in items:
        if not any(item.get_closest_marker(kind) for kind in _KINDS):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No model keys or MAXIMUS_* settings leak in; data lives in the test's tmp dir."""
    for name in list(os.environ):
        if name.startswith("MAXIMUS_") or name in ("GOOGLE_API_KEY", "OPENAI_API_KEY"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MAXIMUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MAXIMUS_LOCAL__AUTO", "false")  # the local model only where asked for
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()

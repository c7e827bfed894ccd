"""One assembled local model per test session (assembling takes about 15 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.local import assembled_model


@pytest.fixture(scope="session")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real, verified GGUF."""
    return assembled_model(tmp_path_factory.mktemp("local-model"))

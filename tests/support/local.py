"""The real local model for tests: assembled once per session, served by Maximus' own code."""

from __future__ import annotations

from pathlib import Path

from maximus.config import Settings, load_settings
from maximus.models.local.weights import MODEL_FILE, ensure_model


def local_settings(data_dir: Path, model_path: Path, **local: object) -> Settings:
    """Settings that use the local model kept at ``model_path``, with state in ``data_dir``."""
    return load_settings(
        model="local",
        data_dir=data_dir,
        local={"model_path": model_path, "idle_timeout": 600, **local},
    )


def assembled_model(directory: Path) -> Path:
    """The real GGUF, assembled from the installed chunk packages into ``directory``."""
    settings = load_settings(data_dir=directory, local={"model_path": directory / MODEL_FILE})
    return ensure_model(settings)

"""What the operator decided about plugins, kept in a small JSON file in the data directory.

``{"disabled": ["http_fetch"], "plugins": {"files": {"config": {...}, "limits": {...}}}}``:
which plugins are disabled (``maximus plugins disable``), and per plugin a configuration and,
optionally, permissions or limits that replace what its manifest declared. Writes are atomic
(a temporary file renamed over the old one), so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from maximus.errors import PluginManifestError
from maximus.plugins.manifest import Limits, Permissions, PluginManifest

STATE_FILE = "plugins.json"


class PluginOverride(BaseModel):
    """The operator's settings for one plugin."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    config: dict[str, Any] = Field(default_factory=dict)
    """The plugin's configuration (checked against its ``config_schema``)."""
    permissions: Permissions | None = None
    """Replaces the manifest's permissions (to grant more, or less)."""
    limits: Limits | None = None
    """Replaces the manifest's limits."""
    trusted: bool | None = None
    """The operator trusts this plugin's code: it may run in process (its manifest's
    ``isolation``; in process by default). Untrusted plugins always run in a worker process.
    Only the operator can say this; a manifest cannot."""

    def apply(self, manifest: PluginManifest) -> PluginManifest:
        """``manifest`` with these permissions and limits in place of its own."""
        update: dict[str, Any] = {}
        if self.permissions is not None:
            update["permissions"] = self.permissions
        if self.limits is not None:
            update["limits"] = self.limits
        return manifest.model_copy(update=update) if update else manifest


class PluginStateData(BaseModel):
    """The file's content."""

    model_config = ConfigDict(extra="forbid")

    disabled: list[str] = Field(default_factory=list)
    plugins: dict[str, PluginOverride] = Field(default_factory=dict)


def read_state(path: Path) -> PluginStateData:
    """The saved state (empty when the file does not exist).

    Raises:
        PluginManifestError: the file exists but is not valid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PluginStateData()
    try:
        return PluginStateData.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise PluginManifestError(f"{path}: invalid plugin state file: {exc}") from None


def write_state(path: Path, data: PluginStateData) -> None:
    """Save ``data`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".plugins-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data.model_dump_json(indent=2, exclude_defaults=True) + "\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def set_enabled(path: Path, name: str, enabled: bool) -> PluginStateData:
    """Mark ``name`` enabled or disabled in the file at ``path``; return the new state."""
    data = read_state(path)
    disabled = set(data.disabled)
    if enabled:
        disabled.discard(name)
    else:
        disabled.add(name)
    data.disabled = sorted(disabled)
    write_state(path, data)
    return data


__all__ = [
    "STATE_FILE",
    "PluginOverride",
    "PluginStateData",
    "merged_override",
    "read_state",
    "set_enabled",
    "write_state",
]


def merged_override(path: Path, given: PluginOverride | None, name: str) -> PluginOverride:
    """The override in force for ``name``: what the caller gave, over what the state file saved."""
    saved = read_state(path).plugins.get(name)
    if saved is None or given is None:
        return given or saved or PluginOverride()
    return PluginOverride(
        config={**saved.config, **given.config},
        permissions=given.permissions or saved.permissions,
        limits=given.limits or saved.limits,
        trusted=given.trusted if given.trusted is not None else saved.trusted,
    )

"""What a plugin may touch: the sandbox policy built from its manifest."""

from __future__ import annotations

import functools
import os
import ssl
import sys
from dataclasses import dataclass, field
from pathlib import Path

from maximus.errors import PluginSandboxError
from maximus.plugins._guards import FileScope, NetworkGuard
from maximus.plugins.manifest import Limits, PluginManifest

_SYSTEM_READS = (
    "/etc/localtime", "/etc/timezone", "/etc/mime.types", "/etc/hosts", "/etc/resolv.conf",
    "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/ssl", "/etc/pki", "/usr/share/zoneinfo",
    "/usr/share/ca-certificates", "/usr/lib/ssl", "/dev/null", "/dev/urandom",
)  # fmt: skip


@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    """Where Python and its libraries live: plugins may read (import) from there."""
    import zoneinfo

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, *zoneinfo.TZPATH, *_SYSTEM_READS}
    paths.update(p for p in sys.path if p and os.path.isabs(p))
    verify = ssl.get_default_verify_paths()
    paths.update(p for p in (verify.cafile, verify.capath) if p)
    return tuple(sorted({os.path.realpath(p) for p in paths}))


@dataclass(frozen=True, slots=True)
class SandboxPolicy:
    """What one plugin may do, derived from its manifest."""

    plugin: str
    limits: Limits = field(default_factory=Limits)
    files: FileScope | None = None
    network: NetworkGuard | None = None
    subprocess: bool = False
    code_dir: str | None = None
    """Where the plugin's own code lives (readable)."""
    enforce: bool = True
    """Check calls with the audit hook (off for proxies of isolated plugins)."""

    @classmethod
    def from_manifest(
        cls,
        manifest: PluginManifest,
        *,
        data_dir: Path | None = None,
        code_dir: Path | None = None,
        enforce: bool = True,
    ) -> SandboxPolicy:
        """The policy a manifest's permissions and limits declare."""
        perms = manifest.permissions
        return cls(
            plugin=manifest.name,
            limits=manifest.limits,
            files=FileScope(data_dir, manifest.name) if data_dir is not None else None,
            network=NetworkGuard(perms.network, manifest.name),
            subprocess=perms.subprocess,
            code_dir=None if code_dir is None else os.path.realpath(code_dir),
            enforce=enforce,
        )

    def may_read(self, path: str) -> bool:
        """Whether plugin code may read ``path`` (already resolved)."""
        if self.files is not None and self.files.contains(path):
            return True
        if self.code_dir is not None and _under(path, self.code_dir):
            return True
        return any(_under(path, root) for root in _library_roots())

    def check_write(self, path: str) -> None:
        """Refuse a change to ``path`` (already resolved) outside the plugin's directory."""
        if self.files is None or not self.files.contains(path):
            raise PluginSandboxError(
                f"plugin {self.plugin!r} may not write {path!r}: only inside its own "
                "directory, with the filesystem permission"
            )


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")

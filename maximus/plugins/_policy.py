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
    native: bool = False
    """May load native code (``ctypes``, ``cffi``, extension modules of its own)."""
    temp_dir: str | None = None
    """A private temporary directory (process isolation), readable and writable."""

    @classmethod
    def from_manifest(
        cls,
        manifest: PluginManifest,
        *,
        data_dir: Path | None = None,
        code_dir: Path | None = None,
        enforce: bool = True,
        temp_dir: Path | None = None,
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
            native=perms.native,
            temp_dir=None if temp_dir is None else os.path.realpath(temp_dir),
        )

    def may_read(self, path: str) -> bool:
        """Whether plugin code may read ``path`` (already resolved)."""
        if self.files is not None and self.files.contains(path):
            return True
        if self.code_dir is not None and _under(path, self.code_dir):
            return True
        if self.temp_dir is not None and _under(path, self.temp_dir):
            return True
        return any(_under(path, root) for root in _library_roots())

    def check_write(self, path: str) -> None:
        """Refuse a change to ``path`` (already resolved) outside the plugin's directory
        (and its private temporary directory)."""
        if self.temp_dir is not None and _under(path, self.temp_dir):
            return
        if self.files is None or not self.files.contains(path):
            raise PluginSandboxError(
                f"plugin {self.plugin!r} may not write {path!r}: only inside its own "
                "directory, with the filesystem permission"
            )


@functools.lru_cache(maxsize=1)
def _install_roots() -> tuple[str, ...]:
    """Where the environment's installed packages and Python's own library live: extension
    modules from there may be imported without the ``native`` permission."""
    import site
    import sysconfig

    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.update(site.getsitepackages())
    if site.ENABLE_USER_SITE and site.getusersitepackages():
        paths.add(site.getusersitepackages())
    return tuple(sorted({os.path.realpath(p) for p in paths if p}))


def installed(path: str) -> bool:
    """Whether ``path`` (resolved) is in the environment's installed packages or Python's
    library."""
    return any(_under(path, root) for root in _install_roots())


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")

"""Pure permission checks: a plugin's one directory, and where it may connect.

:class:`FileScope` resolves a path (following symlinks) and refuses anything that lands
outside the plugin's directory, so ``../../etc/passwd`` and a symlink pointing out are both
refused. :class:`NetworkGuard` matches a host against the allowlist, resolves it, and refuses
private, loopback, link-local, multicast and reserved addresses unless explicitly allowed.
The sandbox's audit hook uses the same checks for code that bypasses these helpers.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from maximus.errors import PluginSandboxError
from maximus.plugins.manifest import NetworkPermission

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class FileScope:
    """The one directory a plugin may use.

    Args:
        root: the directory (it is resolved, so a symlinked root is fine).
        plugin: the plugin's name, for error messages.
    """

    root: Path
    plugin: str = "plugin"

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).resolve())

    def resolve(self, path: str | os.PathLike[str]) -> Path:
        """The absolute, symlink-free path of ``path`` (relative to the root).

        Raises:
            PluginSandboxError: the path is outside the root once resolved.
        """
        text = os.fspath(path)
        if "\x00" in text:
            raise PluginSandboxError(f"plugin {self.plugin!r}: path contains a NUL byte")
        target = (self.root / text).resolve()
        if not self.contains(target):
            raise PluginSandboxError(
                f"plugin {self.plugin!r}: path {text!r} is outside its directory; "
                "only paths inside it are allowed (no '..', absolute paths or symlinks out)"
            )
        return target

    def contains(self, resolved: Path | str) -> bool:
        """Whether an already resolved path is the root or inside it."""
        return Path(resolved).is_relative_to(self.root)

    def relative(self, resolved: Path) -> str:
        """``resolved`` as shown to the model: relative to the root, with ``/``."""
        return resolved.relative_to(self.root).as_posix() or "."


class Target(NamedTuple):
    """A URL whose host passed the checks, with the address to connect to."""

    scheme: str
    host: str
    port: int
    address: str


def is_private(address: IPAddress) -> bool:
    """Whether an address is in a range a plugin may not reach by default."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True, slots=True)
class NetworkGuard:
    """Checks outgoing connections against a :class:`NetworkPermission`.

    Args:
        permission: what the plugin declared; ``None`` refuses every connection.
        plugin: the plugin's name, for error messages.
    """

    permission: NetworkPermission | None
    plugin: str = "plugin"
    _allowed: tuple[IPNetwork, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        nets = () if self.permission is None else self.permission.allow_private
        allowed = tuple(ipaddress.ip_network(n, strict=False) for n in nets)
        object.__setattr__(self, "_allowed", allowed)

    def check_host(self, host: str) -> None:
        """Refuse a host name the allowlist does not match.

        Raises:
            PluginSandboxError: no network permission, or the host is not allowed.
        """
        if self.permission is None:
            raise PluginSandboxError(f"plugin {self.plugin!r} has no network permission")
        name = host.lower().rstrip(".")
        for pattern in self.permission.hosts:
            pattern = pattern.lower()
            if pattern == "*" or pattern == name:
                return
            if pattern.startswith("*.") and name.endswith(pattern[1:]):
                return
        raise PluginSandboxError(
            f"plugin {self.plugin!r} may not connect to {host!r}; "
            f"allowed hosts: {list(self.permission.hosts)}"
        )

    def check_address(self, address: str, *, host: str | None = None) -> None:
        """Refuse a private, loopback or link-local address unless it is allowed.

        Raises:
            PluginSandboxError: the address is refused.
        """
        if self.permission is None:
            raise PluginSandboxError(f"plugin {self.plugin!r} has no network permission")
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not is_private(ip) or any(ip in net for net in self._allowed):
            return
        shown = f"{host!r} ({ip})" if host and host != address else str(ip)
        raise PluginSandboxError(
            f"plugin {self.plugin!r} may not connect to {shown}: a private, loopback or "
            "link-local address; allow it with permissions.network.allow_private"
        )

    def check_url(self, url: str) -> Target:
        """Check ``url`` (http or https), resolve its host, and check every address.

        Returns:
            The target, with an address that passed, for the caller to connect to (so a
            second DNS answer cannot swap in a private address).

        Raises:
            PluginSandboxError: the scheme, host or any resolved address is refused.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise PluginSandboxError(
                f"plugin {self.plugin!r}: only http and https URLs are allowed, got {url!r}"
            )
        host = parts.hostname
        if not host:
            raise PluginSandboxError(f"plugin {self.plugin!r}: URL {url!r} has no host")
        self.check_host(host)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise PluginSandboxError(
                f"plugin {self.plugin!r}: cannot resolve {host!r}: {exc}"
            ) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:  # every answer must pass, not just the first
            self.check_address(address, host=host)
        return Target(parts.scheme, host, port, addresses[0])


__all__ = ["FileScope", "NetworkGuard", "Target", "is_private"]

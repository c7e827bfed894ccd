"""The plugin base class, the context a plugin runs with, and contributed sub-graphs.

A plugin subclasses :class:`BasePlugin`, declares its manifest fields as class attributes
(or in ``plugin.yaml`` next to its module) and returns LangChain tools from :meth:`tools`::

    from langchain_core.tools import tool
    from maximus.plugins import BasePlugin, PluginType

    class Greeter(BasePlugin):
        name = "greeter"
        version = "1.0.0"
        plugin_type = PluginType.PROCESSING

        def tools(self):
            @tool
            def greet(who: str) -> str:
                \"\"\"Greet someone.\"\"\"
                return f"hello {who}"
            return [greet]

The manager constructs the plugin with no arguments, binds its :class:`PluginContext`, calls
:meth:`BasePlugin.initialize` and registers the tools, each wrapped in the plugin's sandbox.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool

from maximus.errors import PluginError, PluginManifestError, PluginSandboxError
from maximus.plugins._guards import FileScope, NetworkGuard
from maximus.plugins.hookspecs import hookimpl
from maximus.plugins.manifest import (
    Limits,
    Permissions,
    PluginManifest,
    PluginType,
    parse_manifest,
)
from maximus.plugins.subgraph import SubGraph


@dataclass(frozen=True, slots=True)
class PluginContext:
    """What a loaded plugin gets from the host: its manifest, config and permissions."""

    name: str
    manifest: PluginManifest
    config: Mapping[str, Any]
    """The configuration, validated against the manifest's ``config_schema``."""
    data_dir: Path | None = None
    """The plugin's own directory, when it declared the filesystem permission."""
    network: NetworkGuard | None = None
    """Checks URLs against the plugin's network permission."""

    @property
    def files(self) -> FileScope:
        """The plugin's directory as a :class:`FileScope`.

        Raises:
            PluginSandboxError: the plugin did not declare the filesystem permission.
        """
        if self.data_dir is None:
            raise PluginSandboxError(f"plugin {self.name!r} has no filesystem permission")
        return FileScope(self.data_dir, self.name)

    def path(self, relative: str) -> Path:
        """A path inside the plugin's directory (see :meth:`FileScope.resolve`)."""
        return self.files.resolve(relative)

    def check_url(self, url: str) -> Any:
        """Check a URL against the network permission (see :meth:`NetworkGuard.check_url`)."""
        guard = self.network or NetworkGuard(None, self.name)
        return guard.check_url(url)


class BasePlugin(ABC):
    """A Maximus plugin: a named, versioned bundle of tools with a lifecycle.

    Class attributes are the manifest of a packaged plugin; a directory plugin's
    ``plugin.yaml`` takes their place (and sets ``name`` and ``version`` on the instance).
    """

    name: str = ""
    """Unique plugin name (lower case, digits, ``_``)."""
    version: str = "0.0.0"
    plugin_type: PluginType = PluginType.PROCESSING
    """Agent, integration, processing or UI."""
    description: str = ""
    requires: tuple[str, ...] = ()
    """Other plugins this one needs, e.g. ``("geo>=1.0",)``."""
    maximus_version: str = ""
    """The Maximus versions it works with, e.g. ``">=0.1,<0.2"``."""
    permissions: Permissions = Permissions()
    limits: Limits = Limits()
    config_schema: Mapping[str, Any] = {}

    def __init__(self) -> None:
        self._context: PluginContext | None = None

    @classmethod
    def describe(cls) -> PluginManifest:
        """The manifest declared by the class attributes.

        Raises:
            PluginManifestError: the attributes do not make a valid manifest.
        """
        if not isinstance(cls.name, str) or not cls.name:
            raise PluginManifestError(f"{cls.__module__}.{cls.__qualname__}: no plugin name")
        return parse_manifest(
            {
                "name": cls.name,
                "version": cls.version,
                "type": cls.plugin_type,
                "description": cls.description or (cls.__doc__ or "").strip().split("\n")[0],
                "entry_point": f"{cls.__module__}:{cls.__qualname__}",
                "requires": tuple(cls.requires),
                "maximus": cls.maximus_version,
                "permissions": cls.permissions,
                "limits": cls.limits,
                "config_schema": dict(cls.config_schema),
            },
            where=f"{cls.__module__}.{cls.__qualname__}",
        )

    def bind(self, context: PluginContext) -> None:
        """Give the plugin its context (the manager does this before ``initialize``)."""
        self._context = context
        self.name = context.manifest.name
        self.version = context.manifest.version

    @property
    def context(self) -> PluginContext:
        """The context the manager bound.

        Raises:
            PluginError: the plugin is not loaded through a manager.
        """
        if self._context is None:
            raise PluginError(f"plugin {self.name!r} is not bound to a manager")
        return self._context

    @property
    def config(self) -> Mapping[str, Any]:
        """The plugin's validated configuration (empty when not bound)."""
        return {} if self._context is None else self._context.config

    def initialize(self) -> bool:
        """Prepare the plugin; return ``False`` (or raise) to refuse to load."""
        return True

    def execute(self, context: Mapping[str, Any]) -> Any:
        """Run the plugin directly. By default, call the tool named ``context["tool"]``
        with ``context["args"]``.

        Raises:
            PluginError: no such tool.
        """
        wanted = context.get("tool")
        for item in self.tools():
            if item.name == wanted:
                return item.invoke(dict(context.get("args") or {}))
        names = [t.name for t in self.tools()]
        raise PluginError(f"plugin {self.name!r} has no tool {wanted!r}; it has {names}")

    def cleanup(self) -> None:  # noqa: B027 - optional, not abstract
        """Release what ``initialize`` acquired (called on unload and reload)."""

    @abstractmethod
    def tools(self) -> Sequence[BaseTool]:
        """The LangChain tools this plugin contributes."""

    def graphs(self) -> Sequence[SubGraph]:
        """Compiled sub-graphs this plugin contributes, each called as one tool."""
        return ()

    @hookimpl
    def maximus_register_tools(self) -> list[BaseTool]:
        """The hook, implemented from :meth:`tools`."""
        return list(self.tools())

    @hookimpl
    def maximus_register_graphs(self) -> list[SubGraph]:
        """The hook, implemented from :meth:`graphs`."""
        return list(self.graphs())


__all__ = ["BasePlugin", "PluginContext", "SubGraph"]

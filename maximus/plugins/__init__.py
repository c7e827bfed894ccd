"""Plugins: third-party tools for the agent, loaded, sandboxed and hot-swapped.

See ``docs/plugins.md`` for the developer guide.
"""

from maximus.plugins.base import BasePlugin, PluginContext, SubGraph
from maximus.plugins.discovery import ENTRY_POINT_GROUP, PluginSource
from maximus.plugins.hookspecs import hookimpl, hookspec
from maximus.plugins.manager import PluginInfo, PluginManager, PluginState, get_plugin_manager
from maximus.plugins.manifest import (
    Limits,
    NetworkPermission,
    Permissions,
    PluginManifest,
    PluginType,
    read_manifest,
)
from maximus.plugins.sandbox import FileScope, NetworkGuard, Sandbox, SandboxPolicy

__all__ = [
    "ENTRY_POINT_GROUP",
    "BasePlugin",
    "FileScope",
    "Limits",
    "NetworkGuard",
    "NetworkPermission",
    "Permissions",
    "PluginContext",
    "PluginInfo",
    "PluginManager",
    "PluginManifest",
    "PluginSource",
    "PluginState",
    "PluginType",
    "Sandbox",
    "SandboxPolicy",
    "SubGraph",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "read_manifest",
]

"""Finding plugins: core modules, plugin directories, and installed packages' entry points.

Discovery only reads manifests and, for packaged plugins, imports the class the entry point
names (its manifest is its class attributes). It constructs and initializes nothing: the
manager does that later, in dependency order. Every problem becomes a
:class:`DiscoveryFailure` that names the plugin, so one bad plugin never hides the others.

Nothing here runs at import; the manager calls these functions.
"""

from __future__ import annotations

import dataclasses
import re
import time
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import pluggy
from langchain_core.tools import BaseTool

from maximus.errors import PluginError, PluginLoadError, PluginManifestError
from maximus.plugins import _imports
from maximus.plugins.base import BasePlugin, SubGraph
from maximus.plugins.manifest import MANIFEST_FILE, PluginManifest, parse_manifest, read_manifest

ENTRY_POINT_GROUP = "maximus.plugins"
"""The entry-point group packaged plugins declare (``[project.entry-points."maximus.plugins"]``)."""

Origin = Literal["core", "directory", "entry_point", "object"]


@dataclass(frozen=True, slots=True)
class PluginSource:
    """A plugin found but not loaded: its manifest and how to construct it."""

    manifest: PluginManifest
    origin: Origin
    location: str
    """Where it came from, for messages: a directory, an entry point, a class path."""
    root: Path | None = None
    """The plugin's directory (directory plugins)."""
    target: str | None = None
    """``module:qualname`` to import in a worker process (packaged and core plugins)."""
    factory: Callable[[], BasePlugin] | None = None
    """Constructs the plugin in this process (``None``: import from ``root``)."""
    found_ms: float = 0.0
    """Time spent finding it: reading its manifest, or importing its entry point."""

    @property
    def name(self) -> str:
        """The plugin's name."""
        return self.manifest.name

    def construct(self) -> BasePlugin:
        """Import (directory plugins) and construct the plugin.

        Raises:
            PluginLoadError: the import or the constructor failed, or it is not a plugin.
        """
        name = self.manifest.name
        if self.factory is not None:
            factory = self.factory
        elif self.root is not None and self.manifest.entry_point:
            factory = _imports.import_from_directory(self.root, self.manifest.entry_point, name)
        else:
            raise PluginLoadError(f"plugin {name!r} ({self.location}): nothing to construct")
        try:
            plugin = factory()
        except (Exception, SystemExit) as exc:
            raise PluginLoadError(
                f"plugin {name!r}: constructing it failed: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(plugin, BasePlugin):
            raise PluginLoadError(
                f"plugin {name!r}: {self.manifest.entry_point or self.location} made a "
                f"{type(plugin).__name__}, not a BasePlugin"
            )
        return plugin


@dataclass(frozen=True, slots=True)
class DiscoveryFailure:
    """A plugin that could not even be described (bad manifest, import error)."""

    name: str
    origin: Origin
    location: str
    error: PluginError


Found = tuple[list[PluginSource], list[DiscoveryFailure]]


class ModulePlugin(BasePlugin):
    """A module that implements ``maximus_register_tools`` or ``maximus_register_graphs``
    (and no plugin class), run as a plugin named after its entry point."""

    def __init__(self, module: types.ModuleType) -> None:
        super().__init__()
        self.module = module

    def tools(self) -> list[BaseTool]:
        """The module's ``maximus_register_tools()``."""
        hook = getattr(self.module, "maximus_register_tools", None)
        return list(hook()) if hook is not None else []

    def graphs(self) -> list[SubGraph]:
        """The module's ``maximus_register_graphs()``."""
        hook = getattr(self.module, "maximus_register_graphs", None)
        return list(hook()) if hook is not None else []


def call_hook(hooks: pluggy.PluginManager, hook: str, plugin: object) -> list[Any]:
    """Call ``hook`` on one registered plugin only, flattening its lists.

    pluggy calls every implementation at once and stops at the first error; the host calls
    them one plugin at a time, so one plugin's error is that plugin's alone.
    """
    results: list[Any] = []
    for impl in getattr(hooks.hook, hook).get_hookimpls():
        if impl.plugin is plugin:
            results.extend(impl.function() or [])
    return results


def directory_source(root: Path) -> PluginSource:
    """The plugin in directory ``root`` (which holds ``plugin.yaml``).

    Raises:
        PluginManifestError: the manifest is missing or malformed.
    """
    root = Path(root)
    if root.name == MANIFEST_FILE:
        root = root.parent
    manifest = read_manifest(root / MANIFEST_FILE)
    if not manifest.entry_point:
        raise PluginManifestError(
            f"{root / MANIFEST_FILE}: a directory plugin needs entry_point: 'module:Class'"
        )
    return PluginSource(manifest, "directory", str(root), root=root.resolve())


def scan_directories(paths: Iterable[Path]) -> Found:
    """Every plugin directory (a folder with ``plugin.yaml``) directly inside ``paths``."""
    sources: list[PluginSource] = []
    failures: list[DiscoveryFailure] = []
    for path in paths:
        path = Path(path)
        if not path.is_dir():
            continue
        for child in sorted(path.iterdir()):
            if not (child / MANIFEST_FILE).is_file():
                continue
            started = time.perf_counter()
            try:
                source = directory_source(child)
                elapsed = (time.perf_counter() - started) * 1000
                sources.append(dataclasses.replace(source, found_ms=elapsed))
            except PluginError as exc:
                failures.append(DiscoveryFailure(child.name, "directory", str(child), exc))
    return sources, failures


def sources_from_object(
    obj: object,
    *,
    origin: Origin,
    location: str,
    hooks: pluggy.PluginManager,
    default_name: str = "",
    default_version: str = "0.0.0",
) -> list[PluginSource]:
    """Describe what an entry point (or a core module) names: a plugin class or instance,
    a module implementing ``maximus_register_plugins``, or a module of tool hooks.

    Raises:
        PluginError: it is none of those, or its manifest is invalid.
    """
    if isinstance(obj, type) and issubclass(obj, BasePlugin):
        target = f"{obj.__module__}:{obj.__qualname__}"
        return [PluginSource(obj.describe(), origin, location, target=target, factory=obj)]
    if isinstance(obj, BasePlugin):
        manifest = type(obj).describe()
        return [PluginSource(manifest, origin, location, factory=lambda: obj)]
    if isinstance(obj, types.ModuleType):
        try:
            if hooks.get_plugin(f"{origin}:{location}") is not obj:  # not on a second scan
                hooks.register(obj, name=f"{origin}:{location}")
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginLoadError(f"{location}: invalid hook implementation: {exc}") from exc
        provided = call_hook(hooks, "maximus_register_plugins", obj)
        if provided:
            found: list[PluginSource] = []
            for item in provided:
                found += sources_from_object(item, origin=origin, location=location, hooks=hooks)
            return found
        if hasattr(obj, "maximus_register_tools") or hasattr(obj, "maximus_register_graphs"):
            name = re.sub(r"[^a-z0-9_]", "_", default_name.lower()) or obj.__name__
            manifest = parse_manifest(
                {"name": name, "version": default_version, "description": obj.__doc__ or ""},
                where=location,
            )
            module = obj
            return [
                PluginSource(
                    manifest,
                    origin,
                    location,
                    target=obj.__name__,
                    factory=lambda: ModulePlugin(module),
                )
            ]
    raise PluginLoadError(
        f"{location}: names a {type(obj).__name__}, not a BasePlugin subclass or a module "
        "with maximus_* hooks"
    )


def scan_entry_points(hooks: pluggy.PluginManager, group: str = ENTRY_POINT_GROUP) -> Found:
    """Plugins of installed packages: each entry point in ``group``, imported."""
    sources: list[PluginSource] = []
    failures: list[DiscoveryFailure] = []
    for ep in sorted(metadata.entry_points(group=group), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        location = f"entry point {ep.name} = {ep.value}" + (f" ({dist.name})" if dist else "")
        started = time.perf_counter()
        try:
            obj = ep.load()
        except (Exception, SystemExit) as exc:
            error = PluginLoadError(
                f"plugin {ep.name!r}: {location} failed to import: {type(exc).__name__}: {exc}"
            )
            failures.append(DiscoveryFailure(ep.name, "entry_point", location, error))
            continue
        try:
            found = sources_from_object(
                obj,
                origin="entry_point",
                location=location,
                hooks=hooks,
                default_name=ep.name,
                default_version=dist.version if dist else "0.0.0",
            )
            elapsed = (time.perf_counter() - started) * 1000 / max(len(found), 1)
            sources += [dataclasses.replace(s, found_ms=elapsed) for s in found]
        except PluginError as exc:
            failures.append(DiscoveryFailure(ep.name, "entry_point", location, exc))
    return sources, failures


def scan_modules(hooks: pluggy.PluginManager, modules: Sequence[str], origin: Origin) -> Found:
    """Plugins registered by importable modules (the core plugins, like datasette's
    ``DEFAULT_PLUGINS``), through ``maximus_register_plugins``."""
    sources: list[PluginSource] = []
    failures: list[DiscoveryFailure] = []
    for name in modules:
        try:
            module = _imports.import_object(name, name)
            sources += sources_from_object(module, origin=origin, location=name, hooks=hooks)
        except PluginError as exc:
            failures.append(DiscoveryFailure(name.rsplit(".", 1)[-1], origin, name, exc))
    return sources, failures


__all__ = [
    "ENTRY_POINT_GROUP",
    "DiscoveryFailure",
    "ModulePlugin",
    "Origin",
    "PluginSource",
    "call_hook",
    "directory_source",
    "scan_directories",
    "scan_entry_points",
    "scan_modules",
]

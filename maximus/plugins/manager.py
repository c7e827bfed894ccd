"""The plugin manager: load, unload, reload and run plugins, and keep the agent's tools in step.

:func:`get_plugin_manager` builds one the way the host does: core plugins first (registered
through the same hooks as everyone else's), then plugin directories, then installed packages'
entry points, loaded in dependency order. A plugin that cannot load is recorded with a clear
error and skipped; the others load. Every loaded plugin's tools, each wrapped in the plugin's
sandbox, are registered in the manager's :class:`~maximus.tools.registry.ToolRegistry` and in
every registry attached to it (``create_agent(plugins=manager)`` attaches the agent's), so a
load, unload or reload changes what the next step of any run sees, without a restart.

Nothing happens at import or in the constructor: :meth:`PluginManager.discover` does the I/O.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

import pluggy
from langchain_core.tools import BaseTool, ToolException

from maximus._closing import Closing
from maximus.config import Settings, get_settings
from maximus.errors import (
    PluginDependencyError,
    PluginError,
    PluginLoadError,
    PluginManifestError,
)
from maximus.plugins import _imports, hookspecs
from maximus.plugins._guards import NetworkGuard
from maximus.plugins._isolation import start_isolated
from maximus.plugins._resolve import plugin_key, resolve
from maximus.plugins._state import (
    STATE_FILE,
    PluginOverride,
    merged_override,
    read_state,
    set_enabled,
)
from maximus.plugins.base import BasePlugin, PluginContext, SubGraph
from maximus.plugins.discovery import (
    ENTRY_POINT_GROUP,
    DiscoveryFailure,
    PluginSource,
    call_hook,
    directory_source,
    scan_directories,
    scan_entry_points,
    scan_modules,
)
from maximus.plugins.manifest import PluginManifest, PluginType, validate_config
from maximus.plugins.sandbox import Sandbox, SandboxPolicy
from maximus.tools.registry import ToolRegistry


class PluginState(StrEnum):
    """Where a plugin is in its life."""

    LOADED = "loaded"
    DISABLED = "disabled"
    FAILED = "failed"
    UNLOADED = "unloaded"


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A snapshot of one plugin, as :meth:`PluginManager.list_plugins` reports it."""

    name: str
    state: PluginState
    origin: str
    location: str
    version: str | None = None
    type: PluginType | None = None
    description: str = ""
    error: str | None = None
    """Why it failed (or what went wrong in its last unload)."""
    tools: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    isolation: str = "inprocess"
    load_ms: float | None = None
    """Time to find it (manifest or entry point), import, initialize and register it."""
    manifest: PluginManifest | None = None


@dataclass(slots=True)
class _Record:
    name: str
    source: PluginSource | None
    state: PluginState
    failure: DiscoveryFailure | None = None
    error: PluginError | None = None
    plugin: BasePlugin | None = None
    sandbox: Sandbox | None = None
    tools: list[BaseTool] = field(default_factory=list)
    load_ms: float | None = None
    isolation: str | None = None
    """Where it runs once started: ``inprocess`` or ``process``."""

    def info(self) -> PluginInfo:
        manifest = self.source.manifest if self.source else None
        return PluginInfo(
            name=self.name,
            state=self.state,
            origin=self.source.origin if self.source else self.failure.origin,  # type: ignore[union-attr]
            location=self.source.location if self.source else self.failure.location,  # type: ignore[union-attr]
            version=manifest.version if manifest else None,
            type=manifest.type if manifest else None,
            description=manifest.description if manifest else "",
            error=self.error.message if self.error else None,
            tools=tuple(t.name for t in self.tools),
            requires=manifest.requires if manifest else (),
            isolation=self.isolation or _declared_isolation(self.source),
            load_ms=self.load_ms,
            manifest=manifest,
        )


class PluginManager(Closing):
    """Loads plugins and owns the tools they contribute.

    Args:
        registry: where plugin tools go; a new one by default (see :meth:`attach` for more).
        data_dir: the base of plugin directories and the state file; the settings' by default.
        paths: directories to scan for plugin directories.
        state_file: the enable/disable and override file; ``<data_dir>/plugins.json`` by
            default.
        entry_point_group: the entry-point group of packaged plugins; ``None`` skips them.
        core: load the core plugins.
        overrides: per plugin, a configuration and permissions or limits that replace the
            manifest's (merged over the state file's).
    """

    def __init__(
        self,
        registry: ToolRegistry | None = None,
        *,
        data_dir: Path | None = None,
        paths: Iterable[Path] = (),
        state_file: Path | None = None,
        entry_point_group: str | None = ENTRY_POINT_GROUP,
        core: bool = True,
        overrides: Mapping[str, PluginOverride | Mapping[str, Any]] | None = None,
    ) -> None:
        self.registry = registry if registry is not None else ToolRegistry()
        self.hooks = pluggy.PluginManager(hookspecs.PROJECT)
        self.hooks.add_hookspecs(hookspecs)
        self.paths = [Path(p) for p in paths]
        self.entry_point_group = entry_point_group
        self.core = core
        self._data_dir = data_dir
        self._state_file = state_file
        self._overrides = {
            k: v if isinstance(v, PluginOverride) else PluginOverride.model_validate(v)
            for k, v in (overrides or {}).items()
        }
        self._records: dict[str, _Record] = {}
        self._rejected: list[_Record] = []
        self._attached: weakref.WeakSet[ToolRegistry] = weakref.WeakSet()
        self._lock = threading.RLock()

    # --- where things are -----------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        """The base directory (read from the settings on first use)."""
        if self._data_dir is None:
            self._data_dir = get_settings().data_dir
        return self._data_dir

    @property
    def state_file(self) -> Path:
        """The file that keeps enable/disable decisions and overrides."""
        return self._state_file or self.data_dir / STATE_FILE

    def plugin_dir(self, name: str) -> Path:
        """The private directory of plugin ``name`` (for the filesystem permission)."""
        return self.data_dir / "plugin-data" / name

    # --- discovery and loading ------------------------------------------------------------

    def discover(self) -> list[PluginInfo]:
        """Find every plugin (core, directories, entry points) and load the enabled ones in
        dependency order. Never raises for a plugin: each failure is in its record."""
        from maximus.plugins.core import DEFAULT_PLUGINS

        found: list[PluginSource] = []
        failures: list[DiscoveryFailure] = []
        scans = [scan_directories(self.paths)]
        if self.core:
            scans.insert(0, scan_modules(self.hooks, DEFAULT_PLUGINS, "core"))
        if self.entry_point_group:
            scans.append(scan_entry_points(self.hooks, self.entry_point_group))
        for sources, failed in scans:
            found += sources
            failures += failed
        with self._lock:
            disabled = self._disabled()
            for failure in failures:
                state = PluginState.DISABLED if failure.name in disabled else PluginState.FAILED
                self._store(_Record(failure.name, None, state, failure, failure.error))
            self._load_sources(found, strict=False)
            return self.list_plugins()

    def load_plugin(self, path: str | Path) -> PluginInfo:
        """Load the plugin in directory ``path`` (the folder holding ``plugin.yaml``).

        Raises:
            PluginError: it cannot load; the message says why, and it is recorded as failed.
        """
        started = time.perf_counter()
        try:
            source = directory_source(Path(path))
            source = dataclasses.replace(source, found_ms=(time.perf_counter() - started) * 1000)
        except PluginManifestError as exc:
            with self._lock:
                failure = DiscoveryFailure(Path(path).name, "directory", str(path), exc)
                self._store(_Record(failure.name, None, PluginState.FAILED, failure, exc))
            raise
        return self._load_one(source)

    def register_plugin(
        self,
        plugin: BasePlugin | type[BasePlugin],
        *,
        manifest: PluginManifest | Mapping[str, Any] | None = None,
    ) -> PluginInfo:
        """Load a plugin object or class (its class attributes are its manifest, unless
        ``manifest`` is given).

        Raises:
            PluginError: it cannot load.
        """
        cls = plugin if isinstance(plugin, type) else type(plugin)
        if manifest is None:
            declared = cls.describe()
        elif isinstance(manifest, PluginManifest):
            declared = manifest
        else:
            from maximus.plugins.manifest import parse_manifest

            declared = parse_manifest(manifest, where=f"{cls.__module__}.{cls.__qualname__}")
        factory = plugin if isinstance(plugin, type) else (lambda: plugin)
        target = f"{cls.__module__}:{cls.__qualname__}" if isinstance(plugin, type) else None
        location = f"{cls.__module__}.{cls.__qualname__}"
        return self._load_one(
            PluginSource(declared, "object", location, target=target, factory=factory)
        )

    def _load_one(self, source: PluginSource) -> PluginInfo:
        with self._lock:
            self._load_sources([source], strict=True)
            return self._records[source.name].info()

    def _load_sources(self, sources: Iterable[PluginSource], *, strict: bool) -> None:
        disabled = self._disabled()
        candidates: dict[str, PluginSource] = {}
        for source in sources:
            other = candidates.get(source.name) or self._live_source(source.name)
            if other is not None and other.location == source.location and other is not source:
                continue  # found again by a second discover(): it is already there
            if other is not None:
                error = PluginDependencyError(
                    f"duplicate plugin name {source.name!r}: {source.location} and "
                    f"{other.location}; the second is not loaded"
                )
                self._rejected = [
                    r for r in self._rejected if r.info().location != source.location
                ] + [_Record(source.name, source, PluginState.FAILED, error=error)]
                if strict:
                    raise error
                continue
            if source.name in disabled:
                self._store(_Record(source.name, source, PluginState.DISABLED))
                continue
            candidates[source.name] = source
        loaded = {
            n: r.source.manifest.version
            for n, r in self._records.items()
            if r.state is PluginState.LOADED and r.source is not None
        }
        blocked = {n: "is disabled" for n in disabled} | {
            n: f"failed to load ({r.error.message})"
            for n, r in self._records.items()
            if r.state is PluginState.FAILED and r.error is not None and n not in candidates
        }
        order, errors = resolve(
            {n: s.manifest for n, s in candidates.items()},
            maximus_version=_maximus_version(),
            loaded=loaded,
            blocked=blocked,
        )
        for name, error in errors.items():
            self._store(_Record(name, candidates[name], PluginState.FAILED, error=error))
        for name in order:
            record = _Record(name, candidates[name], PluginState.UNLOADED)
            self._store(record)
            self._activate(record)
        if strict:
            for source in candidates.values():
                record = self._records[source.name]
                if record.state is PluginState.FAILED and record.error is not None:
                    raise record.error

    def _activate(self, record: _Record) -> None:
        source = record.source
        assert source is not None
        for req in source.manifest.requirements():
            dep = self._records.get(plugin_key(req.name))
            if dep is None or dep.state is not PluginState.LOADED:
                state = "is missing" if dep is None else f"is {dep.state.value}"
                self._fail(record, PluginDependencyError(
                    f"plugin {record.name!r} requires {req.name!r}, which {state}"
                ))  # fmt: skip
                return
        started = time.perf_counter()
        try:
            self._start(record)
        except PluginError as exc:
            self._fail(record, exc)
            return
        record.load_ms = source.found_ms + (time.perf_counter() - started) * 1000
        record.state, record.error = PluginState.LOADED, None

    def _start(self, record: _Record) -> None:
        source = record.source
        assert source is not None
        override = self._override(record.name)
        manifest = override.apply(source.manifest)
        config = validate_config(manifest, override.config)
        data_dir = None
        if manifest.permissions.filesystem:
            data_dir = self.plugin_dir(record.name)
            data_dir.mkdir(parents=True, exist_ok=True)
        network = NetworkGuard(manifest.permissions.network, record.name)
        context = PluginContext(record.name, manifest, config, data_dir, network)
        record.isolation = isolation_for(manifest, trusted=_trusted(source, override))
        if record.isolation == "process":
            plugin, sandbox = start_isolated(source, manifest, context)
        else:
            sandbox = Sandbox(
                SandboxPolicy.from_manifest(manifest, data_dir=data_dir, code_dir=source.root)
            )
            plugin = source.construct()
            plugin.bind(context)
            ready = self._guarded(sandbox, plugin.initialize, record.name, "initialize()")
            if ready is not True:
                raise PluginLoadError(f"plugin {record.name!r}: initialize() returned {ready!r}")
        record.plugin, record.sandbox = plugin, sandbox
        try:
            self.hooks.register(plugin, name=record.name)
            found = self._guarded(sandbox, self._collect, record.name, "tools()", plugin)
            record.tools = [sandbox.wrap(t) for t in found]
            self._register_tools(record)
        except (PluginError, ValueError, pluggy.PluginValidationError) as exc:
            self._stop(record)
            if isinstance(exc, PluginError):
                raise
            raise PluginLoadError(f"plugin {record.name!r}: {exc}") from exc

    def _collect(self, plugin: BasePlugin) -> list[BaseTool]:
        tools: list[BaseTool] = call_hook(self.hooks, "maximus_register_tools", plugin)
        graphs: list[SubGraph] = call_hook(self.hooks, "maximus_register_graphs", plugin)
        return tools + [g.as_tool() for g in graphs]

    @staticmethod
    def _guarded(sandbox: Sandbox, fn: Any, name: str, what: str, *args: Any) -> Any:
        try:
            return sandbox.run(fn, *args, what=what)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginLoadError(
                f"plugin {name!r}: {what} raised {type(exc).__name__}: {exc}"
            ) from exc

    def _register_tools(self, record: _Record) -> None:
        names = [t.name for t in record.tools]
        if len(set(names)) != len(names):
            raise PluginLoadError(f"plugin {record.name!r} has two tools of one name: {names}")
        for registry in self._registries():
            for tool_name in names:
                if tool_name in registry:
                    owner = (registry.get(tool_name).metadata or {}).get("plugin")
                    by = f"plugin {owner!r}" if owner else "a tool that is not a plugin's"
                    raise PluginLoadError(
                        f"plugin {record.name!r}: its tool {tool_name!r} is already "
                        f"registered by {by}"
                    )
        for registry in self._registries():
            for tool in record.tools:
                registry.register(tool)

    def _registries(self) -> list[ToolRegistry]:
        return [self.registry, *(r for r in self._attached if r is not self.registry)]

    def _fail(self, record: _Record, error: PluginError) -> None:
        record.state, record.error = PluginState.FAILED, error

    def _stop(self, record: _Record) -> str | None:
        """Undo :meth:`_start`: tools out, hooks out, ``cleanup()``; the cleanup error."""
        problem = None
        for registry in self._registries():
            for tool in record.tools:
                if tool.name in registry and registry.get(tool.name) is tool:
                    registry.unregister(tool.name)
        record.tools = []
        plugin, sandbox = record.plugin, record.sandbox
        if plugin is not None:
            if self.hooks.is_registered(plugin):
                self.hooks.unregister(plugin)
            if sandbox is not None:
                try:
                    sandbox.run(plugin.cleanup, what="cleanup()")
                except Exception as exc:
                    problem = f"cleanup() raised {type(exc).__name__}: {exc}"
        if record.source is not None and record.source.origin == "directory":
            _imports.purge(record.name)
        record.plugin = record.sandbox = None
        return problem

    # --- unload, reload, run --------------------------------------------------------------

    def unload_plugin(self, name: str, *, cascade: bool = False) -> PluginInfo:
        """Unload a plugin: its tools leave every registry, then ``cleanup()`` runs.

        Args:
            name: the plugin.
            cascade: also unload the loaded plugins that require it (else that is an error).

        Raises:
            PluginError: it is not loaded, or loaded plugins require it.
        """
        with self._lock:
            record = self._loaded(name)
            dependents = self._dependents(name)
            if dependents and not cascade:
                raise PluginDependencyError(
                    f"cannot unload {name!r}: loaded plugins require it: "
                    f"{', '.join(dependents)} (unload them first, or pass cascade=True)"
                )
            for dependent in dependents:
                self.unload_plugin(dependent, cascade=True)
            problem = self._stop(record)
            record.state = PluginState.UNLOADED
            record.error = PluginError(f"plugin {name!r}: {problem}") if problem else None
            return record.info()

    def reload_plugin(self, name: str) -> PluginInfo:
        """Unload and load a plugin again: a new instance, and for a directory plugin its
        manifest and code read afresh (a packaged plugin's code stays as imported).

        The new version is checked against the plugins that require it before the old one is
        unloaded; if it does not fit, the old one keeps running.

        Raises:
            PluginError: the plugin is unknown, its new manifest is invalid or conflicts, or
                it fails to load (it is then recorded as failed).
        """
        with self._lock:
            record = self._known(name)
            assert record.source is not None
            source = record.source
            if source.origin == "directory" and source.root is not None:
                source = directory_source(source.root)
                if source.name != name:
                    raise PluginManifestError(
                        f"plugin {name!r}: its manifest now names it {source.name!r}"
                    )
            for dependent in self._dependents(name):
                dep_source = self._records[dependent].source
                assert dep_source is not None
                for req in dep_source.manifest.requirements():
                    if plugin_key(req.name) == name and not req.specifier.contains(
                        source.manifest.version, prereleases=True
                    ):
                        raise PluginDependencyError(
                            f"cannot reload {name!r} as {source.manifest.version}: plugin "
                            f"{dependent!r} requires '{req}'; {record.source.manifest.version} "
                            "keeps running"
                        )
            if record.state is PluginState.LOADED:
                self._stop(record)
            record.source, record.state = source, PluginState.UNLOADED
            self._activate(record)
            if record.state is PluginState.FAILED and record.error is not None:
                raise record.error
            return record.info()

    def execute_plugin(self, name: str, context: Mapping[str, Any]) -> Any:
        """Call the plugin's ``execute(context)`` in its sandbox.

        Raises:
            PluginError: it is not loaded, it raised, or it broke a limit.
        """
        with self._lock:
            record = self._loaded(name)
            plugin, sandbox = record.plugin, record.sandbox
        assert plugin is not None and sandbox is not None
        try:
            result = sandbox.run(plugin.execute, dict(context), what="execute()")
        except PluginError:
            raise
        except ToolException as exc:
            raise PluginError(str(exc)) from exc
        except Exception as exc:
            raise PluginError(
                f"plugin {name!r}: execute() raised {type(exc).__name__}: {exc}"
            ) from exc
        sandbox.check_output(result, tool="execute()")
        return result

    # --- enable / disable -----------------------------------------------------------------

    def disable(self, name: str) -> PluginInfo:
        """Disable a plugin from now on (saved in the state file); unload it if loaded,
        with the plugins that require it."""
        with self._lock:
            record = self._records.get(name)
            if record is None:
                raise PluginError(f"no plugin named {name!r}; known: {sorted(self._records)}")
            set_enabled(self.state_file, name, False)
            if record.state is PluginState.LOADED:
                self.unload_plugin(name, cascade=True)
            record.state, record.error = PluginState.DISABLED, None
            return record.info()

    def enable(self, name: str) -> PluginInfo:
        """Enable a plugin from now on (saved in the state file) and load it.

        Raises:
            PluginError: it is unknown, or it fails to load.
        """
        with self._lock:
            record = self._known(name)
            set_enabled(self.state_file, name, True)
            if record.state is not PluginState.LOADED and record.source is not None:
                record.state, record.error = PluginState.UNLOADED, None
                self._load_sources([record.source], strict=True)
            return self._records[name].info()

    # --- queries --------------------------------------------------------------------------

    def list_plugins(self) -> list[PluginInfo]:
        """Every plugin seen, with its state and error, sorted by name."""
        with self._lock:
            records = [*self._records.values(), *self._rejected]
            return [r.info() for r in sorted(records, key=lambda r: r.name)]

    def info(self, name: str) -> PluginInfo:
        """One plugin's record (also of one that failed before it could be described).

        Raises:
            PluginError: no plugin of that name was seen.
        """
        with self._lock:
            record = self._records.get(name)
            if record is None:
                raise PluginError(f"no plugin named {name!r}; known: {sorted(self._records)}")
            return record.info()

    def get(self, name: str) -> BasePlugin:
        """The loaded plugin object.

        Raises:
            PluginError: it is not loaded.
        """
        plugin = self._loaded(name).plugin
        assert plugin is not None
        return plugin

    def tools(self) -> list[BaseTool]:
        """Every loaded plugin's (sandboxed) tools."""
        with self._lock:
            return [t for r in self._records.values() for t in r.tools]

    def attach(self, registry: ToolRegistry) -> ToolRegistry:
        """Keep ``registry`` in step with the plugins: their tools are added now, and on
        every later load, unload and reload (held weakly: a dropped agent is forgotten).

        Raises:
            PluginError: a plugin tool's name is already taken in ``registry``.
        """
        with self._lock:
            if registry is self.registry or registry in self._attached:
                return registry
            clashes = [t.name for t in self.tools() if t.name in registry]
            if clashes:
                raise PluginError(f"plugin tools {clashes} clash with tools of the registry")
            for tool in self.tools():
                registry.register(tool)
            self._attached.add(registry)
            return registry

    def close(self) -> None:
        """Unload every plugin (in reverse order of loading), stopping worker processes."""
        with self._lock:
            for record in reversed(list(self._records.values())):
                if record.state is PluginState.LOADED:
                    self._stop(record)
                    record.state = PluginState.UNLOADED

    async def __aenter__(self) -> PluginManager:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- helpers --------------------------------------------------------------------------

    def _store(self, record: _Record) -> None:
        self._records[record.name] = record

    def _live_source(self, name: str) -> PluginSource | None:
        record = self._records.get(name)
        if record is None or record.source is None or record.state is PluginState.FAILED:
            return None
        if record.state is PluginState.UNLOADED:
            return None  # loading it again under the same name is a reload, not a duplicate
        return record.source

    def _known(self, name: str) -> _Record:
        record = self._records.get(name)
        if record is None or record.source is None:
            if record is not None and record.error is not None:
                raise PluginError(f"plugin {name!r} cannot load: {record.error.message}")
            raise PluginError(f"no plugin named {name!r}; known: {sorted(self._records)}")
        return record

    def _loaded(self, name: str) -> _Record:
        record = self._known(name)
        if record.state is not PluginState.LOADED:
            why = f": {record.error.message}" if record.error else ""
            raise PluginError(f"plugin {name!r} is not loaded (it is {record.state}){why}")
        return record

    def _dependents(self, name: str) -> list[str]:
        return [
            other
            for other, r in self._records.items()
            if r.state is PluginState.LOADED
            and r.source is not None
            and any(plugin_key(q.name) == name for q in r.source.manifest.requirements())
        ]

    def _disabled(self) -> set[str]:
        return set(read_state(self.state_file).disabled)

    def _override(self, name: str) -> PluginOverride:
        return merged_override(self.state_file, self._overrides.get(name), name)


def isolation_for(manifest: PluginManifest, *, trusted: bool) -> str:
    """Where a plugin runs: in a worker process unless it is trusted (core, or marked
    ``trusted`` by the operator) and does not ask for process isolation itself."""
    if not trusted:
        return "process"
    return manifest.permissions.isolation or "inprocess"


def _trusted(source: PluginSource, override: PluginOverride) -> bool:
    return source.origin == "core" or bool(override.trusted)


def _declared_isolation(source: PluginSource | None) -> str:
    if source is None:
        return "process"
    trusted = source.origin == "core"
    return isolation_for(source.manifest, trusted=trusted)


def _maximus_version() -> str:
    from maximus._version import __version__

    return __version__


def get_plugin_manager(
    settings: Settings | None = None,
    *,
    registry: ToolRegistry | None = None,
    paths: Iterable[Path] | None = None,
    **options: Any,
) -> PluginManager:
    """A manager with every enabled plugin loaded: the core plugins first, then plugin
    directories (``./plugins``, ``<data_dir>/plugins`` and ``paths``), then installed
    packages' entry points in the ``maximus.plugins`` group.

    Args:
        settings: the settings (for the data directory); read from the environment if
            ``None``.
        registry: where plugin tools go (see :class:`PluginManager`).
        paths: more directories to scan.
        **options: passed to :class:`PluginManager`.
    """
    data_dir = (settings or get_settings()).data_dir
    scan = [Path("plugins"), data_dir / "plugins", *(paths or ())]
    manager = PluginManager(registry, data_dir=data_dir, paths=scan, **options)
    manager.discover()
    return manager


__all__ = ["PluginInfo", "PluginManager", "PluginState", "get_plugin_manager", "isolation_for"]

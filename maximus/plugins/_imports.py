"""Importing plugin code: a directory plugin's module under a private package, or an object
named ``module:qualname``. Shared by the manager and the isolation worker."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import Any

from maximus.errors import PluginLoadError


def package_name(plugin: str) -> str:
    """The private package a directory plugin's modules are imported under."""
    return f"_maximus_plugin_{plugin}"


def purge(plugin: str) -> None:
    """Forget a directory plugin's modules, so the next import reads the files again."""
    package = package_name(plugin)
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


def resolve_attr(module: Any, qualname: str) -> Any:
    """``module.<qualname>``, following dots."""
    target = module
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def import_from_directory(root: Path, entry_point: str, plugin: str) -> Any:
    """Import ``module:attr`` from the plugin directory ``root``, fresh.

    The directory becomes the private package ``_maximus_plugin_<name>``, so plugins can use
    relative imports, two plugins may both have a ``plugin.py``, and nothing is added to
    ``sys.path``.

    Raises:
        PluginLoadError: the import failed, or the module has no such attribute.
    """
    module_name, _, attr = entry_point.partition(":")
    package = package_name(plugin)
    purge(plugin)
    importlib.invalidate_caches()
    shell = types.ModuleType(package, f"Maximus plugin {plugin!r} from {root}")
    shell.__path__ = [str(root)]
    shell.__package__ = package
    sys.modules[package] = shell
    try:
        module = importlib.import_module(f"{package}.{module_name}")
        return resolve_attr(module, attr)
    except (Exception, SystemExit) as exc:  # SystemExit too: a plugin may not exit us
        purge(plugin)
        raise PluginLoadError(
            f"plugin {plugin!r}: importing {entry_point!r} from {root} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def import_object(target: str, plugin: str) -> Any:
    """Import the object named ``module:qualname`` (or a bare module name).

    Raises:
        PluginLoadError: the import failed.
    """
    module_name, _, qualname = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        return resolve_attr(module, qualname) if qualname else module
    except (Exception, SystemExit) as exc:  # SystemExit too: a plugin may not exit us
        raise PluginLoadError(
            f"plugin {plugin!r}: importing {target!r} failed: {type(exc).__name__}: {exc}"
        ) from exc


__all__ = ["import_from_directory", "import_object", "package_name", "purge", "resolve_attr"]

"""Load order: requirements checked and sorted topologically, as pure functions.

Every problem is reported against the plugin it belongs to, as a
:class:`~maximus.errors.PluginDependencyError`, and only that plugin (and what requires it)
is left out: a missing requirement, a version that does not match, a cycle, a plugin that
does not support this Maximus version.
"""

from __future__ import annotations

import graphlib
from collections.abc import Mapping

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from maximus.errors import PluginDependencyError
from maximus.plugins.manifest import PluginManifest


def plugin_key(name: str) -> str:
    """A requirement's name as a plugin name (``my-plugin`` and ``My_Plugin`` are one)."""
    return canonicalize_name(name).replace("-", "_")


def _unmet(
    plugin: str,
    req: Requirement,
    versions: Mapping[str, str],
    blocked: Mapping[str, str],
) -> PluginDependencyError | None:
    dep = plugin_key(req.name)
    if dep in versions:
        version = versions[dep]
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            return PluginDependencyError(
                f"plugin {plugin!r} requires '{req}', but {dep} {version} is the one available"
            )
        return None
    if dep in blocked:
        return PluginDependencyError(f"plugin {plugin!r} requires {dep!r}, which {blocked[dep]}")
    return PluginDependencyError(f"plugin {plugin!r} requires '{req}', which is not installed")


def resolve(
    candidates: Mapping[str, PluginManifest],
    *,
    maximus_version: str,
    loaded: Mapping[str, str] | None = None,
    blocked: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str, PluginDependencyError]]:
    """The order to load ``candidates`` in, and the error of each that cannot load.

    Args:
        candidates: manifests by plugin name, in discovery order.
        maximus_version: the running Maximus version, checked against ``maximus``.
        loaded: plugins already loaded (name to version); they satisfy requirements.
        blocked: plugins that will not load (name to the reason, e.g. ``"is disabled"``).

    Returns:
        Names to load, every requirement before what requires it; and the errors.
    """
    errors: dict[str, PluginDependencyError] = {}
    for name, manifest in candidates.items():
        if manifest.maximus and not manifest.supports(maximus_version):
            errors[name] = PluginDependencyError(
                f"plugin {name!r} supports maximus {manifest.maximus}, not {maximus_version}"
            )
    requirements = {name: m.requirements() for name, m in candidates.items()}
    while True:
        _propagate(candidates, requirements, errors, loaded or {}, blocked or {})
        graph = {
            name: [plugin_key(r.name) for r in requirements[name]]
            for name in candidates
            if name not in errors
        }
        sorter = graphlib.TopologicalSorter(
            {name: [d for d in deps if d in graph] for name, deps in graph.items()}
        )
        try:
            order = list(sorter.static_order())
        except graphlib.CycleError as exc:
            cycle: list[str] = exc.args[1]
            shown = " -> ".join(cycle)
            for member in cycle:
                errors[member] = PluginDependencyError(
                    f"plugin {member!r} is in a dependency cycle: {shown}"
                )
            continue
        return order, errors


def _propagate(
    candidates: Mapping[str, PluginManifest],
    requirements: Mapping[str, list[Requirement]],
    errors: dict[str, PluginDependencyError],
    loaded: Mapping[str, str],
    blocked: Mapping[str, str],
) -> None:
    """Mark every plugin whose requirements cannot be met, until nothing changes."""
    changed = True
    while changed:
        changed = False
        versions = {
            **loaded,
            **{n: m.version for n, m in candidates.items() if n not in errors},
        }
        unavailable = {
            **blocked,
            **{n: f"cannot load ({errors[n].message})" for n in errors},
        }
        for name in candidates:
            if name in errors:
                continue
            for req in requirements[name]:
                problem = _unmet(name, req, versions, unavailable)
                if problem is not None:
                    errors[name] = problem
                    changed = True
                    break


__all__ = ["plugin_key", "resolve"]

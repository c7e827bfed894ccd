"""The core plugins. Each module registers its plugin through ``maximus_register_plugins``,
the same hook third-party modules use (as datasette registers its ``DEFAULT_PLUGINS``)."""

DEFAULT_PLUGINS: tuple[str, ...] = (
    "maximus.plugins.core.calculator",
    "maximus.plugins.core.clock",
    "maximus.plugins.core.http_fetch",
    "maximus.plugins.core.files",
    "maximus.plugins.core.json_query",
    "maximus.plugins.core.text_stats",
)
"""Modules of the core plugins, registered before directories and entry points."""

__all__ = ["DEFAULT_PLUGINS"]

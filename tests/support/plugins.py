"""Building plugins for tests: plugin directories, and installed-looking distributions."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml

from maximus.plugins import PluginManager


def plugin_code(
    tool_name: str,
    body: str = "return 'ok:' + text",
    *,
    init: str = "return True",
    header: str = "",
    cls: str = "Plugin",
) -> str:
    """Source of a plugin class with one tool ``tool_name(text: str = "")``."""
    return textwrap.dedent(
        f'''\
        import os, socket, sys, time
        from langchain_core.tools import tool
        from maximus.plugins import BasePlugin
        {header}

        class {cls}(BasePlugin):
            def initialize(self):
                {init}

            def tools(self):
                @tool
                def {tool_name}(text: str = "") -> str:
                    """The {tool_name} tool."""
                    {body}

                return [{tool_name}]
        '''
    )


def write_plugin(parent: Path, name: str, code: str | None = None, **manifest: Any) -> Path:
    """A plugin directory ``parent/name`` with a manifest and ``plugin.py``."""
    root = parent / name
    root.mkdir(parents=True, exist_ok=True)
    data = {"name": name, "version": "1.0.0", "entry_point": "plugin:Plugin", **manifest}
    (root / "plugin.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    source = code if code is not None else plugin_code(f"{name}_tool")
    (root / "plugin.py").write_text(source, encoding="utf-8")
    return root


def fake_distribution(
    site: Path, dist: str, entry_points: dict[str, str], modules: dict[str, str]
) -> None:
    """Files of an installed distribution in ``site``: its modules, and a ``.dist-info`` with
    ``maximus.plugins`` entry points (what ``pip install`` writes)."""
    for module, source in modules.items():
        path = site / (module.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[maximus.plugins]\n{lines}", encoding="utf-8")


def manager(tmp_path: Path, *paths: Path, **options: Any) -> PluginManager:
    """A manager over ``paths`` only (no core plugins, no entry points unless asked)."""
    options.setdefault("core", False)
    options.setdefault("entry_point_group", None)
    return PluginManager(data_dir=tmp_path / "data", paths=paths, **options)


__all__ = ["fake_distribution", "manager", "plugin_code", "write_plugin"]

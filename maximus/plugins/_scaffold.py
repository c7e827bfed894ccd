"""``maximus plugins new NAME``: write a working plugin directory to start from."""

from __future__ import annotations

from pathlib import Path

from maximus.errors import PluginError
from maximus.plugins.manifest import NAME_PATTERN, PluginType

_MANIFEST = """\
# The manifest: docs/plugins.md lists every field.
name: {name}
version: 0.1.0
type: {type}
description: {description}
entry_point: plugin:{cls}
maximus: ">=0.1"
requires: []
permissions:
  filesystem: false      # true: one private directory (context.data_dir)
  network: null          # or {{hosts: ["api.example.com"], allow_private: []}}
  native: false          # true: may load native code (ctypes, cffi, its own .so files)
  # isolation: a worker subprocess unless the operator marks the plugin trusted
limits:
  timeout_s: 10
  max_output_bytes: 100000
config_schema:
  type: object
  properties:
    greeting: {{type: string, default: Hello}}
"""

_PLUGIN = '''\
"""{description}"""

from __future__ import annotations

from langchain_core.tools import BaseTool, ToolException, tool

from maximus.plugins import BasePlugin


class {cls}(BasePlugin):
    """{description}"""

    def initialize(self) -> bool:
        # Open connections or check configuration here; return False to refuse to load.
        return True

    def tools(self) -> list[BaseTool]:
        greeting = self.config.get("greeting", "Hello")

        @tool
        def {name}_greet(who: str) -> str:
            """Greet someone by name."""
            if not who.strip():
                raise ToolException("say who to greet")  # the model reads this message
            return f"{{greeting}}, {{who}}!"

        return [{name}_greet]

    def cleanup(self) -> None:
        # Release what initialize() acquired.
        pass
'''

_TEST = '''\
"""Tests of the {name} plugin: load it as Maximus does and call its tool."""

from pathlib import Path

from maximus.plugins import PluginManager, PluginState

HERE = Path(__file__).parent


def test_loads_and_greets(tmp_path: Path) -> None:
    manager = PluginManager(data_dir=tmp_path, core=False, entry_point_group=None)
    info = manager.load_plugin(HERE)
    assert info.state is PluginState.LOADED
    assert manager.registry.get("{name}_greet").invoke({{"who": "Ada"}}) == "Hello, Ada!"
    manager.close()
'''


def scaffold(
    name: str,
    directory: Path,
    plugin_type: PluginType = PluginType.PROCESSING,
    description: str = "",
) -> Path:
    """Create ``directory/name`` with a manifest, a plugin with one tool, and a test.

    Raises:
        PluginError: the name is not valid, or the folder exists.
    """
    if not NAME_PATTERN.match(name):
        raise PluginError(
            f"{name!r} is not a valid plugin name: lower case letters, digits and '_', "
            "starting with a letter"
        )
    root = Path(directory) / name
    if root.exists():
        raise PluginError(f"{root} already exists")
    cls = "".join(part.title() for part in name.split("_")) + "Plugin"
    fields = {
        "name": name,
        "cls": cls,
        "type": plugin_type.value,
        "description": description or f"The {name} plugin.",
    }
    root.mkdir(parents=True)
    (root / "plugin.yaml").write_text(_MANIFEST.format(**fields), encoding="utf-8")
    (root / "plugin.py").write_text(_PLUGIN.format(**fields), encoding="utf-8")
    (root / "test_plugin.py").write_text(_TEST.format(**fields), encoding="utf-8")
    return root


__all__ = ["scaffold"]

"""The manager: discovery, dependency order, every bad case isolated to its plugin, hot
load/unload/reload, execute, enable/disable, and entry points."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from maximus.errors import (
    PluginDependencyError,
    PluginError,
    PluginLoadError,
    PluginManifestError,
    PluginTimeoutError,
)
from maximus.plugins import PluginManager, PluginState, PluginType
from maximus.plugins._scaffold import scaffold
from maximus.tools.registry import ToolRegistry
from tests.support.plugins import fake_distribution, manager, plugin_code, write_plugin


def states(pm: PluginManager) -> dict[str, str]:
    return {i.name: pm.info(i.name).state.value for i in pm.list_plugins()}


def errors(pm: PluginManager) -> dict[str, str]:
    return {i.name: i.error for i in pm.list_plugins() if i.error and "duplicate" not in i.error}


def call(pm: PluginManager, tool: str, text: str = "") -> str:
    return str(pm.registry.get(tool).invoke({"text": text}))


def test_discovery_loads_directories_in_dependency_order(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    write_plugin(plugins, "app", requires=["db>=1.0", "base"])
    write_plugin(plugins, "db", version="1.4.0", requires=["base"])
    write_plugin(plugins, "base")
    pm = manager(tmp_path, plugins)
    pm.discover()
    assert states(pm) == {"app": "loaded", "base": "loaded", "db": "loaded"}
    # Tools are registered as each plugin loads: requirements first.
    assert [t.name for t in pm.registry.tools()] == ["base_tool", "db_tool", "app_tool"]
    assert call(pm, "app_tool", "x") == "ok:x"
    info = pm.info("db")
    assert info.version == "1.4.0" and info.origin == "directory" and info.load_ms is not None
    pm.close()
    assert len(pm.registry) == 0 and states(pm)["app"] == "unloaded"


BAD_PLUGINS = {
    "malformed": ("plugin.yaml", "name: malformed\nversion: [1\n", "not valid YAML"),
    "bad_import": ("plugin.py", "import no_such_module_anywhere\n", "No module named"),
    "at_import": ("plugin.py", "raise RuntimeError('boom at import')\n", "boom at import"),
    "exits": ("plugin.py", "import sys\nsys.exit(4)\n", "SystemExit: 4"),
}


def test_every_bad_plugin_gets_a_clear_error_and_the_others_still_work(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    write_plugin(plugins, "good")
    for name, (file, content, _) in BAD_PLUGINS.items():
        write_plugin(plugins / "", name)
        (plugins / name / file).write_text(content)
    write_plugin(plugins, "init_false", plugin_code("t1", init="return False"))
    write_plugin(plugins, "init_raises", plugin_code("t2", init="raise ValueError('no key')"))
    write_plugin(plugins, "init_hangs", plugin_code("t3", init="time.sleep(5)"),
                 limits={"timeout_s": 0.3})  # fmt: skip
    write_plugin(plugins, "ping", requires=["pong"])
    write_plugin(plugins, "pong", requires=["ping"])
    write_plugin(plugins, "old", version="0.5.0")
    write_plugin(plugins, "wants_new", requires=["old>=1.0"])
    write_plugin(plugins, "orphan", requires=["ghost"])
    write_plugin(plugins, "on_bad", requires=["init_false"])
    write_plugin(plugins, "future", maximus=">=9")
    write_plugin(plugins, "no_tools", "class Plugin:\n    pass\n")
    write_plugin(plugins, "z_clash", plugin_code("good_tool"))  # loads after "good"
    write_plugin(tmp_path / "more", "good")  # a duplicate name in a second directory
    write_plugin(plugins, "huge", plugin_code("huge_tool", "return 'x' * (50 << 20)"))
    write_plugin(plugins, "hangs", plugin_code("hang_tool", "time.sleep(5); return 'late'"),
                 limits={"timeout_s": 0.3})  # fmt: skip
    pm = manager(tmp_path, plugins, tmp_path / "more")
    pm.discover()
    assert pm.discover()  # a second scan finds the same plugins, not duplicates of them

    found = errors(pm)
    assert states(pm)["good"] == "loaded" and states(pm)["old"] == "loaded"
    assert call(pm, "good_tool", "still") == "ok:still"
    for name, (_, _, message) in BAD_PLUGINS.items():
        assert message in found[name], found[name]
        assert states(pm)[name] == "failed"
    expected = {
        "init_false": "plugin 'init_false': initialize() returned False",
        "init_raises": "plugin 'init_raises': initialize() raised ValueError: no key",
        "init_hangs": "initialize() ran past its 0.3 s limit",
        "ping": "dependency cycle",
        "pong": "dependency cycle",
        "wants_new": "requires 'old>=1.0', but old 0.5.0 is the one available",
        "orphan": "requires 'ghost', which is not installed",
        "on_bad": "requires 'init_false', which is failed",
        "future": "supports maximus >=9, not 0.1.0",
        "no_tools": "made a Plugin, not a BasePlugin",
        "z_clash": "its tool 'good_tool' is already registered by plugin 'good'",
    }
    for name, message in expected.items():
        assert message in found[name], (name, found[name])
        assert f"'{name}'" in found[name]  # every error names its plugin
    duplicate = [i for i in pm.list_plugins() if i.name == "good" and i.state is PluginState.FAILED]
    assert len(duplicate) == 1 and "duplicate plugin name 'good'" in (duplicate[0].error or "")
    assert sorted(t.name for t in pm.registry.tools()) == [
        "good_tool", "hang_tool", "huge_tool", "old_tool",
    ]  # fmt: skip
    for tool, message in (("huge_tool", "returned 52,428,800 bytes, over its limit of 1,000,000"),
                          ("hang_tool", "ran past its 0.3 s limit")):  # fmt: skip
        failed = pm.registry.get(tool).invoke(
            {"type": "tool_call", "name": tool, "args": {}, "id": "1"}
        )
        assert failed.status == "error" and message in failed.text
        assert call(pm, "good_tool", "after") == "ok:after"
    pm.close()


def test_load_plugin_raises_the_clear_error_and_records_it(tmp_path: Path) -> None:
    pm = manager(tmp_path)
    bad = write_plugin(tmp_path / "p", "bad", plugin_code("t", init="return False"))
    with pytest.raises(PluginLoadError, match="initialize\\(\\) returned False"):
        pm.load_plugin(bad)
    broken = write_plugin(tmp_path / "p", "broken")
    (broken / "plugin.yaml").write_text("name: broken\nversion: 1\nsurprise: true\n")
    with pytest.raises(PluginManifestError, match="surprise: Extra inputs"):
        pm.load_plugin(broken)
    assert states(pm) == {"bad": "failed", "broken": "failed"}
    assert pm.load_plugin(write_plugin(tmp_path / "p", "fine")).state is PluginState.LOADED
    with pytest.raises(PluginDependencyError, match="duplicate plugin name 'fine'"):
        pm.load_plugin(write_plugin(tmp_path / "q", "fine"))


def test_hot_load_unload_and_reload_change_the_attached_registries(tmp_path: Path) -> None:
    pm = manager(tmp_path)
    agent_registry = ToolRegistry()
    pm.attach(agent_registry)
    root = write_plugin(tmp_path / "p", "greeter", plugin_code("greet", "return 'hi ' + text"))
    before = agent_registry.version
    pm.load_plugin(root)
    assert "greet" in agent_registry and agent_registry.version > before
    assert agent_registry.get("greet").invoke({"text": "ada"}) == "hi ada"

    (root / "plugin.py").write_text(plugin_code("greet", "return 'hello there, ' + text"))
    (root / "plugin.yaml").write_text("name: greeter\nversion: 2.0.0\nentry_point: plugin:Plugin\n")
    info = pm.reload_plugin("greeter")
    assert info.version == "2.0.0"
    assert agent_registry.get("greet").invoke({"text": "ada"}) == "hello there, ada"

    pm.unload_plugin("greeter")
    assert "greet" not in agent_registry and "greet" not in pm.registry
    assert pm.info("greeter").state is PluginState.UNLOADED
    with pytest.raises(PluginError, match="is not loaded"):
        pm.execute_plugin("greeter", {"tool": "greet"})
    pm.reload_plugin("greeter")  # an unloaded plugin can be loaded again
    assert "greet" in agent_registry


def test_unload_refuses_while_required_and_reload_keeps_a_fitting_version(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    base = write_plugin(plugins, "base", version="1.0.0")
    write_plugin(plugins, "app", requires=["base>=1,<2"])
    pm = manager(tmp_path, plugins)
    pm.discover()
    with pytest.raises(PluginDependencyError, match="loaded plugins require it: app"):
        pm.unload_plugin("base")
    (base / "plugin.yaml").write_text("name: base\nversion: 2.0.0\nentry_point: plugin:Plugin\n")
    with pytest.raises(PluginDependencyError, match="requires 'base<2,>=1'; 1.0.0 keeps running"):
        pm.reload_plugin("base")
    assert states(pm) == {"app": "loaded", "base": "loaded"} and call(pm, "base_tool") == "ok:"
    pm.unload_plugin("base", cascade=True)
    assert states(pm) == {"app": "unloaded", "base": "unloaded"} and len(pm.registry) == 0


@pytest.mark.parametrize("trusted", [True, False], ids=["inprocess", "process"])
def test_execute_plugin_runs_in_the_sandbox(tmp_path: Path, trusted: bool) -> None:
    code = plugin_code("slow", "time.sleep(float(text)); return 'done'")
    pm = manager(tmp_path, overrides={"runner": {"trusted": trusted}})
    pm.load_plugin(write_plugin(tmp_path / "p", "runner", code, limits={"timeout_s": 0.3}))
    assert pm.execute_plugin("runner", {"tool": "slow", "args": {"text": "0"}}) == "done"
    with pytest.raises(PluginTimeoutError, match="ran past its 0.3 s limit"):
        pm.execute_plugin("runner", {"tool": "slow", "args": {"text": "5"}})
    with pytest.raises(PluginError, match="has no tool 'nope'"):
        pm.execute_plugin("runner", {"tool": "nope"})
    with pytest.raises(PluginError, match="no plugin named 'ghost'"):
        pm.execute_plugin("ghost", {})
    assert pm.info("runner").isolation == ("inprocess" if trusted else "process")
    pm.close()


def test_disable_and_enable_persist_across_managers(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    write_plugin(plugins, "base")
    write_plugin(plugins, "app", requires=["base"])
    first = manager(tmp_path, plugins)
    first.discover()
    first.disable("base")
    assert states(first) == {"app": "unloaded", "base": "disabled"} and len(first.registry) == 0

    second = manager(tmp_path, plugins)
    second.discover()
    assert states(second) == {"app": "failed", "base": "disabled"}
    assert "requires 'base', which is disabled" in errors(second)["app"]
    second.enable("base")
    third = manager(tmp_path, plugins)
    third.discover()
    assert states(third) == {"app": "loaded", "base": "loaded"}
    with pytest.raises(PluginError, match="no plugin named 'ghost'"):
        third.enable("ghost")


def test_overrides_replace_permissions_and_set_config(tmp_path: Path) -> None:
    code = plugin_code("where", "return str(self_dir)", header="")
    code = code.replace("return str(self_dir)", "return str(plugin.context.data_dir)").replace(
        "        @tool", "        plugin = self\n\n        @tool", 1
    )
    pm = manager(tmp_path, overrides={"scoped": {"permissions": {"filesystem": True}}})
    pm.load_plugin(write_plugin(tmp_path / "p", "scoped", code))
    assert call(pm, "where") == str(tmp_path / "data" / "plugin-data" / "scoped")


def test_entry_points_of_installed_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = uuid.uuid4().hex[:8]
    site = tmp_path / "site"
    fake_distribution(
        site,
        f"pkg-{tag}",
        {
            "klass": f"pkg_{tag}.klass:Plugin",
            "hooks": f"pkg_{tag}.hooks",
            "many": f"pkg_{tag}.many",
            "broken": f"pkg_{tag}.broken:Plugin",
            "neither": f"pkg_{tag}.hooks:TEXT",
        },
        {
            f"pkg_{tag}.__init__": "",
            f"pkg_{tag}.klass": plugin_code("klass_tool").replace(
                "class Plugin(BasePlugin):", "class Plugin(BasePlugin):\n    name = 'klass'"
            ),
            f"pkg_{tag}.hooks": (
                "from langchain_core.tools import tool\nfrom maximus.plugins import hookimpl\n"
                "TEXT = 'not a plugin'\n@tool\ndef shout(text: str) -> str:\n"
                "    '''Shout.'''\n    return text.upper()\n"
                "@hookimpl\ndef maximus_register_tools():\n    return [shout]\n"
            ),
            f"pkg_{tag}.many": (
                plugin_code("one_tool", cls="One").replace(
                    "class One(BasePlugin):", "class One(BasePlugin):\n    name = 'one'"
                )
                + "\nfrom maximus.plugins import hookimpl\n@hookimpl\n"
                "def maximus_register_plugins():\n    return [One]\n"
            ),
            f"pkg_{tag}.broken": "raise ImportError('cannot import the SDK')\n",
        },
    )
    monkeypatch.syspath_prepend(str(site))
    pm = manager(tmp_path, entry_point_group="maximus.plugins")
    pm.discover()
    found = states(pm)
    assert {k: found[k] for k in ("klass", "hooks", "one")} == dict.fromkeys(
        ("klass", "hooks", "one"), "loaded"
    )
    assert call(pm, "klass_tool", "x") == "ok:x" and call(pm, "one_tool") == "ok:"
    assert pm.registry.get("shout").invoke({"text": "hey"}) == "HEY"
    assert pm.info("hooks").version == "1.0" and pm.info("hooks").origin == "entry_point"
    problems = errors(pm)
    assert "cannot import the SDK" in problems["broken"] and "'broken'" in problems["broken"]
    assert "not a BasePlugin subclass or a module" in problems["neither"]
    for module in [m for m in sys.modules if m.startswith(f"pkg_{tag}")]:
        del sys.modules[module]


def test_scaffolded_plugins_load_and_names_are_checked(tmp_path: Path) -> None:
    root = scaffold("word_count", tmp_path / "plugins", PluginType.INTEGRATION, "Counts words.")
    pm = manager(tmp_path)
    info = pm.load_plugin(root)
    assert info.state is PluginState.LOADED and info.type is PluginType.INTEGRATION
    assert info.description == "Counts words." and info.tools == ("word_count_greet",)
    assert pm.registry.get("word_count_greet").invoke({"who": "Ada"}) == "Hello, Ada!"
    assert "say who to greet" in str(
        pm.registry.get("word_count_greet")
        .invoke({"type": "tool_call", "name": "word_count_greet", "args": {"who": " "}, "id": "1"})
        .content
    )
    for bad in ("Bad-Name", "9lives", "x" * 65):
        with pytest.raises(PluginError, match="not a valid plugin name"):
            scaffold(bad, tmp_path / "plugins")
    with pytest.raises(PluginError, match="already exists"):
        scaffold("word_count", tmp_path / "plugins")

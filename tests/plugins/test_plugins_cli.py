"""``maximus plugins ...`` run as a user would, and enable/disable seen by ``maximus run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import maximus, model_env
from tests.support.gemini_server import GeminiServer

pytestmark = pytest.mark.integration


def listed(*extra: str) -> dict[str, dict[str, Any]]:
    proc = maximus("plugins", "list", "--json", *extra)
    assert proc.returncode == 0, proc.stderr
    return {p["name"]: p for p in json.loads(proc.stdout)}


def test_new_scaffolds_a_plugin_that_list_and_info_show(isolated_env: Path) -> None:
    made = maximus("plugins", "new", "hello_world", "--type", "integration")
    assert made.returncode == 0, made.stderr
    root = isolated_env / "plugins" / "hello_world"
    assert {p.name for p in root.iterdir()} == {"plugin.yaml", "plugin.py", "test_plugin.py"}

    plugins = listed()
    assert plugins["hello_world"]["state"] == "loaded"
    assert plugins["hello_world"]["tools"] == ["hello_world_greet"]
    assert plugins["hello_world"]["type"] == "integration"
    core = ("calculator", "datetime", "http_fetch", "files", "json_query", "text_stats")
    assert all(plugins[name]["state"] == "loaded" for name in core)

    info = maximus("plugins", "info", "hello_world", "--json")
    assert info.returncode == 0, info.stderr
    shown = json.loads(info.stdout)
    assert shown["tool_descriptions"] == {"hello_world_greet": "Greet someone by name."}
    assert shown["manifest"]["limits"]["timeout_s"] == 10

    for args, message in (
        (("plugins", "info", "nope"), "no plugin named 'nope'"),
        (("plugins", "new", "hello_world"), "already exists"),
    ):
        proc = maximus(*args)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)


def test_a_broken_plugin_is_listed_with_its_error(isolated_env: Path) -> None:
    broken = isolated_env / "plugins" / "broken"
    broken.mkdir(parents=True)
    (broken / "plugin.yaml").write_text("name: broken\nversion: [oops\n")
    plugins = listed()
    assert plugins["broken"]["state"] == "failed"
    assert "not valid YAML" in plugins["broken"]["error"]
    assert plugins["calculator"]["state"] == "loaded"


def catalog_has(server: GeminiServer, tool: str) -> bool:
    return all(f"- {tool}(" in json.dumps(r) for r in server.requests[:1])


def test_disable_and_enable_change_what_run_sees(gemini: GeminiServer) -> None:
    first = maximus("run", "What is 17*23?", "--json", env=model_env(gemini))
    assert first.returncode == 0, first.stderr
    assert catalog_has(gemini, "text_stats") and catalog_has(gemini, "calculate")

    off = maximus("plugins", "disable", "text_stats")
    assert off.returncode == 0 and "disabled text_stats" in off.stdout
    gemini.requests.clear()
    second = maximus("run", "What is 17*23?", "--json", env=model_env(gemini))
    assert second.returncode == 0, second.stderr
    assert not catalog_has(gemini, "text_stats") and catalog_has(gemini, "calculate")
    assert listed()["text_stats"]["state"] == "disabled"

    on = maximus("plugins", "enable", "text_stats")
    assert on.returncode == 0 and "enabled text_stats (loaded" in on.stdout

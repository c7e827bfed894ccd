"""Process isolation: an untrusted plugin runs in a worker subprocess with CPU, memory and
time limits. A plugin that hangs, spins, leaks memory, crashes or raises at import costs
only its own call; the host and the other plugins carry on."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from maximus.plugins import PluginManager, PluginState
from maximus.plugins._isolation import IsolatedPlugin
from tests.support.plugins import manager, plugin_code, write_plugin

pytestmark = pytest.mark.integration

UNTRUSTED = '''\
import os, socket, time
from langchain_core.tools import tool
from maximus.plugins import BasePlugin

LEAK = []

class Plugin(BasePlugin):
    def tools(self):
        @tool
        def echo(text: str) -> str:
            """Echo, with the worker's pid."""
            print("stdout noise must not break the protocol")
            return f"{text} from {os.getpid()}"

        @tool
        def leak(megabytes: int) -> str:
            """Keep allocating, in 64 MB blocks: the memory limit, not CPU, must stop it."""
            for _ in range(megabytes // 64):
                LEAK.append(bytearray(64 << 20))
            return "survived"

        @tool
        def spin() -> str:
            """Burn CPU forever."""
            while True:
                pass

        @tool
        def hang() -> str:
            """Sleep forever."""
            time.sleep(3600)
            return "never"

        @tool
        def crash() -> str:
            """Die without a word."""
            os._exit(9)

        @tool
        def snoop() -> str:
            """Read a file it may not."""
            return open("/etc/passwd").read()

        @tool
        def phone_home() -> str:
            """Connect where it may not."""
            socket.create_connection(("127.0.0.1", 9), timeout=1)
            return "connected"

        @tool
        def save(text: str) -> str:
            """Write in its own directory."""
            path = self.context.path("note.txt")
            path.write_text(text)
            return str(path)

        return [echo, leak, spin, hang, crash, snoop, phone_home, save]

    def execute(self, context):
        return {"pid": os.getpid(), "got": context}
'''

ISOLATED = {"isolation": "process", "filesystem": True}
LIMITS = {"timeout_s": 1.5, "cpu_s": 1, "memory_mb": 600}


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PluginManager]:
    tmp = tmp_path_factory.mktemp("isolation")
    root = tmp / "plugins"
    write_plugin(root, "untrusted", UNTRUSTED, permissions=ISOLATED, limits=LIMITS)
    write_plugin(root, "bad_import", "raise RuntimeError('broken at import')\n",
                 permissions={"isolation": "process"})  # fmt: skip
    write_plugin(root, "refuses", plugin_code("nope", init="return False"),
                 permissions={"isolation": "process"})  # fmt: skip
    write_plugin(root, "local")  # in process, beside them: the operator trusts it
    pm = manager(tmp, root, overrides={"local": {"trusted": True}})
    pm.discover()
    yield pm
    pm.close()


def run(pm: PluginManager, tool: str, **args: Any) -> ToolMessage:
    message: ToolMessage = pm.registry.get(tool).invoke(
        {"type": "tool_call", "name": tool, "args": args, "id": "c1"}
    )
    return message


def worker(pm: PluginManager) -> Any:
    plugin = pm.get("untrusted")
    assert isinstance(plugin, IsolatedPlugin)
    return plugin.client


def test_failures_at_load_are_clear_and_isolated(plugins: PluginManager) -> None:
    assert plugins.info("untrusted").state is PluginState.LOADED
    assert plugins.info("local").state is PluginState.LOADED
    assert plugins.info("local").isolation == "inprocess"
    assert plugins.info("untrusted").isolation == "process"
    bad = plugins.info("bad_import")
    assert bad.state is PluginState.FAILED
    assert "plugin 'bad_import'" in (bad.error or "") and "broken at import" in (bad.error or "")
    assert "plugin 'refuses': initialize() returned False" in (plugins.info("refuses").error or "")


def test_calls_run_in_a_warm_worker_process(plugins: PluginManager) -> None:
    first = run(plugins, "echo", text="hi")
    second = run(plugins, "echo", text="again")
    pid = worker(plugins).pid
    assert first.text == f"hi from {pid}" and second.text == f"again from {pid}"
    assert pid != os.getpid()
    assert plugins.execute_plugin("untrusted", {"x": 1}) == {"pid": pid, "got": {"x": 1}}
    saved = run(plugins, "save", text="kept")
    assert Path(saved.text).read_text() == "kept"
    assert Path(saved.text).parent == plugins.plugin_dir("untrusted")


def test_permissions_are_enforced_inside_the_worker(plugins: PluginManager) -> None:
    snoop = run(plugins, "snoop")
    assert snoop.status == "error" and "may not read '/etc/passwd'" in snoop.text
    phone = run(plugins, "phone_home")
    assert phone.status == "error" and "no network permission" in phone.text


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        ("hang", {}, "ran past its 1.5 s limit; its worker process was killed"),
        ("spin", {}, "signal SIGXCPU (CPU limit)"),
        ("leak", {"megabytes": 4096}, "ran out of memory (limit 600 MB)"),
        ("crash", {}, "its worker process died during tool 'crash' (exit status 9)"),
    ],
)
def test_a_runaway_call_costs_only_itself(
    plugins: PluginManager, tool: str, args: dict[str, Any], message: str
) -> None:
    client = worker(plugins)
    before = client.pid
    started = time.perf_counter()
    failed = run(plugins, tool, **args)
    assert failed.status == "error" and message in failed.text, failed.text
    assert "plugin 'untrusted'" in failed.text
    assert time.perf_counter() - started < 15
    assert run(plugins, "local_tool", text="x").text == "ok:x"  # others never noticed
    recovered = run(plugins, "echo", text="back")  # a fresh worker takes over
    assert recovered.status == "success" and recovered.text == f"back from {client.pid}"
    assert client.pid != before

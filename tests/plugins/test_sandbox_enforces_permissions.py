"""The sandbox: timeouts, error isolation, output cap, file scope, network allowlist, and the
audit hook that holds plugin code to its permissions."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import tool

from maximus.errors import PluginSandboxError, PluginTimeoutError
from maximus.plugins import FileScope, Limits, NetworkGuard, NetworkPermission, Sandbox
from maximus.plugins.sandbox import SandboxPolicy


def sandbox(tmp_path: Path | None = None, **limits: Any) -> Sandbox:
    files = FileScope(tmp_path, "test") if tmp_path is not None else None
    return Sandbox(SandboxPolicy("test", Limits(**limits), files=files))


def call(tool_: Any, **args: Any) -> ToolMessage:
    message: ToolMessage = tool_.invoke(
        {"type": "tool_call", "name": tool_.name, "args": args, "id": "c1"}
    )
    return message


def test_file_scope_refuses_traversal_absolute_paths_and_symlinks_out(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "inner").symlink_to(root / "sub")
    (root / "escape").symlink_to(tmp_path)
    scope = FileScope(root, "files")
    assert scope.resolve("sub/a.txt") == root.resolve() / "sub" / "a.txt"
    assert scope.resolve("inner/x") == root.resolve() / "sub" / "x"  # a symlink that stays
    for bad in ("../../etc/passwd", "/etc/passwd", "sub/../../x", "escape/secret", "a\x00b"):
        with pytest.raises(PluginSandboxError) as caught:
            scope.resolve(bad)
        assert "plugin 'files'" in caught.value.message


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_network_guard_allowlists_hosts_and_refuses_private_addresses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {"api.example.com": ["93.184.216.34"], "sneaky.example.com":
             ["93.184.216.34", "10.0.0.7"], "other.org": ["1.1.1.1"]})  # fmt: skip
    guard = NetworkGuard(NetworkPermission(hosts=("*.example.com",)), "web")
    assert guard.check_url("https://api.example.com/x").address == "93.184.216.34"
    refusals = {
        "https://other.org/": "may not connect to 'other.org'",
        "https://sneaky.example.com/": "'sneaky.example.com' (10.0.0.7)",  # any bad answer
        "ftp://api.example.com/": "only http and https",
    }
    for url, message in refusals.items():
        with pytest.raises(PluginSandboxError) as caught:
            guard.check_url(url)
        assert message in caught.value.message
    anywhere = NetworkGuard(NetworkPermission(), "web")
    for address in ("127.0.0.1", "::1", "169.254.169.254", "192.168.1.1", "::ffff:127.0.0.1",
                    "0.0.0.0", "fe80::1"):  # fmt: skip
        with pytest.raises(PluginSandboxError, match="private, loopback or link-local"):
            anywhere.check_address(address)
    anywhere.check_address("8.8.8.8")
    NetworkGuard(NetworkPermission(allow_private=("127.0.0.0/8",)), "web").check_address(
        "127.0.0.5"
    )
    with pytest.raises(PluginSandboxError, match="no network permission"):
        NetworkGuard(None, "web").check_host("example.com")


def test_a_hanging_call_times_out_and_the_next_call_works() -> None:
    box = sandbox(timeout_s=0.2)
    release = threading.Event()
    started = time.perf_counter()
    with pytest.raises(PluginTimeoutError) as caught:
        box.run(release.wait, 30)
    assert time.perf_counter() - started < 2
    assert "ran past its 0.2 s limit" in caught.value.message
    assert box.run(lambda: "fine") == "fine"
    release.set()


async def test_async_calls_time_out_too() -> None:
    box = sandbox(timeout_s=0.2)
    with pytest.raises(PluginTimeoutError):
        await box.arun(asyncio.sleep, 30)
    with pytest.raises(PluginTimeoutError):
        await box.arun(time.sleep, 2)  # a blocking call runs on a sandbox thread
    assert await box.arun(lambda: 3) == 3


def test_wrapped_tools_turn_every_failure_into_a_tool_message() -> None:
    box = sandbox(timeout_s=0.3, max_output_bytes=1000)

    @tool
    def exits() -> str:
        """Call sys.exit."""
        raise SystemExit(3)

    @tool
    def raises() -> str:
        """Raise."""
        raise KeyError("missing")

    @tool
    def huge() -> str:
        """Return 50 MB."""
        return "x" * (50 << 20)

    @tool
    def hangs() -> str:
        """Sleep."""
        time.sleep(5)
        return "late"

    expected = [
        (exits, "failed: SystemExit: 3"),
        (raises, "failed: KeyError: 'missing'"),
        (huge, "returned 52,428,800 bytes, over its limit of 1,000 bytes"),
        (hangs, "ran past its 0.3 s limit"),
    ]
    for original, text in expected:
        message = call(box.wrap(original))
        assert message.status == "error" and text in message.text, message.text
        assert "plugin 'test'" in message.text


async def test_wrapped_tools_keep_schema_metadata_and_async_path() -> None:
    box = sandbox()

    @tool
    async def add(a: int, b: int = 1) -> int:
        """Add."""
        return a + b

    wrapped = box.wrap(add)
    assert wrapped.name == "add" and wrapped.tool_call_schema.model_json_schema()[  # type: ignore[union-attr]
        "properties"
    ].keys() == {"a", "b"}
    assert (wrapped.metadata or {})["plugin"] == "test"
    assert await wrapped.ainvoke({"a": 2}) == 3
    assert wrapped.invoke({"a": 2, "b": 5}) == 7


def test_audit_hook_holds_plugin_code_to_its_permissions(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    refused = {
        "read /etc/passwd": lambda: open("/etc/passwd").read(),
        "write outside": lambda: outside.write_text("x"),
        "delete outside": lambda: os.remove(outside),
        "connect": lambda: socket.create_connection(("127.0.0.1", 9), timeout=1),
        "resolve": lambda: socket.getaddrinfo("example.com", 80),
        "spawn": lambda: os.system("true"),
        "list /etc": lambda: os.listdir("/etc"),
    }
    for what, action in refused.items():
        with pytest.raises(PluginSandboxError):
            box.run(action)
        assert not outside.exists(), what
    assert box.run(lambda: (tmp_path / "ok.txt").write_text("fine")) == 4
    assert box.run(lambda: (tmp_path / "ok.txt").read_text()) == "fine"
    assert box.run(lambda: len(os.listdir(tmp_path))) == 1
    # The same calls outside plugin code are untouched.
    assert open("/etc/passwd").read()

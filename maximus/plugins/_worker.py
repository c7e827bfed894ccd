"""Process isolation, worker side: ``python -m maximus.plugins._worker``.

Reads one JSON request per line on stdin and answers one JSON reply per line on the stdout
it was started with; the plugin's own prints go to stderr. The first request loads the
plugin. Before any plugin code runs, the worker sets no-new-privileges (``PR_SET_NO_NEW_PRIVS``:
no set-uid program it starts gains privileges), caps its address space (``RLIMIT_AS``) and
holds the whole process to the plugin's permissions (the sandbox's audit hook, with its private
temporary directory writable); before each call it allows ``cpu_s`` more CPU seconds
(``RLIMIT_CPU``: the kernel stops a runaway loop with ``SIGXCPU``). A write past
``RLIMIT_FSIZE`` fails with an error instead of killing it. The host enforces wall time by
killing the process group.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import signal
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from langchain_core.tools import BaseTool, ToolException

from maximus.errors import MaximusError, PluginLoadError, PluginTimeoutError
from maximus.plugins import _imports
from maximus.plugins._guards import NetworkGuard
from maximus.plugins.base import BasePlugin, PluginContext
from maximus.plugins.discovery import ModulePlugin
from maximus.plugins.manifest import PluginManifest
from maximus.plugins.sandbox import SandboxPolicy, enforce_in_process, output_size


class _Worker:
    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.plugin: BasePlugin | None = None
        self.policy: SandboxPolicy | None = None
        self.tools: dict[str, BaseTool] = {}
        self.doing: str | None = None
        """``tool 'x'`` or ``execute()`` while plugin code runs, for error messages."""

    def send(self, reply: dict[str, Any]) -> None:
        self.out.write(json.dumps(reply, default=str).encode() + b"\n")
        self.out.flush()

    def limit_cpu(self, seconds: int) -> None:
        enforce_in_process(None)  # the policy refuses setrlimit to plugin code, not to us
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = int(used.ru_utime + used.ru_stime) + 1
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        soft = spent + seconds if hard == resource.RLIM_INFINITY else min(spent + seconds, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        enforce_in_process(self.policy)

    def load(self, msg: dict[str, Any]) -> dict[str, Any]:
        manifest = PluginManifest.model_validate(msg["manifest"])
        name = manifest.name
        data_dir = Path(msg["data_dir"]) if msg.get("data_dir") else None
        source = msg["source"]
        code_dir = source.get("root") or msg.get("code_dir")
        temp_dir = Path(msg["temp_dir"]) if msg.get("temp_dir") else None
        self.policy = SandboxPolicy.from_manifest(
            manifest,
            data_dir=data_dir,
            code_dir=Path(code_dir) if code_dir else None,
            temp_dir=temp_dir,
        )
        _limit_memory(manifest.limits.memory_mb)
        self.limit_cpu(manifest.limits.cpu_s)
        kind = source["kind"]
        if kind == "directory":
            made = _imports.import_from_directory(
                Path(source["root"]), str(manifest.entry_point), name
            )
        else:
            made = _imports.import_object(source["target"], name)
        if kind == "module":
            plugin: Any = ModulePlugin(made)
        else:
            try:
                plugin = made() if isinstance(made, type) else made
            except (Exception, SystemExit) as exc:  # the same words as in process
                raise PluginLoadError(
                    f"plugin {name!r}: constructing it failed: {type(exc).__name__}: {exc}"
                ) from exc
        if not isinstance(plugin, BasePlugin):
            where = manifest.entry_point or source.get("target")
            raise PluginLoadError(
                f"plugin {name!r}: {where} made a {type(plugin).__name__}, not a BasePlugin"
            )
        network = NetworkGuard(manifest.permissions.network, name)
        plugin.bind(PluginContext(name, manifest, msg.get("config") or {}, data_dir, network))
        try:
            with _deadline(manifest.limits.timeout_s, f"plugin {name!r}: initialize()"):
                ready = plugin.initialize()
        except PluginTimeoutError:
            raise
        except (Exception, SystemExit) as exc:
            raise PluginLoadError(
                f"plugin {name!r}: initialize() raised {type(exc).__name__}: {exc}"
            ) from exc
        if ready is not True:
            return {"ok": False, "error": f"plugin {name!r}: initialize() returned {ready!r}"}
        self.plugin = plugin
        tools = [*plugin.tools(), *(g.as_tool() for g in plugin.graphs())]
        self.tools = {t.name: t for t in tools}
        return {"ok": True, "tools": [_describe(t) for t in tools]}

    def call(self, msg: dict[str, Any]) -> dict[str, Any]:
        assert self.plugin is not None and self.policy is not None
        self.limit_cpu(self.policy.limits.cpu_s)
        if msg["op"] == "execute":
            what = self.doing = "execute()"
            result = self.plugin.execute(msg.get("context") or {})
        else:
            tool = self.tools.get(msg["tool"])
            if tool is None:
                return {"ok": False, "error": f"plugin has no tool {msg['tool']!r}"}
            what = self.doing = f"tool {tool.name!r}"
            result = tool.invoke(msg.get("args") or {})
        self.doing = None
        result = result if isinstance(result, str) else _jsonable(result)
        cap = self.policy.limits.max_output_bytes
        size = output_size(result, cap)
        if size > cap:
            return {
                "ok": False,
                "error": f"{what} of plugin {self.policy.plugin!r} returned {size:,} bytes, "
                f"over its limit of {cap:,} bytes; ask for less",
            }
        return {"ok": True, "result": result}

    def handle(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        op = msg.get("op")
        self.doing = None
        try:
            if op == "load":
                return self.load(msg)
            if op in ("call", "execute"):
                return self.call(msg)
            if op == "cleanup":
                if self.plugin is not None:
                    self.plugin.cleanup()
                return None
            return {"ok": False, "error": f"unknown request {op!r}"}
        except MemoryError:
            limit = self.policy.limits.memory_mb if self.policy else "?"
            name = self.policy.plugin if self.policy else "?"
            return {
                "ok": False,
                "restart": True,
                "error": f"plugin {name!r} ran out of memory (limit {limit} MB); "
                "its worker is restarted",
            }
        except (Exception, SystemExit) as exc:
            traceback.print_exc()  # to stderr: the host keeps the last lines
            name = self.policy.plugin if self.policy else "?"
            if isinstance(exc, OSError) and exc.errno == errno.EFBIG and self.policy:
                limit = self.policy.limits.file_mb
                return {
                    "ok": False,
                    "error": f"plugin {name!r} wrote a file past its size limit of {limit} MB "
                    "(limits.file_mb)",
                }
            if isinstance(exc, MaximusError | ToolException):
                text = exc.message if isinstance(exc, MaximusError) else str(exc)
                return {"ok": False, "error": text}
            text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if self.doing == "execute()":  # the same words as in process
                return {"ok": False, "error": f"plugin {name!r}: execute() raised {text}"}
            if self.doing is not None:
                return {"ok": False, "error": f"{self.doing} of plugin {name!r} failed: {text}"}
            return {"ok": False, "error": f"plugin {name!r}: {text}"}


@contextlib.contextmanager
def _deadline(seconds: float, what: str) -> Iterator[None]:
    """Interrupt the block (on this, the main thread) after ``seconds`` of wall time."""

    def expire(signum: int, frame: Any) -> None:
        raise PluginTimeoutError(f"{what} ran past its {seconds:g} s limit")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _limit_memory(megabytes: int) -> None:
    limit = megabytes << 20
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _describe(tool: BaseTool) -> dict[str, Any]:
    schema: Any = tool.tool_call_schema
    if not isinstance(schema, dict):
        schema = schema.model_json_schema()
    metadata = {k: v for k, v in (tool.metadata or {}).items() if _is_json(v)}
    return {
        "name": tool.name,
        "description": tool.description,
        "schema": schema,
        "metadata": metadata,
    }


def _is_json(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)


def no_new_privileges() -> bool:
    """Set ``PR_SET_NO_NEW_PRIVS`` on this process (Linux; no root needed); whether it held."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        done = libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
    except (OSError, AttributeError):
        return False
    del libc  # no handle to the C library is left for plugin code
    return done


def main() -> None:
    """Serve requests until stdin closes (the host exited) or a cleanup request."""
    no_new_privileges()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails; no kill
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # prints from plugin code must not corrupt the replies
    sys.stdout = sys.stderr
    worker = _Worker(out)
    for line in sys.stdin.buffer:
        try:
            msg = json.loads(line)
        except ValueError:
            worker.send({"ok": False, "error": "malformed request"})
            continue
        reply = worker.handle(msg)
        if reply is None:
            worker.send({"ok": True})
            break
        worker.send(reply)
        if msg.get("op") == "load" and not reply.get("ok"):
            break


if __name__ == "__main__":
    main()

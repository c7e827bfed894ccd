"""Process isolation, host side: a warm worker subprocess per untrusted plugin.

The worker (:mod:`maximus.plugins._worker`) imports and initializes the plugin, sets its own
``RLIMIT_AS`` (memory), a per-call ``RLIMIT_CPU`` and no-new-privileges, and holds the whole
process to the plugin's permissions with the sandbox's audit hook. Before it loads anything,
the host caps its process count (``RLIMIT_NPROC``) and file size (``RLIMIT_FSIZE``). It gets a
minimal environment (no ``MAXIMUS_*`` settings, no API keys) and a private temporary directory,
removed with the worker. The host talks to it over pipes, one JSON object per line in each
direction (JSON, never pickle: the worker is not trusted). The host waits at most the call's
time limit, then kills the worker's whole process group; a worker that dies (a crash, a CPU or
memory limit) costs only the call in flight, and the next call starts a new one.
"""

from __future__ import annotations

import collections
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO, Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException

from maximus.errors import PluginError, PluginLoadError, PluginTimeoutError
from maximus.plugins.base import BasePlugin, PluginContext
from maximus.plugins.discovery import PluginSource
from maximus.plugins.manifest import Limits, PluginManifest
from maximus.plugins.sandbox import Sandbox, SandboxPolicy

STARTUP_S = 60.0
"""Time a worker may take to start, import and initialize its plugin (beyond the limit)."""
_ISOLATION_GRACE_S = 5.0
"""What the host adds to a call's timeout, so the worker's own limit fires first."""
_TAIL = 40
_ENV_KEEP = (
    "PATH", "LANG", "LANGUAGE", "TZ", "PYTHONHASHSEED", "PYTHONUTF8", "PYTHONIOENCODING",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE",
)  # fmt: skip
"""The host's environment variables a worker sees (plus ``LC_*``); nothing else, so secrets
in the environment stay with the host."""


def worker_env(temp_dir: str) -> dict[str, str]:
    """The worker's environment: a few neutral variables, the import path, and its private
    temporary directory as ``TMPDIR`` and ``HOME``."""
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith("LC_")}
    # Absolute: the worker runs in its temporary directory, not the host's working directory.
    env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in sys.path)
    for name in ("TMPDIR", "TEMP", "TMP", "HOME"):
        env[name] = temp_dir
    return env


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue  # it exited
    return count


def limit_worker(pid: int, limits: Limits) -> None:
    """Cap a started worker's process count and file size, before it loads any plugin code
    (``prlimit``; Linux). Where the kernel refuses, the worker runs without that cap."""
    if not hasattr(resource, "prlimit"):
        return
    try:
        nproc = _processes_of(os.getuid()) + limits.processes
        resource.prlimit(pid, resource.RLIMIT_NPROC, (nproc, nproc))
        size = limits.file_mb << 20
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (size, size))
    except (OSError, ValueError):
        pass  # not allowed here (a container without the capability): the other limits hold


class WorkerClient:
    """One worker process for one plugin, started on demand and restarted after a death.

    Args:
        plugin: the plugin's name.
        load: the message that makes the worker load the plugin.
        limits: the plugin's limits (timeouts, reply size).
    """

    def __init__(self, plugin: str, load: dict[str, Any], limits: Limits) -> None:
        self.plugin = plugin
        self._load = load
        self._limits = limits
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = bytearray()
        self._stderr: collections.deque[str] = collections.deque(maxlen=_TAIL)
        self._max_reply = limits.max_output_bytes * 6 + (1 << 20)  # JSON may escape 6:1
        self.temp_dir: str | None = None
        """The running worker's private temporary directory."""
        self.starts = 0
        self.tools: list[dict[str, Any]] = []

    @property
    def pid(self) -> int | None:
        """The worker's process id, while it runs."""
        return None if self._proc is None else self._proc.pid

    def start(self) -> list[dict[str, Any]]:
        """Start the worker and load the plugin; return its tools' descriptions.

        Raises:
            PluginLoadError: the plugin failed to import or initialize, or the worker died.
        """
        with self._lock:
            return self._start()

    def _start(self) -> list[dict[str, Any]]:
        self._buffer.clear()
        self._stderr.clear()
        self.temp_dir = tempfile.mkdtemp(prefix=f"maximus-plugin-{self.plugin}-")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "maximus.plugins._worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=worker_env(self.temp_dir),
            cwd=self.temp_dir,
            start_new_session=True,  # its own process group: killed whole; Ctrl-C is ours
        )
        limit_worker(self._proc.pid, self._limits)  # it reads its first request only after
        self.starts += 1
        assert self._proc.stderr is not None
        threading.Thread(target=_drain, args=(self._proc.stderr, self._stderr), daemon=True).start()
        try:
            load = {**self._load, "temp_dir": self.temp_dir}
            reply = self._exchange(load, STARTUP_S + self._limits.timeout_s, "loading")
        except PluginError as exc:
            raise PluginLoadError(exc.message) from None
        if not reply.get("ok"):
            self._kill()
            raise PluginLoadError(str(reply.get("error")))
        self.tools = list(reply.get("tools", []))
        return self.tools

    def request(self, message: dict[str, Any], what: str) -> Any:
        """Send one request and return the result, restarting a dead worker first.

        Raises:
            PluginTimeoutError: no reply within the time limit (the worker is killed).
            ToolException: the plugin raised, or broke a limit; the message says which.
            PluginError: the worker died during the call.
        """
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            reply = self._exchange(message, self._limits.timeout_s, what)
            if reply.get("restart"):
                self._kill()  # its state is suspect (out of memory): a fresh one next time
            if not reply.get("ok"):
                raise ToolException(str(reply.get("error")))
            return reply.get("result")

    def call(self, tool: str, args: dict[str, Any]) -> Any:
        """Call one of the plugin's tools in the worker."""
        return self.request({"op": "call", "tool": tool, "args": args}, f"tool {tool!r}")

    def _exchange(self, message: dict[str, Any], timeout: float, what: str) -> dict[str, Any]:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(message).encode() + b"\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died(what) from None
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()
        start = 0
        while (end := self._buffer.find(b"\n", start)) < 0:
            start = len(self._buffer)
            remaining = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(remaining, 0))[0] if remaining > 0 else []
            if not ready:
                self._kill()
                raise PluginTimeoutError(
                    f"plugin {self.plugin!r}: {what} ran past its {timeout:g} s limit; "
                    "its worker process was killed"
                )
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise self._died(what)
            self._buffer += chunk
            if len(self._buffer) > self._max_reply:
                self._kill()
                raise ToolException(
                    f"plugin {self.plugin!r}: {what} replied with over {self._max_reply:,} bytes"
                )
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _died(self, what: str) -> PluginError:
        proc = self._proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._kill()
        reason = f"exit status {code}"
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = {
                "SIGXCPU": " (CPU limit)",
                "SIGXFSZ": " (file size limit)",
                "SIGKILL": " (killed)",
                "SIGSEGV": " (crash)",
            }
            reason = f"signal {name}{hint.get(name, '')}"
        time.sleep(0.05)  # let the stderr thread catch the last lines
        tail = " | ".join(list(self._stderr)[-5:])
        self._kill()  # its children and its temporary directory go with it
        return PluginError(
            f"plugin {self.plugin!r}: its worker process died during {what} ({reason})"
            + (f"; last output: {tail}" if tail else "")
        )

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the worker and anything it started
            except (ProcessLookupError, PermissionError):
                pass  # the group is gone already
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()
        self._buffer.clear()
        temp, self.temp_dir = self.temp_dir, None
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)

    def close(self) -> None:
        """Ask the worker to clean up and exit; kill it if it does not."""
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                self._kill()
                return
            try:
                self._exchange({"op": "cleanup"}, 5.0, "cleanup")
            except (PluginError, ToolException, ValueError):
                pass  # it is killed below either way
            finally:
                self._kill()


def _drain(stream: IO[bytes], tail: collections.deque[str]) -> None:
    for raw in iter(stream.readline, b""):
        tail.append(raw.decode("utf-8", "replace").rstrip())


class IsolatedPlugin(BasePlugin):
    """The host's stand-in for a plugin that runs in a worker process."""

    def __init__(self, client: WorkerClient) -> None:
        super().__init__()
        self.client = client

    def tools(self) -> list[BaseTool]:
        """Proxies of the worker's tools: calling one calls the worker."""
        return [self._proxy(spec) for spec in self.client.tools]

    def _proxy(self, spec: dict[str, Any]) -> BaseTool:
        client, name = self.client, str(spec["name"])

        def call(**kwargs: Any) -> Any:
            return client.call(name, kwargs)

        return StructuredTool(
            name=name,
            description=str(spec.get("description", "")),
            args_schema=spec.get("schema") or {"type": "object", "properties": {}},
            func=call,
            metadata={**(spec.get("metadata") or {}), "isolated": True},
            handle_tool_error=True,
        )

    def execute(self, context: Any) -> Any:
        """Run ``execute(context)`` in the worker."""
        return self.client.request({"op": "execute", "context": context}, "execute()")

    def cleanup(self) -> None:
        """Clean up in the worker and stop it."""
        self.client.close()


def start_isolated(
    source: PluginSource, manifest: PluginManifest, context: PluginContext
) -> tuple[BasePlugin, Sandbox]:
    """Start ``source`` in a worker process; the host's sandbox only backs up its limits."""
    if source.root is not None:
        spec: dict[str, Any] = {"kind": "directory", "root": str(source.root)}
    elif source.target is not None:
        kind = "object" if ":" in source.target else "module"
        spec = {"kind": kind, "target": source.target}
    else:
        raise PluginLoadError(
            f"plugin {source.name!r}: process isolation needs an importable plugin class "
            "(a directory, an entry point or a module-level class)"
        )
    load = {
        "op": "load",
        "source": spec,
        "manifest": manifest.model_dump(mode="json"),
        "config": dict(context.config),
        "data_dir": str(context.data_dir) if context.data_dir else None,
    }
    client = WorkerClient(source.name, load, manifest.limits)
    client.start()
    plugin = IsolatedPlugin(client)
    plugin.bind(context)
    # The worker enforces the limits itself; the host only backs it up.
    limits = Limits.model_validate(
        {
            **manifest.limits.model_dump(),
            # The client enforces the call's limit; this backup also allows a restart.
            "timeout_s": manifest.limits.timeout_s + STARTUP_S + _ISOLATION_GRACE_S,
        }
    )
    policy = SandboxPolicy(plugin=source.name, limits=limits, enforce=False)
    return plugin, Sandbox(policy)


__all__ = ["IsolatedPlugin", "WorkerClient", "start_isolated"]

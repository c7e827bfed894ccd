"""The sandbox every plugin call runs in: timeout, isolation of errors, output cap, permissions.

In process, each call runs on a daemon worker thread with the plugin's policy set in a
context variable, and the caller waits at most ``limits.timeout_s``. Python cannot kill a
thread, so a call that hangs is abandoned (its thread is a daemon, so it never blocks exit)
and the model gets a timeout error. Errors, even ``SystemExit``, become a ``ToolException``
whose message the model sees. A result over ``limits.max_output_bytes`` is refused.

Permissions are enforced twice: by the helpers a plugin is given (:class:`FileScope`,
:class:`NetworkGuard`), and by a :pep:`578` audit hook that checks ``open``, directory
listings, file changes, sockets, DNS, process creation and ``setrlimit`` while plugin code
runs, so code that calls ``open`` or ``socket`` itself is held to the same rules. The hook
sees the calling thread's context only: threads a plugin starts itself escape it, and so
does native code. Plugins that are not trusted should run with ``isolation: process``
(see :mod:`maximus.plugins._isolation`), where the same hook covers the whole worker and
``setrlimit`` bounds CPU, memory and time.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import json
import os
import queue
import ssl
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException

from maximus.errors import PluginError, PluginSandboxError, PluginTimeoutError
from maximus.plugins._guards import FileScope, NetworkGuard
from maximus.plugins.manifest import Limits, PluginManifest

_SYSTEM_READS = (
    "/etc/localtime", "/etc/timezone", "/etc/mime.types", "/etc/hosts", "/etc/resolv.conf",
    "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/ssl", "/etc/pki", "/usr/share/zoneinfo",
    "/usr/share/ca-certificates", "/usr/lib/ssl", "/dev/null", "/dev/urandom",
)  # fmt: skip
_MAX_THREADS = 256


@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    """Where Python and its libraries live: plugins may read (import) from there."""
    import zoneinfo

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, *zoneinfo.TZPATH, *_SYSTEM_READS}
    paths.update(p for p in sys.path if p and os.path.isabs(p))
    verify = ssl.get_default_verify_paths()
    paths.update(p for p in (verify.cafile, verify.capath) if p)
    return tuple(sorted({os.path.realpath(p) for p in paths}))


@dataclass(frozen=True, slots=True)
class SandboxPolicy:
    """What one plugin may do, derived from its manifest."""

    plugin: str
    limits: Limits = field(default_factory=Limits)
    files: FileScope | None = None
    network: NetworkGuard | None = None
    subprocess: bool = False
    code_dir: str | None = None
    """Where the plugin's own code lives (readable)."""
    enforce: bool = True
    """Check calls with the audit hook (off for proxies of isolated plugins)."""

    @classmethod
    def from_manifest(
        cls,
        manifest: PluginManifest,
        *,
        data_dir: Path | None = None,
        code_dir: Path | None = None,
        enforce: bool = True,
    ) -> SandboxPolicy:
        """The policy a manifest's permissions and limits declare."""
        perms = manifest.permissions
        return cls(
            plugin=manifest.name,
            limits=manifest.limits,
            files=FileScope(data_dir, manifest.name) if data_dir is not None else None,
            network=NetworkGuard(perms.network, manifest.name),
            subprocess=perms.subprocess,
            code_dir=None if code_dir is None else os.path.realpath(code_dir),
            enforce=enforce,
        )

    def may_read(self, path: str) -> bool:
        """Whether plugin code may read ``path`` (already resolved)."""
        if self.files is not None and self.files.contains(path):
            return True
        if self.code_dir is not None and _under(path, self.code_dir):
            return True
        return any(_under(path, root) for root in _library_roots())

    def check_write(self, path: str) -> None:
        """Refuse a change to ``path`` (already resolved) outside the plugin's directory."""
        if self.files is None or not self.files.contains(path):
            raise PluginSandboxError(
                f"plugin {self.plugin!r} may not write {path!r}: only inside its own "
                "directory, with the filesystem permission"
            )


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


# --- the audit hook -----------------------------------------------------------------------

_ACTIVE: contextvars.ContextVar[SandboxPolicy | None] = contextvars.ContextVar(
    "maximus_plugin_policy", default=None
)
_process_policy: SandboxPolicy | None = None
_hook_installed = False
_hook_lock = threading.Lock()
_checking = threading.local()
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _real(path: object) -> str | None:
    if isinstance(path, int) or path is None:
        return None  # a file descriptor: checked when it was opened
    return os.path.realpath(os.fsdecode(path))  # type: ignore[arg-type]


def _on_open(policy: SandboxPolicy, args: tuple[Any, ...]) -> None:
    path = _real(args[0])
    if path is None:
        return
    mode, flags = args[1], args[2] if len(args) > 2 else 0
    writing = any(c in mode for c in "wax+") if isinstance(mode, str) else False
    if writing or (mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS):
        policy.check_write(path)
    elif not policy.may_read(path):
        raise PluginSandboxError(
            f"plugin {policy.plugin!r} may not read {path!r}: only its own directory, its "
            "code and Python's libraries"
        )


def _on_list(policy: SandboxPolicy, args: tuple[Any, ...]) -> None:
    path = _real(args[0] if args else ".")
    if path is not None and not policy.may_read(path):
        raise PluginSandboxError(f"plugin {policy.plugin!r} may not list {path!r}")


def _on_change(positions: tuple[int, ...]) -> Callable[[SandboxPolicy, tuple[Any, ...]], None]:
    def check(policy: SandboxPolicy, args: tuple[Any, ...]) -> None:
        for i in positions:
            path = _real(args[i]) if i < len(args) else None
            if path is not None:
                policy.check_write(path)

    return check


def _on_resolve(policy: SandboxPolicy, args: tuple[Any, ...]) -> None:
    host = args[0]
    if isinstance(host, bytes):
        host = host.decode("idna")
    if not isinstance(host, str):
        return
    guard = policy.network or NetworkGuard(None, policy.plugin)
    try:
        guard.check_address(host)  # an address literal
    except ValueError:
        guard.check_host(host)


def _on_connect(policy: SandboxPolicy, args: tuple[Any, ...]) -> None:
    sock, address = args[0], args[1]
    guard = policy.network or NetworkGuard(None, policy.plugin)
    if not isinstance(address, tuple):
        raise PluginSandboxError(f"plugin {policy.plugin!r} may not connect to {address!r}")
    if getattr(sock, "family", None) not in (2, 10):  # AF_INET, AF_INET6
        raise PluginSandboxError(f"plugin {policy.plugin!r}: only IP sockets are allowed")
    try:
        guard.check_address(str(address[0]))
    except ValueError:  # a host name: the C code resolves it, through the hook above
        guard.check_host(str(address[0]))


def _on_spawn(policy: SandboxPolicy, args: tuple[Any, ...]) -> None:
    if not policy.subprocess:
        raise PluginSandboxError(f"plugin {policy.plugin!r} may not start programs or signal")


def _on_limits(policy: SandboxPolicy, args: tuple[Any, ...]) -> None:
    raise PluginSandboxError(f"plugin {policy.plugin!r} may not change resource limits")


_HANDLERS: dict[str, Callable[[SandboxPolicy, tuple[Any, ...]], None]] = {
    "open": _on_open,
    "os.listdir": _on_list,
    "os.scandir": _on_list,
    "glob.glob": _on_list,
    "os.remove": _on_change((0,)),
    "os.rmdir": _on_change((0,)),
    "os.mkdir": _on_change((0,)),
    "os.chmod": _on_change((0,)),
    "os.chown": _on_change((0,)),
    "os.truncate": _on_change((0,)),
    "os.utime": _on_change((0,)),
    "os.rename": _on_change((0, 1)),
    "os.link": _on_change((0, 1)),
    "os.symlink": _on_change((0, 1)),
    "shutil.rmtree": _on_change((0,)),
    "shutil.copyfile": _on_change((1,)),
    "shutil.move": _on_change((0, 1)),
    "socket.getaddrinfo": _on_resolve,
    "socket.gethostbyname": _on_resolve,
    "socket.connect": _on_connect,
    "socket.sendto": _on_connect,
    "subprocess.Popen": _on_spawn,
    "os.system": _on_spawn,
    "os.exec": _on_spawn,
    "os.posix_spawn": _on_spawn,
    "os.spawn": _on_spawn,
    "os.fork": _on_spawn,
    "os.forkpty": _on_spawn,
    "os.kill": _on_spawn,
    "os.killpg": _on_spawn,
    "pty.spawn": _on_spawn,
    "resource.setrlimit": _on_limits,
    "resource.prlimit": _on_limits,
}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    handler = _HANDLERS.get(event)
    if handler is None:
        return
    policy = _ACTIVE.get() or _process_policy
    if policy is None or not policy.enforce or getattr(_checking, "busy", False):
        return
    _checking.busy = True  # the checks themselves raise audited events
    try:
        handler(policy, args)
    finally:
        _checking.busy = False


def install_audit_hook() -> None:
    """Install the permission-checking audit hook (once per process; it cannot be removed,
    and it does nothing unless plugin code is running)."""
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)
            _hook_installed = True


def enforce_in_process(policy: SandboxPolicy | None) -> None:
    """Hold every thread of this process to ``policy`` (the isolation worker does this)."""
    global _process_policy
    install_audit_hook()
    _process_policy = policy


# --- running calls ------------------------------------------------------------------------


class _DaemonPool:
    """Daemon threads for plugin calls: a hung call never blocks interpreter exit, and a new
    thread replaces one that is stuck."""

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._threads = 0

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._idle:
                self._idle -= 1
            elif self._threads >= _MAX_THREADS:
                raise PluginSandboxError(f"{_MAX_THREADS} plugin calls are hung or running")
            else:
                self._threads += 1
                threading.Thread(target=self._work, name="maximus-plugin", daemon=True).start()
        self._tasks.put((future, fn))
        return future

    def _work(self) -> None:
        while True:
            future, fn = self._tasks.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except Exception as exc:
                    future.set_exception(exc)
                except BaseException as exc:  # SystemExit, KeyboardInterrupt from a plugin
                    future.set_exception(_Escape(_describe(exc)))
            del future, fn
            with self._lock:
                self._idle += 1


_POOL = _DaemonPool()


def output_size(value: Any, cap: int) -> int:
    """The size in bytes of a tool result as the model will see it (exact up to ``cap``)."""
    if isinstance(value, str):
        return len(value) if len(value) * 4 <= cap else len(value.encode("utf-8", "replace"))
    if isinstance(value, bytes | bytearray):
        return len(value)
    try:
        return len(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return len(str(value))


class Sandbox:
    """Runs one plugin's code under its :class:`SandboxPolicy`."""

    def __init__(self, policy: SandboxPolicy) -> None:
        self.policy = policy
        if policy.enforce:
            install_audit_hook()

    def _bound(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Callable[[], Any]:
        context = contextvars.copy_context()
        if self.policy.enforce:
            context.run(_ACTIVE.set, self.policy)
        return functools.partial(context.run, fn, *args)

    def _timeout(self, what: str) -> PluginTimeoutError:
        limit = self.policy.limits.timeout_s
        return PluginTimeoutError(
            f"plugin {self.policy.plugin!r}: {what} ran past its {limit:g} s limit and was "
            "abandoned"
        )

    def run(self, fn: Callable[..., Any], *args: Any, what: str = "the call") -> Any:
        """Call ``fn(*args)`` on a sandbox thread; wait at most the timeout.

        Raises:
            PluginTimeoutError: it ran too long. Anything ``fn`` raises is re-raised.
        """
        future = _POOL.submit(self._bound(fn, args))
        try:
            return future.result(self.policy.limits.timeout_s)
        except FutureTimeout:
            if future.done():
                raise  # the call itself raised a TimeoutError
            raise self._timeout(what) from None

    async def arun(self, fn: Callable[..., Any], *args: Any, what: str = "the call") -> Any:
        """:meth:`run` for async callers; a coroutine function runs on the event loop."""
        if inspect.iscoroutinefunction(fn):
            token = _ACTIVE.set(self.policy if self.policy.enforce else None)
            try:
                task = asyncio.ensure_future(fn(*args))  # the task copies the policy
            finally:
                _ACTIVE.reset(token)
        else:
            task = asyncio.wrap_future(_POOL.submit(self._bound(fn, args)))
        try:
            done, _ = await asyncio.wait({task}, timeout=self.policy.limits.timeout_s)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not done:
            task.cancel()
            raise self._timeout(what)
        return task.result()

    def check_output(self, value: Any, *, tool: str) -> None:
        """Refuse a result larger than the cap.

        Raises:
            PluginSandboxError: it is too large.
        """
        cap = self.policy.limits.max_output_bytes
        size = output_size(value, cap)
        if size > cap:
            raise PluginSandboxError(
                f"tool {tool!r} of plugin {self.policy.plugin!r} returned {size:,} bytes, "
                f"over its limit of {cap:,} bytes; ask for less"
            )

    def wrap(self, tool: BaseTool) -> BaseTool:
        """A copy of ``tool`` whose calls run in this sandbox; every failure becomes an
        error the model reads (``ToolException``), never an exception in the agent."""
        call, acall = _callers(tool)
        name, plugin = tool.name, self.policy.plugin
        artifact = tool.response_format == "content_and_artifact"

        def finish(result: Any) -> Any:
            content = result[0] if artifact and isinstance(result, tuple) else result
            self.check_output(content, tool=name)
            return result

        def fail(exc: Exception) -> ToolException:
            if isinstance(exc, ToolException):
                return exc
            if isinstance(exc, PluginError):
                return ToolException(exc.message)
            return ToolException(f"tool {name!r} of plugin {plugin!r} failed: {_describe(exc)}")

        def run(**kwargs: Any) -> Any:
            try:
                return finish(self.run(call, kwargs, what=f"tool {name!r}"))
            except Exception as exc:
                raise fail(exc) from exc

        async def arun(**kwargs: Any) -> Any:
            try:
                return finish(await self.arun(acall or call, kwargs, what=f"tool {name!r}"))
            except Exception as exc:
                raise fail(exc) from exc

        return StructuredTool(
            name=name,
            description=tool.description,
            args_schema=tool.args_schema if tool.args_schema is not None else {},
            func=run,
            coroutine=arun,
            return_direct=tool.return_direct,
            response_format=tool.response_format,
            metadata={**(tool.metadata or {}), "plugin": plugin},
            tags=tool.tags,
            handle_tool_error=True,
            handle_validation_error=tool.handle_validation_error,
        )


class _Escape(Exception):
    """A ``BaseException`` (``SystemExit``...) a plugin raised, carried as an ``Exception``
    so it cannot stop the host."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _Escape):
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_INJECTED = {"callbacks", "run_manager", "config"}


def _callers(tool: BaseTool) -> tuple[Callable[[dict[str, Any]], Any], Any]:
    """How to call ``tool`` with validated arguments: straight to its function when it is a
    plain ``StructuredTool`` (the wrapper already validated them), else through ``invoke``."""
    if isinstance(tool, StructuredTool) and not _wants_injection(tool):
        func, coroutine = tool.func, tool.coroutine
        sync = (lambda kw: func(**kw)) if func is not None else None
        if coroutine is not None:

            async def acall(kw: dict[str, Any]) -> Any:
                return await coroutine(**kw)

            return sync or _blocking(acall), acall
        if sync is not None:
            return sync, None

    def invoke(kw: dict[str, Any]) -> Any:
        return tool.invoke(kw)

    async def ainvoke(kw: dict[str, Any]) -> Any:
        return await tool.ainvoke(kw)

    return invoke, ainvoke


def _blocking(acall: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    def call(kw: dict[str, Any]) -> Any:
        return asyncio.run(acall(kw))

    return call


def _wants_injection(tool: StructuredTool) -> bool:
    names: set[str] = set()
    for fn in (tool.func, tool.coroutine):
        if fn is not None:
            try:
                names.update(inspect.signature(fn).parameters)
            except (TypeError, ValueError):
                return True
    return bool(names & _INJECTED)


def wrap_all(sandbox: Sandbox, tools: Iterable[BaseTool]) -> list[BaseTool]:
    """:meth:`Sandbox.wrap` over ``tools``."""
    return [sandbox.wrap(t) for t in tools]


__all__ = [
    "FileScope",
    "NetworkGuard",
    "Sandbox",
    "SandboxPolicy",
    "enforce_in_process",
    "install_audit_hook",
    "output_size",
    "wrap_all",
]

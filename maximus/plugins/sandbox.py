"""The sandbox every plugin call runs in: timeout, isolation of errors, output cap, permissions.

In process, each call runs on a daemon worker thread with the plugin's policy set in a
context variable, and the caller waits at most ``limits.timeout_s``. Python cannot kill a
thread, so a call that hangs is abandoned (its thread is a daemon, so it never blocks exit)
and the model gets a timeout error. Errors, even ``SystemExit``, become a ``ToolException``
whose message the model sees. A result over ``limits.max_output_bytes`` is refused.

Permissions are enforced twice: by the helpers a plugin is given (:class:`FileScope`,
:class:`NetworkGuard`), and by a :pep:`578` audit hook that checks ``open``, directory
listings, file changes, sockets, DNS, process creation, ``setrlimit`` and native code
(``ctypes``, ``cffi``, foreign extension modules: the ``native`` permission) while plugin
code runs, so code that calls ``open`` or ``socket`` itself is held to the same rules. The
hook sees the calling thread's context only: threads a plugin starts itself escape it, and
so does C code an already-loaded extension runs without an audit event. Only core plugins
and plugins the operator trusts run here; every other plugin runs in a worker process (see
:mod:`maximus.plugins._isolation`), where the same hook covers the whole worker and resource
limits bound CPU, memory, processes, file size and time.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import json
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException

from maximus.errors import PluginError, PluginSandboxError, PluginTimeoutError
from maximus.plugins._audit import _ACTIVE, enforce_in_process, guard_cffi, install_audit_hook
from maximus.plugins._guards import FileScope, NetworkGuard
from maximus.plugins._policy import SandboxPolicy

_MAX_THREADS = 256

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
            guard_cffi()  # the host may have loaded cffi since the last call
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

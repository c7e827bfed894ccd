"""The :pep:`578` audit hook that holds plugin code to its policy.

It checks ``open``, directory listings, file changes, sockets, DNS, process creation and
``setrlimit`` while plugin code runs (the policy is in a context variable set by the sandbox),
or in every thread of an isolation worker (:func:`enforce_in_process`).

Native code is a permission (``native``). Without it the hook refuses every ``ctypes`` event
(``ctypes.dlopen``, ``ctypes.dlsym``, ``ctypes.cdata``, ``ctypes.call_function``...), the
import of ``cffi`` when not yet loaded, and the import of any
extension module from outside the environment's installed packages (a plugin's own ``.so``).
A ``cffi`` backend the host already loaded is guarded at its ``load_library`` entry point.
What an audit hook cannot see, it cannot stop: C code that some already-loaded extension
exposes without raising an audit event. That is why plugins the operator does not trust run
in a worker process.
"""

from __future__ import annotations

import contextvars
import importlib.machinery
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from maximus.errors import PluginSandboxError
from maximus.plugins._guards import NetworkGuard
from maximus.plugins._policy import SandboxPolicy, installed

# --- the audit hook -----------------------------------------------------------------------

_ACTIVE: contextvars.ContextVar[SandboxPolicy | None] = contextvars.ContextVar(
    "maximus_plugin_policy", default=None
)
_process_policy: SandboxPolicy | None = None
_hook_installed = False
_hook_lock = threading.Lock()
_checking = threading.local()
_EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
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


_NATIVE_MODULES = ("cffi", "_cffi_backend")
"""Refused by name: ``ctypes`` raises audit events on use, ``cffi`` does not."""


def _refuse_native(policy: SandboxPolicy, what: str) -> None:
    if not policy.native:
        raise PluginSandboxError(
            f"plugin {policy.plugin!r} may not load native code ({what}); it needs the "
            "native permission"
        )


def _on_ctypes(policy: SandboxPolicy, args: tuple[Any, ...]) -> None:
    _refuse_native(policy, "ctypes")


def _on_import(policy: SandboxPolicy, args: tuple[Any, ...]) -> None:
    if policy.native or not args or not isinstance(args[0], str):
        return
    name = args[0]
    if name.split(".", 1)[0] in _NATIVE_MODULES:
        _refuse_native(policy, f"import {name}")
    filename = args[1] if len(args) > 1 else None
    if isinstance(filename, str | bytes) and filename:
        path = os.path.realpath(os.fsdecode(filename))
        if path.endswith(_EXTENSION_SUFFIXES) and not installed(path):
            _refuse_native(policy, f"extension module {path!r} is not an installed package")


def _guarded_loader(load: Callable[..., Any]) -> Callable[..., Any]:
    def load_library(*args: Any, **kwargs: Any) -> Any:
        policy = _ACTIVE.get() or _process_policy
        if policy is not None and policy.enforce:
            _refuse_native(policy, "cffi")
        return load(*args, **kwargs)

    load_library.__maximus_guard__ = True  # type: ignore[attr-defined]
    return load_library


def guard_cffi() -> None:
    """Route an already-loaded ``cffi`` backend's ``load_library`` through the policy (an
    audit hook does not see it)."""
    backend = sys.modules.get("_cffi_backend")
    load = getattr(backend, "load_library", None)
    if load is not None and not getattr(load, "__maximus_guard__", False):
        backend.load_library = _guarded_loader(load)  # type: ignore[union-attr]


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
    "import": _on_import,
}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    handler = _HANDLERS.get(event)
    if handler is None:
        if not event.startswith("ctypes."):
            return
        handler = _on_ctypes
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
            # Loaded before any plugin runs, so ``import ctypes`` (which opens the C library
            # as it loads) is a cache hit for plugin code and libraries that only probe for
            # it; using it raises ``ctypes.*`` events, which the policy refuses.
            import ctypes  # noqa: F401

            sys.addaudithook(_audit)
            _hook_installed = True
    guard_cffi()


def enforce_in_process(policy: SandboxPolicy | None) -> None:
    """Hold every thread of this process to ``policy`` (the isolation worker does this)."""
    global _process_policy
    install_audit_hook()
    _process_policy = policy

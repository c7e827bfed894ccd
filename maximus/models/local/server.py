"""The local model server: llama-cpp-python's OpenAI-compatible server, started, reused, stopped.

:class:`LocalModelServer` keeps one server per data directory. :meth:`~LocalModelServer.ensure`
reuses the running one (its pid, port and model are in ``<data_dir>/local-model/server.json``)
or verifies the model and starts a new one on a free loopback port, detached, so the next run
reuses it. A file lock makes concurrent starts safe. The server stops on
:meth:`~LocalModelServer.stop` (``maximus model stop``) or by itself after
``MAXIMUS_LOCAL__IDLE_TIMEOUT`` seconds without requests.

``python -m maximus.models.local.server`` is the server process itself: llama-cpp-python's
``create_app`` under uvicorn, plus the idle timer. On CPU it uses as many threads as the process
may use cores; with a GPU build of llama.cpp it offloads every layer unless told otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from maximus.config import Settings
from maximus.errors import ModelServerError
from maximus.models.local.weights import MODEL_NAME, Progress, ensure_model, require_extra


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """A running local model server, as recorded in its state file."""

    pid: int
    host: str
    port: int
    model_path: str
    started_at: float
    n_threads: int
    n_gpu_layers: int | None
    supervisor_pid: int | None = None
    """The process that watches the server and records how it ended."""
    ready_check_s: float | None = None
    """Seconds the first real request took (answered before the server was reported ready)."""

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (``http://host:port/v1``)."""
        return f"http://{self.host}:{self.port}/v1"


@dataclass(frozen=True, slots=True)
class CrashReport:
    """How a local model server ended when it was not asked to (``exit.json``)."""

    pid: int
    returncode: int
    """The exit status; negative: killed by that signal."""
    at: float
    log_tail: list[str]

    @property
    def signal(self) -> str | None:
        """The signal's name (``SIGSEGV``), or ``None`` for a plain exit."""
        if self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"

    @property
    def how(self) -> str:
        """``killed by SIGSEGV`` or ``exited with code 1``."""
        return f"killed by {self.signal}" if self.signal else f"exited with code {self.returncode}"

    @property
    def fix(self) -> str:
        """The command that most likely fixes it."""
        if self.signal in ("SIGSEGV", "SIGILL", "SIGBUS", "SIGFPE", "SIGABRT"):
            # A fault in native code: almost always a llama.cpp built for another CPU (AMX).
            return REBUILD_HINT
        if self.signal == "SIGKILL":
            return "free memory (the 1.5B model needs about 2 GiB), then run it again"
        return "maximus model serve (to see it start), then run it again"

    def message(self, log_file: Path) -> str:
        """One line for the user: what died, how, the last log lines, and the fix."""
        lines = [
            line.strip()
            for line in self.log_tail
            if line.strip() and not line.startswith("Extension modules:")
        ]
        fatal = [line for line in lines if line.startswith("Fatal Python error")]
        tail = " | ".join(dict.fromkeys(fatal[-1:] + lines[-2:]))
        return (
            f"the local model server (pid {self.pid}) crashed: {self.how}. "
            f"Last log lines: {tail or '(empty)'} [{log_file}]. Fix: {self.fix}"
        )


REBUILD_HINT = "maximus model rebuild (reinstalls llama-cpp-python as a portable build)"
"""What fixes a llama.cpp that faults on this CPU."""

_CLEAN_EXITS = {0, -signal.SIGTERM, -signal.SIGINT}


def cpu_threads() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (our own child, exited but not reaped) is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


_FIRST_PROMPT = (
    "This request checks that the model reads a prompt of many tokens in one batch, as every "
    "chat call does, before the server is reported ready. Reply with one word: ready."
)


def first_request(url: str, timeout: float = 120.0) -> None:
    """One real chat completion with a multi-token prompt (a one-token prompt would not reach
    llama.cpp's batched matrix code, where a build for the wrong CPU faults).

    Raises:
        httpx.HTTPError: no answer, or not a 200.
    """
    body = {
        "model": MODEL_NAME,
        "messages": [{"role": "user", "content": _FIRST_PROMPT}],
        "max_tokens": 2,
        "temperature": 0,
    }
    httpx.post(f"{url}/chat/completions", json=body, timeout=timeout).raise_for_status()


def healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether an OpenAI-compatible server answers ``GET /models`` at ``url``."""
    try:
        return httpx.get(f"{url}/models", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


class LocalModelServer:
    """Start, reuse and stop the local model server of one data directory.

    Args:
        settings: where the data directory is, and the ``local`` section.
    """

    def __init__(self, settings: Settings, folder: Path | None = None) -> None:
        self.settings = settings
        self.dir = folder or settings.data_dir / "local-model"
        self.state_file = self.dir / "server.json"
        self.log_file = self.dir / "server.log"
        self.exit_file = self.dir / "exit.json"

    @classmethod
    def at(cls, folder: Path) -> LocalModelServer:
        """The server whose files are in ``folder`` (to read its state, not to start it)."""
        return cls(Settings.model_construct(), folder)

    def crash(self) -> CrashReport | None:
        """How the last server ended, if it crashed (kept until the next start)."""
        try:
            return CrashReport(**json.loads(self.exit_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def failure(self) -> str:
        """Why the server does not answer, in one line: its crash, or that it is not running."""
        info = self._read()
        if info is not None and not _alive(info.pid):
            # Its supervisor writes the crash record a moment after the server dies.
            deadline = time.monotonic() + 5.0
            while not self.exit_file.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        crash = self.crash()
        if crash is not None:
            return crash.message(self.log_file)
        if info is not None and _alive(info.pid):
            return (
                f"the local model server (pid {info.pid}) is running but does not answer at "
                f"{info.url}. Fix: maximus model stop, then run it again"
            )
        return "the local model server is not running. Fix: maximus model serve"

    def status(self) -> ServerInfo | None:
        """The running server, or ``None`` (a stale state file is removed; how a crashed
        server ended stays in :meth:`crash`)."""
        info = self._read()
        if info is None:
            return None
        if _alive(info.pid) and healthy(info.url):
            return info
        if not _alive(info.pid):
            self.state_file.unlink(missing_ok=True)
        return None

    def ensure(
        self,
        progress: Progress | None = None,
        on_event: Callable[[str], None] | None = None,
    ) -> ServerInfo:
        """The running server, started (model verified, assembled if needed) when there is none.

        Raises:
            ConfigError: the ``maximus[local]`` extra is missing.
            ModelIntegrityError: the model chunks do not hash to the pinned SHA-256.
            ModelServerError: the server did not start; the message has its log's tail.
        """
        with self._lock():
            info = self.status()
            if info is not None:
                return info
            crash = self.crash()
            if crash is not None and on_event is not None:
                on_event(f"the last local model server {crash.how}; starting a new one")
            return self._start(progress, on_event)

    def stop(self, timeout: float = 15.0) -> bool:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout``); ``False`` if none ran."""
        with self._lock():
            info = self._read()
            if info is None:
                return False
            self.state_file.unlink(missing_ok=True)
            self.exit_file.unlink(missing_ok=True)
            pids = [p for p in (info.supervisor_pid, info.pid) if p is not None and _alive(p)]
            if not pids:
                return False
            for pid in pids:  # the supervisor passes SIGTERM on; the server is told too
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while any(_alive(p) for p in pids) and time.monotonic() < deadline:
                time.sleep(0.05)
            for pid in pids:
                if _alive(pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            return True

    def _start(
        self, progress: Progress | None, on_event: Callable[[str], None] | None
    ) -> ServerInfo:
        require_extra()
        local = self.settings.local
        model = ensure_model(self.settings, progress=progress, on_event=on_event)
        port = local.port or free_port(local.host)
        threads = local.n_threads or cpu_threads()
        command = [
            sys.executable,
            "-m",
            "maximus.models.local.server",
            "--supervise",
            "--model",
            str(model),
            "--host",
            local.host,
            "--port",
            str(port),
            "--n-ctx",
            str(local.n_ctx),
            "--n-threads",
            str(threads),
            "--seed",
            str(local.seed),
            "--state-file",
            str(self.state_file),
        ]
        if local.n_gpu_layers is not None:
            command += ["--n-gpu-layers", str(local.n_gpu_layers)]
        if local.idle_timeout is not None:
            command += ["--idle-timeout", str(local.idle_timeout)]
        self.dir.mkdir(parents=True, exist_ok=True)
        if on_event is not None:
            on_event(f"starting the local model server on {local.host}:{port}")
        # OpenMP threads that sleep instead of spinning while they wait: on a machine shared
        # with other work, spinning threads cut llama.cpp's speed by 5x or more (measured here:
        # 2 threads went from 12 to 2 tokens/s under load without it).
        env = {**os.environ}
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self.exit_file.unlink(missing_ok=True)
        (self.dir / "server.pid").unlink(missing_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this process, so later runs reuse it
            )
        deadline = time.monotonic() + local.start_timeout
        server_pid = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ModelServerError(self._start_failure(proc.returncode))
            server_pid = server_pid or self._child_pid()
            if server_pid is not None and healthy(f"http://{local.host}:{port}/v1", timeout=1.0):
                break
            time.sleep(0.2)
        else:
            proc.kill()
            proc.wait()
            raise ModelServerError(
                f"the local model server did not answer within {local.start_timeout:.0f}s "
                f"(MAXIMUS_LOCAL__START_TIMEOUT): {self._tail()}"
            )
        info = ServerInfo(
            pid=server_pid,
            host=local.host,
            port=port,
            model_path=str(model),
            started_at=time.time(),
            n_threads=threads,
            n_gpu_layers=local.n_gpu_layers,
            supervisor_pid=proc.pid,
        )
        if on_event is not None:
            on_event("checking the local model with a first real request")
        checked = time.monotonic()
        try:
            first_request(info.url, timeout=max(30.0, deadline - time.monotonic()))
            info = dataclasses.replace(info, ready_check_s=round(time.monotonic() - checked, 3))
        except httpx.HTTPError as exc:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)  # the supervisor records a crash, then exits
            crash = self.crash()
            if crash is not None:
                raise ModelServerError(crash.message(self.log_file)) from None
            proc.terminate()
            raise ModelServerError(
                f"the local model server failed its first request ({exc}): {self._tail()}"
            ) from None
        self._write(info)
        return info

    def _child_pid(self) -> int | None:
        try:
            return int((self.dir / "server.pid").read_text())
        except (OSError, ValueError):
            return None

    def _start_failure(self, returncode: int) -> str:
        crash = self.crash()
        if crash is not None:
            return crash.message(self.log_file)
        return f"the local model server exited with code {returncode}: {self._tail()}"

    def _read(self) -> ServerInfo | None:
        try:
            return ServerInfo(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def _write(self, info: ServerInfo) -> None:
        partial = self.state_file.with_suffix(".tmp")
        partial.write_text(json.dumps(asdict(info)))
        os.replace(partial, self.state_file)

    def _tail(self, lines: int = 15) -> str:
        try:
            text = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return f"log {self.log_file}:\n" + "\n".join(text[-lines:])

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with (self.dir / "server.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


# --- the server process ------------------------------------------------------------------------


class _IdleTimer:
    """ASGI middleware that notes the last request and counts requests in flight."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = time.monotonic()
        self.active = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1
            self.last = time.monotonic()


def serve(argv: list[str] | None = None) -> None:
    """Run the server in this process until SIGTERM, SIGINT or the idle timeout."""
    parser = argparse.ArgumentParser(prog="python -m maximus.models.local.server")
    parser.add_argument("--model", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--n-threads", type=int, default=cpu_threads())
    parser.add_argument("--n-gpu-layers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--idle-timeout", type=float, default=None)
    parser.add_argument("--state-file", default=None)
    parser.add_argument("--supervise", action="store_true")
    args = parser.parse_args(argv)
    if args.supervise:
        raw = list(sys.argv[1:] if argv is None else argv)
        raise SystemExit(supervise([a for a in raw if a != "--supervise"], args.state_file))
    import faulthandler

    faulthandler.enable()  # a fault in native code leaves its Python stack in the log

    import llama_cpp
    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    gpu_layers = args.n_gpu_layers
    if gpu_layers is None:
        gpu_layers = -1 if llama_cpp.llama_supports_gpu_offload() else 0
    model_settings = ModelSettings(
        model=args.model,
        model_alias=MODEL_NAME,
        n_ctx=args.n_ctx,
        n_threads=args.n_threads,
        n_threads_batch=args.n_threads,
        n_gpu_layers=gpu_layers,
        seed=args.seed,
        verbose=False,
    )
    app = _IdleTimer(
        create_app(
            server_settings=ServerSettings(host=args.host, port=args.port),
            model_settings=[model_settings],
        )
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
    )
    if args.idle_timeout is not None:

        def watch() -> None:
            while not server.should_exit:
                time.sleep(1.0)
                if app.active == 0 and time.monotonic() - app.last > args.idle_timeout:
                    print(f"idle for {args.idle_timeout:.0f}s; stopping", flush=True)
                    server.should_exit = True

        threading.Thread(target=watch, daemon=True).start()
    print(
        f"serving {args.model} on http://{args.host}:{args.port}/v1 "
        f"(threads={args.n_threads}, gpu_layers={gpu_layers})",
        flush=True,
    )
    try:
        server.run()
    finally:
        if args.state_file:
            _forget(Path(args.state_file))


def supervise(argv: list[str], state_file: str | None) -> int:
    """Run the server as a child, pass SIGTERM and SIGINT on, and record an unclean end.

    The server's pid goes to ``server.pid`` beside the state file; when it ends other than by
    a clean exit or SIGTERM/SIGINT, ``exit.json`` records its status and the log's last lines,
    so the next command can say what happened (the server is detached: nobody else can wait
    for it).
    """
    folder = Path(state_file).parent if state_file else Path.cwd()
    child = subprocess.Popen([sys.executable, "-m", "maximus.models.local.server", *argv])
    (folder / "server.pid").write_text(str(child.pid))

    def forward(signum: int, _frame: Any) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    returncode = child.wait()
    if returncode not in _CLEAN_EXITS:
        try:
            tail = (folder / "server.log").read_text(errors="replace").splitlines()[-80:]
        except OSError:
            tail = []
        record = {"pid": child.pid, "returncode": returncode, "at": time.time(), "log_tail": tail}
        sys.stdout.flush()
        print(f"the server (pid {child.pid}) ended: returncode {returncode}", flush=True)
        partial = folder / "exit.json.tmp"
        partial.write_text(json.dumps(record))
        os.replace(partial, folder / "exit.json")
        if state_file:
            _forget(Path(state_file), child.pid)
    return 0 if returncode in _CLEAN_EXITS else 1


def _forget(state_file: Path, pid: int | None = None) -> None:
    """Remove the state file if it names this process (a clean exit leaves nothing stale)."""
    try:
        if json.loads(state_file.read_text()).get("pid") == (pid or os.getpid()):
            state_file.unlink(missing_ok=True)
    except (OSError, ValueError):
        pass


__all__ = [
    "REBUILD_HINT",
    "CrashReport",
    "LocalModelServer",
    "ServerInfo",
    "cpu_threads",
    "first_request",
    "free_port",
    "healthy",
    "serve",
    "supervise",
]

if __name__ == "__main__":
    serve()

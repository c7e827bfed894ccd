"""The local model server: llama-cpp-python's OpenAI-compatible server, started, reused, stopped.

:class:`LocalModelServer` keeps one server per data directory. :meth:`~LocalModelServer.ensure`
reuses the running one (its pid, port and model are in ``<data_dir>/local-model/server.json``)
or verifies the model and starts a new one on a free loopback port, detached, so the next run
reuses it. A file lock makes concurrent starts safe. The server stops on
:meth:`~LocalModelServer.stop` (``maximus model stop``) or by itself after
``MAXIMUS_LOCAL__IDLE_TIMEOUT`` seconds without requests.

``python -m maximus.local_server`` is the server process itself: llama-cpp-python's
``create_app`` under uvicorn, plus the idle timer. On CPU it uses as many threads as the process
may use cores; with a GPU build of llama.cpp it offloads every layer unless told otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
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
from maximus.local_model import MODEL_NAME, Progress, ensure_model, require_extra


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

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (``http://host:port/v1``)."""
        return f"http://{self.host}:{self.port}/v1"


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

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.data_dir / "local-model"
        self.state_file = self.dir / "server.json"
        self.log_file = self.dir / "server.log"

    def status(self) -> ServerInfo | None:
        """The running server, or ``None`` (a stale state file is removed)."""
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
            return self._start(progress, on_event)

    def stop(self, timeout: float = 15.0) -> bool:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout``); ``False`` if none ran."""
        with self._lock():
            info = self._read()
            if info is None:
                return False
            self.state_file.unlink(missing_ok=True)
            if not _alive(info.pid):
                return False
            with contextlib.suppress(ProcessLookupError):
                os.kill(info.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(info.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(info.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(info.pid, signal.SIGKILL)
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
            "maximus.local_server",
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
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this process, so later runs reuse it
            )
        info = ServerInfo(
            pid=proc.pid,
            host=local.host,
            port=port,
            model_path=str(model),
            started_at=time.time(),
            n_threads=threads,
            n_gpu_layers=local.n_gpu_layers,
        )
        deadline = time.monotonic() + local.start_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ModelServerError(
                    f"the local model server exited with code {proc.returncode}: {self._tail()}"
                )
            if healthy(info.url, timeout=1.0):
                self._write(info)
                return info
            time.sleep(0.2)
        proc.kill()
        proc.wait()
        raise ModelServerError(
            f"the local model server did not answer within {local.start_timeout:.0f}s "
            f"(MAXIMUS_LOCAL__START_TIMEOUT): {self._tail()}"
        )

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
    parser = argparse.ArgumentParser(prog="python -m maximus.local_server")
    parser.add_argument("--model", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--n-threads", type=int, default=cpu_threads())
    parser.add_argument("--n-gpu-layers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--idle-timeout", type=float, default=None)
    parser.add_argument("--state-file", default=None)
    args = parser.parse_args(argv)

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


def _forget(state_file: Path) -> None:
    """Remove the state file if it names this process (a clean exit leaves nothing stale)."""
    try:
        if json.loads(state_file.read_text()).get("pid") == os.getpid():
            state_file.unlink(missing_ok=True)
    except (OSError, ValueError):
        pass


__all__ = ["LocalModelServer", "ServerInfo", "cpu_threads", "free_port", "healthy", "serve"]

if __name__ == "__main__":
    serve()

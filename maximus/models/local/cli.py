"""``maximus model serve|status|stop|rebuild``: manage the local model server by hand.

Runs start it on their own (``MAXIMUS_MODEL=local``, the default once ``maximus[local]`` is
installed); these commands are for starting it ahead of time, seeing where it listens, and
stopping it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from maximus.config import Settings, get_settings
from maximus.errors import ConfigError, MaximusError, ModelServerError

model_app = typer.Typer(help="The embedded local model (Qwen2.5-Coder-1.5B, llama.cpp).")
out = Console()
err = Console(stderr=True)


Reporters = tuple[Callable[[int, int], None], Callable[[str], None]]


@contextmanager
def model_progress(console: Console) -> Iterator[Reporters]:
    """A live byte progress bar for assembling and verifying the model, and an event printer."""
    bar = Progress(
        TextColumn("[dim]{task.description}[/]"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("verifying the local model", total=None)

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    def event(message: str) -> None:
        console.print(f"[dim]{message}[/]")
        bar.update(task, description=message[:60], completed=0)

    with bar:
        yield progress, event


def ensure_local_server(settings: Settings, console: Console) -> str:
    """Start or reuse the local model server with live progress; its base URL."""
    from maximus.models.local.server import LocalModelServer

    if settings.local.url:
        return settings.local.url
    started = time.monotonic()
    with model_progress(console) as (progress, event):
        info = LocalModelServer(settings).ensure(progress=progress, on_event=event)
    console.print(
        f"[dim]local model at {info.url} (pid {info.pid}, {info.n_threads} threads; "
        f"ready in {time.monotonic() - started:.1f}s)[/]"
    )
    return info.url


def _fail(exc: MaximusError) -> typer.Exit:
    err.print(f"[bold red]{type(exc).__name__}:[/] {escape(exc.message)}", soft_wrap=True)
    if isinstance(exc, ConfigError):
        return typer.Exit(3)
    return typer.Exit(6 if isinstance(exc, ModelServerError) else 1)


@model_app.command()
def serve() -> None:
    """Start the local model server (or find the running one) and print its URL."""
    settings = get_settings()
    try:
        url = ensure_local_server(settings, err)
    except MaximusError as exc:
        raise _fail(exc) from None
    typer.echo(url)


@model_app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say whether the local model server runs, and where, or how it crashed.

    Exit code 0: running; 1: not running; 6: it crashed (the message says how, and the fix).
    """
    from dataclasses import asdict

    from maximus.models.local.server import LocalModelServer
    from maximus.models.local.weights import missing_packages, model_path

    settings = get_settings()
    server = LocalModelServer(settings)
    info = server.status()
    crash = server.crash() if info is None else None
    state = "running" if info is not None else "crashed" if crash is not None else "not running"
    report: dict[str, object] = {
        "state": state,
        "running": info is not None,
        "extra_installed": not missing_packages(),
        "model_path": str(model_path(settings)),
        "model_assembled": model_path(settings).exists(),
        **({"url": info.url, **asdict(info)} if info else {}),
    }
    if crash is not None:
        report["crash"] = {**asdict(crash), "signal": crash.signal, "fix": crash.fix}
    if as_json:
        typer.echo(json.dumps(report))
    elif info is not None:
        uptime = time.time() - info.started_at
        out.print(
            f"running at {info.url}: pid {info.pid}, {info.n_threads} threads, "
            f"up {uptime:.0f}s, model {info.model_path}"
        )
    elif crash is not None:
        out.print(escape(crash.message(server.log_file)), soft_wrap=True)
    else:
        out.print(
            f"not running (model {'assembled' if report['model_assembled'] else 'not assembled'}"
            f" at {report['model_path']})"
        )
    raise typer.Exit(0 if info is not None else 6 if crash is not None else 1)


@model_app.command()
def rebuild(
    build: Annotated[
        str,
        typer.Option(help="portable (any x86-64 CPU with AVX2), cuda, or native (this CPU only)."),
    ] = "",
) -> None:
    """Reinstall llama-cpp-python with the project's recipe, built again from source.

    Stops the running server first. Takes minutes on 2 cores.
    """
    import os
    import subprocess
    import sys
    from importlib import resources

    from maximus.models.local.server import LocalModelServer

    LocalModelServer(get_settings()).stop()
    script = resources.files("maximus.models.local") / "install_llama.sh"
    env = {**os.environ, "PYTHON": sys.executable}
    if build:
        env["MAXIMUS_LLAMA_BUILD"] = build
    with resources.as_file(script) as path:
        code = subprocess.call(["bash", str(path), "--force"], env=env)
    raise typer.Exit(code)


@model_app.command()
def stop() -> None:
    """Stop the local model server."""
    from maximus.models.local.server import LocalModelServer

    stopped = LocalModelServer(get_settings()).stop()
    out.print("stopped" if stopped else "not running")


__all__ = ["ensure_local_server", "model_app", "model_progress"]

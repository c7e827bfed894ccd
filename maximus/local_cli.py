"""``maximus model serve|status|stop``: manage the local model server by hand.

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
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from maximus.config import Settings, get_settings
from maximus.errors import ConfigError, MaximusError

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
    from maximus.local_server import LocalModelServer

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
    err.print(f"[bold red]{type(exc).__name__}:[/] {exc.message}")
    return typer.Exit(3 if isinstance(exc, ConfigError) else 1)


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
    """Say whether the local model server runs, and where. Exit code 1 if it does not."""
    from dataclasses import asdict

    from maximus.local_model import missing_packages, model_path
    from maximus.local_server import LocalModelServer

    settings = get_settings()
    info = LocalModelServer(settings).status()
    report = {
        "running": info is not None,
        "extra_installed": not missing_packages(),
        "model_path": str(model_path(settings)),
        "model_assembled": model_path(settings).exists(),
        **({"url": info.url, **asdict(info)} if info else {}),
    }
    if as_json:
        typer.echo(json.dumps(report))
    elif info is None:
        out.print(
            f"not running (model {'assembled' if report['model_assembled'] else 'not assembled'}"
            f" at {report['model_path']})"
        )
    else:
        uptime = time.time() - info.started_at
        out.print(
            f"running at {info.url}: pid {info.pid}, {info.n_threads} threads, "
            f"up {uptime:.0f}s, model {info.model_path}"
        )
    raise typer.Exit(0 if info is not None else 1)


@model_app.command()
def stop() -> None:
    """Stop the local model server."""
    from maximus.local_server import LocalModelServer

    stopped = LocalModelServer(get_settings()).stop()
    out.print("stopped" if stopped else "not running")


__all__ = ["ensure_local_server", "model_app", "model_progress"]

"""``maximus worker``: run shared runs (background runs, and runs taken over from replicas that
died) without serving the API.

A worker opens what ``maximus serve`` opens (sessions, memory, plugins, the graphs) and takes
runs from the Redis queue; it answers only ``/healthz``, ``/readyz`` and ``/metrics`` (for
its probes and scrapes). It needs ``MAXIMUS_REDIS_URL``: without Redis there is no queue.
"""

from __future__ import annotations

from typing import Annotated

import typer

worker_app = typer.Typer(help="Run background runs from the shared Redis queue (no API).")


@worker_app.callback(invoke_without_command=True)
def worker(
    host: Annotated[str, typer.Option(help="Bind address of the health endpoints.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Port of /healthz, /readyz and /metrics.")] = 8124,
    concurrency: Annotated[
        int | None, typer.Option(help="Runs at once (default: MAXIMUS_SERVER__RUN_WORKERS).")
    ] = None,
) -> None:
    """Run workers until SIGTERM; runs still going after the grace period go back to the
    queue at their last checkpoint, for another worker."""
    from maximus.server._serving import run_uvicorn, settings_or_exit

    settings = settings_or_exit()
    if not settings.redis_url or not settings.server.shared_runs:
        typer.echo(
            "ConfigError: a worker takes runs from Redis; set MAXIMUS_REDIS_URL "
            "(and keep MAXIMUS_SERVER__SHARED_RUNS on)",
            err=True,
        )
        raise typer.Exit(3)
    server = settings.server
    if concurrency is not None:
        server = server.model_copy(update={"run_workers": max(1, concurrency)})
    elif server.run_workers == 0:
        server = server.model_copy(update={"run_workers": 16})
    settings = settings.model_copy(update={"server": server})
    from maximus.server.app import create_app

    run_uvicorn(
        create_app(settings, configure_logs=True, serve_api=False), server, host=host, port=port
    )


__all__ = ["worker_app"]

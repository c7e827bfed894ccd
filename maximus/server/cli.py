"""``maximus serve``: run the HTTP server under uvicorn; ``maximus serve hash-key`` prints the
digest to configure for an API key."""

from __future__ import annotations

from typing import Annotated

import typer

serve_app = typer.Typer(
    help="Serve the HTTP API (LangGraph-SDK-compatible).",
    subcommand_metavar="[COMMAND [ARGS]...]",
)


@serve_app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Bind address (default: settings).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(metavar="PORT", help="Port (default: settings).")
    ] = None,
    workers: Annotated[int, typer.Option(metavar="N", help="uvicorn worker processes.")] = 1,
) -> None:
    """Run the server until SIGTERM or Ctrl-C (in-flight runs get the grace period)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from maximus.config import get_settings
    from maximus.errors import ConfigError

    try:
        settings = get_settings()
    except ConfigError as exc:
        typer.echo(f"ConfigError: {exc.message}", err=True)
        raise typer.Exit(3) from None
    server = settings.server
    from maximus.server.app import create_app

    config = uvicorn.Config(
        create_app(settings, configure_logs=True),
        host=host or server.host,
        port=server.port if port is None else port,
        workers=workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=max(1, int(server.shutdown_grace_seconds) + 5),
        lifespan="on",
    )
    uvicorn.Server(config).run()


@serve_app.command("hash-key")
def hash_key_command(
    key: Annotated[str, typer.Argument(help="The API key to accept.")],
) -> None:
    """Print the SHA-256 digest to put in MAXIMUS_SERVER__API_KEYS for KEY."""
    from maximus.server.auth import hash_key

    typer.echo(hash_key(key))


__all__ = ["serve_app"]

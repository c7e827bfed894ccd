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
    from maximus.server._serving import run_uvicorn, settings_or_exit

    settings = settings_or_exit()
    server = settings.server
    from maximus.server.app import create_app

    run_uvicorn(
        create_app(settings, configure_logs=True),
        server,
        host=host or server.host,
        port=server.port if port is None else port,
        workers=workers,
    )


@serve_app.command("hash-key")
def hash_key_command(
    key: Annotated[str, typer.Argument(help="The API key to accept.")],
) -> None:
    """Print the SHA-256 digest to put in MAXIMUS_SERVER__API_KEYS for KEY."""
    from maximus.server.auth import hash_key

    typer.echo(hash_key(key))


__all__ = ["serve_app"]

"""What ``maximus serve`` and ``maximus worker`` share: loading the settings for a command
line, and running an app under uvicorn with the server's shutdown grace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from maximus.config import ServerSettings, Settings


def settings_or_exit() -> Settings:
    """The settings; on a :class:`~maximus.errors.ConfigError`, say why and exit with 3."""
    from maximus.config import get_settings
    from maximus.errors import ConfigError

    try:
        return get_settings()
    except ConfigError as exc:
        typer.echo(f"ConfigError: {exc.message}", err=True)
        raise typer.Exit(3) from None


def run_uvicorn(
    app: Any, server: ServerSettings, *, host: str, port: int, workers: int | None = None
) -> None:
    """Serve ``app`` until SIGTERM or Ctrl-C; in-flight work gets the grace period."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=max(1, int(server.shutdown_grace_seconds) + 5),
        lifespan="on",
    )
    uvicorn.Server(config).run()


__all__ = ["run_uvicorn", "settings_or_exit"]

"""Store hygiene the server does around outages."""

from __future__ import annotations

from typing import Any


async def reset_connections(saver: Any) -> None:
    """Drop a Redis saver's pooled connections (after an outage they point at a dead server;
    the next command opens fresh ones). A no-op for other savers."""
    pool = getattr(getattr(saver, "client", None), "connection_pool", None)
    if pool is not None and hasattr(pool, "disconnect"):
        await pool.disconnect()


__all__ = ["reset_connections"]

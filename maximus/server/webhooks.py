"""Webhooks on run completion: a POST of the finished run to the URL the run named.

The URL is checked when the run is created (a bad one answers 422) and again when it is
called, with the guard ``http_fetch`` uses: http(s) only, and every address the host resolves
to must be public unless ``MAXIMUS_SERVER__WEBHOOK_ALLOW_PRIVATE`` covers it; the request goes
to the checked address, so a second DNS answer cannot swap in a private one. A failed call
is logged, never retried, and never changes the run.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from maximus.errors import InvalidInputError, PluginSandboxError

logger = logging.getLogger("maximus.server.webhooks")
TIMEOUT_S = 10.0


class Webhooks:
    """Checks and calls run webhooks."""

    def __init__(self, allow_private: list[str]) -> None:
        from maximus.plugins._guards import NetworkGuard
        from maximus.plugins.manifest import NetworkPermission

        permission = NetworkPermission(hosts=("*",), allow_private=tuple(allow_private))
        self._guard = NetworkGuard(permission, plugin="webhook")

    def check(self, url: str) -> Any:
        """The checked target of ``url``.

        Raises:
            InvalidInputError: not http(s), unresolvable, or a private address not allowed.
        """
        try:
            return self._guard.check_url(url)
        except PluginSandboxError as exc:
            raise InvalidInputError(f"webhook: {exc.message}") from None

    async def send(self, url: str, payload: bytes) -> None:
        """POST ``payload`` (the run, as JSON) to ``url``; failures are only logged."""
        import anyio
        import httpx

        try:
            target = await anyio.to_thread.run_sync(self.check, url)
        except InvalidInputError as exc:
            logger.warning("webhook not called: %s", exc.message)
            return
        parts = urlsplit(url)
        address = f"[{target.address}]" if ":" in target.address else target.address
        pinned = urlunsplit(
            (parts.scheme, f"{address}:{target.port}", parts.path or "/", parts.query, "")
        )
        headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "Content-Type": "application/json"}
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_S, trust_env=False) as client:
                response = await client.post(
                    pinned, content=payload, headers=headers, extensions=extensions
                )
            if response.status_code >= 400:
                logger.warning("webhook %s answered %d", parts.netloc, response.status_code)
        except httpx.HTTPError as exc:
            logger.warning("webhook %s failed: %s", parts.netloc, type(exc).__name__)


__all__ = ["Webhooks"]

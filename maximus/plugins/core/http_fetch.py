"""Core plugin ``http_fetch``: GET a URL, within the network allowlist, a size and a time.

Every hop (the URL and each redirect) is checked by the plugin's
:class:`~maximus.plugins.sandbox.NetworkGuard`: the host must match ``permissions.network.
hosts`` and every address it resolves to must be public, unless ``allow_private`` covers it.
The connection then goes to the address that was checked (the ``Host`` header and TLS SNI
keep the name), so a second DNS answer cannot swap in a private address. The body is read
in chunks and cut at ``max_bytes``; the whole fetch stops at ``timeout_s``.
"""

from __future__ import annotations

import time
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from langchain_core.tools import BaseTool, ToolException, tool

from maximus.plugins.base import BasePlugin
from maximus.plugins.hookspecs import hookimpl
from maximus.plugins.manifest import Limits, NetworkPermission, Permissions, PluginType

MAX_REDIRECTS = 5
_TEXTUAL = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "yaml", "csv")


class HttpFetchPlugin(BasePlugin):
    """Fetch web pages and APIs over http(s), allowlisted, with size and time limits."""

    name = "http_fetch"
    version = "1.0.0"
    plugin_type = PluginType.INTEGRATION
    permissions = Permissions(network=NetworkPermission(hosts=("*",)))
    limits = Limits(timeout_s=60)
    config_schema = {
        "type": "object",
        "properties": {
            "max_bytes": {"type": "integer", "default": 200_000, "minimum": 1},
            "timeout_s": {"type": "number", "default": 15, "minimum": 0.01},
            "user_agent": {"type": "string", "default": "maximus-http-fetch/1.0"},
        },
    }

    def tools(self) -> list[BaseTool]:
        """The ``http_fetch`` tool."""
        plugin = self

        @tool
        def http_fetch(url: str, max_bytes: int | None = None) -> str:
            """Fetch a URL with GET and return the status, the content type and the body as
            text (cut at max_bytes). Only public http(s) hosts the plugin allows."""
            return plugin.fetch(url, max_bytes)

        return [http_fetch]

    def fetch(self, url: str, max_bytes: int | None = None) -> str:
        """GET ``url``, following checked redirects.

        Raises:
            PluginSandboxError: a hop is not allowed.
            ToolException: the request failed, took too long, or redirected too often.
        """
        cap = min(max_bytes or self.config["max_bytes"], self.config["max_bytes"])
        budget = float(self.config["timeout_s"])
        deadline = time.monotonic() + budget
        timeout = httpx.Timeout(budget)
        with httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                target = self.context.check_url(url)
                parts = urlsplit(url)
                address = f"[{target.address}]" if ":" in target.address else target.address
                pinned = urlunsplit(
                    (parts.scheme, f"{address}:{target.port}", parts.path or "/", parts.query, "")
                )
                headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "User-Agent": self.agent}
                extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
                try:
                    with client.stream(
                        "GET", pinned, headers=headers, extensions=extensions
                    ) as response:
                        if response.is_redirect and "location" in response.headers:
                            url = urljoin(url, response.headers["location"])
                            continue
                        return self._read(response, url, cap, deadline, budget)
                except httpx.TimeoutException:
                    raise ToolException(f"{url} did not answer within {budget:g} s") from None
                except httpx.HTTPError as exc:
                    raise ToolException(f"fetching {url} failed: {exc}") from None
        raise ToolException(f"{url}: more than {MAX_REDIRECTS} redirects")

    @property
    def agent(self) -> str:
        """The User-Agent header."""
        return str(self.config.get("user_agent") or "maximus-http-fetch/1.0")

    @staticmethod
    def _read(response: httpx.Response, url: str, cap: int, deadline: float, budget: float) -> str:
        body = bytearray()
        truncated = False
        for chunk in response.iter_bytes():  # as it arrives, so the deadline is checked
            if time.monotonic() > deadline:
                raise ToolException(f"{url} took longer than {budget:g} s to send its body")
            body += chunk
            if len(body) > cap:
                del body[cap:]
                truncated = True
                break
        kind = response.headers.get("content-type", "unknown")
        head = f"HTTP {response.status_code} {kind}\n\n"
        if not any(mark in kind for mark in _TEXTUAL) and kind != "unknown":
            return f"{head}[binary content, {len(body):,} bytes{'+' if truncated else ''}]"
        try:
            text = body.decode(response.charset_encoding or "utf-8", "replace")
        except LookupError:  # a charset Python does not know
            text = body.decode("utf-8", "replace")
        note = f"\n[cut at {cap:,} bytes]" if truncated else ""
        return head + text + note


@hookimpl
def maximus_register_plugins() -> list[type[BasePlugin]]:
    """Register the http_fetch plugin."""
    return [HttpFetchPlugin]


__all__ = ["HttpFetchPlugin"]

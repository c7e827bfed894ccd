"""``http_fetch`` against a real local HTTP server: loopback is refused by default and
allowed only when the operator allowlists it; the size and time limits hold."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from maximus.plugins import PluginManager

pytestmark = pytest.mark.integration


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        routes = {
            "/hello": (200, "text/plain; charset=utf-8", b"hello from the server"),
            "/big": (200, "text/plain", b"x" * 5_000_000),
            "/json": (200, "application/json", b'{"ok": true}'),
            "/image": (200, "image/png", b"\x89PNG\r\n" + bytes(100)),
        }
        if self.path in routes:
            status, kind, body = routes[self.path]
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.path.split("to=", 1)[1])
            self.end_headers()
        elif self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for _ in range(30):  # trickles a byte every 0.1 s: each read is quick
                self.wfile.write(b".")
                self.wfile.flush()
                time.sleep(0.1)
        else:
            self.send_error(404)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that stops reading early (a size limit) is expected


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def fetcher(tmp_path: Path, **override: Any) -> PluginManager:
    pm = PluginManager(
        data_dir=tmp_path / "data",
        entry_point_group=None,
        overrides={"http_fetch": override} if override else None,
    )
    pm.discover()
    return pm


def fetch(pm: PluginManager, url: str, **args: Any) -> ToolMessage:
    message: ToolMessage = pm.registry.get("http_fetch").invoke(
        {"type": "tool_call", "name": "http_fetch", "args": {"url": url, **args}, "id": "c1"}
    )
    return message


ALLOW_LOOPBACK = {
    "permissions": {"network": {"hosts": ["*"], "allow_private": ["127.0.0.1"]}},
    "config": {"max_bytes": 1000, "timeout_s": 1},
}


def test_loopback_is_refused_by_default(tmp_path: Path, server: str) -> None:
    pm = fetcher(tmp_path)
    refused = fetch(pm, f"{server}/hello")
    assert refused.status == "error"
    assert "may not connect to 127.0.0.1" in refused.text
    assert "allow it with permissions.network.allow_private" in refused.text
    assert pm.registry.get("calculate").invoke({"expression": "2+2"}) == "4"


def test_an_allowlisted_address_is_fetched_within_limits(tmp_path: Path, server: str) -> None:
    pm = fetcher(tmp_path, **ALLOW_LOOPBACK)
    hello = fetch(pm, f"{server}/hello")
    assert hello.status == "success"
    assert hello.text == "HTTP 200 text/plain; charset=utf-8\n\nhello from the server"
    assert fetch(pm, f"{server}/json").text.endswith('{"ok": true}')
    assert "[binary content, 106 bytes]" in fetch(pm, f"{server}/image").text

    big = fetch(pm, f"{server}/big")
    assert big.status == "success" and big.text.endswith("\n[cut at 1,000 bytes]")
    body = big.text.split("\n\n", 1)[1]
    assert body.count("x") == 1000
    assert fetch(pm, f"{server}/big", max_bytes=10).text.split("\n\n", 1)[1].count("x") == 10

    started = time.perf_counter()
    slow = fetch(pm, f"{server}/slow")
    assert slow.status == "error" and "took longer than 1 s" in slow.text
    assert time.perf_counter() - started < 2.5


def test_every_redirect_hop_is_checked(tmp_path: Path, server: str) -> None:
    pm = fetcher(tmp_path, **ALLOW_LOOPBACK)
    followed = fetch(pm, f"{server}/redirect?to={server}/hello")
    assert followed.text.endswith("hello from the server")
    to_metadata = fetch(pm, f"{server}/redirect?to=http://169.254.169.254/latest/meta-data")
    assert to_metadata.status == "error" and "169.254.169.254" in to_metadata.text
    to_other = fetch(pm, f"{server}/redirect?to=http://10.0.0.1/")
    assert to_other.status == "error" and "private, loopback or link-local" in to_other.text


def test_the_host_allowlist_limits_names(tmp_path: Path, server: str) -> None:
    pm = fetcher(
        tmp_path,
        permissions={"network": {"hosts": ["api.example.com"], "allow_private": ["127.0.0.1"]}},
    )
    refused = fetch(pm, f"{server}/hello")
    assert refused.status == "error"
    assert "may not connect to '127.0.0.1'; allowed hosts: ['api.example.com']" in refused.text

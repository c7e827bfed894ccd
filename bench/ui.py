"""The web UI's page weight and time to first paint, against the server's other built-in page.

One ``maximus serve`` (SQLite sessions, the scripted test graphs of
``tests/support/server_graphs.py``, one API key) and one headless Chromium (Debian's
``chromium`` through ``chromium-driver``, as in the UI tests) with the HTTP cache off, so every
load fetches everything. The peer is the same server's Swagger UI at ``/docs`` (served offline
by ``fastapi-offline``): a page every FastAPI server ships, loaded the same way in the same run.

For each page, ``LOADS`` cold loads (interleaved with the peer's), each reading the browser's
own Performance API: first paint, first contentful paint, and the time until the page's
content is drawn (the threads table, the run's plan, Swagger's operation list), plus the bytes
of the page's own files (HTML, CSS, JS, fonts, images) and of its API calls.

Run from the repository root with ``python -m bench.ui``. The last line printed is one JSON
object with per-page medians (``*_fcp_ms``, ``*_ready_ms``, ``*_static_kb``, ``*_api_kb``)
``threads_search_api_ms`` (the one API call the list waits for, timed alone) and
``fcp_ratio`` (the peer's first contentful paint over the threads page's).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from typing import Any

import httpx

from bench._servers import http_server
from maximus.server.auth import hash_key
from tests.support.browser import chromium

KEY = "bench-ui-key"
LOADS = int(os.environ.get("BENCH_UI_LOADS", "15"))
GRAPHS = {
    "agent": "tests.support.server_graphs:agent",
    "chat": "tests.support.server_graphs:chat",
}
THREADS = 20
"""Threads made before measuring, so the list page has rows to draw."""

MEASURE = """
const selector = arguments[0];
const done = arguments[arguments.length - 1];
function finish() {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  const paints = Object.fromEntries(
    performance.getEntriesByType("paint").map(p => [p.name, p.startTime]));
  const api = resources.filter(
    r => r.initiatorType === "fetch" || r.initiatorType === "xmlhttprequest");
  const files = resources.filter(r => !api.includes(r));
  const size = r => r.transferSize || r.encodedBodySize || 0;
  const bytes = list => list.reduce((sum, r) => sum + size(r), 0);
  done({
    fp: paints["first-paint"], fcp: paints["first-contentful-paint"], ready: performance.now(),
    static_bytes: bytes(files) + (nav.transferSize || nav.encodedBodySize), api_bytes: bytes(api),
    files: files.length + 1, api_calls: api.length,
  });
}
(function poll() {
  if (document.querySelector(selector)) requestAnimationFrame(() => setTimeout(finish, 0));
  else setTimeout(poll, 5);
})();
"""


def _load(driver: Any, url: str, selector: str) -> dict[str, float]:
    driver.get("about:blank")
    driver.get(url)
    result: dict[str, float] = driver.execute_async_script(MEASURE, selector)
    return result


def _summary(samples: list[dict[str, float]]) -> dict[str, float]:
    def med(key: str) -> float:
        return round(statistics.median(s[key] for s in samples), 1)

    return {
        "fp_ms": med("fp"),
        "fcp_ms": med("fcp"),
        "ready_ms": med("ready"),
        "static_kb": round(med("static_bytes") / 1024, 1),
        "api_kb": round(med("api_bytes") / 1024, 1),
        "files": med("files"),
        "api_calls": med("api_calls"),
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="maximus-bench-ui-") as data:
        env = {
            "MAXIMUS_DATA_DIR": data,
            "MAXIMUS_SERVER__API_KEYS": json.dumps({hash_key(KEY): "bench"}),
            "MAXIMUS_SERVER__GRAPHS": json.dumps(GRAPHS),
            "MAXIMUS_SERVER__RATE_LIMIT_PER_MINUTE": "0",
        }
        with http_server("maximus", env) as record:
            url = str(record["url"])
            auth = {"x-api-key": KEY}
            thread_id = ""
            for i in range(THREADS):
                thread_id = httpx.post(f"{url}/threads", json={}, headers=auth).json()["thread_id"]
                done = httpx.post(
                    f"{url}/threads/{thread_id}/runs/wait",
                    json={"assistant_id": "agent", "input": {"goal": f"compute 17*23+9 #{i}"}},
                    headers=auth,
                    timeout=60,
                )
                done.raise_for_status()
            search_ms = []
            for _ in range(5):
                started = time.perf_counter()
                httpx.post(f"{url}/threads/search", json={"limit": 50}, headers=auth)
                search_ms.append((time.perf_counter() - started) * 1000)
            pages = {
                "threads": (f"{url}/ui/#/threads", "table.threads tbody tr[data-thread]"),
                "run": (f"{url}/ui/#/threads/{thread_id}", "details.step .chart"),
                "swagger_docs": (f"{url}/docs", ".opblock"),
            }
            samples: dict[str, list[dict[str, float]]] = {name: [] for name in pages}
            with chromium() as driver:
                driver.execute_cdp_cmd("Network.enable", {})
                driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
                driver.get(f"{url}/ui/config.json")
                driver.execute_script(f"sessionStorage.setItem('maximus.apiKey', {KEY!r})")
                for page, selector in pages.values():
                    _load(driver, page, selector)  # warm-up: server code paths, not the cache
                for _ in range(LOADS):
                    for name, (page, selector) in pages.items():
                        samples[name].append(_load(driver, page, selector))
    result: dict[str, Any] = {
        "loads": LOADS,
        "threads_listed": THREADS,
        "threads_search_api_ms": round(statistics.median(search_ms), 1),
    }
    for name, runs in samples.items():
        summary = _summary(runs)
        print(f"{name:>13}: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
        result.update({f"{name}_{key}": value for key, value in summary.items()})
    result["fcp_ratio"] = round(result["swagger_docs_fcp_ms"] / result["threads_fcp_ms"], 2)
    result["static_kb_ratio"] = round(
        result["swagger_docs_static_kb"] / result["threads_static_kb"], 2
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

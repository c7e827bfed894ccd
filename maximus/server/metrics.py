"""Prometheus metrics: HTTP requests, runs, latency histograms, tokens, cache hits, queues.

Each app owns its registry (several apps in one test process do not clash). Tokens are
counted by a LangChain callback attached to every run; queue depths are read when
``/metrics`` is scraped.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class _TokenCounter(BaseCallbackHandler):
    """Adds each model call's ``usage_metadata`` to the token counter."""

    run_inline = True  # no hop to a thread for a counter increment

    def __init__(self, tokens: Counter, calls: Counter) -> None:
        self._tokens = tokens
        self._calls = calls

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self._calls.inc()
        for generations in response.generations:
            for generation in generations:
                usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
                if usage:
                    self._tokens.labels("input").inc(usage.get("input_tokens", 0))
                    self._tokens.labels("output").inc(usage.get("output_tokens", 0))


class Metrics:
    """The server's metrics, in one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "maximus_http_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.request_latency = Histogram(
            "maximus_http_request_seconds",
            "HTTP request latency (to the end of the response)",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.runs = Counter("maximus_runs", "Runs finished, by status", ["status"], registry=r)
        self.runs_started = Counter("maximus_runs_started", "Runs started", registry=r)
        self.run_latency = Histogram(
            "maximus_run_seconds",
            "Run duration",
            ["graph_id"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.runs_active = Gauge("maximus_runs_active", "Runs pending or running", registry=r)
        self.runs_queued = Gauge(
            "maximus_runs_queued", "Runs waiting for their thread (enqueue)", registry=r
        )
        self.tokens = Counter("maximus_tokens", "Model tokens", ["kind"], registry=r)
        self.model_calls = Counter("maximus_model_calls", "Model calls", registry=r)
        self.cache_hits = Gauge("maximus_cache_hits", "LLM cache hits so far", registry=r)
        self.cache_misses = Gauge("maximus_cache_misses", "LLM cache misses so far", registry=r)
        self.lesson_queue_depth = Gauge(
            "maximus_lesson_queue_depth", "Reflection jobs waiting", ["stream"], registry=r
        )
        self.rate_limited = Counter(
            "maximus_rate_limited", "Requests refused by the rate limit", registry=r
        )
        self.callbacks = _TokenCounter(self.tokens, self.model_calls)

    def run_started(self) -> None:
        self.runs_started.inc()

    def run_finished(self, status: str) -> None:
        self.runs.labels(status).inc()

    def run_seconds(self, graph_id: str, seconds: float) -> None:
        self.run_latency.labels(graph_id).observe(seconds)


__all__ = ["Metrics"]

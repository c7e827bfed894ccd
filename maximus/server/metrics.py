"""Prometheus metrics: HTTP requests, runs, latency histograms, tokens, cache hits, queues.

Each app owns its registry (several apps in one test process do not clash). Tokens and model
calls are counted from the AI messages a run adds to its thread (their ``usage_metadata``),
after the run, instead of through a callback on every runnable, which costs every node call;
queue depths are read when ``/metrics`` is scraped.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


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

    def run_started(self) -> None:
        self.runs_started.inc()

    def run_finished(self, status: str) -> None:
        self.runs.labels(status).inc()

    def count_messages(self, before: Any, after: Any) -> None:
        """Count the model calls and tokens of the AI messages in ``after`` but not ``before``
        (a run's first and last ``values``)."""
        if not isinstance(after, dict):
            return
        seen = {
            getattr(m, "id", None)
            for m in (before.get("messages") or [] if isinstance(before, dict) else [])
        }
        for message in after.get("messages") or []:
            if getattr(message, "type", None) != "ai" or getattr(message, "id", None) in seen:
                continue
            self.model_calls.inc()
            usage = getattr(message, "usage_metadata", None)
            if usage:
                self.tokens.labels("input").inc(usage.get("input_tokens", 0))
                self.tokens.labels("output").inc(usage.get("output_tokens", 0))

    def run_seconds(self, graph_id: str, seconds: float) -> None:
        self.run_latency.labels(graph_id).observe(seconds)


__all__ = ["Metrics"]

"""Request ids, structured JSON logs, HTTP metrics, body-size limits and OpenTelemetry.

One pure-ASGI middleware does the per-request work (it must not buffer streaming bodies the
way ``BaseHTTPMiddleware`` does): it assigns the request id, refuses bodies over the limit
with 413, times the request for Prometheus, and opens a span when tracing is on.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maximus.server.metrics import Metrics
from maximus.server.run_manager import current_run_id

access_log = logging.getLogger("maximus.server.access")
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "maximus_request_id", default=None
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request and run ids in force."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (rid := request_id_var.get()) is not None:
            entry["request_id"] = rid
        if (run := current_run_id.get()) is not None:
            entry["run_id"] = run
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str, as_json: bool) -> None:
    """Send ``maximus`` and ``uvicorn`` logs to stderr, as JSON lines when asked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if as_json else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    for name in ("maximus", "uvicorn", "uvicorn.error", "uvicorn.access"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(level.upper())
        log.propagate = False


def _error(status: int, code: str, message: str) -> tuple[Message, Message]:
    body = json.dumps({"code": code, "message": message, "detail": message}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
    }
    return start, {"type": "http.response.body", "body": body}


class RequestMiddleware:
    """Request ids, the body-size limit, HTTP metrics and (optionally) a span per request."""

    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, max_body: int, tracer: Any | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            for message in _error(413, "payload_too_large", f"body over {self.max_body} bytes"):
                await send(message)
            request_id_var.reset(token)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge()
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        span = None
        if self.tracer is not None:
            span = self.tracer.start_span(f"{scope['method']} {scope['path']}")
        try:
            await self.app(scope, limited_receive, tracked_send)
        except _TooLarge:
            for message in _error(413, "payload_too_large", f"body over {self.max_body} bytes"):
                await tracked_send(message)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            self.metrics.requests.labels(scope["method"], path, str(status)).inc()
            self.metrics.request_latency.labels(scope["method"], path).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %d %.1fms", scope["method"], scope["path"], status, elapsed * 1000
                )
            if span is not None:
                span.set_attribute("http.route", path)
                span.set_attribute("http.status_code", status)
                span.set_attribute("maximus.request_id", rid)
                span.end()
            request_id_var.reset(token)


class _TooLarge(Exception):
    pass


def make_tracer(enabled: bool) -> Any | None:
    """An OpenTelemetry tracer when tracing is on (the SDK configured by ``OTEL_*``)."""
    if not enabled:
        return None
    from opentelemetry import trace

    if type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider":
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider()
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        except ImportError:
            logging.getLogger("maximus.server").warning(
                "otel is on but no OTLP exporter is installed (pip install 'maximus[otel]')"
            )
        trace.set_tracer_provider(provider)
    return trace.get_tracer("maximus.server")


__all__ = [
    "JsonFormatter",
    "RequestMiddleware",
    "configure_logging",
    "make_tracer",
    "request_id_var",
]

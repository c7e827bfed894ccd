"""Pure parts of the server: the event log, part mapping, auth, rate limits, tracing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from pydantic import SecretStr

from maximus.config import ServerSettings, Settings
from maximus.errors import AuthenticationError, RateLimitedError
from maximus.server._events import EventLog, PartMapper, StreamLagged, graph_modes
from maximus.server.auth import Authenticator, RateLimiter, hash_key


async def test_event_log_replays_and_follows() -> None:
    log = EventLog(8)
    log.append("metadata", {"run_id": "r"})
    got: list[int] = []

    async def read(after: int) -> None:
        async for event in log.follow(after):
            got.append(event.seq)

    reader = asyncio.create_task(read(0))
    await asyncio.sleep(0)
    for i in range(3):
        log.append("values", {"i": i})
        await asyncio.sleep(0)
    log.close()
    await reader
    assert got == [1, 2, 3, 4]
    assert [e.seq async for e in log.follow(2)] == [3, 4]  # resumption after id 2


async def test_event_log_is_bounded_and_reports_lag() -> None:
    log = EventLog(4)
    for i in range(10):
        log.append("custom", {"i": i})
    log.close()
    assert [e.seq async for e in log.follow(6)] == [7, 8, 9, 10]
    with pytest.raises(StreamLagged):
        async for _ in log.follow(0):
            pass


def test_part_mapper_names_events_like_langgraph_api() -> None:
    mapper = PartMapper(["messages", "messages-tuple", "updates"], subgraphs=False)
    chunk = AIMessageChunk(content="he", id="m1")
    names = [n for n, _ in mapper.events((), "messages", (chunk, {"langgraph_node": "chat"}))]
    assert names == ["messages", "messages/metadata", "messages/partial"]
    done = [n for n, _ in mapper.events((), "messages", (AIMessage(content="x", id="m2"), {}))]
    assert done == ["messages", "messages/metadata", "messages/complete"]
    assert list(mapper.events(("sub:1",), "updates", {"a": 1})) == []  # no subgraphs asked
    assert list(mapper.events((), "values", {"messages": []})) == []  # values not asked
    assert mapper.result() == {"messages": []}
    nested = PartMapper(["updates"], subgraphs=True)
    assert list(nested.events(("sub:1",), "updates", {"a": 1})) == [("updates|sub:1", {"a": 1})]
    assert graph_modes(["messages-tuple", "custom"]) == ["custom", "messages", "values"]


def test_interrupts_join_the_result() -> None:
    mapper = PartMapper(["values"], subgraphs=False)
    list(mapper.events((), "values", {"messages": ["hi"]}))
    events = list(mapper.events((), "values", {"__interrupt__": ("ask",)}))
    assert events == [("values", {"messages": ["hi"], "__interrupt__": ["ask"]})]
    assert mapper.result()["__interrupt__"] == ["ask"]


def test_api_keys_are_checked_by_digest() -> None:
    auth = Authenticator(ServerSettings(api_keys={hash_key("k1"): "alice"}))
    assert auth.authenticate("k1", None).user_id == "alice"
    assert auth.authenticate(None, "Bearer k1").user_id == "alice"
    for key in (None, "k2"):
        with pytest.raises(AuthenticationError):
            auth.authenticate(key, None)
    assert Authenticator(ServerSettings(auth="none")).authenticate(None, None).user_id


def test_jwt_needs_a_valid_signed_token() -> None:
    import time

    import jwt

    settings = ServerSettings(auth="jwt", jwt_secret=SecretStr("s" * 32))
    auth = Authenticator(settings)
    good = jwt.encode({"sub": "u", "exp": int(time.time()) + 60}, "s" * 32, algorithm="HS256")
    assert auth.authenticate(None, f"Bearer {good}").user_id == "u"
    no_exp = jwt.encode({"sub": "u"}, "s" * 32, algorithm="HS256")
    with pytest.raises(AuthenticationError):
        auth.authenticate(None, f"Bearer {no_exp}")
    with pytest.raises(ValueError, match="placeholder"):
        ServerSettings(jwt_secret=SecretStr("changeme"))


def test_rate_limiter_refills() -> None:
    limiter = RateLimiter(per_minute=6000, burst=2)
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(RateLimitedError):
        limiter.check("a")
    limiter.check("b")
    RateLimiter(per_minute=0, burst=1).check("x")  # 0 turns the limit off


async def test_requests_are_traced_when_otel_is_on(tmp_path: Path) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from maximus.server import create_app

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    settings = Settings(data_dir=tmp_path, server=ServerSettings(auth="none", otel=True))
    app = create_app(settings, load_plugins=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            response = await client.get("/healthz", headers={"x-request-id": "req-1"})
            assert response.headers["x-request-id"] == "req-1"
    finished: Any = exporter.get_finished_spans()
    spans = [s for s in finished if "maximus.request_id" in (s.attributes or {})]
    assert [s.name for s in spans] == ["GET /healthz"]
    assert spans[0].attributes["maximus.request_id"] == "req-1"
    assert spans[0].attributes["http.status_code"] == 200

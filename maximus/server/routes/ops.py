"""Operations: liveness, readiness, Prometheus metrics and server info (no auth)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from maximus.config import Settings
from maximus.server._store import reset_connections
from maximus.server.deps import State
from maximus.server.schemas import Health

router = APIRouter(tags=["ops"])
logger = logging.getLogger("maximus.server")
READY_TIMEOUT_S = 2.0


@router.get("/healthz", response_model=Health)
async def healthz() -> Any:
    """Liveness: the process serves requests."""
    return {"status": "ok", "checks": {}}


@router.get("/ok", response_model=Health, include_in_schema=False)
async def ok() -> Any:
    return {"status": "ok", "checks": {}}


def local_model_check(settings: Settings) -> str | None:
    """The embedded model's state when this server uses it and has started it: ``ok``, or
    ``crashed: ...`` (not ready until it is fixed and restarted). ``None`` before the first run
    starts it, and when another model is configured."""
    from maximus.models import uses_local_model

    if settings.local.url or not uses_local_model(settings):
        return None
    from maximus.models.local.server import LocalModelServer

    server = LocalModelServer(settings)
    if server.status() is not None:
        return "ok"
    crash = server.crash()
    return f"crashed: {crash.how}; fix: {crash.fix}" if crash is not None else None


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(state: State) -> Any:
    """Readiness: the checkpointer (and memory, when configured) answer in time."""
    checks: dict[str, str] = {}
    probe = {"configurable": {"thread_id": "__maximus_readyz__", "checkpoint_ns": ""}}
    try:
        await asyncio.wait_for(state.saver.aget_tuple(probe), READY_TIMEOUT_S)
        checks["checkpointer"] = "ok"
        if state.store_down:
            # Back after an outage: pooled connections to the old server are dead.
            state.store_down = False
            await reset_connections(state.saver)
    except Exception as exc:  # any failure means not ready; the reason is in the body
        state.store_down = True
        checks["checkpointer"] = f"unavailable: {type(exc).__name__}"
    memory = state.memory
    if memory is not None and memory.enabled:
        # Still opening (after start-up) does not fail readiness; a store that failed to open,
        # or stopped answering, does.
        checks["memory"] = memory.state
        if memory.state == "ok":
            try:
                await asyncio.wait_for(asyncio.to_thread(memory.probe), READY_TIMEOUT_S)
            except Exception as exc:
                checks["memory"] = f"unavailable: {type(exc).__name__}"
    model = await asyncio.to_thread(local_model_check, state.settings)
    if model is not None:
        checks["model"] = model
    if not state.runs.manager.accepting:
        checks["runs"] = "shutting down"
    ready = all(v in ("ok", "starting") for v in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
async def metrics(state: State) -> Response:
    """Prometheus text exposition."""
    m = state.metrics
    manager = state.runs.manager
    m.runs_active.set(manager.active_count)
    m.runs_queued.set(manager.pending_count)
    sink = state.lesson_sink
    if sink is not None and hasattr(sink, "depth"):
        try:
            depth = await asyncio.wait_for(sink.depth(), READY_TIMEOUT_S)
            for stream, value in depth._asdict().items():
                if isinstance(value, int):
                    m.lesson_queue_depth.labels(stream).set(value)
        except Exception as exc:  # a metrics scrape must not fail because Redis is down
            logger.debug("lesson queue depth unavailable: %s", exc)
    cache = _llm_cache_stats()
    if cache is not None:
        m.cache_hits.set(cache[0])
        m.cache_misses.set(cache[1])
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)


def _llm_cache_stats() -> tuple[int, int] | None:
    from langchain_core.globals import get_llm_cache

    cache = get_llm_cache()
    stats = getattr(cache, "stats", None)
    if stats is None:
        return None
    stats = stats() if callable(stats) else stats
    hits, misses = getattr(stats, "hits", None), getattr(stats, "misses", None)
    return (hits, misses) if isinstance(hits, int) and isinstance(misses, int) else None


@router.get("/info", response_model=dict[str, Any])
async def info(state: State) -> Any:
    """Server version and capabilities."""
    from maximus import __version__

    return {
        "version": __version__,
        "langgraph_py_version": _version("langgraph"),
        "flags": {"assistants": True, "crons": False, "langsmith": False},
        "metadata": {"server": "maximus"},
    }


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None

"""The FastAPI app: ``create_app(settings)`` and the lifespan that opens what it serves.

The lifespan opens the checkpointer (Redis when ``MAXIMUS_REDIS_URL`` is set, else SQLite),
the lesson sink (the Redis reflection queue, or in-process), the plugins, and compiles the
served graphs over them; on shutdown (SIGTERM under uvicorn) it stops taking runs, gives
in-flight runs ``shutdown_grace_seconds`` and cancels the rest at their last checkpoint.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from maximus.config import Settings, get_settings
from maximus.server.auth import Authenticator, RateLimiter
from maximus.server.deps import ServerState, get_principal
from maximus.server.errors import install_error_handlers
from maximus.server.execution import RunService
from maximus.server.graphs import GraphDeps, GraphFactory, GraphRegistry
from maximus.server.lazy import LazyMemory, LazyPlugins
from maximus.server.metrics import Metrics
from maximus.server.observability import RequestMiddleware, configure_logging, make_tracer
from maximus.server.routes import assistants, memory, ops, plugins, runs, threads, ui
from maximus.server.schemas import ErrorBody
from maximus.server.threads import Threads

logger = logging.getLogger("maximus.server")

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        401: "No or invalid credentials",
        403: "Not allowed (admin operations)",
        404: "No such resource for this caller",
        409: "Conflict (the id is taken, or the thread is busy)",
        413: "Body too large",
        422: "Invalid request",
        429: "Rate limited, or too many runs in flight",
        503: "A backing store is unreachable",
    }.items()
}
RESOURCE_ROUTERS = (
    assistants.router,
    threads.router,
    runs.router,
    plugins.router,
    memory.router,
)
"""Routers that need a caller; a new resource (e.g. memory) adds its router here."""


def _warm(registry: GraphRegistry) -> None:
    started = time.perf_counter()
    try:
        registry.warm()
    except Exception:  # a broken graph fails its own runs; the server keeps serving the rest
        logger.exception("compiling the served graphs failed")
        return
    logger.info(
        "serving graphs %s (ready to run in %.2f s)",
        sorted(a["graph_id"] for a in registry.assistants()),
        time.perf_counter() - started,
    )


def create_app(
    settings: Settings | None = None,
    *,
    graphs: Mapping[str, GraphFactory] | None = None,
    load_plugins: bool = True,
    configure_logs: bool = False,
) -> FastAPI:
    """The Maximus HTTP API.

    Args:
        settings: the settings (``MAXIMUS_*`` from the environment when ``None``).
        graphs: more graphs to serve, or replacements (``{"maximus": factory}`` replaces the
            agent), as factories taking :class:`~maximus.server.graphs.GraphDeps`.
        load_plugins: discover and load plugins at start-up (and serve ``/plugins``).
        configure_logs: install the JSON log handler (``maximus serve`` does).
    """
    from fastapi_offline import FastAPIOffline

    settings = settings or get_settings()
    server = settings.server
    if configure_logs:
        configure_logging(server.log_level, server.log_json)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from maximus.memory.checkpoint.sessions import open_checkpointer
        from maximus.memory.lessons import open_lesson_sink

        if server.auth == "none":
            logger.warning(
                "auth is OFF (MAXIMUS_SERVER__AUTH=none): every caller is 'anonymous'; "
                "use this for local development only"
            )
        elif server.auth == "api_key" and not server.api_keys:
            logger.warning(
                "no API keys are configured (MAXIMUS_SERVER__API_KEYS): every request to a "
                "resource will be refused with 401"
            )
        async with AsyncExitStack() as stack:
            saver = await stack.enter_async_context(open_checkpointer(settings))
            sink = await stack.enter_async_context(open_lesson_sink(settings))
            plugins = LazyPlugins(settings) if load_plugins else None
            if plugins is not None:
                stack.callback(plugins.close)
            memory = LazyMemory(settings)
            stack.callback(memory.close)

            def deps() -> GraphDeps:
                manager = plugins.get() if plugins is not None else None
                return GraphDeps(saver, settings, sink, manager, memory)

            registry = GraphRegistry.from_settings(settings, deps, graphs)
            thread_ops = Threads(saver, registry, runs=None)  # type: ignore[arg-type]
            run_service = RunService(
                thread_ops,
                registry,
                metrics,
                buffer_events=server.stream_buffer_events,
                keep_finished=server.finished_runs_kept,
                max_active=server.max_concurrent_runs,
            )
            app.state.maximus = ServerState(
                settings=settings,
                saver=saver,
                graphs=registry,
                threads=thread_ops,
                runs=run_service,
                metrics=metrics,
                auth=Authenticator(server),
                limiter=RateLimiter(server.rate_limit_per_minute, server.rate_limit_burst),
                plugins=plugins,
                lesson_sink=sink,
                memory=memory,
            )
            # Compile the graphs and open memory after start-up: readiness does not wait.
            warm = asyncio.create_task(asyncio.to_thread(_warm, registry))
            try:
                yield
            finally:
                await asyncio.gather(warm, return_exceptions=True)
                cancelled = await run_service.manager.shutdown(server.shutdown_grace_seconds)
                if cancelled:
                    logger.warning(
                        "%d runs were still going at shutdown; they stay at their last "
                        "checkpoint and resume on the next run of their thread",
                        cancelled,
                    )

    from maximus import __version__

    app = FastAPIOffline(
        title="Maximus",
        version=__version__,
        description="Stateful agents over HTTP; LangGraph-SDK-compatible.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    from fastapi import Depends

    app.include_router(ops.router)
    app.include_router(ui.router)
    for router in RESOURCE_ROUTERS:
        app.include_router(router, dependencies=[Depends(get_principal)], responses=ERROR_RESPONSES)
    if server.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=server.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Location", "Content-Location", "X-Request-ID"],
        )
    app.add_middleware(
        RequestMiddleware,
        metrics=metrics,
        max_body=server.max_body_bytes,
        tracer=make_tracer(server.otel),
    )
    return app


__all__ = ["RESOURCE_ROUTERS", "create_app"]

"""Dependencies for the routes: the server state, the caller, and ``Annotated`` aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from maximus.config import Settings
from maximus.server.auth import Authenticator, Principal, RateLimiter
from maximus.server.execution import RunService
from maximus.server.graphs import GraphRegistry
from maximus.server.metrics import Metrics
from maximus.server.threads import Threads


@dataclass(slots=True)
class ServerState:
    """What the lifespan opened, on ``app.state.maximus``."""

    settings: Settings
    saver: Any
    graphs: GraphRegistry
    threads: Threads
    runs: RunService
    metrics: Metrics
    auth: Authenticator
    limiter: RateLimiter
    plugins: Any = None
    """:class:`~maximus.server.lazy.LazyPlugins`: the plugins, loaded on first use."""
    lesson_sink: Any = None
    memory: Any = None
    """:class:`~maximus.server.lazy.LazyMemory`: long-term memory, opened on first use."""
    assistants: Any = None
    """:class:`~maximus.server.assistants.Assistants`: users' own assistants."""
    crons: Any = None
    """:class:`~maximus.server.crons.Crons`: scheduled runs."""
    store_down: bool = False
    """The last readiness probe found the checkpointer unreachable."""


def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.maximus
    return state


State = Annotated[ServerState, Depends(get_state)]


def get_principal(
    state: State,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """The caller, authenticated and within its rate limit."""
    principal = state.auth.authenticate(x_api_key, authorization)
    try:
        state.limiter.check(principal.key)
    except Exception:
        state.metrics.rate_limited.inc()
        raise
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]

__all__ = [
    "CurrentUser",
    "ServerState",
    "State",
    "get_principal",
    "get_state",
]

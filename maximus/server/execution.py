"""Turning a run request into a running graph: config, input, and the event stream.

:class:`RunService` validates a request against its thread and assistant, builds the record,
hands it to the :class:`~maximus.server.run_manager.RunManager`, and is that manager's
executor: it streams the graph with ``subgraphs=True`` into the run's event log.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from maximus.errors import (
    InvalidInputError,
    MaximusError,
    StoreUnavailableError,
    ThreadNotFoundError,
)
from maximus.server._events import EventLog, PartMapper, graph_modes
from maximus.server._run_keys import stored_run_fields
from maximus.server._store import reset_connections
from maximus.server.assistants import merged_config
from maximus.server.run_manager import RunManager, RunRecord
from maximus.server.threads import GRAPH_KEY, OWNER_KEY, Threads, carried_metadata

if TYPE_CHECKING:
    from maximus.server.assistants import Assistants
    from maximus.server.graphs import GraphRegistry
    from maximus.server.metrics import Metrics
    from maximus.server.schemas import RunCreate
    from maximus.server.shared_runs import SharedRunsConfig
    from maximus.server.webhooks import Webhooks

logger = logging.getLogger("maximus.server.runs")


def error_payload(exc: BaseException) -> dict[str, str]:
    """What a client is told about a failed run: the error's type and a safe message.

    Maximus and LangGraph errors say what went wrong; anything else is reported by type only
    (its message may hold internals) and logged in full on the server.
    """
    name = type(exc).__name__
    if isinstance(exc, MaximusError):
        return {"error": name, "code": exc.code.value, "message": exc.message}
    module = type(exc).__module__
    if module.startswith(("langgraph.", "pydantic")) or isinstance(exc, (ValueError, KeyError)):
        return {"error": name, "message": str(exc)[:2000]}
    return {"error": name, "message": f"the run failed with {name}; see the server logs"}


def _command(body: RunCreate) -> Any:
    from langgraph.types import Command, Send

    assert body.command is not None
    goto = body.command.goto
    if isinstance(goto, dict):
        goto = Send(goto["node"], goto.get("input"))
    elif isinstance(goto, list):
        goto = [Send(g["node"], g.get("input")) if isinstance(g, dict) else g for g in goto]
    update = body.command.update
    if isinstance(update, list):
        update = [tuple(item) for item in update]
    return Command(resume=body.command.resume, update=update, goto=goto or ())


async def _parts(
    graph: Any,
    payload: Any,
    config: dict[str, Any],
    modes: list[str],
    kwargs: dict[str, Any],
    run: RunRecord,
) -> AsyncIterator[tuple[tuple[str, ...], str, Any]]:
    """``astream(subgraphs=True)`` parts; with ``events`` requested, every ``astream_events``
    (v2) event goes to the run's log as an ``events`` event, and the root graph's parts come
    out of its ``on_chain_stream`` events (subgraph parts are not separated then)."""
    graph_stream_modes = graph_modes(m for m in modes if m != "events")
    if "events" not in modes:
        async for part in graph.astream(
            payload, config, stream_mode=graph_stream_modes, subgraphs=True, **kwargs
        ):
            yield part
        return
    async for event in graph.astream_events(
        payload, config, version="v2", stream_mode=graph_stream_modes, **kwargs
    ):
        run.events.append("events", event)
        if event["event"] == "on_chain_stream" and not event.get("parent_ids"):
            mode, chunk = event["data"]["chunk"]
            yield (), mode, chunk


class RunService:
    """Creates and executes runs for the HTTP routes."""

    def __init__(
        self,
        threads: Threads,
        graphs: GraphRegistry,
        metrics: Metrics,
        *,
        buffer_events: int,
        keep_finished: int,
        max_active: int,
        shared: SharedRunsConfig | None = None,
    ) -> None:
        self.threads = threads
        self.graphs = graphs
        self.metrics = metrics
        self.buffer_events = buffer_events
        self.assistants: Assistants | None = None
        """Users' own assistants (set by the app once open)."""
        self.webhooks: Webhooks | None = None
        """Calls run webhooks (set by the app)."""
        self._calls: set[asyncio.Task[None]] = set()
        self.manager: RunManager
        if shared is None:
            self.manager = RunManager(
                self.execute,
                keep_finished=keep_finished,
                max_active=max_active,
                on_finish=self._finished,
            )
        else:
            from maximus.server.shared_runs import SharedRunManager

            self.manager = SharedRunManager(
                self.execute,
                shared,
                revive=self.revive,
                keep_finished=keep_finished,
                max_active=max_active,
                on_finish=self._finished,
            )
        threads.runs = self.manager

    async def fire_cron(self, cron: dict[str, Any], run_id: str) -> None:
        """Start one fire of a cron (``run_id`` is the same for every try of that fire)."""
        from maximus.server.schemas import RunCreate

        body = RunCreate.model_validate(cron["payload"])
        if cron["thread_id"] is None and cron.get("on_run_completed"):
            body = body.model_copy(update={"on_completion": cron["on_run_completed"]})
        await self.create(cron["owner"], cron["thread_id"], body, background=True, run_id=run_id)

    async def create(
        self,
        owner: str,
        thread_id: str | None,
        body: RunCreate,
        *,
        background: bool = False,
        run_id: str | None = None,
    ) -> RunRecord:
        """Validate and start a run; ``thread_id=None`` makes a stateless run; ``background``
        runs (``runs.create``) go to the workers when runs are shared.

        Raises:
            ThreadNotFoundError: no such thread or assistant for this owner.
            ConflictError: the thread is busy and the strategy is ``reject``.
            InvalidInputError: both ``input`` and ``command``, or a malformed command.
        """
        if body.input is not None and body.command is not None:
            raise InvalidInputError("give either input or command, not both")
        try:
            graph_id, _ = self.graphs.resolve(body.assistant_id)
        except ThreadNotFoundError:
            if self.assistants is None:
                raise
            # One of the caller's assistants: its graph, under its config and context.
            mine = await self.assistants.resolve(body.assistant_id, owner)
            graph_id = mine["graph_id"]
            body = body.model_copy(
                update={
                    "config": merged_config(mine["config"], body.config),
                    "context": {**mine["context"], **(body.context or {})} or None,
                }
            )
        carried: dict[str, Any] = {OWNER_KEY: owner}
        stateless = thread_id is None
        if thread_id is None:
            thread_id = str(uuid.uuid4())
        else:
            try:
                tup = await self.threads.latest(thread_id, owner)
            except ThreadNotFoundError:
                if body.if_not_exists != "create":
                    raise
                tup = await self.threads.create(owner, thread_id=thread_id, graph_id=graph_id)
            carried.update(carried_metadata(tup))
        carried[GRAPH_KEY] = graph_id
        if body.webhook and self.webhooks is not None:
            await asyncio.to_thread(self.webhooks.check, body.webhook)
        run = RunRecord(
            run_id=run_id or str(uuid.uuid4()),
            thread_id=thread_id,
            assistant_id=body.assistant_id,
            graph_id=graph_id,
            owner=owner,
            request={**body.model_dump(exclude_none=True), "_carried": carried},
            events=EventLog(self.buffer_events),
            metadata=dict(body.metadata or {}),
            multitask_strategy=body.multitask_strategy,
            stateless=stateless,
            background=background,
        )
        run.request["_body"] = body
        await self.manager.asubmit(run)
        run.events.append("metadata", {"run_id": run.run_id, "attempt": 1})
        self.metrics.run_started()
        return run

    def _config(self, run: RunRecord, body: RunCreate) -> dict[str, Any]:
        config: dict[str, Any] = copy.deepcopy(body.config or {})
        carried: dict[str, Any] = run.request["_carried"]
        configurable = dict(config.get("configurable") or {})
        configurable.update(thread_id=run.thread_id, checkpoint_ns="", user_id=run.owner)
        checkpoint_id = body.checkpoint_id or (
            body.checkpoint.checkpoint_id if body.checkpoint else None
        )
        if checkpoint_id:
            configurable["checkpoint_id"] = checkpoint_id
        config["configurable"] = configurable
        # The owner and thread keys go last so a caller's metadata cannot override them.
        config["metadata"] = {
            **(config.get("metadata") or {}),
            **run.metadata,
            **carried,
            "run_id": run.run_id,
            "assistant_id": run.assistant_id,
        }
        return config

    def revive(self, record: dict[str, Any], *, first_event: int) -> RunRecord:
        """A run from its shared record, for the worker that takes it (``first_event``: the
        number its next event gets)."""
        from maximus.server.schemas import RunCreate

        request = dict(record["request"])
        body = RunCreate.model_validate({k: v for k, v in request.items() if k[0] != "_"})
        run = RunRecord(
            **stored_run_fields(record),
            request={**request, "_body": body},
            events=EventLog(self.buffer_events, first=first_event),
            background=True,
        )
        run.events.append("metadata", {"run_id": run.run_id, "attempt": run.attempt})
        return run

    async def _resumes(self, run: RunRecord) -> bool:
        """Whether a run taken over already checkpointed its input (it then continues from
        its last checkpoint instead of starting again)."""
        if run.attempt <= 1:
            return False
        from maximus.server.threads import root_config

        tup = await self.threads.saver.aget_tuple(root_config(run.thread_id))  # type: ignore[arg-type]
        return tup is not None and (tup.metadata or {}).get("run_id") == run.run_id

    async def execute(self, run: RunRecord) -> None:
        """Stream the run's graph into its event log; record the result or the error."""
        body: RunCreate = run.request["_body"]
        if body.after_seconds and run.attempt <= 1:
            await asyncio.sleep(body.after_seconds)
        graph = self.graphs.graph(run.graph_id)
        mapper = PartMapper(body.modes, body.stream_subgraphs)
        payload = _command(body) if body.command is not None else body.input
        if await self._resumes(run):
            payload = None
        kwargs: dict[str, Any] = {}
        for key in ("interrupt_before", "interrupt_after", "durability", "context"):
            if (value := getattr(body, key)) is not None:
                kwargs[key] = value
        if run.stateless and body.on_completion == "delete" and body.durability is None:
            # The thread is deleted when the run ends: checkpoints between steps would be
            # written only to be deleted, so the run checkpoints once, at its end.
            kwargs["durability"] = "exit"
        started = time.perf_counter()
        logger.info("run started on thread %s (graph %s)", run.thread_id, run.graph_id)
        try:
            async for ns, mode, chunk in _parts(
                graph, payload, self._config(run, body), body.modes, kwargs, run
            ):
                for event, data in mapper.events(ns, mode, chunk):
                    run.events.append(event, data)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            run.error = error_payload(exc)
            run.events.append("error", run.error)
            if isinstance(exc, StoreUnavailableError):
                await reset_connections(self.threads.saver)
            run.set_status("error")
            level = logging.WARNING if isinstance(exc, MaximusError) else logging.ERROR
            logger.log(level, "run failed: %s", run.error["message"], exc_info=exc)
            return
        finally:
            self.metrics.run_seconds(run.graph_id, time.perf_counter() - started)
        run.result = mapper.result()
        run.set_status("success")
        self.metrics.count_messages(mapper.first_values, mapper.values)
        logger.info("run succeeded in %.1fms", (time.perf_counter() - started) * 1000)

    async def _finished(self, run: RunRecord) -> None:
        self.metrics.run_finished(run.status)
        body: RunCreate = run.request["_body"]
        if body.webhook and self.webhooks is not None:
            from maximus.server._serde import dumps

            payload = dumps({**run.as_dict(), "values": run.result, "error": run.error})
            task = asyncio.create_task(self.webhooks.send(body.webhook, payload))
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)
        if run.rollback and not (run.stateless and body.on_completion == "delete"):
            try:
                await self.threads.saver.adelete_for_runs([run.run_id])
            except NotImplementedError:
                logger.warning("this checkpointer cannot roll back run %s", run.run_id)
        if run.stateless and body.on_completion == "delete":
            await self.threads.saver.adelete_thread(run.thread_id)


__all__ = ["RunService", "error_payload"]

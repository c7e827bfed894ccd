"""The ``maximus`` command line: run goals with live progress, resume, inspect the graph."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from enum import IntEnum
from importlib import import_module
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from maximus._help import HelpCommand, HelpGroup, use_help_classes
from maximus.config import ThinkingMode, get_settings
from maximus.errors import (
    ConfigError,
    InvalidInputError,
    MaximusError,
    ModelServerError,
    ThreadNotFoundError,
)

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig


class ExitCode(IntEnum):
    """What ``maximus`` exits with (the README's "Command line" section lists them)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    """Bad input: an empty goal, an unknown thread, ``resume`` without a decision."""
    CONFIG = 3
    EXHAUSTED = 4
    AWAITING_APPROVAL = 5
    MODEL_UNAVAILABLE = 6
    """The model server crashed or does not answer (the message names the fix)."""
    INTERRUPTED = 130


_STATUS_EXIT = {"done": ExitCode.OK, "failed": ExitCode.FAILED, "exhausted": ExitCode.EXHAUSTED}

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "memory": ("maximus.memory.cli", "memory_app"),
    "plugins": ("maximus.plugins.cli", "plugins_app"),
    "serve": ("maximus.server.cli", "serve_app"),
    "model": ("maximus.models.local.cli", "model_app"),
    "worker": ("maximus.server.worker", "worker_app"),
}
"""Command groups, each a Typer app in its own module, imported only when it is invoked, so
``maximus serve`` starts without loading the agent, the plugins or the memory engines."""


class _LazyGroup(HelpGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in SUBCOMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attr = SUBCOMMANDS[cmd_name]
        command = typer.main.get_command(use_help_classes(getattr(import_module(module), attr)))
        command.name = cmd_name
        return command


app = typer.Typer(
    cls=_LazyGroup,
    help="Maximus: agents that plan, simulate, execute and reflect.",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)


_MODES = ", ".join(get_args(ThinkingMode))


@app.command(cls=HelpCommand)
def run(
    goal: Annotated[str, typer.Argument(help="What the agent should achieve.")],
    thread: Annotated[
        str | None, typer.Option("--thread", metavar="ID", help="Continue this session.")
    ] = None,
    mode: Annotated[
        ThinkingMode | None,
        typer.Option(metavar="MODE", help=f"Thinking mode: {_MODES} (default: settings)."),
    ] = None,
    simulate: Annotated[
        bool, typer.Option("--simulate/--no-simulate", help="World-model simulation.")
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON lines instead of a live view.")
    ] = False,
) -> None:
    """Run GOAL, streaming the plan, candidates and scores, tool calls and reflections."""
    if not goal.strip():
        # Before anything starts: an empty goal must not wake the local model server.
        empty = 'the goal is empty; say what to achieve, e.g. maximus run "What is 17*23?"'
        raise typer.Exit(_report(InvalidInputError(empty)))
    raise typer.Exit(_main({"goal": goal}, thread, mode, simulate, as_json))


@app.command(cls=HelpCommand)
def resume(
    thread: Annotated[str, typer.Argument(help="The session waiting for approval.")],
    approve: Annotated[
        bool | None,
        typer.Option(
            "--approve/--reject",
            show_default=False,
            help="Run the pending action, or refuse it (one of the two is required).",
        ),
    ] = None,
    note: Annotated[
        str, typer.Option(metavar="TEXT", help="Why (kept in the approval record).")
    ] = "",
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON lines instead of a live view.")
    ] = False,
) -> None:
    """Answer THREAD's pending approval request with --approve or --reject, and continue."""
    from langgraph.types import Command

    if approve is None:
        # A bare resume once approved: a risky action must never pass without a decision.
        missing = f"say --approve or --reject: maximus resume {thread} --approve|--reject"
        raise typer.Exit(_report(InvalidInputError(missing)))
    decision: Command[Any] = Command(resume={"approved": approve, "note": note})
    raise typer.Exit(_main(decision, thread, None, None, as_json))


@app.command(cls=HelpCommand)
def graph() -> None:
    """Print the agent graph as a Mermaid diagram."""
    from maximus.graphs.agent import create_agent

    typer.echo(create_agent().get_graph().draw_mermaid())


@app.command(cls=HelpCommand)
def version() -> None:
    """Print the version."""
    from maximus import __version__

    typer.echo(f"maximus {__version__}")


def _main(payload: Any, thread: str | None, mode: Any, simulate: bool | None, as_json: bool) -> int:
    try:
        return asyncio.run(_run(payload, thread, mode, simulate, as_json))
    except KeyboardInterrupt:
        err.print("[yellow]interrupted; the session is saved at its last checkpoint[/]")
        return ExitCode.INTERRUPTED
    except MaximusError as exc:
        return _report(exc)


def _report(exc: MaximusError) -> ExitCode:
    """Print ``exc`` as one line on standard error; the exit code it stands for."""
    soft = isinstance(exc, ModelServerError)  # its fix is a command: keep it on one line
    err.print(f"[bold red]{type(exc).__name__}:[/] {escape(exc.message)}", soft_wrap=soft)
    if isinstance(exc, ConfigError):
        return ExitCode.CONFIG
    if isinstance(exc, InvalidInputError | ThreadNotFoundError):
        return ExitCode.USAGE
    if isinstance(exc, ModelServerError):
        return ExitCode.MODEL_UNAVAILABLE
    return ExitCode.FAILED


async def _run(
    payload: Any, thread: str | None, mode: Any, simulate: bool | None, as_json: bool
) -> int:
    from maximus.graphs.agent import create_agent
    from maximus.graphs.context import RunOptions
    from maximus.memory.checkpoint.sessions import open_checkpointer
    from maximus.memory.lessons import open_lesson_sink
    from maximus.plugins import get_plugin_manager

    settings = get_settings()
    thread_id = thread or uuid.uuid4().hex
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    context = RunOptions(mode=mode, simulate=simulate)
    async with open_checkpointer(settings) as saver:
        if not isinstance(payload, dict):
            # Checked in the saved session, before any model is started or contacted.
            await _check_waiting(saver, config, thread_id)
        _install_llm_cache(settings)
        _start_local_model(settings)
        memory, writer = _open_memory(settings)
        async with (
            open_lesson_sink(settings, writer) as sink,
            get_plugin_manager(settings) as plugins,
        ):
            agent = create_agent(
                settings=settings,
                checkpointer=saver,
                lesson_sink=sink,
                plugins=plugins,
                memory=memory,
            )
            if not as_json:
                out.print(f"[dim]thread {thread_id}[/]")
            paused = await _stream(agent, payload, config, context, thread_id, as_json)
            if paused:
                return ExitCode.AWAITING_APPROVAL
            state = (await agent.aget_state(config)).values
    status = state.get("status", "failed")
    summary = {
        "thread_id": thread_id,
        "run": state.get("run"),
        "status": status,
        "final_answer": state.get("final_answer"),
        "error": state.get("error"),
        "counters": state.get("counters"),
    }
    if as_json:
        typer.echo(json.dumps({"event": "result", **summary}, default=str))
    else:
        colour = "green" if status == "done" else "red"
        out.print(Panel(str(summary["final_answer"]), title=f"[{colour}]{status}[/]"))
        out.print(f"[dim]{summary['counters']}  ·  continue with --thread {thread_id}[/]")
    return _STATUS_EXIT.get(status, ExitCode.FAILED)


_INTERRUPT = "__interrupt__"
"""The channel under which LangGraph saves a pending interrupt as a write of the checkpoint."""


async def _check_waiting(saver: Any, config: RunnableConfig, thread_id: str) -> None:
    """Raise unless ``thread_id``'s last checkpoint waits for an approval.

    Raises:
        ThreadNotFoundError: no session was saved under ``thread_id``.
        InvalidInputError: the session waits for nothing.
    """
    saved = await saver.aget_tuple(config)
    if saved is None:
        raise ThreadNotFoundError(
            f"no such thread {thread_id!r}: no session was saved under that id"
        )
    if not any(channel == _INTERRUPT for _task, channel, _value in saved.pending_writes or ()):
        raise InvalidInputError(f"thread {thread_id!r} has no run waiting for approval")


def _open_memory(settings: Any) -> tuple[Any, Any]:
    """Long-term memory and its lesson writer, when enabled (closed at exit)."""
    if not settings.memory.enabled:
        return None, None
    import atexit

    from maximus.memory.longterm.store import MemoryStore
    from maximus.tools.memory import memory_lesson_writer

    try:
        store = MemoryStore.from_settings(settings)
    except ConfigError as exc:
        # Memory is an aid: without its packages (e.g. only ``maximus[local]`` installed) the
        # run goes on without it, and says how to turn it on or silence this.
        err.print(
            f"[yellow]long-term memory off: {escape(exc.message)} "
            "(or set MAXIMUS_MEMORY__ENABLED=false)[/]"
        )
        return None, None
    atexit.register(store.close)
    return store, memory_lesson_writer(store)


def _start_local_model(settings: Any) -> None:
    """Start (or reuse) the local model before the run when it is in use, with live progress."""
    from maximus.models import uses_local_model

    if uses_local_model(settings):
        from maximus.models.local.cli import ensure_local_server

        ensure_local_server(settings, err)


def _install_llm_cache(settings: Any) -> None:
    """Cache model responses in Redis when asked to; a Redis that is down only costs the cache."""
    if not (settings.cache.llm and settings.cache_url):
        return
    from maximus.errors import StoreUnavailableError
    from maximus.memory.cache import install_llm_cache

    try:
        install_llm_cache(
            settings.cache_url, ttl=settings.cache.llm_ttl, prefix=f"{settings.cache.prefix}:llm"
        )
    except StoreUnavailableError as exc:
        err.print(f"[yellow]LLM cache off: {exc.message}[/]")


async def _stream(
    agent: Any,
    payload: Any,
    config: RunnableConfig,
    context: Any,
    thread_id: str,
    as_json: bool,
) -> bool:
    """Stream the run, answering approvals at the prompt; ``True`` if it stopped to wait."""
    pending: Any = payload
    while pending is not None:
        stream = agent.astream(
            pending, config, context=context, stream_mode="updates", version="v1"
        )
        request = None
        # Drain the stream even after an interrupt: the checkpoint that makes the run
        # resumable (in another process, too) is written as the stream finishes.
        async for chunk in stream:
            for node, update in chunk.items():
                if node == "__interrupt__":
                    request = update[0].value
                elif update:
                    _show(node, update, as_json)
        if request is None:
            return False
        pending = _ask_approval(request, thread_id, as_json)
    return True


def _ask_approval(request: dict[str, Any], thread_id: str, as_json: bool) -> Any:
    """The resume command for an approval request, or ``None`` to stop and wait."""
    from langgraph.types import Command

    if as_json:
        typer.echo(
            json.dumps({"event": "approval", "thread_id": thread_id, **request}, default=str)
        )
    else:
        action = request["action"]
        out.print(
            Panel(
                f"{action['tool']}({json.dumps(action['args'])})\n"
                f"score {request['score']['score'] if request.get('score') else 'n/a'} "
                f"< threshold {request['threshold']}\npredicted: {request.get('predicted')}",
                title="[yellow]approval needed[/]",
            )
        )
    if as_json or not sys.stdin.isatty():
        err.print(f"waiting for approval: maximus resume {thread_id} --approve|--reject")
        return None
    approved = typer.confirm("Run it?", default=False)
    return Command(resume={"approved": approved, "note": "answered at the CLI prompt"})


def _show(node: str, update: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"event": node, "update": _jsonable(update)}, default=str))
        return
    if node == "plan" and update.get("plan"):
        table = Table(title="plan", show_lines=False)
        for column in ("#", "step", "expected", "tool"):
            table.add_column(column)
        for step in update["plan"]:
            table.add_row(
                str(step["id"]), step["description"], step["expected"], step["tool"] or ""
            )
        out.print(table)
    elif node == "simulate":
        for record in update.get("simulations", []):
            scores = {s["candidate_id"]: s for s in record["scores"]}
            table = Table(
                title=f"step {record['step_id']}: {record['outcome']}"
                + (
                    f" ({record.get('mode', 'full')}: {record.get('reason')})"
                    if record["simulated"]
                    else f" (not simulated: {record.get('skipped') or 'simulation off'})"
                )
            )
            for column in ("", "action", "predicted", "score"):
                table.add_column(column)
            predicted = {p["candidate_id"]: p["next_state"] for p in record["predictions"]}
            for cand in record["candidates"]:
                mark = "→" if cand["id"] == record["chosen_id"] else ""
                score = scores.get(cand["id"])
                table.add_row(
                    mark,
                    f"{cand['tool'] or 'answer'}({json.dumps(cand['args'])})",
                    predicted.get(cand["id"], "")[:80],
                    f"{score['score']:.2f}" if score else "",
                )
            out.print(table)
    elif node == "execute":
        for obs in update.get("observations", []):
            colour = "green" if obs["ok"] else "red"
            out.print(f"[{colour}]tool {obs['tool']}[/] → {obs['content'][:300]}")
    elif node == "reflect":
        for ref in update.get("reflections", []):
            out.print(
                f"[cyan]reflect step {ref['step_id']}: {ref['decision']}[/] {ref['critique']}"
            )
    elif node == "approve":
        for record in update.get("approvals", []):
            verdict = "approved" if record["approved"] else "rejected"
            out.print(f"[yellow]human {verdict} step {record['step_id']}[/] {record['note']}")


def _jsonable(update: dict[str, Any]) -> dict[str, Any]:
    result = {}
    for key, value in update.items():
        if key == "messages":
            value = [
                {"type": m.type, "content": m.content, "tool_calls": getattr(m, "tool_calls", [])}
                for m in value
            ]
        result[key] = value
    return result


def main() -> None:
    """Entry point of the ``maximus`` script."""
    try:
        app(prog_name="maximus")
    except ConfigError as exc:  # bad settings read outside a run
        err.print(f"[bold red]ConfigError:[/] {escape(exc.message)}")
        raise SystemExit(ExitCode.CONFIG) from None


if __name__ == "__main__":
    main()

"""Tool tasks with checkable answers: Maximus against LangGraph's prebuilt ReAct agent.

33 tasks (:mod:`bench._task_suite`): calculator chains, date arithmetic, JSON queries, text
statistics, files written and read back in the workspace, and memory (remember in one run,
recall in a later run on a new thread, through Maximus's memory tools over a fresh embedded
store per task). Both agents get the same model and, per task, the same tools (its category's
core plugin tools; the memory tools for memory tasks); Maximus runs with its default options,
the ReAct agent is ``create_react_agent`` as it ships. A task succeeds when the last run's
answer contains every expected value and the files it had to write hold what they should.

Per agent and category: success (Wilson 95% interval), model calls, prompt tokens, prompt
tokens served from the server's cache, and seconds per task. Each finished task is one JSON line
in ``bench/results/tasks/<model>.jsonl``; a re-run skips what is done; a Markdown table and a
PNG plot are written next to it. ``--tasks`` picks tasks by id or category, ``--fake`` runs on
a seeded fake model that follows each task's gold tool calls (machinery only).

Run from the repository root: ``python -m bench.tasks [--model local]``. The last line printed
is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
import warnings
import zlib
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.embeddings import Embeddings
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import GraphRecursionError
from tqdm import tqdm

from bench._fake import FakeAgentModel
from bench._models import UsageMeter, resolve_model
from bench._results import RESULTS_DIR, ResultLog, markdown, mean, plot_success, slug, wilson
from bench._task_suite import TOOLS, Call, Run, Task, all_tasks, answer_ok
from maximus import RunOptions, Settings, create_agent
from maximus.memory.lessons import InProcessLessonSink
from maximus.plugins.manager import PluginManager

AGENTS = ("maximus", "react")
TASK_SECONDS = 600.0
"""Wall-time cap per run of a task; past it the task is lost (status ``timeout``)."""
BUDGET_MINUTES = 140.0
"""No task starts after this long."""
REACT_PROMPT = "Use the tools to work out the answer, then give the final answer."
USER = "bench"
CONFIG: dict[str, Any] = {
    "version": 2,
    "tasks": [t.id for t in all_tasks()],
    "tools": TOOLS,
    "task_seconds": TASK_SECONDS,
}


class ToolLog(BaseCallbackHandler):
    """The tool results of a run; for ``--fake``, also the hint that walks the gold calls."""

    def __init__(self) -> None:
        self.outputs: list[str] = []
        self.calls = 0
        self.gold: tuple[Call, ...] = ()
        self.names: set[str] = set()
        self._done_in_run = 0

    def start(self, run: Run, names: set[str]) -> None:
        """A new run begins (its gold calls, the real tools' names)."""
        self.gold, self.names, self._done_in_run = run.gold, names | {g[0] for g in run.gold}, 0
        self.outputs = []

    def on_tool_end(self, output: Any, **kwargs: Any) -> None:
        self.calls += 1
        self._done_in_run += 1
        self.outputs.append(str(getattr(output, "content", output)))

    # The fake model's hint (see bench._fake.Hint).
    def tool_names(self) -> set[str]:
        return self.names

    def actions(self) -> list[Call]:
        return [self.gold[min(self._done_in_run, len(self.gold) - 1)]] if self.gold else []

    def finished(self) -> bool:
        return self._done_in_run >= len(self.gold)

    def answer(self) -> str:
        return " ".join(self.outputs) or "I do not know."


class Workbench:
    """One agent's plugins, workspace and memory (kept apart from the other agent's).

    Args:
        agent: ``maximus`` or ``react``.
        root: its data directory.
        embeddings: the embeddings of its memory stores.
    """

    def __init__(self, agent: str, root: Path, embeddings: Embeddings) -> None:
        self.agent, self.root, self.embeddings = agent, root, embeddings
        self.settings = Settings(data_dir=root)
        self.plugins = PluginManager(data_dir=root, entry_point_group=None)
        self.plugins.discover()
        self.files = self.plugins.plugin_dir("files")

    def prepare(self, task: Task) -> Any:
        """An empty workspace with the task's files; a fresh memory store for memory tasks."""
        shutil.rmtree(self.files, ignore_errors=True)
        self.files.mkdir(parents=True, exist_ok=True)
        for path, text in task.setup.items():
            (self.files / path).parent.mkdir(parents=True, exist_ok=True)
            (self.files / path).write_text(text, encoding="utf-8")
        if task.category != "memory":
            return None
        from maximus.memory.longterm.backends.qdrant_edge import QdrantEdgeBackend
        from maximus.memory.longterm.embeddings import embedding_dimension
        from maximus.memory.longterm.store import MemoryStore
        from maximus.memory.longterm.vault import VaultCipher, generate_key

        where = self.root / "memory" / task.id
        shutil.rmtree(where, ignore_errors=True)
        backend = QdrantEdgeBackend(where, embedding_dimension(self.embeddings))
        return MemoryStore(backend, self.embeddings, cipher=VaultCipher([generate_key()]))

    def tools(self, task: Task) -> list[BaseTool]:
        """The task's category tools."""
        by_name = {t.name: t for t in self.plugins.tools()}
        return [by_name[name] for name in TOOLS[task.category]]

    def files_ok(self, task: Task) -> bool:
        """Whether the files the task had to write hold what they should."""
        for path, needle in task.files.items():
            target = self.files / path
            if not target.is_file() or needle not in target.read_text(encoding="utf-8"):
                return False
        return True


async def run_maximus(
    model: Any, bench: Workbench, task: Task, store: Any, meter: UsageMeter, log: ToolLog
) -> tuple[str, str]:
    """Maximus on the task's runs; the last answer and the status."""
    from maximus.tools.memory import memory_lesson_writer, memory_tools

    lessons = InProcessLessonSink(memory_lesson_writer(store) if store else None)
    tools = bench.tools(task)
    agent = create_agent(
        model=model,
        tools=tools,
        include_builtin_tools=False,
        settings=bench.settings,
        checkpointer=InMemorySaver(),
        memory=store,
        lesson_sink=lessons,
    )
    names = {t.name for t in tools} | ({t.name for t in memory_tools(store)} if store else set())
    answer, status = "", "done"
    try:
        for run in task.runs:
            log.start(run, names)
            _use(model, log, task, run)
            config: RunnableConfig = {
                "configurable": {"thread_id": uuid.uuid4().hex, "user_id": USER},
                "callbacks": [meter, log],
            }
            async with asyncio.timeout(TASK_SECONDS + 60):
                state = await agent.ainvoke(
                    {"goal": run.goal}, config, context=RunOptions(max_seconds=TASK_SECONDS)
                )
            answer, status = str(state.get("final_answer") or ""), str(state.get("status"))
    except TimeoutError:
        status = "timeout"
    finally:
        await lessons.aclose()
    return answer, status


async def run_react(
    model: Any, bench: Workbench, task: Task, store: Any, meter: UsageMeter, log: ToolLog
) -> tuple[str, str]:
    """LangGraph's prebuilt ReAct agent on the task's runs; the last answer and the status."""
    from langgraph.prebuilt import create_react_agent
    from langgraph.warnings import LangGraphDeprecationWarning

    from maximus.tools.memory import memory_tools

    tools = bench.tools(task) + (memory_tools(store) if store else [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LangGraphDeprecationWarning)
        agent = create_react_agent(model, tools, prompt=REACT_PROMPT)
    answer, status = "", "done"
    try:
        for run in task.runs:
            log.start(run, {t.name for t in tools})
            _use(model, log, task, run)
            config: RunnableConfig = {
                "configurable": {"user_id": USER},
                "callbacks": [meter, log],
                "recursion_limit": 25,
            }
            async with asyncio.timeout(TASK_SECONDS):
                state = await agent.ainvoke({"messages": [("user", run.goal)]}, config)
            answer = state["messages"][-1].text
    except TimeoutError:
        status = "timeout"
    except GraphRecursionError:
        status = "recursion limit"
    return answer, status


def _use(model: Any, log: ToolLog, task: Task, run: Run) -> None:
    if isinstance(model, FakeAgentModel):
        model.use(log, zlib.crc32(f"{task.id}/{task.runs.index(run)}".encode()))


async def attempt(agent: str, model: Any, bench: Workbench, task: Task) -> dict[str, Any]:
    """One agent on one task: the JSONL row."""
    store = bench.prepare(task)
    meter, log = UsageMeter(), ToolLog()
    runner = run_maximus if agent == "maximus" else run_react
    started = time.perf_counter()
    try:
        answer, status = await runner(model, bench, task, store, meter, log)
    except Exception as exc:  # a crashed task counts as lost, and says why
        answer, status = "", f"error: {type(exc).__name__}: {exc}"[:200]
    finally:
        if store is not None:
            store.close()
    seconds = time.perf_counter() - started
    return {
        "agent": agent,
        "task": task.id,
        "category": task.category,
        "success": answer_ok(task, answer) and bench.files_ok(task),
        "answer": answer[:300],
        "status": status,
        "model_calls": meter.usage.model_calls,
        "prompt_tokens": meter.usage.prompt_tokens,
        "cached_prompt_tokens": meter.usage.cached_prompt_tokens,
        "tool_calls": log.calls,
        "seconds": round(seconds, 2),
    }


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Success, Wilson interval, calls, tokens and seconds per task."""
    n, wins = len(rows), sum(bool(r["success"]) for r in rows)
    low, high = wilson(wins, n)
    return {
        "tasks": n,
        "success": round(wins / n, 3) if n else None,
        "ci95": [round(low, 3), round(high, 3)],
        "model_calls": mean(r["model_calls"] for r in rows),
        "tool_calls": mean(r["tool_calls"] for r in rows),
        "prompt_tokens": mean(r["prompt_tokens"] for r in rows),
        "cached_prompt_tokens": mean(r["cached_prompt_tokens"] for r in rows),
        "seconds": mean(r["seconds"] for r in rows),
        "errors": sum(str(r["status"]).startswith(("error", "timeout")) for r in rows),
    }


def table(rows: list[dict[str, Any]], agents: list[str]) -> str:
    """Per category and agent, then all tasks, as Markdown."""
    header = ["category", "agent", "tasks", "success [95% CI]", "calls", "tool calls",
              "prompt tok", "cached tok", "s/task", "errors"]  # fmt: skip
    lines = []
    for category in [*TOOLS, "all"]:
        for agent in agents:
            picked = [r for r in rows if r["agent"] == agent and category in (r["category"], "all")]
            s = summarize(picked)
            if s["tasks"]:
                ci = f"{s['success']:.2f} [{s['ci95'][0]:.2f}, {s['ci95'][1]:.2f}]"
                lines.append([category, agent, s["tasks"], ci, s["model_calls"], s["tool_calls"],
                              s["prompt_tokens"], s["cached_prompt_tokens"], s["seconds"],
                              s["errors"]])  # fmt: skip
    return markdown(header, lines)


def _embeddings(fake: bool) -> Embeddings:
    if fake:
        from langchain_core.embeddings import DeterministicFakeEmbedding

        return DeterministicFakeEmbedding(size=384)
    from maximus.memory.longterm.embeddings import OnnxMiniLMEmbeddings

    return OnnxMiniLMEmbeddings()


def _select(spec: str | None) -> list[Task]:
    tasks = all_tasks()
    if not spec:
        return tasks
    wanted = {s.strip() for s in spec.split(",") if s.strip()}
    return [t for t in tasks if t.id in wanted or t.category in wanted]


async def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the missing tasks, write the table and plot; the headline figures."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.tasks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", default="local", help="local, gemini, provider:model, URL")
    parser.add_argument("--fake", action="store_true", help="a fake model following gold calls")
    parser.add_argument("--tasks", default="", help="task ids or categories (default: all)")
    parser.add_argument("--agents", default=",".join(AGENTS), help=f"of {list(AGENTS)}")
    parser.add_argument("--budget-minutes", type=float, default=BUDGET_MINUTES)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "tasks", help="results dir")
    args = parser.parse_args(argv)
    tasks = _select(args.tasks)
    agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    if not tasks or any(a not in AGENTS for a in agents):
        parser.error(f"no such tasks or agents: {args.tasks!r} {agents}")

    started = time.perf_counter()
    model: Any
    if args.fake:
        model, name = FakeAgentModel(), "fake"
    else:
        model, _settings, name = resolve_model(args.model)
    print(f"model {name}, ready in {time.perf_counter() - started:.1f}s", flush=True)
    log = ResultLog(args.out / f"{slug(name)}.jsonl", CONFIG, ("agent", "task"))
    todo = [
        (agent, task)
        for i, task in enumerate(tasks)
        for agent in (agents if i % 2 == 0 else agents[::-1])
        if (agent, task.id) not in log
    ]
    deadline = started + args.budget_minutes * 60 if args.budget_minutes > 0 else None
    skipped = 0
    with tempfile.TemporaryDirectory(prefix="bench-tasks-") as tmp:
        embeddings = _embeddings(args.fake)
        benches = {a: Workbench(a, Path(tmp) / a, embeddings) for a in agents}
        try:
            with tqdm(total=len(todo), desc="tasks", unit="task", file=sys.stderr) as bar:
                for agent, task in todo:
                    if deadline is not None and time.perf_counter() > deadline:
                        skipped += 1
                        bar.update()
                        continue
                    row = await attempt(agent, model, benches[agent], task)
                    log.add({**row, "model": name})
                    bar.write(
                        f"{task.id:<16} {agent:<8} {'ok  ' if row['success'] else 'FAIL'} "
                        f"calls {row['model_calls']} tools {row['tool_calls']} "
                        f"{row['seconds']:.0f}s [{row['status']}] {row['answer'][:60]!r}"
                    )
                    bar.update()
        finally:
            for bench in benches.values():
                bench.plugins.close()

    ids = {t.id for t in tasks}
    rows = [r for r in log.rows.values() if r["task"] in ids and r["agent"] in agents]
    figures = {a: summarize([r for r in rows if r["agent"] == a]) for a in agents}
    report = table(rows, agents)
    notes = [f"{skipped} tasks not started: time budget spent"] if skipped else []
    points = {
        a: {"calls": f["model_calls"] or 0.0, "success": f["success"] or 0.0,
            "low": f["ci95"][0], "high": f["ci95"][1]}
        for a, f in figures.items() if f["tasks"]
    }  # fmt: skip
    why = plot_success(log.path.with_suffix(".png"), points, f"bench.tasks on {name}",
                       "model calls per task")  # fmt: skip
    notes += [why] if why else []
    log.path.with_suffix(".md").write_text(
        f"# bench.tasks: {name}\n\n{report}\n\n" + "".join(f"- {n}\n" for n in notes),
        encoding="utf-8",
    )
    print(report)
    for agent, summary in figures.items():
        print(f"{agent}: {json.dumps(summary)}")
    for note in notes:
        print(f"note: {note}")
    print(f"results: {log.path} (table .md, plot .png); load {os.getloadavg()}, "
          f"{time.perf_counter() - started:.0f}s", flush=True)  # fmt: skip

    def get(agent: str, key: str) -> Any:
        return figures[agent][key] if agent in figures else None

    return {
        "model": name,
        "tasks": len(tasks),
        "maximus_success": get("maximus", "success"),
        "react_success": get("react", "success"),
        "maximus_model_calls_per_task": get("maximus", "model_calls"),
        "react_model_calls_per_task": get("react", "model_calls"),
        "maximus_s_per_task": get("maximus", "seconds"),
        "react_s_per_task": get("react", "seconds"),
    }


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1:]))
    print(json.dumps(result))

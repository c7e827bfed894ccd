"""Framework time per tool step: Maximus (simulation on, N candidates) vs LangGraph's ReAct agent.

Both agents run the same task of ``STEPS`` tool steps, with the same trivial tool and scripted
fake models, in one event loop; episodes alternate between them to spread machine noise evenly.
Model time is only the time spent inside the fake models' ``_agenerate``: LangChain's own call
overhead (callbacks, ``with_structured_output`` parsing) is counted as framework time, since a
real model pays it too. Each agent's graph is compiled once and reused, as a server would; each
episode gets a fresh thread id and replies from scripts that cycle exactly once per episode.
Every episode is checked for success; a broken run raises instead of being timed.

Run from the repository root with ``python -m bench.graph_overhead``. The last line printed is
one JSON object with the results.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import statistics
import tempfile
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import create_react_agent
from langgraph.warnings import LangGraphDeprecationWarning

from maximus import RunOptions, Settings, create_agent
from maximus.testing import ScriptedChatModel, structured, tool_call

STEPS = 5
"""Tool steps per episode."""
CANDIDATES = 3
"""Candidates Maximus simulates per step."""
WARMUP = 3
"""Untimed episodes per agent before measuring."""
EPISODES = 30
"""Timed episodes per agent."""
GOAL = f"Count from 0 to {STEPS} by adding 1 with the add tool, one step at a time."
ROLES = ("planner", "policy", "world_model", "critic", "executor", "reflector")
EXPECTED = [str(i + 1) for i in range(STEPS)]


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class TimedModel(ScriptedChatModel):
    """A scripted chat model that adds up the time spent inside ``_agenerate``."""

    model_time: float = 0.0
    """Seconds spent generating, summed over all calls."""

    async def _agenerate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await super()._agenerate(messages, *args, **kwargs)
        finally:
            self.model_time += time.perf_counter() - start


def timed(replies: list[AIMessage]) -> TimedModel:
    """A :class:`TimedModel` that cycles through ``replies`` (an empty script fails any call)."""
    return TimedModel(messages=itertools.cycle(replies))


@dataclass(frozen=True)
class Sample:
    """One timed episode."""

    wall: float
    model: float
    calls: int
    steps: int

    @property
    def framework_ms_per_step(self) -> float:
        """Milliseconds outside the models per executed tool step."""
        return (self.wall - self.model) * 1000 / self.steps


async def measure(
    models: Iterable[TimedModel], invoke: Callable[[], Awaitable[Any]]
) -> tuple[Any, float, float, list[int]]:
    """Run ``invoke``; return its result, wall time, model time and each model's call count."""
    models = list(models)
    calls = [m.calls for m in models]
    model_time = sum(m.model_time for m in models)
    start = time.perf_counter()
    result = await invoke()
    wall = time.perf_counter() - start
    spent = sum(m.model_time for m in models) - model_time
    return result, wall, spent, [m.calls - c for m, c in zip(models, calls, strict=True)]


def check(ok: bool, agent: str, what: str) -> None:
    """Raise if an episode did not do what the script says."""
    if not ok:
        raise RuntimeError(f"{agent} episode failed the check: {what}")


def maximus_scripts() -> dict[str, list[AIMessage]]:
    """Per-role replies for one Maximus episode: plan, then simulate and reflect each step."""
    script: dict[str, list[AIMessage]] = {role: [] for role in ROLES}
    plan = [
        {"description": f"add 1 to {i}", "expected": str(i + 1), "tool": "add"}
        for i in range(STEPS)
    ]
    script["planner"].append(structured("Plan", steps=plan))
    ids = range(CANDIDATES)
    for i in range(STEPS):
        # Candidate 0 (add 1) scores best; the last one answers without a tool.
        adds = [("add", {"a": i, "b": c + 1}) for c in ids[:-1]]
        actions: list[tuple[str | None, dict[str, int]]] = [*adds, (None, {})]
        proposed = [{"tool": t, "args": a, "rationale": f"try {t}"} for t, a in actions]
        states = [{"candidate_id": c, "next_state": f"the total is {i + c + 1}"} for c in ids]
        scores = [{"candidate_id": c, "score": 0.9 - 0.1 * c, "reason": "ok"} for c in ids]
        script["policy"].append(structured("Candidates", candidates=proposed))
        script["world_model"].append(structured("Predictions", predictions=states))
        script["critic"].append(structured("Scores", scores=scores))
        last = i == STEPS - 1
        script["reflector"].append(
            structured(
                "Verdict",
                success=True,
                decision="finish" if last else "continue",
                critique="the step met its expected result",
                lessons=["add one at a time"],
                final_answer=str(STEPS) if last else None,
            )
        )
    return script


class MaximusBench:
    """The Maximus agent with full simulation on every step and the reflector judging each.

    Args:
        data_dir: the agent's data directory (a temporary one).
    """

    name = "maximus"

    def __init__(self, data_dir: Path) -> None:
        scripts = maximus_scripts()
        self.expected_calls = [len(scripts[role]) for role in ROLES]
        self.models = {role: timed(scripts[role]) for role in ROLES}
        self.graph = create_agent(
            models=self.models,  # type: ignore[arg-type]
            tools=[add],
            checkpointer=InMemorySaver(),
            settings=Settings(data_dir=data_dir),
            include_builtin_tools=False,
        )
        # The heaviest path: every step fully simulated and judged by the reflector model.
        self.options = RunOptions(
            simulation="full",
            simulate_when="always",
            judge="model",
            num_candidates=CANDIDATES,
        )

    async def episode(self) -> Sample:
        """Run and check one episode."""
        config: RunnableConfig = {"configurable": {"thread_id": uuid.uuid4().hex}}
        result, wall, model, calls = await measure(
            self.models.values(),
            lambda: self.graph.ainvoke({"goal": GOAL}, config, context=self.options),
        )
        counters = result["counters"]
        observations = result["observations"]
        check(result["status"] == "done", self.name, f"status {result['status']!r}")
        check(result["final_answer"] == str(STEPS), self.name, "final answer")
        check([o["content"] for o in observations] == EXPECTED, self.name, "observations")
        check(all(o["ok"] and o["tool"] == "add" for o in observations), self.name, "tools ran")
        simulated = [len(s["candidates"]) for s in result["simulations"] if s["simulated"]]
        check(simulated == [CANDIDATES] * STEPS, self.name, "every step simulated, N candidates")
        check(calls == self.expected_calls, self.name, f"calls per role {calls}")
        check(counters["steps"] == STEPS, self.name, f"steps counter {counters['steps']}")
        check(counters["model_calls"] == sum(calls), self.name, "model_calls counter")
        return Sample(wall, model, counters["model_calls"], counters["steps"])


class ReactBench:
    """LangGraph's prebuilt ReAct agent over the same tool."""

    name = "react"

    def __init__(self) -> None:
        replies = [tool_call("add", a=i, b=1) for i in range(STEPS)] + [AIMessage(str(STEPS))]
        self.model = timed(replies)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LangGraphDeprecationWarning)
            self.graph = create_react_agent(self.model, [add], checkpointer=InMemorySaver())

    async def episode(self) -> Sample:
        """Run and check one episode."""
        config: RunnableConfig = {"configurable": {"thread_id": uuid.uuid4().hex}}
        result, wall, model, calls = await measure(
            [self.model], lambda: self.graph.ainvoke({"messages": [("user", GOAL)]}, config)
        )
        messages = result["messages"]
        results = [m for m in messages if isinstance(m, ToolMessage)]
        check([m.text for m in results] == EXPECTED, self.name, "tool results")
        check(all(m.status == "success" for m in results), self.name, "tools ran")
        check(messages[-1].text == str(STEPS), self.name, "final answer")
        check(calls == [STEPS + 1], self.name, f"model calls {calls}")
        return Sample(wall, model, calls[0], len(results))


async def run_all() -> dict[str, list[Sample]]:
    """Warm up, then time ``EPISODES`` episodes per agent, alternating agents and their order."""
    with tempfile.TemporaryDirectory() as tmp:
        benches: list[MaximusBench | ReactBench] = [MaximusBench(Path(tmp)), ReactBench()]
        samples: dict[str, list[Sample]] = {bench.name: [] for bench in benches}
        for i in range(WARMUP + EPISODES):
            for bench in benches if i % 2 == 0 else benches[::-1]:
                gc.collect()  # outside the timing, so one agent's garbage is not the other's
                sample = await bench.episode()
                if i >= WARMUP:
                    samples[bench.name].append(sample)
    return samples


def summarize(samples: list[Sample]) -> dict[str, float]:
    """Medians and spread of one agent's episodes."""
    per_step = sorted(s.framework_ms_per_step for s in samples)
    steps = sum(s.steps for s in samples)
    return {
        "ms_per_step": statistics.median(per_step),
        "p10": per_step[len(per_step) // 10],
        "p90": per_step[(len(per_step) * 9) // 10],
        "model_ms_per_step": statistics.median(s.model * 1000 / s.steps for s in samples),
        "wall_ms": statistics.median(s.wall * 1000 for s in samples),
        "calls_per_step": sum(s.calls for s in samples) / steps,
    }


def main() -> None:
    """Run the benchmark, print a table, then the results as one JSON line."""
    samples = asyncio.run(run_all())
    m, r = summarize(samples["maximus"]), summarize(samples["react"])
    rows = [
        ("framework ms/step (median)", "ms_per_step"),
        ("framework ms/step (p10)", "p10"),
        ("framework ms/step (p90)", "p90"),
        ("model ms/step (median)", "model_ms_per_step"),
        ("wall ms/episode (median)", "wall_ms"),
        ("model calls/step", "calls_per_step"),
    ]
    print(f"{STEPS} tool steps/episode, {EPISODES} timed episodes/agent after {WARMUP} warm-up")
    print(f"{'':28}{'maximus (N=' + str(CANDIDATES) + ')':>16}{'react':>12}")
    for label, key in rows:
        print(f"{label:28}{m[key]:>16.3f}{r[key]:>12.3f}")
    print(f"{'ratio maximus/react':28}{m['ms_per_step'] / r['ms_per_step']:>16.3f}")
    result = {
        "maximus_ms_per_step": round(m["ms_per_step"], 3),
        "react_ms_per_step": round(r["ms_per_step"], 3),
        "ratio": round(m["ms_per_step"] / r["ms_per_step"], 3),
        "maximus_model_calls_per_step": round(m["calls_per_step"], 3),
        "react_model_calls_per_step": round(r["calls_per_step"], 3),
        "steps_per_episode": STEPS,
        "episodes": EPISODES,
        "candidates": CANDIDATES,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""What the SimuRA world model buys: the same agent with simulation on and off, on text games.

The Maximus agent plays seeded TextWorldExpress games (test fold; ``coin``, ``arithmetic`` and
``mapreader`` by default, with small parameters) through :mod:`bench._textworld`: the task and
the observations come in as text, the valid actions are the action space (the ``act`` tool).
Each episode is played twice, by the same agent on the same model: with simulation (policy
proposes N candidates, the world model predicts each one's next observation, the critic scores
progress; the best is taken) and without (the executor picks one action, ReAct-style). The two
variants alternate episode by episode, so machine load falls on both alike.

Reported per variant and per game: success rate, mean score, steps, model calls and tokens per
episode, and wall time. To show *where* simulation helps or fails, it also reports, for the
simulated steps: how often the chosen action was valid; how much the world model's predicted
observation overlaps the real one (word Jaccard); and, on steps where the policy offered both a
gold-path action and another one, how often the critic chose the gold one.

The default model is the local one (started, or reused, by Maximus). ``--model`` takes
``local``, ``gemini`` (needs ``GOOGLE_API_KEY``), any ``provider:model`` spec, or the URL of an
OpenAI-compatible server. By default it plays 2 seeds per game (6 episodes per variant), seed by
seed across the games, and starts no new pair of episodes after 52 minutes, so that the default
run ends within 60 minutes on the shared 2-core machine with the local model (a pair takes
about 5-10 minutes there); the figures say how many episodes were played.

Run from the repository root: ``python -m bench.planning [--episodes N] [--games a,b]``. The
last line printed is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from bench._textworld import GAMES, TextWorldEpisode, open_env
from maximus import ModelResolver, RunOptions, Settings, create_agent
from maximus.config import DEFAULT_GEMINI_MODEL, load_settings

EPISODES_PER_GAME = 2
"""Seeds per game type by default (each played with and without simulation)."""
MAX_MOVES = 10
"""Environment actions per episode (the gold paths here are 3–7 actions)."""
BUDGET_MINUTES = 52.0
"""No new pair of episodes starts after this long, so the default run ends within 60 minutes
on the 2-core machine (a pair with the local model takes about 5-10 minutes there)."""
EPISODE_SECONDS = 900.0
"""Wall-time budget per episode; a run past it ends as exhausted (and lost)."""
VARIANTS = (("with", True), ("without", False))


@dataclass(slots=True)
class Episode:
    """The outcome of one episode."""

    game: str
    seed: int
    variant: str
    success: bool
    score: float
    steps: int
    model_calls: int
    tokens: int
    seconds: float
    status: str
    invalid_actions: int
    wm_overlap: list[float] = field(default_factory=list)
    critic_choices: list[bool] = field(default_factory=list)
    """Per contested step (gold and non-gold candidates both offered): critic chose gold."""
    gold_offered: list[bool] = field(default_factory=list)
    """Per simulated step: whether any candidate was on the gold path."""
    rejected_good_steps: int = 0
    """Steps the reflector judged failed although the action was valid and on the gold path."""
    replans: int = 0


def resolve_model(spec: str) -> tuple[BaseChatModel, Settings, str]:
    """The chat model for ``--model``, the settings it came from, and its display name."""
    if spec.startswith(("http://", "https://")):
        settings = load_settings(base_url=spec, model=os.environ.get("MAXIMUS_MODEL", "default"))
    elif spec == "gemini":
        settings = load_settings(model=DEFAULT_GEMINI_MODEL)
    else:
        settings = load_settings(model=spec)
    model = ModelResolver(settings=settings).get("planner")
    name = spec if spec != "local" else f"local:{getattr(model, 'model_name', 'local')}"
    return model, settings, name


def _words(text: str) -> set[str]:
    return {w.strip(".,:;'\"()!?").lower() for w in text.split() if len(w) > 2}


def _jaccard(a: str, b: str) -> float:
    x, y = _words(a), _words(b)
    return len(x & y) / len(x | y) if x | y else 0.0


def diagnose(state: dict[str, Any], episode: TextWorldEpisode, result: Episode) -> None:
    """Match the simulated steps with the real ones; fill the world-model and critic figures."""
    executed = [
        s
        for s in state.get("simulations", [])
        if s["outcome"] == "execute"
        and s["candidates"][s["chosen_id"]]["tool"] == "act"
        and s["simulated"]
    ]
    gold = set(episode.gold)
    # One reflection follows each observation (a tool's, or a direct answer's), in order.
    judged = zip(state.get("observations", []), state.get("reflections", []), strict=False)
    acted = [reflection for observation, reflection in judged if observation["tool"] == "act"]
    for reflection, step in zip(acted, episode.steps, strict=False):
        if not reflection["success"] and step.valid and step.action in gold:
            result.rejected_good_steps += 1
    result.replans = int((state.get("counters") or {}).get("replans", 0))
    for record, step in zip(executed, episode.steps, strict=False):
        predicted = {p["candidate_id"]: p["next_state"] for p in record["predictions"]}
        if record["chosen_id"] in predicted:
            result.wm_overlap.append(_jaccard(predicted[record["chosen_id"]], step.observation))
        actions = {
            c["id"]: " ".join(str(c["args"].get("action", "")).lower().split())
            for c in record["candidates"]
            if c["tool"] == "act"
        }
        on_gold = {i for i, a in actions.items() if a in gold}
        result.gold_offered.append(bool(on_gold))
        if on_gold and len(on_gold) < len(actions):
            result.critic_choices.append(record["chosen_id"] in on_gold)


async def play(
    model: BaseChatModel,
    settings: Settings,
    env: Any,
    game: str,
    seed: int,
    variant: str,
    simulate: bool,
    max_moves: int,
    verbose: bool = True,
) -> Episode:
    """One episode of ``game`` (seed ``seed``) by the agent with simulation on or off."""
    episode = TextWorldEpisode(env, game, seed, GAMES[game], max_moves=max_moves)
    goal = episode.reset()
    agent = create_agent(
        model=model,
        tools=[episode.tool()],
        include_builtin_tools=False,
        settings=settings,
        checkpointer=InMemorySaver(),
    )
    config: RunnableConfig = {"configurable": {"thread_id": uuid.uuid4().hex}}
    context = RunOptions(
        simulate=simulate, max_steps=max_moves, max_seconds=EPISODE_SECONDS, mode="fast"
    )
    started = time.perf_counter()
    try:
        async for chunk in agent.astream(
            {"goal": goal}, config, context=context, stream_mode="updates"
        ):
            for node, update in chunk.items():
                if verbose:
                    print(f"    {time.perf_counter() - started:6.0f}s {_brief(node, update)}")
        state = (await agent.aget_state(config)).values
        status = state.get("status", "failed")
    except Exception as exc:  # a crashed episode counts as lost, and says why
        state = (await agent.aget_state(config)).values
        status = f"error: {type(exc).__name__}: {exc}"[:200]
    seconds = time.perf_counter() - started
    counters = state.get("counters") or {}
    result = Episode(
        game=game,
        seed=seed,
        variant=variant,
        success=episode.success,
        score=episode.score,
        steps=len(episode.steps),
        model_calls=int(counters.get("model_calls", 0)),
        tokens=int(counters.get("tokens", 0)),
        seconds=seconds,
        status=status,
        invalid_actions=sum(not s.valid for s in episode.steps),
    )
    diagnose(state, episode, result)
    return result


def _brief(node: str, update: Any) -> str:
    """One line of live progress for a node's update."""
    if not isinstance(update, dict):
        return node
    if node == "plan" and update.get("plan"):
        return f"plan: {[s['description'][:40] for s in update['plan']]}"
    if node == "simulate" and update.get("simulations"):
        record = update["simulations"][-1]
        chosen = record["candidates"][record["chosen_id"]]
        scores = [round(s["score"], 2) for s in record["scores"]]
        return f"simulate: {chosen['tool']}({chosen['args']}) scores {scores} {record['outcome']}"
    if node == "execute" and update.get("observations"):
        return f"execute: {update['observations'][-1]['content'][:80]!r}"
    if node == "reflect" and update.get("reflections"):
        ref = update["reflections"][-1]
        return f"reflect: {ref['decision']} success={ref['success']}"
    return f"{node}: {update.get('status', '')}"


def _mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 3) if values else 0.0


def summarize(episodes: list[Episode]) -> dict[str, Any]:
    """The per-variant figures."""
    steps = sum(e.steps for e in episodes)
    return {
        "episodes": len(episodes),
        "success_rate": _mean([float(e.success) for e in episodes]),
        "mean_score": _mean([e.score for e in episodes]),
        "steps_per_episode": _mean([float(e.steps) for e in episodes]),
        "model_calls_per_episode": _mean([float(e.model_calls) for e in episodes]),
        "tokens_per_episode": _mean([float(e.tokens) for e in episodes]),
        "seconds_per_episode": _mean([e.seconds for e in episodes]),
        "wall_seconds": round(sum(e.seconds for e in episodes), 1),
        "invalid_action_rate": round(sum(e.invalid_actions for e in episodes) / steps, 3)
        if steps
        else 0.0,
        "world_model_overlap": _mean([x for e in episodes for x in e.wm_overlap]),
        "gold_offered_rate": _mean([float(x) for e in episodes for x in e.gold_offered]),
        "critic_gold_choice_rate": _mean([float(x) for e in episodes for x in e.critic_choices]),
        "critic_contested_steps": sum(len(e.critic_choices) for e in episodes),
        "reflector_rejected_good_steps": sum(e.rejected_good_steps for e in episodes),
        "replans_per_episode": _mean([float(e.replans) for e in episodes]),
    }


def table(episodes: list[Episode], games: list[str]) -> str:
    """A Markdown table: success and mean score per game and variant."""
    lines = [
        "| game | variant | episodes | success | mean score | steps | model calls | tokens "
        "| s/ep |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for game in games:
        for variant, _ in VARIANTS:
            rows = [e for e in episodes if e.game == game and e.variant == variant]
            s = summarize(rows)
            lines.append(
                f"| {game} | {variant} | {s['episodes']} | {s['success_rate']:.2f} | "
                f"{s['mean_score']:.2f} | {s['steps_per_episode']:.1f} | "
                f"{s['model_calls_per_episode']:.1f} | {s['tokens_per_episode']:.0f} | "
                f"{s['seconds_per_episode']:.0f} |"
            )
    return "\n".join(lines)


async def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.planning", description=__doc__)
    parser.add_argument("--model", default="local", help="local, gemini, provider:model, or URL")
    parser.add_argument("--episodes", type=int, default=EPISODES_PER_GAME, help="seeds per game")
    parser.add_argument("--games", default=",".join(GAMES), help="comma-separated game types")
    parser.add_argument("--max-moves", type=int, default=MAX_MOVES)
    parser.add_argument("--seed-offset", type=int, default=0, help="skip this many test seeds")
    parser.add_argument(
        "--budget-minutes",
        type=float,
        default=BUDGET_MINUTES,
        help="start no new pair of episodes after this long (0: no limit)",
    )
    args = parser.parse_args(argv)
    games = [g.strip() for g in args.games.split(",") if g.strip()]
    unknown = [g for g in games if g not in GAMES]
    if unknown:
        parser.error(f"unknown games {unknown}; choose from {list(GAMES)}")

    started = time.perf_counter()
    model, settings, name = resolve_model(args.model)
    print(f"model {name}, ready in {time.perf_counter() - started:.1f}s", flush=True)
    env = open_env()
    seeds = list(env.getValidSeedsTest())[args.seed_offset : args.seed_offset + args.episodes]
    episodes: list[Episode] = []
    deadline = started + args.budget_minutes * 60 if args.budget_minutes > 0 else None
    skipped = 0
    try:
        for index, seed in enumerate(seeds):
            for game in games:
                if deadline is not None and time.perf_counter() > deadline:
                    skipped += 1
                    continue
                # Alternate which variant goes first, so neither always plays on a warm cache.
                order = VARIANTS if index % 2 == 0 else VARIANTS[::-1]
                for variant, simulate in order:
                    result = await play(
                        model, settings, env, game, seed, variant, simulate, args.max_moves
                    )
                    episodes.append(result)
                    print(
                        f"{game:<10} seed {seed} {variant:<7} "
                        f"{'WON ' if result.success else 'lost'} score {result.score:.2f} "
                        f"steps {result.steps} calls {result.model_calls} tokens {result.tokens} "
                        f"{result.seconds:.0f}s [{result.status}]",
                        flush=True,
                    )
                    print(f"  episode {json.dumps(asdict(result))}", flush=True)
    finally:
        env.close()
        env.close = lambda: None  # its __del__ would close the Java pipe again (BrokenPipeError)

    if skipped:
        print(f"time budget ({args.budget_minutes:.0f} min) spent: {skipped} pairs not played")
    figures = {v: summarize([e for e in episodes if e.variant == v]) for v, _ in VARIANTS}
    print(table(episodes, games))
    for variant, summary in figures.items():
        print(f"{variant} world model: {json.dumps(summary)}")
    print(f"load: {os.getloadavg()}, total {time.perf_counter() - started:.0f}s", flush=True)
    with_rate = figures["with"]["success_rate"]
    without_rate = figures["without"]["success_rate"]
    # Undefined (null) when the ablation never succeeds: no relative gain can be computed.
    gain = (with_rate - without_rate) / without_rate if without_rate else None
    headline = {
        "model": name,
        "episodes": figures["with"]["episodes"],
        "success_with_world_model": with_rate,
        "success_without": without_rate,
        "relative_gain": round(gain, 3) if gain is not None else None,
        "model_calls_per_episode_with": figures["with"]["model_calls_per_episode"],
        "model_calls_per_episode_without": figures["without"]["model_calls_per_episode"],
    }
    return headline


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1:]))
    print(json.dumps(result))

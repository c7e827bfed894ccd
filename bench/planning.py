"""What the world model buys, against what users would pick instead, on TALES-like text games.

Seeded TextWorldExpress games from the test fold (``coin``, ``mapreader``, ``arithmetic``,
``sorting``, with TALES' small parameters; see :mod:`bench._textworld`), the same seeds for
every variant, played on the same model by (see :mod:`bench._players`):

* Maximus with simulation ``auto`` (the default mode), ``full``, ``fused`` and ``off``;
* ``oracle``: Maximus ``full`` whose world model is the environment (a replayed clone), the
  ceiling of what a world model can add;
* ``react``: LangGraph's prebuilt ``create_react_agent`` with the same ``act`` tool;
* ``zero_shot``: a TALES-style loop (task and history in, one valid action out), the floor;
* ``random``: a random valid action each move.

Per variant and game: success rate with a Wilson 95% interval, mean normalised score, env
steps, model calls, prompt tokens and prompt tokens served from the server's cache, seconds per
episode; diagnostics: invalid actions, the world model's word overlap with the real next
observation, and how often the critic picked the gold action when candidates differed.

The default run plays the headline variants (``auto``, ``off``, ``react``, ``zero_shot``,
``random``) on 10 seeds per game, seed by seed across games and variants (the variant order
rotates each seed), and starts no episode after ``--budget-minutes`` (135), so it ends within
150 minutes; ``--variants`` and ``--seeds`` select the rest. Each finished episode is one JSON
line in ``bench/results/planning/<model>.jsonl``; a re-run skips what is done. The Markdown
table and the PNG plot (success against model calls) are written next to it.

``--model`` takes ``local`` (the default), ``gemini``, any ``provider:model`` spec or an
OpenAI-compatible URL; ``--fake`` plays on a seeded fake model (machinery only). Run from the
repository root: ``python -m bench.planning``. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench._fake import FakeAgentModel
from bench._models import resolve_model
from bench._players import (
    EPISODE_SECONDS,
    MAXIMUS_VARIANTS,
    VARIANTS,
    Episode,
    play_maximus,
    play_random,
    play_react,
    play_zero_shot,
    supported,
    variant_options,
)
from bench._results import (
    RESULTS_DIR,
    ResultLog,
    markdown,
    mean,
    plot_success,
    slug,
    wilson,
)
from bench._textworld import GAMES, TextWorldEpisode, open_env
from maximus import Settings

SEEDS = 10
"""Seeds per game by default: the first ones of TextWorldExpress's test fold."""
WITH, WITHOUT = "auto", "off"
"""The default simulation mode, and simulation off."""
HEADLINE = (WITH, WITHOUT, "react", "zero_shot", "random")
"""The variants of the default run."""
BUDGET_MINUTES = 135.0
"""No episode starts after this long, so the default run ends within 150 minutes (an episode
in flight may take up to ``EPISODE_SECONDS`` more)."""
CONFIG: dict[str, Any] = {
    "version": 2,
    "fold": "test",
    "games": GAMES,
    "move_limit": "max(4, 2 * gold path)",
    "episode_seconds": EPISODE_SECONDS,
    "mode": "fast",
}
"""The fixed configuration; episodes logged under another one are not reused."""


@dataclass(slots=True)
class GameHint:
    """What ``--fake`` tells the fake model: the valid actions of the episode in hand."""

    episode: TextWorldEpisode

    def tool_names(self) -> set[str]:
        return {"act"}

    def actions(self) -> list[tuple[str, dict[str, Any]]]:
        return [("act", {"action": a}) for a in self.episode.valid_actions]

    def finished(self) -> bool:
        return self.episode.done

    def answer(self) -> str:
        return "The game is over."


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of a set of episodes (one variant, one game or all)."""
    n = len(rows)
    wins = sum(bool(r["success"]) for r in rows)
    low, high = wilson(wins, n)
    steps = sum(r["steps"] for r in rows)
    return {
        "episodes": n,
        "success": round(wins / n, 3) if n else None,
        "ci95": [round(low, 3), round(high, 3)],
        "mean_score": mean(r["score"] for r in rows),
        "steps": mean(r["steps"] for r in rows),
        "model_calls": mean(r["model_calls"] for r in rows),
        "prompt_tokens": mean(r["prompt_tokens"] for r in rows),
        "cached_prompt_tokens": mean(r["cached_prompt_tokens"] for r in rows),
        "seconds": mean(r["seconds"] for r in rows),
        "invalid_action_rate": round(sum(r["invalid_actions"] for r in rows) / steps, 3)
        if steps
        else None,
        "wm_overlap": mean(x for r in rows for x in r["wm_overlap"]),
        "gold_offered_rate": mean(float(x) for r in rows for x in r["gold_offered"]),
        "critic_gold_rate": mean(float(x) for r in rows for x in r["critic_choices"]),
        "critic_contested_steps": sum(len(r["critic_choices"]) for r in rows),
        "rejected_good_steps": sum(r["rejected_good_steps"] for r in rows),
        "replans": mean(r["replans"] for r in rows),
        "errors": sum(str(r["status"]).startswith(("error", "timeout")) for r in rows),
    }


def table(rows: list[dict[str, Any]], games: list[str], variants: list[str]) -> str:
    """Per game and variant, then all games per variant, as Markdown."""
    header = ["game", "variant", "episodes", "success [95% CI]", "score", "steps", "calls",
              "prompt tok", "cached tok", "s/ep", "invalid", "WM overlap", "critic gold",
              "errors"]  # fmt: skip
    lines = []
    for game in [*games, "all"]:
        for variant in variants:
            picked = [r for r in rows if r["variant"] == variant and game in (r["game"], "all")]
            s = summarize(picked)
            if not s["episodes"]:
                continue
            ci = f"{s['success']:.2f} [{s['ci95'][0]:.2f}, {s['ci95'][1]:.2f}]"
            critic = (
                f"{s['critic_gold_rate']:.2f} of {s['critic_contested_steps']}"
                if s["critic_contested_steps"]
                else ""
            )
            lines.append([game, variant, s["episodes"], ci, s["mean_score"], s["steps"],
                          s["model_calls"], s["prompt_tokens"], s["cached_prompt_tokens"],
                          s["seconds"], s["invalid_action_rate"], s["wm_overlap"], critic,
                          s["errors"]])  # fmt: skip
    return markdown(header, lines)


async def play(
    variant: str,
    episode: TextWorldEpisode,
    model: Any,
    settings: Settings,
    oracle_env: Any,
) -> Episode:
    """One episode of ``variant``."""
    if variant in MAXIMUS_VARIANTS:
        return await play_maximus(model, settings, episode, variant, oracle_env)
    if variant == "react":
        return await play_react(model, episode)
    if variant == "zero_shot":
        return await play_zero_shot(model, episode)
    return play_random(episode)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.planning",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", default="local", help="local, gemini, provider:model, URL")
    parser.add_argument("--fake", action="store_true", help="a seeded fake model (machinery)")
    parser.add_argument("--variants", default=",".join(HEADLINE), help=f"of {list(VARIANTS)}")
    parser.add_argument("--games", default=",".join(GAMES), help=f"of {list(GAMES)}")
    parser.add_argument("--seeds", type=int, default=SEEDS, help="first N test-fold seeds")
    parser.add_argument(
        "--budget-minutes",
        type=float,
        default=BUDGET_MINUTES,
        help="start no episode after this long (0: no limit)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "planning", help="results dir")
    return parser


async def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Play the missing episodes, write the table and plot; the headline figures."""
    parser = _parser()
    args = parser.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    games = [g.strip() for g in args.games.split(",") if g.strip()]
    if unknown := [v for v in variants if v not in VARIANTS] + [g for g in games if g not in GAMES]:
        parser.error(f"unknown variants or games {unknown}")
    for variant in variants:
        if not supported(variant):
            try:
                variant_options(variant)
            except RuntimeError as exc:
                parser.error(str(exc))

    started = time.perf_counter()
    data = tempfile.TemporaryDirectory(prefix="bench-planning-")
    if args.fake:
        fake = FakeAgentModel()
        model: Any = fake
        settings = Settings(data_dir=Path(data.name))
        name = "fake"
    else:
        fake = None
        model, settings, name = resolve_model(args.model)
    print(f"model {name}, ready in {time.perf_counter() - started:.1f}s", flush=True)
    log = ResultLog(args.out / f"{slug(name)}.jsonl", CONFIG, ("variant", "game", "seed"))
    env = open_env()
    oracle_env = open_env() if "oracle" in variants else None
    seeds = [int(s) for s in list(env.getValidSeedsTest())[: args.seeds]]
    todo = [
        (variant, game, seed)
        for i, seed in enumerate(seeds)
        for game in games
        for variant in variants[i % len(variants) :] + variants[: i % len(variants)]
        if (variant, game, seed) not in log
    ]
    deadline = started + args.budget_minutes * 60 if args.budget_minutes > 0 else None
    skipped = 0
    try:
        with tqdm(total=len(todo), desc="episodes", unit="ep", file=sys.stderr) as bar:
            for variant, game, seed in todo:
                if deadline is not None and time.perf_counter() > deadline:
                    skipped += 1
                    bar.update()
                    continue
                episode = TextWorldEpisode(env, game, seed, GAMES[game])
                if fake is not None:
                    fake.use(GameHint(episode), zlib.crc32(f"{variant}/{game}/{seed}".encode()))
                result = await play(variant, episode, model, settings, oracle_env)
                log.add({**asdict(result), "model": name})
                bar.write(
                    f"{game:<10} seed {seed} {variant:<9} {'WON ' if result.success else 'lost'}"
                    f" score {result.score:.2f} steps {result.steps} calls {result.model_calls}"
                    f" {result.seconds:.0f}s [{result.status}]"
                )
                bar.update()
    finally:
        for opened in (env, oracle_env):
            if opened is not None:
                opened.close()
                opened.close = lambda: None  # its __del__ would close the Java pipe again
        data.cleanup()

    rows = [
        r for r in log.rows.values()
        if r["variant"] in variants and r["game"] in games and r["seed"] in seeds
    ]  # fmt: skip
    figures = {v: summarize([r for r in rows if r["variant"] == v]) for v in variants}
    report = table(rows, games, variants)
    notes = [f"{skipped} episodes not started: time budget spent"] if skipped else []
    if log.stale:
        notes.append(f"{log.stale} logged episodes of another configuration ignored")
    plotted = {
        v: {"calls": f["model_calls"] or 0.0, "success": f["success"] or 0.0,
            "low": f["ci95"][0], "high": f["ci95"][1]}
        for v, f in figures.items() if f["episodes"]
    }  # fmt: skip
    png = log.path.with_suffix(".png")
    why = plot_success(png, plotted, f"bench.planning on {name}", "model calls per episode")
    if why:
        notes.append(why)
    title = f"# bench.planning: {name}\n\nGames {games}, seeds {seeds}.\n\n"
    log.path.with_suffix(".md").write_text(
        title + report + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n", encoding="utf-8"
    )
    print(report)
    for variant, summary in figures.items():
        print(f"{variant}: {json.dumps(summary)}")
    for note in notes:
        print(f"note: {note}")
    print(f"results: {log.path} (table .md, plot .png); load {os.getloadavg()}, "
          f"{time.perf_counter() - started:.0f}s", flush=True)  # fmt: skip
    return headline(name, figures)


def headline(name: str, figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The last line's figures (``None`` where a variant was not played)."""

    def get(variant: str, key: str) -> Any:
        return figures[variant][key] if variant in figures else None

    with_rate, without_rate = get(WITH, "success"), get(WITHOUT, "success")
    gain = None
    if with_rate is not None and without_rate:  # undefined when the ablation never wins
        gain = round((with_rate - without_rate) / without_rate, 3)
    return {
        "model": name,
        "episodes_per_variant": {v: f["episodes"] for v, f in figures.items()},
        "success_with_world_model": with_rate,
        "success_without": without_rate,
        "relative_gain": gain,
        "react_success": get("react", "success"),
        "zero_shot_success": get("zero_shot", "success"),
        "oracle_success": get("oracle", "success"),
        "model_calls_per_episode_with": get(WITH, "model_calls"),
        "model_calls_per_episode_without": get(WITHOUT, "model_calls"),
    }


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1:]))
    print(json.dumps(result))

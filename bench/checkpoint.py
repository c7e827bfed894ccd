"""Checkpointer cost per graph step: Maximus's Redis savers vs the official ones, in one run.

Every contender runs the same 10-node linear graph (``node_1`` -> ... -> ``node_10``; each node
bumps a counter and appends one short string to a list channel) against the same Redis 8
server, at durability ``"sync"`` (each checkpoint is written before the next step starts):

- no checkpointer (``invoke`` and ``ainvoke``: the floor),
- ``InMemorySaver`` (``invoke`` and ``ainvoke``),
- our ``RedisSaver`` (``invoke``) and ``AsyncRedisSaver`` (``ainvoke``),
- the official ``langgraph-checkpoint-redis`` ``RedisSaver`` (``invoke``) and
  ``AsyncRedisSaver`` (``ainvoke``).

Sync contenders get sync nodes and async ones async nodes, as a real app would write them (sync
nodes under ``ainvoke`` pay a thread hop each). Contenders are interleaved in rounds, each round
starting one contender further along, after untimed warm-up rounds. Every invocation uses a
fresh ``thread_id`` and its final state is checked; once per saver, its history is checked to
hold every checkpoint. Before each timed invocation a garbage collection runs, over a heap
frozen after the warm-up (``gc.freeze``) so that it costs microseconds, not tens of ms.

"ms per step" is the wall time of one invocation divided by its 10 node steps. An invocation
also runs LangGraph's ``__start__`` step and writes the input checkpoint, 12 checkpoints in
all; that cost is included, the same for every contender. The headline figure of each saver
family is the better of its sync and async medians.

A second part runs 200 concurrent ``ainvoke`` calls (distinct threads, one task group) of the
async graph with each async contender, and compares throughput (runs/s, median over bursts)
with no checkpointer. A contender that fails a burst is reported as failed, and the exit
status is 1. The official async saver's pool gets room for the load (redis-py's async pool
raises ``MaxConnectionsError`` past 100 connections by default); ours is opened exactly as
documented, ``AsyncRedisSaver.from_url(url, prefix=...)``.

Each contender writes under its own key prefix (the official savers also under their own index
names), all starting with a per-run tag, and so do the thread ids; the run's indexes and keys
are dropped at the end (``FT.DROPINDEX``, ``SCAN`` + ``UNLINK``, never ``FLUSHALL``). Without
``--url`` the benchmark starts its own Redis 8 server with ``scripts/redis_servers.py``, warns
about keys outside the run's tag, and stops the server afterwards.

Run from the repository root with ``python -m bench.checkpoint`` (``--help`` for the options).
The last line printed is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import operator
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol, TypedDict

import redis
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.redis import AsyncRedisSaver as OfficialAsyncRedisSaver
from langgraph.checkpoint.redis import RedisSaver as OfficialRedisSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Durability

from bench._servers import redis_server

NODES = 10
"""Node steps per invocation, the divisor of "ms per step"."""
CHECKPOINTS = NODES + 2
"""Checkpoints one invocation writes: the input (step -1), ``__start__`` (step 0), each node."""
ROUNDS = 40
"""Timed rounds of the per-step comparison."""
RUNS = 4
"""Invocations per contender per round."""
WARMUP = 3
"""Untimed rounds (and concurrent repeats' warm-up bursts) before measuring."""
CONCURRENCY = 200
"""Concurrent ``ainvoke`` runs per burst."""
REPEATS = 5
"""Timed bursts per contender in the concurrency part."""
BURSTING = ("none_async", "inmemory_async", "maximus_async", "official_async")
"""The contenders of the concurrency part, in table order."""
TARGETS = {
    "maximus_ms_per_step": ("<=", 0.5),
    "speedup_vs_official": (">=", 2.5),
    "concurrent_throughput_ratio": (">=", 0.8),
}
"""Headline figures and the bounds the issue sets for them."""
EXPECTED_TRAIL = [f"node_{i} ran" for i in range(1, NODES + 1)]


class State(TypedDict):
    """Small, but with a reducer channel like a real agent's state."""

    count: int
    """Nodes run so far."""
    trail: Annotated[list[str], operator.add]
    """One short entry appended per node."""


class Node(Protocol):
    """A graph node, as LangGraph's ``add_node`` types it."""

    def __call__(self, state: State) -> Any: ...


def _sync_node(i: int) -> Node:
    def node(state: State) -> dict[str, Any]:
        return {"count": state["count"] + 1, "trail": [f"node_{i} ran"]}

    return node


def _async_node(i: int) -> Node:
    async def node(state: State) -> dict[str, Any]:
        return {"count": state["count"] + 1, "trail": [f"node_{i} ran"]}

    return node


def build_graph(asynchronous: bool) -> StateGraph[State]:
    """The benchmark graph: ``NODES`` nodes in a line, sync or async."""
    builder = StateGraph(State)
    previous = START
    for i in range(1, NODES + 1):
        name = f"node_{i}"
        builder.add_node(name, _async_node(i) if asynchronous else _sync_node(i))
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, END)
    return builder


def fresh_input() -> State:
    """A new input per invocation, so no run can see another's list."""
    return {"count": 0, "trail": []}


def check(result: dict[str, Any], label: str) -> None:
    """Raise if an invocation did not run every node once, in order."""
    if result.get("count") != NODES or result.get("trail") != EXPECTED_TRAIL:
        raise RuntimeError(f"{label}: wrong final state {result!r}")


@dataclass
class Contender:
    """One graph + checkpointer pairing, with its per-step samples."""

    key: str
    """Name in the results, e.g. ``official_async``."""
    label: str
    """Name in the table."""
    graph: CompiledStateGraph
    asynchronous: bool
    """Whether it runs with ``ainvoke`` (and async nodes)."""
    durability: Durability | None
    """None without a checkpointer: LangGraph 1.2 fails on ``durability="sync"`` there."""
    threads: str
    """Prefix of this contender's thread ids (starts with the run's tag)."""
    samples: list[float] = field(default_factory=list)
    """Seconds per timed invocation."""

    def config(self) -> RunnableConfig:
        """A config with a fresh thread id."""
        return {"configurable": {"thread_id": f"{self.threads}-{uuid.uuid4().hex}"}}

    async def _ainvoke(self, config: RunnableConfig) -> tuple[dict[str, Any], float]:
        start = time.perf_counter()
        result = await self.graph.ainvoke(fresh_input(), config, durability=self.durability)
        return result, time.perf_counter() - start

    def invoke(self, runner: asyncio.Runner, config: RunnableConfig | None = None) -> float:
        """Run and check one invocation; return its wall time in seconds."""
        config = config or self.config()
        if self.asynchronous:
            # Timed inside the loop, so the runner's own task overhead is left out.
            result, wall = runner.run(self._ainvoke(config))
        else:
            start = time.perf_counter()
            result = self.graph.invoke(fresh_input(), config, durability=self.durability)
            wall = time.perf_counter() - start
        check(result, self.label)
        return wall

    def check_history(self, runner: asyncio.Runner) -> None:
        """Raise unless one invocation leaves all ``CHECKPOINTS`` checkpoints in the saver."""
        if self.durability is None:
            return
        config = self.config()
        self.invoke(runner, config)
        if self.asynchronous:

            async def count() -> int:
                return len([s async for s in self.graph.aget_state_history(config)])

            found = runner.run(count())
        else:
            found = len(list(self.graph.get_state_history(config)))
        expected = 1 if self.durability == "exit" else CHECKPOINTS  # "exit" saves the last one
        if found != expected:
            raise RuntimeError(f"{self.label}: {found} checkpoints saved, {expected} expected")


def open_savers(
    stack: ExitStack, runner: asyncio.Runner, url: str, tag: str, maximus: bool, concurrency: int
) -> dict[str, BaseCheckpointSaver[Any]]:
    """Open and set up the Redis savers; ``stack`` closes them (async ones in ``runner``).

    The official async saver would take redis-py's default async pool, which raises
    ``MaxConnectionsError`` past 100 connections, so it gets ten per concurrent run (under
    durability ``"async"`` a run keeps several writes in flight); ours is opened exactly as
    documented, so the bench shows what its defaults can take.
    """
    savers: dict[str, BaseCheckpointSaver[Any]] = {}

    def prefix(key: str) -> str:
        # The official saver names its two search indexes after its two key prefixes.
        return f"{tag}-{key}-checkpoint"

    if maximus:
        from maximus.memory.checkpoint import RedisSaver

        ours = stack.enter_context(RedisSaver.from_url(url, prefix=f"{tag}-maximus_sync"))
        ours.setup()
        savers["maximus_sync"] = ours
    official = stack.enter_context(
        OfficialRedisSaver.from_conn_string(
            url,
            checkpoint_prefix=prefix("official_sync"),
            checkpoint_write_prefix=prefix("official_sync") + "_write",
        )
    )
    official.setup()
    savers["official_sync"] = official

    async_stack = AsyncExitStack()
    stack.callback(lambda: runner.run(async_stack.aclose()))

    async def open_async() -> None:
        if maximus:
            from maximus.memory.checkpoint import AsyncRedisSaver

            ours = await async_stack.enter_async_context(
                AsyncRedisSaver.from_url(url, prefix=f"{tag}-maximus_async")
            )
            await ours.asetup()
            savers["maximus_async"] = ours
        official = await async_stack.enter_async_context(
            OfficialAsyncRedisSaver.from_conn_string(
                url,
                connection_args={"max_connections": max(100, 10 * concurrency)},
                checkpoint_prefix=prefix("official_async"),
                checkpoint_write_prefix=prefix("official_async") + "_write",
            )
        )
        await official.asetup()
        savers["official_async"] = official

    runner.run(open_async())
    return savers


def contenders(
    savers: dict[str, BaseCheckpointSaver[Any]], tag: str, durability: Durability
) -> list[Contender]:
    """The per-step contenders, in table order."""
    sync_graph, async_graph = build_graph(False), build_graph(True)
    rows: list[tuple[str, str, bool, BaseCheckpointSaver[Any] | None]] = [
        ("none_sync", "no checkpointer", False, None),
        ("none_async", "no checkpointer", True, None),
        ("inmemory_sync", "InMemorySaver", False, InMemorySaver()),
        ("inmemory_async", "InMemorySaver", True, InMemorySaver()),
        ("maximus_sync", "maximus RedisSaver", False, savers.get("maximus_sync")),
        ("maximus_async", "maximus AsyncRedisSaver", True, savers.get("maximus_async")),
        ("official_sync", "official RedisSaver", False, savers["official_sync"]),
        ("official_async", "official AsyncRedisSaver", True, savers["official_async"]),
    ]
    return [
        Contender(
            key=key,
            label=label,
            graph=(async_graph if asynchronous else sync_graph).compile(checkpointer=saver),
            asynchronous=asynchronous,
            durability=None if saver is None else durability,
            threads=f"{tag}-{key}",
        )
        for key, label, asynchronous, saver in rows
        if saver is not None or key.startswith("none")
    ]


def rotations(items: list[Contender], rounds: int) -> Iterator[tuple[int, list[Contender]]]:
    """Each round's order: the same cycle, starting one further along every round."""
    for r in range(rounds):
        shift = r % len(items)
        yield r, items[shift:] + items[:shift]


def per_step(
    entries: list[Contender], runner: asyncio.Runner, rounds: int, runs: int, warmup: int
) -> None:
    """Warm up, check each saver's history, then time ``rounds`` x ``runs`` invocations each."""
    for r, order in rotations(entries, warmup + rounds):
        if r == warmup:
            for entry in entries:
                entry.check_history(runner)
            # A full collection of the libraries' heap takes tens of ms; frozen, it is skipped,
            # so the collection before each sample only sweeps what the runs left behind.
            gc.collect()
            gc.freeze()
        for entry in order:
            for _ in range(runs):
                gc.collect()  # outside the timing, so one contender's garbage is not another's
                wall = entry.invoke(runner)
                if r >= warmup:
                    entry.samples.append(wall)


async def burst(entry: Contender, n: int) -> float:
    """Run ``n`` checked invocations at once on distinct threads; return runs per second.

    A task group, not ``gather``: when one run fails the others are cancelled here, instead of
    running on into the next contender's timing.
    """
    configs = [entry.config() for _ in range(n)]
    inputs = [fresh_input() for _ in range(n)]
    gc.collect()
    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(entry.graph.ainvoke(state, config, durability=entry.durability))
            for state, config in zip(inputs, configs, strict=True)
        ]
    wall = time.perf_counter() - start
    for task in tasks:
        check(task.result(), entry.label)
    return n / wall


def concurrent(
    entries: list[Contender], runner: asyncio.Runner, n: int, repeats: int, warmup: int
) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Warm-up bursts, then ``repeats`` timed bursts per contender, interleaved.

    Returns each contender's runs/s per timed burst, and why a contender failed, for those
    that did (a saver that cannot take the load is a result; it sits out the later bursts).
    """
    rates: dict[str, list[float]] = {entry.key: [] for entry in entries}
    failures: dict[str, str] = {}
    for r, order in rotations(entries, warmup + repeats):
        for entry in order:
            if entry.key in failures:
                continue
            try:
                rate = runner.run(burst(entry, n))
            except Exception as error:  # the task group's ExceptionGroup, or a failed check
                while isinstance(error, ExceptionGroup):
                    error = error.exceptions[0]
                failures[entry.key] = f"{type(error).__name__}: {error}"
                continue
            if r >= warmup:
                rates[entry.key].append(rate)
    return rates, failures


def server_info(client: redis.Redis) -> str:
    """``Redis <version> (<modules>)``; raise if the search and JSON modules are missing."""
    version = client.info("server")["redis_version"]
    modules = sorted(str(m[b"name"].decode()) for m in client.execute_command("MODULE", "LIST"))
    if not {"search", "ReJSON"} <= set(modules):
        raise SystemExit(f"bench.checkpoint: the server lacks RediSearch/RedisJSON ({modules})")
    return f"Redis {version} ({', '.join(modules)})"


def cleanup(client: redis.Redis, tag: str) -> int:
    """Drop the run's search indexes and unlink every key naming its tag; return keys removed."""
    for raw in client.execute_command("FT._LIST"):
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        if name.startswith(tag):
            client.execute_command("FT.DROPINDEX", name)
    removed = 0
    batch: list[bytes] = []
    # The tag may sit inside a key (the official saver's ``write_keys_zset:<thread>:...``).
    for key in client.scan_iter(match=f"*{tag}*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            removed += client.unlink(*batch)
            batch.clear()
    if batch:
        removed += client.unlink(*batch)
    return removed


def summarize(samples: list[float]) -> dict[str, float]:
    """Median and spread of one contender's ms per step."""
    per_step = sorted(s * 1000 / NODES for s in samples)
    return {
        "median": statistics.median(per_step),
        "p10": per_step[len(per_step) // 10],
        "p90": per_step[(len(per_step) * 9) // 10],
    }


def best(stats: dict[str, dict[str, float]], *keys: str) -> float | None:
    """The lowest median ms/step among ``keys`` that ran."""
    medians = [stats[k]["median"] for k in keys if k in stats]
    return min(medians) if medians else None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.checkpoint", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="timed rounds (per step)")
    parser.add_argument("--runs", type=int, default=RUNS, help="invocations per contender/round")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="untimed rounds and bursts")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="runs per burst")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="timed bursts per contender")
    parser.add_argument(
        "--durability", choices=["sync", "async", "exit"], default="sync", help="for all savers"
    )
    parser.add_argument("--url", help="an existing Redis 8 server (default: start one)")
    parser.add_argument(
        "--skip-maximus", action="store_true", help="development only: bench the others"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.runs < 1 or args.repeats < 1 or args.concurrency < 1:
        parser.error("--rounds, --runs, --repeats and --concurrency must be at least 1")
    return args


@dataclass(frozen=True)
class Outcome:
    """Everything one run measured, for the report."""

    server: str
    """Server version and modules."""
    url: str
    per_step: list[Contender]
    """Per-step contenders with their samples, in table order."""
    bursting: list[Contender]
    """Concurrency contenders, in table order."""
    rates: dict[str, list[float]]
    """Runs/s of each timed burst, by contender key."""
    failures: dict[str, str]
    """Why a concurrency contender failed, by key."""
    removed: int
    """Keys the cleanup unlinked."""
    strays: list[str]
    """Keys left on our own server after the cleanup (a saver writing outside its prefix)."""
    seconds: float


def main(argv: list[str] | None = None) -> None:
    """Run both parts, print a table, then the results as one JSON line."""
    args = parse_args(argv)
    maximus = not args.skip_maximus
    if maximus:
        try:
            importlib.import_module("maximus.memory.checkpoint")
        except ImportError as error:
            raise SystemExit(
                f"bench.checkpoint: cannot import our savers ({error}); "
                "pass --skip-maximus to bench only the others"
            ) from error
    tag = f"bench-ckpt-{uuid.uuid4().hex[:8]}"
    removed: list[int] = []
    strays: list[str] = []
    started = time.perf_counter()
    with ExitStack() as stack:
        url = args.url or stack.enter_context(redis_server("redis8"))
        client = stack.enter_context(redis.Redis.from_url(url))
        server = server_info(client)

        def clean() -> None:
            removed.append(cleanup(client, tag))
            if args.url is None and client.dbsize():  # our own server: nothing else writes
                strays.extend(k.decode() for k in client.scan_iter(count=1000))

        stack.callback(clean)
        runner = stack.enter_context(asyncio.Runner())
        savers = open_savers(stack, runner, url, tag, maximus, args.concurrency)
        entries = contenders(savers, tag, args.durability)
        per_step(entries, runner, args.rounds, args.runs, args.warmup)

        by_key = {entry.key: entry for entry in entries}
        bursting = [by_key[k] for k in BURSTING if k in by_key]
        rates, failures = concurrent(
            bursting, runner, args.concurrency, args.repeats, min(args.warmup, 1)
        )
    outcome = Outcome(
        server=server,
        url=url,
        per_step=entries,
        bursting=bursting,
        rates=rates,
        failures=failures,
        removed=removed[0],
        strays=strays,
        seconds=time.perf_counter() - started,
    )
    report(args, outcome)
    if failures:
        raise SystemExit(1)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def report(args: argparse.Namespace, outcome: Outcome) -> None:
    """Print the tables, the targets, and then the JSON line."""
    stats = {entry.key: summarize(entry.samples) for entry in outcome.per_step}
    print(f"{NODES}-node linear graph, durability {args.durability!r}; {outcome.server}")
    print(
        f"at {outcome.url}; {args.rounds} rounds x {args.runs} runs per contender after "
        f"{args.warmup} warm-up rounds, interleaved"
    )
    print(
        f"ms/step = invocation wall time / {NODES} node steps "
        f"({CHECKPOINTS} checkpoints per invocation)"
    )
    print()
    print(f"{'ms/step':34}{'median':>9}{'p10':>9}{'p90':>9}{'saver':>9}")
    for entry in outcome.per_step:
        s = stats[entry.key]
        floor = stats["none_async" if entry.asynchronous else "none_sync"]["median"]
        saver = "-" if entry.durability is None else f"{s['median'] - floor:.3f}"
        name = f"{entry.label} ({'ainvoke' if entry.asynchronous else 'invoke'})"
        print(f"{name:34}{s['median']:>9.3f}{s['p10']:>9.3f}{s['p90']:>9.3f}{saver:>9}")
    print("saver = median minus the median of no checkpointer with the same api")

    maximus_ms = best(stats, "maximus_sync", "maximus_async")
    official_ms = best(stats, "official_sync", "official_async")
    inmemory_ms = best(stats, "inmemory_sync", "inmemory_async")
    speedup = _ratio(official_ms, maximus_ms)
    print(
        f"best of sync/async: maximus {_fmt(maximus_ms)}, official {_fmt(official_ms)}, "
        f"InMemorySaver {_fmt(inmemory_ms)} ms/step; speedup vs official {_fmt(speedup, '.2f')}x"
    )

    print()
    print(
        f"{args.concurrency} concurrent ainvoke runs at durability {args.durability!r}, "
        f"median of {args.repeats} bursts after a warm-up burst"
    )
    print(f"{'':34}{'runs/s':>9}{'vs none':>9}")
    throughput = {k: statistics.median(v) for k, v in outcome.rates.items() if v}
    none_rate = throughput["none_async"]
    for entry in outcome.bursting:
        name = entry.label
        if entry.key in outcome.failures:
            print(f"{name:34}  FAILED {outcome.failures[entry.key]}")
        else:
            rate = throughput[entry.key]
            print(f"{name:34}{rate:>9.1f}{rate / none_rate:>9.3f}")

    def median(key: str) -> float | None:
        return _round(stats[key]["median"]) if key in stats else None

    def vs_none(key: str) -> float | None:
        return _round(_ratio(throughput.get(key), none_rate))

    result: dict[str, Any] = {
        "maximus_ms_per_step": _round(maximus_ms),
        "official_ms_per_step": _round(official_ms),
        "inmemory_ms_per_step": _round(inmemory_ms),
        "speedup_vs_official": _round(speedup),
        "concurrent_throughput_ratio": vs_none("maximus_async"),
        "maximus_sync_ms_per_step": median("maximus_sync"),
        "maximus_async_ms_per_step": median("maximus_async"),
        "official_sync_ms_per_step": median("official_sync"),
        "official_async_ms_per_step": median("official_async"),
        "inmemory_sync_ms_per_step": median("inmemory_sync"),
        "inmemory_async_ms_per_step": median("inmemory_async"),
        "none_ms_per_step": median("none_sync"),
        "none_async_ms_per_step": median("none_async"),
        "official_concurrent_throughput_ratio": vs_none("official_async"),
        "inmemory_concurrent_throughput_ratio": vs_none("inmemory_async"),
        "concurrent_runs_per_s": _round(throughput.get("maximus_async")),
        "none_concurrent_runs_per_s": _round(none_rate),
        "durability": args.durability,
        "nodes": NODES,
        "samples_per_contender": args.rounds * args.runs,
        "concurrency": args.concurrency,
        "seconds": round(outcome.seconds, 1),
    }
    if outcome.failures:
        result["concurrent_failures"] = outcome.failures

    print()
    for name, (op, bound) in TARGETS.items():
        value = result[name]
        met = value is not None and (value <= bound if op == "<=" else value >= bound)
        print(f"target {name} {op} {bound}: {_fmt(value)} {'ok' if met else 'MISSED'}")
    print(f"cleanup: {outcome.removed} keys unlinked; {outcome.seconds:.1f} s in all")
    if outcome.strays:
        print(
            f"warning: {len(outcome.strays)} keys outside the run's tag, e.g. {outcome.strays[:5]}"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

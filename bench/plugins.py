"""Plugin load time and the sandbox's call overhead, in process and in a worker process.

Generates ``PLUGINS`` plugins per round: half as plugin directories (a ``plugin.yaml`` and a
module), half as entry points of one installed-looking distribution (a ``.dist-info`` on
``sys.path``), with requirements between them so the topological sort has work. Each round
uses fresh module names, so every import is cold. A plugin's load time is what the manager
records for it: finding it (reading its manifest, or importing its entry point), importing
and constructing it, ``initialize()``, collecting its tools, wrapping each in the sandbox and
registering them.

The call overhead is the median time of a call through the sandboxed tool minus the median
time of the same call straight to the undecorated tool (``tool.invoke``, which validates the
arguments too), measured in interleaved batches. In process the extra cost is the hop to a
sandbox thread, the permission context and the output check; in a subprocess it is the
round trip over the pipe to a warm worker.

Run from the repository root with ``python -m bench.plugins``. The last line printed is one
JSON object with the results.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool, tool

from maximus.plugins import PluginManager, PluginState

PLUGINS = 50
"""Plugins per round: half directories, half entry points."""
ROUNDS = 5
"""Rounds of loading (fresh plugins each round)."""
CALLS = 400
"""Calls per batch when timing the overhead."""
BATCHES = 15
"""Batches per variant (direct and sandboxed alternate)."""
TARGETS = {"load_ms_p50": 10.0, "call_overhead_ms_inprocess": 0.5}

PLUGIN_SOURCE = '''\
from langchain_core.tools import tool
from maximus.plugins import BasePlugin


class Plugin(BasePlugin):
    name = "{name}"
    version = "1.{index}.0"
    requires = {requires!r}

    def initialize(self) -> bool:
        self.offset = {index}
        return True

    def tools(self):
        offset = self.offset

        @tool
        def {name}_add(a: int, b: int) -> int:
            """Add two integers and the plugin's offset."""
            return a + b + offset

        return [{name}_add]
'''


def requirement(index: int, prefix: str) -> list[str]:
    """Plugin ``index`` requires plugin ``index // 2`` (a tree, so the order matters)."""
    return [f"{prefix}{index // 2}>=1.0"] if index else []


def generate(root: Path, tag: str) -> tuple[Path, Path, str]:
    """Write one round of plugins; return the plugin directory, the site dir and the group."""
    plugins, site = root / "plugins", root / "site"
    group = f"maximus.bench.{tag}"
    half = PLUGINS // 2
    for i in range(half):
        name = f"d{tag}_{i}"
        folder = plugins / name
        folder.mkdir(parents=True)
        (folder / "plugin.py").write_text(
            PLUGIN_SOURCE.format(name=name, index=i, requires=requirement(i, f"d{tag}_"))
        )
        requires = "".join(f"\n  - '{r}'" for r in requirement(i, f"d{tag}_"))
        (folder / "plugin.yaml").write_text(
            f"name: {name}\nversion: 1.{i}.0\ntype: processing\nentry_point: plugin:Plugin\n"
            f"maximus: '>=0.1'\nrequires:{requires or ' []'}\n"
        )
    package = site / f"bench_{tag}"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    lines = []
    for i in range(PLUGINS - half):
        name = f"e{tag}_{i}"
        source = PLUGIN_SOURCE.format(name=name, index=i, requires=requirement(i, f"e{tag}_"))
        (package / f"{name}.py").write_text(source)
        lines.append(f"{name} = bench_{tag}.{name}:Plugin")
    info = site / f"bench_{tag}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: bench-{tag}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n" + "\n".join(lines) + "\n")
    return plugins, site, group


def load_round(root: Path) -> tuple[list[float], float]:
    """Load one fresh round; return each plugin's load time and the wall time of it all."""
    tag = uuid.uuid4().hex[:8]
    plugins, site, group = generate(root / tag, tag)
    sys.path.insert(0, str(site))
    try:
        # Trusted, so they load in process: this measures loading, not worker start-up
        # (untrusted plugins would each start a worker; see call_overheads for its cost).
        half = PLUGINS // 2
        names = [f"d{tag}_{i}" for i in range(half)] + [
            f"e{tag}_{i}" for i in range(PLUGINS - half)
        ]
        manager = PluginManager(
            data_dir=root / tag / "data",
            paths=[plugins],
            entry_point_group=group,
            core=False,
            overrides={name: {"trusted": True} for name in names},
        )
        started = time.perf_counter()
        infos = manager.discover()
        wall = (time.perf_counter() - started) * 1000
        failed = [i for i in infos if i.state is not PluginState.LOADED]
        if len(infos) != PLUGINS or failed:
            raise RuntimeError(f"expected {PLUGINS} loaded plugins, got {failed or len(infos)}")
        if manager.registry.get(f"e{tag}_3_add").invoke({"a": 1, "b": 2}) != 6:
            raise RuntimeError("a loaded tool gave the wrong answer")
        manager.close()
        return [float(i.load_ms or 0.0) for i in infos], wall
    finally:
        sys.path.remove(str(site))


def timed(call: Callable[[], Any]) -> float:
    """Milliseconds per call, over one batch."""
    started = time.perf_counter()
    for _ in range(CALLS):
        call()
    return (time.perf_counter() - started) * 1000 / CALLS


def overhead(direct: Callable[[], Any], sandboxed: Callable[[], Any]) -> tuple[float, float]:
    """Median ms per call of ``direct`` and of ``sandboxed``, in alternating batches."""
    for _ in range(3):
        direct(), sandboxed()
    plain: list[float] = []
    boxed: list[float] = []
    for i in range(BATCHES):
        gc.collect()
        order = [(direct, plain), (sandboxed, boxed)]
        for call, samples in order if i % 2 == 0 else order[::-1]:
            samples.append(timed(call))
    return statistics.median(plain), statistics.median(boxed)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


ISOLATED_SOURCE = textwrap.dedent(
    '''\
    from maximus.plugins import BasePlugin
    from langchain_core.tools import tool


    class Plugin(BasePlugin):
        def tools(self):
            @tool
            def add(a: int, b: int) -> int:
                """Add two integers."""
                return a + b

            return [add]
    '''
)


def call_overheads(root: Path) -> dict[str, float]:
    """The sandbox's overhead per call, in process (sync and async) and in a worker."""
    for name, isolation in (("inproc", "inprocess"), ("isolated", "process")):
        folder = root / "calls" / name
        folder.mkdir(parents=True)
        (folder / "plugin.py").write_text(ISOLATED_SOURCE)
        (folder / "plugin.yaml").write_text(
            f"name: {name}\nversion: 1.0.0\nentry_point: plugin:Plugin\n"
            f"permissions: {{isolation: {isolation}}}\n"
        )
    manager = PluginManager(
        data_dir=root / "calls-data",
        core=False,
        entry_point_group=None,
        overrides={"inproc": {"trusted": True}},  # in process needs the operator's trust
    )
    manager.load_plugin(root / "calls" / "inproc")
    sandboxed: BaseTool = manager.registry.get("add")
    args = {"a": 1, "b": 2}
    direct_ms, inproc_ms = overhead(lambda: add.invoke(args), lambda: sandboxed.invoke(args))

    loop = asyncio.new_event_loop()
    adirect_ms, ainproc_ms = overhead(
        lambda: loop.run_until_complete(add.ainvoke(args)),
        lambda: loop.run_until_complete(sandboxed.ainvoke(args)),
    )
    loop.close()

    manager.unload_plugin("inproc")
    started = time.perf_counter()
    manager.load_plugin(root / "calls" / "isolated")
    start_ms = (time.perf_counter() - started) * 1000
    isolated = manager.registry.get("add")
    if isolated.invoke(args) != 3:
        raise RuntimeError("the isolated tool gave the wrong answer")
    _, subprocess_ms = overhead(lambda: add.invoke(args), lambda: isolated.invoke(args))
    manager.close()
    return {
        "direct_ms": direct_ms,
        "inprocess_ms": inproc_ms,
        "async_direct_ms": adirect_ms,
        "async_inprocess_ms": ainproc_ms,
        "subprocess_ms": subprocess_ms,
        "worker_start_ms": start_ms,
    }


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def main() -> None:
    """Run the benchmark, print a table, then the results as one JSON line."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        load_round(root / "warm-up")  # the first round also imports the manager's own code
        loads: list[float] = []
        walls: list[float] = []
        for i in range(ROUNDS):
            samples, wall = load_round(root / f"round-{i}")
            loads += samples
            walls.append(wall)
        calls = call_overheads(root)
    p50, p99 = statistics.median(loads), percentile(loads, 0.99)
    inproc = calls["inprocess_ms"] - calls["direct_ms"]
    ainproc = calls["async_inprocess_ms"] - calls["async_direct_ms"]
    subproc = calls["subprocess_ms"] - calls["direct_ms"]
    print(f"{PLUGINS} plugins/round ({PLUGINS // 2} directories, {PLUGINS - PLUGINS // 2} entry "
          f"points), {ROUNDS} rounds, cold imports")  # fmt: skip
    print(f"{'load ms/plugin':34}{'p50':>10}{'p99':>10}{'max':>10}{'target p50':>12}")
    print(f"{'':34}{p50:>10.3f}{p99:>10.3f}{max(loads):>10.3f}{TARGETS['load_ms_p50']:>12.1f}")
    print(f"{'discover() wall ms/round (median)':34}{statistics.median(walls):>10.1f}")
    print()
    print(f"{'ms per tool call':34}{'direct':>10}{'sandbox':>10}{'overhead':>10}{'ratio':>8}")
    rows = [
        ("in process, sync invoke", calls["direct_ms"], calls["inprocess_ms"]),
        ("in process, async ainvoke", calls["async_direct_ms"], calls["async_inprocess_ms"]),
        ("worker subprocess, sync invoke", calls["direct_ms"], calls["subprocess_ms"]),
    ]
    for label, direct, boxed in rows:
        ratio = boxed / direct
        print(f"{label:34}{direct:>10.3f}{boxed:>10.3f}{boxed - direct:>10.3f}{ratio:>8.2f}")
    print(f"{'worker start (import + initialize)':34}{calls['worker_start_ms']:>10.1f} ms")
    print(f"targets: load_ms_p50 <= {TARGETS['load_ms_p50']}, call_overhead_ms_inprocess <= "
          f"{TARGETS['call_overhead_ms_inprocess']}")  # fmt: skip
    result = {
        "load_ms_p50": round(p50, 3),
        "load_ms_p99": round(p99, 3),
        "call_overhead_ms_inprocess": round(inproc, 3),
        "call_overhead_ms_subprocess": round(subproc, 3),
        "call_overhead_ms_inprocess_async": round(ainproc, 3),
        "direct_call_ms": round(calls["direct_ms"], 3),
        "worker_start_ms": round(calls["worker_start_ms"], 1),
        "plugins": PLUGINS,
        "rounds": ROUNDS,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

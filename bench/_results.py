"""Results of the agent benchmarks: a resumable JSONL log, Wilson intervals, and the plot.

Each finished episode (or task) is one JSON line under ``bench/results/`` (git-ignored),
written and flushed as soon as it ends, so an interrupted run loses at most the episode in
flight; a re-run reads the log and skips every key already there with the same configuration
fingerprint. The Markdown table and the PNG plot are written next to the log.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
"""Where the benchmarks write their logs, tables and plots (git-ignored)."""


def slug(text: str) -> str:
    """``text`` as a file-name part (model specs have ``:`` and ``/`` in them)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "model"


def fingerprint(config: Mapping[str, Any]) -> str:
    """A short hash of a benchmark's fixed configuration (games, seeds rule, limits)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]


class ResultLog:
    """One JSON line per finished unit of work, keyed, with a configuration fingerprint.

    Args:
        path: the JSONL file (its folder is created).
        config: the fixed configuration; lines written under another one are ignored.
        key_fields: the fields that name a unit of work (e.g. variant, game, seed).
    """

    def __init__(self, path: Path, config: Mapping[str, Any], key_fields: Sequence[str]) -> None:
        self.path = path
        self.config = fingerprint(config)
        self.key_fields = tuple(key_fields)
        self.rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.stale = 0
        """Lines ignored because another configuration wrote them."""
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                if row.get("config") != self.config:
                    self.stale += 1
                    continue
                self.rows[self.key(row)] = row

    def key(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The key of ``row``."""
        return tuple(row[f] for f in self.key_fields)

    def __contains__(self, key: tuple[Any, ...]) -> bool:
        return key in self.rows

    def add(self, row: Mapping[str, Any]) -> None:
        """Record a finished unit of work (appended and flushed at once)."""
        stamped = {**row, "config": self.config}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(stamped) + "\n")
        self.rows[self.key(stamped)] = stamped

    def select(self, **where: Any) -> list[dict[str, Any]]:
        """The recorded rows whose fields equal ``where``."""
        return [r for r in self.rows.values() if all(r.get(k) == v for k, v in where.items())]


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% by default) of a success rate; ``(0, 1)`` when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean(values: Iterable[float]) -> float | None:
    """The mean rounded to 3 places, or ``None`` for no values."""
    items = list(values)
    return round(sum(items) / len(items), 3) if items else None


def markdown(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def plot_success(
    path: Path, points: Mapping[str, Mapping[str, Any]], title: str, xlabel: str
) -> str | None:
    """Success against model calls, one point per variant with its Wilson interval.

    Args:
        path: the PNG to write.
        points: per variant, ``calls``, ``success``, ``low`` and ``high``.
        title: the plot's title.
        xlabel: the x axis label.

    Returns:
        Why no plot was written (matplotlib missing), or ``None``.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install matplotlib): no plot written"
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, p in points.items():
        low, high = p["success"] - p["low"], p["high"] - p["success"]
        ax.errorbar(p["calls"], p["success"], yerr=[[low], [high]], fmt="o", capsize=4)
        ax.annotate(name, (p["calls"], p["success"]), textcoords="offset points", xytext=(6, 4))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("success rate (Wilson 95%)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


__all__ = [
    "RESULTS_DIR",
    "ResultLog",
    "fingerprint",
    "markdown",
    "mean",
    "plot_success",
    "slug",
    "wilson",
]

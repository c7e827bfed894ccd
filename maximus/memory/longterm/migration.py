"""Moving memory between backends: resumable batched copy, dual-write, and verification.

A migration (``maximus memory migrate --from chroma --to qdrant-edge``) goes in three steps:

1. **Dual-write** (``MAXIMUS_MEMORY__DUAL_WRITE_BACKEND=qdrant-edge``): the store writes to both
   backends through :class:`DualWriteBackend`, reads still come from the source.
2. **Copy** (:func:`migrate`): every point is copied in batches, payload and vector as they are
   (no re-embedding, vault secrets stay encrypted). After each batch the position is saved in
   a state file, so an interrupted copy resumes where it stopped; copying is an idempotent
   upsert, so a batch repeated after a crash does no harm.
3. **Verify** (:func:`verify`, ``maximus memory verify``): counts per type, ids missing on
   either side, and per-record checksums (sha256 of the canonical payload) compared; then cut
   over by pointing ``MAXIMUS_MEMORY__BACKEND`` at the target.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maximus.memory.longterm.base import Hit, MemoryFilter, StoredPoint, VectorBackend
from maximus.memory.longterm.records import MEMORY_TYPES, MemoryType, checksum

logger = logging.getLogger(__name__)


class DualWriteBackend(VectorBackend):
    """Writes to ``primary`` and ``secondary``; reads from ``primary`` only (until cut-over).

    A write that fails on the secondary raises after the primary has it, so the caller sees
    the fault; a later :func:`migrate` run copies whatever the secondary missed.
    """

    def __init__(self, primary: VectorBackend, secondary: VectorBackend) -> None:
        self.primary = primary
        self.secondary = secondary
        self.name = f"{primary.name}+{secondary.name}"
        self.native_hybrid = primary.native_hybrid

    def upsert(self, kind: MemoryType, points: Sequence[StoredPoint]) -> None:  # noqa: D102
        self.primary.upsert(kind, points)
        self.secondary.upsert(kind, points)

    def query(  # noqa: D102
        self,
        kind: MemoryType,
        vector: Sequence[float],
        flt: MemoryFilter,
        k: int,
        *,
        text: str | None = None,
        similarity: bool = True,
    ) -> list[Hit]:
        return self.primary.query(kind, vector, flt, k, text=text, similarity=similarity)

    def get(self, kind: MemoryType, ids: Sequence[str]) -> list[dict[str, Any]]:  # noqa: D102
        return self.primary.get(kind, ids)

    def scroll(  # noqa: D102
        self, kind: MemoryType, flt: MemoryFilter, limit: int, offset: str | None = None
    ) -> tuple[list[StoredPoint], str | None]:
        return self.primary.scroll(kind, flt, limit, offset)

    def delete(self, kind: MemoryType, ids: Sequence[str]) -> None:  # noqa: D102
        self.primary.delete(kind, ids)
        self.secondary.delete(kind, ids)

    def delete_where(self, kind: MemoryType, flt: MemoryFilter) -> int:  # noqa: D102
        found = self.primary.delete_where(kind, flt)
        self.secondary.delete_where(kind, flt)
        return found

    def count(self, kind: MemoryType, flt: MemoryFilter | None = None) -> int:  # noqa: D102
        return self.primary.count(kind, flt)

    def flush(self) -> None:  # noqa: D102
        self.primary.flush()
        self.secondary.flush()

    def close(self) -> None:  # noqa: D102
        try:
            self.primary.close()
        finally:
            self.secondary.close()


@dataclass
class MigrationReport:
    """What :func:`migrate` copied, per memory type."""

    copied: dict[str, int] = field(default_factory=dict)
    resumed: bool = False
    """Whether this run continued an interrupted one."""

    @property
    def total(self) -> int:
        """Points copied by this run."""
        return sum(self.copied.values())


def _load_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text()))


def _save_state(path: Path, state: dict[str, Any]) -> None:
    # Write-then-rename: a crash mid-write leaves the previous state, never half of one.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


def migrate(
    source: VectorBackend,
    target: VectorBackend,
    *,
    state_file: Path,
    batch: int = 256,
    kinds: Iterable[MemoryType] = MEMORY_TYPES,
    progress: Callable[[MemoryType, int], None] | None = None,
) -> MigrationReport:
    """Copy every point of ``kinds`` from ``source`` to ``target`` in batches, resumably.

    Args:
        source: where the memory is now.
        target: where it goes.
        state_file: the saved position (created; read to resume; marked done at the end).
        batch: points per batch.
        kinds: memory types to copy.
        progress: called with (type, points in the batch) after each batch is written.
    """
    state = _load_state(state_file)
    report = MigrationReport(resumed=bool(state) and not state.get("done"))
    if state.get("done"):
        state = {}
    for kind in kinds:
        position = state.setdefault(kind, {"offset": None, "done": False, "copied": 0})
        report.copied[kind] = 0
        while not position["done"]:
            page, next_offset = source.scroll(kind, MemoryFilter(), batch, position["offset"])
            target.upsert(kind, page)
            position["copied"] += len(page)
            position["offset"] = next_offset
            position["done"] = next_offset is None
            report.copied[kind] += len(page)
            _save_state(state_file, state)
            if progress is not None:
                progress(kind, len(page))
    target.flush()
    state["done"] = True
    _save_state(state_file, state)
    return report


@dataclass
class KindDiff:
    """Differences for one memory type between two backends."""

    source_count: int
    target_count: int
    missing: list[str] = field(default_factory=list)
    """Ids in the source, not in the target."""
    extra: list[str] = field(default_factory=list)
    """Ids in the target, not in the source."""
    mismatched: list[str] = field(default_factory=list)
    """Ids whose payload checksums differ (or do not match their payload)."""

    @property
    def ok(self) -> bool:
        """No difference."""
        return (
            self.source_count == self.target_count
            and not self.missing
            and not self.extra
            and not self.mismatched
        )


@dataclass
class VerifyReport:
    """What :func:`verify` found, per memory type."""

    kinds: dict[str, KindDiff] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every type matches."""
        return all(d.ok for d in self.kinds.values())


def _checksums(backend: VectorBackend, kind: MemoryType, batch: int) -> dict[str, str]:
    sums: dict[str, str] = {}
    for point in backend.iter_points(kind, batch=batch):
        stored = str(point.payload.get("checksum", ""))
        # A payload that no longer matches its own checksum was damaged in place.
        sums[point.id] = stored if checksum(point.payload) == stored else f"bad:{stored}"
    return sums


def verify(
    source: VectorBackend,
    target: VectorBackend,
    *,
    kinds: Iterable[MemoryType] = MEMORY_TYPES,
    batch: int = 512,
) -> VerifyReport:
    """Compare ``target`` with ``source``: counts, ids and per-record checksums."""
    report = VerifyReport()
    for kind in kinds:
        left = _checksums(source, kind, batch)
        right = _checksums(target, kind, batch)
        report.kinds[kind] = KindDiff(
            source_count=source.count(kind),
            target_count=target.count(kind),
            missing=sorted(left.keys() - right.keys()),
            extra=sorted(right.keys() - left.keys()),
            mismatched=sorted(
                i
                for i in left.keys() & right.keys()
                if left[i] != right[i] or left[i].startswith("bad:")
            ),
        )
    return report


__all__ = ["DualWriteBackend", "KindDiff", "MigrationReport", "VerifyReport", "migrate", "verify"]

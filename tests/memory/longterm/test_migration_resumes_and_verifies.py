"""Chroma → Qdrant migration: 1,000 records in batches, interrupted and resumed, verified by
counts and per-record checksums; dual-write; verify reports differences; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maximus.memory.longterm.base import StoredPoint
from maximus.memory.longterm.migration import DualWriteBackend, migrate, verify
from maximus.memory.longterm.records import MEMORY_TYPES
from maximus.memory.longterm.store import MemoryStore
from maximus.memory.longterm.vault import VaultCipher
from tests.support.memory import KEY, backend, embeddings, store

pytestmark = pytest.mark.integration


def _records(n: int) -> list[dict]:
    rows: list[dict] = []
    for i in range(n):
        kind = MEMORY_TYPES[i % 6]
        base = {"id": f"rec-{i:04d}", "user_id": f"u{i % 3}", "tags": [f"t{i % 5}"]}
        rows.append(
            base
            | {
                "core": {"kind": "core", "label": "human", "value": f"note {i}"},
                "episodic": {"kind": "episodic", "summary": f"event {i} happened"},
                "semantic": {"kind": "semantic", "name": f"fact {i}", "summary": f"fact {i}"},
                "procedural": {"kind": "procedural", "name": f"howto {i}", "steps": ["a", "b"]},
                "resource": {"kind": "resource", "title": f"doc {i}", "content": f"text {i}"},
                "vault": {"kind": "vault", "caption": f"login {i}", "secret": f"pw-{i}"},
            }[kind]
        )
    return rows


class Interrupt(Exception):
    pass


def test_chroma_to_qdrant_1000_records_interrupted_resumed_and_verified(tmp_path: Path) -> None:
    source_path, target_path = tmp_path / "chroma", tmp_path / "edge"
    with store("chroma", source_path) as chroma:
        for start in range(0, 1000, 250):
            chroma.add(_records(1000)[start : start + 250])
        assert sum(chroma.count(k, live=False) for k in MEMORY_TYPES) == 1000
    source, target = backend("chroma", source_path), backend("qdrant-edge", target_path)
    state = tmp_path / "migrate.json"
    batches = 0

    def stop_after_three(_kind: str, _n: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        migrate(source, target, state_file=state, batch=64, progress=stop_after_three)
    target.close()
    saved = json.loads(state.read_text())
    assert not saved.get("done") and saved["core"]["copied"] == 167 and "episodic" not in saved
    assert not verify(source, backend("qdrant-edge", target_path)).ok

    # A new process resumes from the saved position: only the rest is copied.
    target = backend("qdrant-edge", target_path)
    report = migrate(source, target, state_file=state, batch=64)
    assert report.resumed and report.total == 1000 - 167
    result = verify(source, target)
    assert result.ok, result.kinds
    assert all(
        d.source_count == d.target_count == 1000 // 6 + (k in MEMORY_TYPES[:4])
        for k, d in result.kinds.items()
    )
    target.close()

    # The migrated store answers like the source, and vault secrets still decrypt.
    with MemoryStore(
        backend("qdrant-edge", target_path), embeddings(), cipher=VaultCipher([KEY])
    ) as moved:
        hit = moved.search("fact 44", types=["semantic"], k=1, user_id="u2")[0].record
        assert hit.id == "rec-0044"
        assert moved.reveal("rec-0005", user_id="u2") == "pw-5"

    # A damaged target record is reported by checksum, a missing one by id.
    target = backend("qdrant-edge", target_path)
    point = next(target.iter_points("semantic"))
    target.upsert(
        "semantic", [StoredPoint(point.id, point.vector, point.payload | {"summary": "tampered"})]
    )
    target.delete("episodic", ["rec-0001"])
    diff = verify(source, target)
    assert not diff.ok
    assert diff.kinds["semantic"].mismatched == [point.id]
    assert diff.kinds["episodic"].missing == ["rec-0001"]


def test_dual_write_writes_both_and_reads_the_source(tmp_path: Path) -> None:
    primary, secondary = (
        backend("chroma", tmp_path / "chroma"),
        backend("qdrant-edge", tmp_path / "edge"),
    )
    dual = DualWriteBackend(primary, secondary)
    with MemoryStore(dual, embeddings(), cipher=VaultCipher([KEY])) as memory:
        added = memory.add(_records(12))
        memory.delete("core", added[0].id, user_id="u0")
        assert memory.count("semantic") == 2 and secondary.count("core") == 1
        # Reads come from the source: a record only the target has is not seen.
        extra = next(secondary.iter_points("semantic"))
        secondary.upsert(
            "semantic",
            [StoredPoint("only-target", extra.vector, extra.payload | {"id": "only-target"})],
        )
        assert "only-target" not in {r.id for r in memory.list("semantic").records}
        report = verify(primary, secondary)
        assert report.kinds["semantic"].extra == ["only-target"]
        assert all(report.kinds[k].ok for k in MEMORY_TYPES if k != "semantic")


def test_cli_add_search_list_export_import_migrate_verify(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from maximus.cli import app

    runner = CliRunner()
    env = {"MAXIMUS_MEMORY__VAULT_KEY": KEY, "MAXIMUS_DATA_DIR": str(tmp_path / "data")}
    chroma = ["--backend", "chroma", "--path", str(tmp_path / "chroma")]
    rows = "\n".join(json.dumps(r) for r in _records(30))
    added = runner.invoke(app, ["memory", "add", "-", *chroma], input=rows, env=env)
    assert added.exit_code == 0, added.output
    assert added.output.count("\n") == 30
    found = runner.invoke(
        app,
        ["memory", "search", "event 7", "--type", "episodic", "--user", "u1", "--json", *chroma],
        env=env,
    )
    assert found.exit_code == 0 and json.loads(found.output.splitlines()[0])["id"] == "rec-0007"
    listed = runner.invoke(
        app, ["memory", "list", "--type", "vault", "--user", "u2", *chroma], env=env
    )
    assert "login 5" in listed.output and "pw-5" not in listed.output
    bad = runner.invoke(app, ["memory", "search", "x", "--type", "dream", *chroma], env=env)
    assert bad.exit_code == 2 and "unknown memory type" in bad.output
    dump = tmp_path / "dump.jsonl"
    assert runner.invoke(app, ["memory", "export", str(dump), *chroma], env=env).exit_code == 0
    assert len(dump.read_text().splitlines()) == 30 and "pw-5" not in dump.read_text()
    edge = ["--backend", "qdrant-edge", "--path", str(tmp_path / "imported")]
    imported = runner.invoke(app, ["memory", "import", str(dump), *edge], env=env)
    assert imported.exit_code == 0 and "imported 30" in imported.output
    moved = runner.invoke(
        app,
        [
            "memory",
            "migrate",
            "--from",
            "chroma",
            "--to",
            "qdrant",
            "--from-path",
            str(tmp_path / "chroma"),
            "--to-path",
            str(tmp_path / "moved"),
        ],
        env=env,
    )
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.output.splitlines()[-1])["verified"] is True
    checked = runner.invoke(
        app,
        [
            "memory",
            "verify",
            "--from",
            "qdrant-edge",
            "--to",
            "qdrant-edge",
            "--from-path",
            str(tmp_path / "imported"),
            "--to-path",
            str(tmp_path / "moved"),
        ],
        env=env,
    )
    assert checked.exit_code == 0, checked.output

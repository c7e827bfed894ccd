"""The memory store on real engines (Qdrant Edge, Qdrant local client, Chroma) with real
MiniLM embeddings: every type round-trips, filters, TTL, namespaces, the vault, hybrid search."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from maximus.errors import MemoryNotFoundError, VaultPolicyError
from maximus.memory.longterm.records import MEMORY_TYPES, REDACTED, VaultEntry
from tests.support.memory import ENGINES, Clock, store

pytestmark = pytest.mark.integration

SAMPLES = {
    "core": {"kind": "core", "label": "human", "value": "The user is Ana, a nurse in Lisbon."},
    "episodic": {
        "kind": "episodic",
        "summary": "Ana booked a flight to Tokyo",
        "details": "window seat, leaves on Friday",
        "actor": "user",
        "event_type": "booking",
    },
    "semantic": {
        "kind": "semantic",
        "name": "Lisbon",
        "summary": "Lisbon is the capital of Portugal",
        "source": "wiki",
    },
    "procedural": {
        "kind": "procedural",
        "name": "deploy the website",
        "entry_type": "workflow",
        "description": "how to deploy the static website",
        "steps": ["build with npm", "upload to the bucket"],
        "triggers": ["deploy"],
    },
    "resource": {
        "kind": "resource",
        "title": "Quarterly report",
        "resource_type": "pdf",
        "summary": "sales went up",
        "content": "Revenue grew twelve percent in the third quarter.",
    },
    "vault": {
        "kind": "vault",
        "entry_type": "api_key",
        "caption": "Stripe API key for the shop",
        "secret": "sk_live_PLAINTEXT_42",
        "sensitivity": "medium",
        "source": "stripe",
    },
}
QUERIES = {
    "core": "who is the user",
    "episodic": "trip to Japan",
    "semantic": "capital city of Portugal",
    "procedural": "how do I publish the site",
    "resource": "third quarter revenue",
    "vault": "stripe key",
}


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_every_type_round_trips(engine: str, tmp_path: Path) -> None:
    with store(engine, tmp_path / engine) as memory:
        added = {r.kind: r for r in memory.add(list(SAMPLES.values()))}  # type: ignore[attr-defined]
        assert set(added) == set(MEMORY_TYPES)
        for kind in MEMORY_TYPES:
            found = memory.search(QUERIES[kind], types=[kind], k=1)
            assert [r.record.id for r in found] == [added[kind].id]
            got = memory.get(kind, added[kind].id)
            expected = {k: v for k, v in SAMPLES[kind].items() if k != "secret"}
            assert got.model_dump(include=set(expected)) == expected
            assert memory.list(kind).records[0].id == added[kind].id
        # Across all types, the semantically closest record wins.
        top = memory.search("capital city of Portugal", k=3)
        assert top[0].kind == "semantic"


def test_filters_user_agent_tags_and_time(engine: str, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with store(engine, tmp_path / engine) as memory:
        rows = [
            {
                "kind": "episodic",
                "summary": f"team meeting number {i} about the budget",
                "user_id": "ana" if i % 2 else "bob",
                "agent_id": "planner",
                "tags": ["work"] if i < 4 else ["home"],
                "occurred_at": (now - timedelta(days=10 - i)).isoformat(),
            }
            for i in range(8)
        ]
        memory.add(rows)
        ana = memory.search("budget meeting", types=["episodic"], k=10, user_id="ana")
        assert {r.record.user_id for r in ana} == {"ana"} and len(ana) == 4
        work = memory.search(
            "budget meeting", types=["episodic"], k=10, user_id="ana", tags=["work"]
        )
        assert {r.record.tags[0] for r in work} == {"work"} and len(work) == 2
        since = now - timedelta(days=5)
        recent = memory.search("budget", types=["episodic"], k=10, user_id="bob", since=since)
        assert recent and all(r.record.occurred_at >= since for r in recent)  # type: ignore[attr-defined]
        older = memory.search(
            "budget", types=["episodic"], k=10, user_id="bob", before=since.isoformat()
        )
        assert older and all(r.record.occurred_at < since for r in older)  # type: ignore[attr-defined]
        assert len(recent) + len(older) == 4
        other = memory.search("budget", types=["episodic"], k=10, user_id="bob", agent_id="x")
        assert other == []


def test_ttl_expired_records_are_never_returned_and_are_swept(engine: str, tmp_path: Path) -> None:
    clock = Clock(time.time())
    with store(engine, tmp_path / engine, clock=clock, ttl={"episodic": 60.0}) as memory:
        short, keep = memory.add(
            [
                {"kind": "episodic", "summary": "ate pasta for lunch"},
                {"kind": "semantic", "name": "pasta", "summary": "pasta is italian food"},
            ]
        )
        longer = memory.add({"kind": "episodic", "summary": "ate pasta for dinner", "ttl": 600})
        assert len(memory.search("pasta", types=["episodic", "semantic"], k=5)) == 3
        clock.now += 120
        found = {r.record.id for r in memory.search("pasta", types=["episodic", "semantic"], k=5)}
        assert found == {keep.id, longer[0].id}
        assert memory.list("episodic").records[0].id == longer[0].id
        with pytest.raises(MemoryNotFoundError):
            memory.get("episodic", short.id)
        assert memory.count("episodic", live=False) == 2
        assert memory.sweep()["episodic"] == 1
        assert memory.count("episodic", live=False) == 1
        assert memory.get("semantic", keep.id).id == keep.id


def test_namespaces_private_and_shared(engine: str, tmp_path: Path) -> None:
    with store(engine, tmp_path / engine) as memory:
        mine, shared, theirs = memory.add(
            [
                {
                    "kind": "semantic",
                    "name": "alpha fact",
                    "summary": "the wifi password hint is blue",
                    "agent_id": "a",
                },
                {
                    "kind": "semantic",
                    "name": "team fact",
                    "summary": "the wifi is called office-net",
                    "agent_id": "b",
                    "namespace": "shared",
                },
                {
                    "kind": "semantic",
                    "name": "beta fact",
                    "summary": "the wifi router is in the kitchen",
                    "agent_id": "b",
                },
            ]
        )
        seen_by_a = {r.record.id for r in memory.search("wifi", types=["semantic"], agent_id="a")}
        assert seen_by_a == {mine.id, shared.id}
        seen_by_b = {r.record.id for r in memory.search("wifi", types=["semantic"], agent_id="b")}
        assert seen_by_b == {shared.id, theirs.id}
        isolated = memory.search("wifi", types=["semantic"], agent_id="a", namespaces=[])
        assert [r.record.id for r in isolated] == [mine.id]


def test_vault_is_encrypted_at_rest_redacted_and_revealed_by_policy(
    engine: str, tmp_path: Path
) -> None:
    where = tmp_path / engine
    with store(engine, where, vault_reveal_max="medium") as memory:
        (low,) = memory.add(SAMPLES["vault"])
        (high,) = memory.add(
            {
                "kind": "vault",
                "caption": "root password of the NAS",
                "secret": "hunter2-PLAINTEXT",
                "sensitivity": "high",
            }
        )
        memory.flush()
        assert isinstance(low, VaultEntry) and low.secret.get_secret_value() == REDACTED
        hit = memory.search("stripe key", types=["vault"], k=1)[0].record
        assert isinstance(hit, VaultEntry) and hit.secret.get_secret_value() == REDACTED
        assert "PLAINTEXT" not in hit.model_dump_json() and "PLAINTEXT" not in repr(hit)
        listed = memory.list("vault").records
        assert all(r.secret.get_secret_value() == REDACTED for r in listed)  # type: ignore[attr-defined]
        assert memory.reveal(low.id) == "sk_live_PLAINTEXT_42"
        with pytest.raises(VaultPolicyError):
            memory.reveal(high.id)
        exported = "".join(str(row) for row in memory.export(["vault"]))
        assert "PLAINTEXT" not in exported
    raw = b"".join(p.read_bytes() for p in where.rglob("*") if p.is_file())
    assert raw, "the engine wrote no files"
    assert b"PLAINTEXT" not in raw
    assert b"Stripe API key for the shop" in raw or b"Stripe" in raw  # the caption is stored


def test_hybrid_search_finds_exact_keywords(engine: str, tmp_path: Path) -> None:
    with store(engine, tmp_path / engine) as memory:
        memory.add(
            [
                {
                    "kind": "semantic",
                    "name": f"server {name}",
                    "summary": f"{name} runs the {role} service",
                }
                for name, role in [
                    ("zorblax", "billing"),
                    ("quintor", "billing"),
                    ("vexamir", "email"),
                    ("halcyon", "billing"),
                ]
            ]
        )
        hybrid = memory.search("quintor billing", types=["semantic"], k=1, hybrid=True)
        assert hybrid[0].record.name == "server quintor"  # type: ignore[attr-defined]


def test_recency_weighting_prefers_recent_episodes(engine: str, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with store(engine, tmp_path / engine, recency_half_life_days=7.0) as memory:
        old, new = memory.add(
            [
                {
                    "kind": "episodic",
                    "summary": "talked about the garden",
                    "occurred_at": (now - timedelta(days=90)).isoformat(),
                },
                {
                    "kind": "episodic",
                    "summary": "talked about the garden",
                    "occurred_at": now.isoformat(),
                },
            ]
        )
        found = memory.search("garden talk", types=["episodic"], k=2, hybrid=False)
        assert [r.record.id for r in found] == [new.id, old.id]
        assert found[0].score > found[1].score

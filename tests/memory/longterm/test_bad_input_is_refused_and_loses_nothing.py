"""Bad input gets a clear, typed error and loses nothing: an unknown type, an oversized record,
a bad filter, a wrong vault key, a corrupt store directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from maximus.errors import (
    CorruptStoreError,
    InvalidFilterError,
    InvalidInputError,
    RecordTooLargeError,
    UnknownMemoryTypeError,
    VaultKeyError,
)
from maximus.memory.longterm.vault import generate_key
from tests.support.memory import ENGINES, backend, store

pytestmark = pytest.mark.integration

FACT = {"kind": "semantic", "name": "tea", "summary": "green tea has caffeine"}


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_unknown_type_oversized_record_and_bad_fields_write_nothing(
    engine: str, tmp_path: Path
) -> None:
    with store(engine, tmp_path / engine, max_record_chars=500) as memory:
        (kept,) = memory.add(FACT)
        with pytest.raises(UnknownMemoryTypeError, match="unknown memory type 'dream'"):
            memory.add([FACT, {"kind": "dream", "summary": "flying"}])
        with pytest.raises(RecordTooLargeError, match="over the limit of 500"):
            memory.add([FACT | {"name": "coffee"}, FACT | {"summary": "x" * 600}])
        with pytest.raises(InvalidInputError, match="name"):
            memory.add({"kind": "semantic", "summary": "no name"})
        with pytest.raises(UnknownMemoryTypeError):
            memory.search("tea", types=["dreams"])
        with pytest.raises(UnknownMemoryTypeError):
            memory.list("dreams")
        # Nothing of the refused batches was written; the earlier record is intact.
        assert memory.count("semantic") == 1
        assert memory.get("semantic", kept.id).summary == FACT["summary"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be"),
        ({"k": 1000}, "k must be"),
        ({"since": "yesterday-ish"}, "not an ISO 8601 time"),
        ({"since": "2026-02-01", "before": "2026-01-01"}, "empty time range"),
        ({"tags": "work"}, "tags must be a list"),
    ],
)
def test_bad_filters_are_refused(tmp_path: Path, kwargs: dict, message: str) -> None:
    with store("qdrant-edge", tmp_path / "edge") as memory:
        memory.add(FACT)
        with pytest.raises(InvalidFilterError, match=message):
            memory.search("tea", **kwargs)
        assert memory.count("semantic") == 1


def test_wrong_vault_key_cannot_reveal_and_loses_nothing(engine: str, tmp_path: Path) -> None:
    where = tmp_path / engine
    with store(engine, where) as memory:
        (entry,) = memory.add({"kind": "vault", "caption": "db password", "secret": "pw-123"})
    with store(engine, where, key=generate_key()) as wrong:
        with pytest.raises(VaultKeyError, match="cannot decrypt"):
            wrong.reveal(entry.id)
        with pytest.raises(VaultKeyError):
            wrong.rotate_vault()
        assert wrong.search("database password", types=["vault"])[0].record.id == entry.id
    with store(engine, where) as right:
        assert right.reveal(entry.id) == "pw-123"


def test_malformed_vault_key_is_a_config_error(tmp_path: Path) -> None:
    with store("qdrant-edge", tmp_path / "edge", key="not-a-key") as memory:
        with pytest.raises(VaultKeyError, match="malformed"):
            memory.add({"kind": "vault", "caption": "x", "secret": "y"})
        assert memory.count("vault") == 0


def test_key_rotation_re_encrypts_with_the_new_key(tmp_path: Path) -> None:
    from maximus.memory.longterm.store import MemoryStore
    from maximus.memory.longterm.vault import VaultCipher
    from tests.support.memory import KEY, embeddings

    where = tmp_path / "edge"
    with store("qdrant-edge", where) as memory:
        (entry,) = memory.add({"kind": "vault", "caption": "ssh key", "secret": "ssh-secret"})
    new = generate_key()
    with MemoryStore(
        backend("qdrant-edge", where), embeddings(), cipher=VaultCipher([new, KEY])
    ) as both:
        assert both.rotate_vault() == 1
    with store("qdrant-edge", where, key=new) as only_new:
        assert only_new.reveal(entry.id) == "ssh-secret"
    with store("qdrant-edge", where) as only_old:
        with pytest.raises(VaultKeyError):
            only_old.reveal(entry.id)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_corrupt_store_directory_is_reported_and_left_alone(
    engine_name: str, tmp_path: Path
) -> None:
    where = tmp_path / engine_name
    with store(engine_name, where) as memory:
        memory.add(FACT)
    files = sorted(p for p in where.rglob("*") if p.is_file() and p.stat().st_size > 0)
    assert files
    # Damage every file the engine wrote; a fresh open must fail loudly, not start empty.
    for path in files:
        path.write_bytes(b"\x00garbage\xff" * 64)
    before = {p: p.read_bytes() for p in files}
    with pytest.raises(CorruptStoreError, match="left untouched"):
        opened = backend(engine_name, where)
        opened.count("semantic")
    assert {p: p.read_bytes() for p in files} == before

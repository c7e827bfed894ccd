"""The long-term memory store: typed records in, typed results out, over any backend.

:class:`MemoryStore` is the one API the agent's tools, the CLI and (later) the HTTP server use.
Every call is scoped by ``user_id`` (and, for reads, by ``agent_id`` plus the shared
namespaces), returns pydantic records, and has an async twin (``aadd``, ``asearch``, …) that
runs the blocking engine call in a worker thread. Vault entries always come back redacted;
:meth:`MemoryStore.reveal` is the only way to a secret, and it checks the sensitivity policy.

What the store adds over a backend:

* validation and size limits (typed errors; a refused write writes nothing);
* embeddings (batched for writes, memoised for queries);
* TTL: ``expires_at`` computed per record, expired records filtered out of every read, and
  :meth:`MemoryStore.sweep` to delete them;
* the vault: secrets encrypted before they reach the backend, only captions embedded;
* hybrid search (in the engine where it can, see the backends) and recency weighting of
  episodic memory; temporal filters (``since``, ``before``).
"""

from __future__ import annotations

import asyncio
import builtins
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from maximus._closing import Closing
from maximus.errors import (
    InvalidFilterError,
    InvalidInputError,
    MemoryNotFoundError,
    RecordTooLargeError,
)
from maximus.memory.longterm.base import Hit, MemoryFilter, StoredPoint, VectorBackend, make_filter
from maximus.memory.longterm.records import (
    MEMORY_TYPES,
    REDACTED,
    CoreMemory,
    MemoryRecord,
    MemoryType,
    VaultEntry,
    check_type,
    from_payload,
    parse_record,
    text_size,
    to_payload,
)
from maximus.memory.longterm.vault import VaultCipher, check_reveal

if TYPE_CHECKING:
    from maximus.config import MemorySettings, Settings

RecordInput = MemoryRecord | Mapping[str, Any]
Summarizer = Callable[[str, int], str]
"""``(text, limit) -> shorter text``: rewrites a core block that is over 90% full."""


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A record found by :meth:`MemoryStore.search`, with its score (higher is better)."""

    record: MemoryRecord
    score: float

    @property
    def kind(self) -> MemoryType:
        """The record's memory type."""
        return self.record.kind  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Page:
    """A page of :meth:`MemoryStore.list`; pass ``next_offset`` back for the next one."""

    records: list[MemoryRecord]
    next_offset: str | None


def truncate_summary(text: str, limit: int) -> str:
    """The default core-block summariser: keep the newest lines that fit in 60% of ``limit``.

    An agent with a model should pass a model-backed summariser instead.
    """
    budget = int(limit * 0.6)
    kept: list[str] = []
    for line in reversed(text.splitlines()):
        if sum(len(x) + 1 for x in kept) + len(line) > budget:
            break
        kept.append(line)
    return "\n".join(reversed(kept)) if kept else text[-budget:]


class MemoryStore(Closing):
    """MIRIX memory over a :class:`~maximus.memory.longterm.base.VectorBackend`.

    Args:
        backend: the vector engine.
        embeddings: any LangChain embeddings (MiniLM ONNX by default).
        settings: TTLs, limits, namespaces, the vault policy, hybrid search.
        cipher: the vault's cipher (made from the settings if omitted).
        clock: seconds since the epoch (tests move time with it).
    """

    def __init__(
        self,
        backend: VectorBackend,
        embeddings: Embeddings,
        settings: MemorySettings | None = None,
        *,
        cipher: VaultCipher | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from maximus.config import MemorySettings

        self.backend = backend
        self.embeddings = embeddings
        self.settings = settings or MemorySettings()
        self.cipher = cipher or VaultCipher(
            [k.strip() for k in self.settings.vault_key.get_secret_value().split(",")]
            if self.settings.vault_key
            else (),
            key_file=self.settings.vault_key_file,
        )
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> MemoryStore:
        """Open the backend, embeddings and vault the settings name.

        Raises:
            ConfigError: a needed package or key is missing.
            CorruptStoreError: the store's files cannot be opened (they are left as they are).
            StoreUnavailableError: a server backend cannot be reached.
        """
        from maximus.config import get_settings
        from maximus.memory.longterm.backends import open_backend
        from maximus.memory.longterm.embeddings import embedding_dimension, make_embeddings

        settings = settings or get_settings()
        memory = settings.memory
        embeddings = make_embeddings(memory)
        dim = embedding_dimension(embeddings)
        backend = open_backend(memory.backend, memory.path, memory.url, settings=settings, dim=dim)
        if memory.dual_write_backend is not None:
            from maximus.memory.longterm.migration import DualWriteBackend

            target = open_backend(
                memory.dual_write_backend,
                memory.dual_write_path,
                memory.dual_write_url,
                settings=settings,
                dim=dim,
            )
            backend = DualWriteBackend(backend, target)
        cipher = None
        if memory.vault_key is None and memory.vault_key_file is None:
            cipher = VaultCipher(key_file=settings.data_dir / "memory" / "vault.key", create=True)
        return cls(backend, embeddings, memory, cipher=cipher)

    # -- writing -------------------------------------------------------------------------

    def _prepare(self, record: MemoryRecord) -> tuple[MemoryRecord, str]:
        limit = self.settings.max_record_chars
        size = text_size(record)
        if size > limit:
            raise RecordTooLargeError(
                f"{record.kind} memory {record.id} has {size} characters of text, over the "  # type: ignore[attr-defined]
                f"limit of {limit} (MAXIMUS_MEMORY__MAX_RECORD_CHARS); split it (resources: "
                "maximus.memory.chunk_resource)"
            )
        return record, record.embed_text()

    def _expires_at(self, record: MemoryRecord) -> float | None:
        ttl = record.ttl
        if ttl is None:
            ttl = getattr(self.settings.ttl, record.kind)  # type: ignore[attr-defined]
        return None if ttl is None else record.updated_at.timestamp() + ttl

    def add(self, records: RecordInput | Sequence[RecordInput]) -> list[MemoryRecord]:
        """Validate, embed and store records (one or many); return them, vault redacted.

        Records of several types may be mixed. An existing id is replaced. Either every record
        is valid and all are written, or none is.

        Raises:
            UnknownMemoryTypeError: a record's ``kind`` is not one of the six.
            InvalidInputError: a record misses a field or has a wrong one.
            RecordTooLargeError: a record's text is over the size limit.
            VaultKeyError: a vault entry is given and no key is configured.
        """
        items = [records] if isinstance(records, MemoryRecord | Mapping) else list(records)
        parsed = [self._prepare(parse_record(item)) for item in items]
        if not parsed:
            return []
        vectors = self.embeddings.embed_documents([text for _, text in parsed])
        by_kind: dict[MemoryType, list[StoredPoint]] = {}
        out: list[MemoryRecord] = []
        for (record, _), vector in zip(parsed, vectors, strict=True):
            secret = None
            if isinstance(record, VaultEntry):
                secret = self.cipher.encrypt(record.secret.get_secret_value())
                record = record.model_copy(update={"secret": _redacted()})
            payload = to_payload(record, expires_at=self._expires_at(record), secret=secret)
            kind: MemoryType = record.kind  # type: ignore[attr-defined]
            by_kind.setdefault(kind, []).append(StoredPoint(record.id, vector, payload))
            out.append(record)
        for kind, points in by_kind.items():
            self.backend.upsert(kind, points)
        return out

    async def aadd(self, records: RecordInput | Sequence[RecordInput]) -> list[MemoryRecord]:
        """Async :meth:`add`."""
        return await asyncio.to_thread(self.add, records)

    # -- reading -------------------------------------------------------------------------

    def _scope(
        self,
        *,
        user_id: str | None,
        agent_id: str | None,
        namespaces: Sequence[str] | None,
        tags: Sequence[str] = (),
        since: datetime | float | str | None = None,
        before: datetime | float | str | None = None,
    ) -> MemoryFilter:
        shared = self.settings.shared_namespaces if namespaces is None else namespaces
        if isinstance(tags, str):
            raise InvalidFilterError("tags must be a list of strings, not one string")
        return make_filter(
            user_id=user_id if user_id is not None else self.settings.user_id,
            agent_id=agent_id,
            namespaces=shared,
            tags=tags,
            since=since,
            before=before,
            alive_at=self.clock(),
        )

    def search(
        self,
        query: str,
        *,
        types: Sequence[str] | None = None,
        k: int = 5,
        user_id: str | None = None,
        agent_id: str | None = None,
        namespaces: Sequence[str] | None = None,
        tags: Sequence[str] = (),
        since: datetime | float | str | None = None,
        before: datetime | float | str | None = None,
        hybrid: bool | None = None,
    ) -> list[SearchResult]:
        """The ``k`` records most relevant to ``query``, best first.

        Args:
            query: natural-language text (embedded, and keyword-matched when hybrid).
            types: memory types to search; all six by default.
            k: how many results (1 to 100).
            user_id: whose memory (default: the settings' user).
            agent_id: the reading agent: its private records plus ``namespaces``; ``None``
                reads every agent's records of the user.
            namespaces: shared namespaces to include (default: the settings').
            tags: only records with at least one of these tags.
            since: only records whose event time is at or after this (ISO, datetime, epoch).
            before: only records whose event time is before this.
            hybrid: fuse BM25 keyword search with vector search (default: the settings').

        Raises:
            UnknownMemoryTypeError: a type is not one of the six.
            InvalidFilterError: ``k`` is out of range, a time does not parse, or the range is
                empty.
        """
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 100:
            raise InvalidFilterError(f"k must be an integer from 1 to 100, got {k!r}")
        kinds = [check_type(t) for t in types] if types is not None else list(MEMORY_TYPES)
        flt = self._scope(
            user_id=user_id,
            agent_id=agent_id,
            namespaces=namespaces,
            tags=tags,
            since=since,
            before=before,
        )
        use_hybrid = self.settings.hybrid if hybrid is None else hybrid
        vector = self.embeddings.embed_query(query)
        results: list[SearchResult] = []
        now = self.clock()
        # Within one type the engine's (fused) order stands; across types, fused rank scores
        # are not comparable, so hits are merged by their cosine similarity to the query.
        across = len(kinds) > 1
        for kind in kinds:
            hits = self.backend.query(
                kind, vector, flt, k, text=query if use_hybrid else None, similarity=across
            )
            for hit in hits:
                base = hit.similarity if across and hit.similarity is not None else hit.score
                results.append(
                    SearchResult(self._decode(hit.payload), self._weight(hit, base, now))
                )
        results.sort(key=lambda r: r.score, reverse=True)
        return results[:k]

    async def asearch(self, query: str, **kwargs: Any) -> list[SearchResult]:
        """Async :meth:`search`."""
        return await asyncio.to_thread(lambda: self.search(query, **kwargs))

    def _weight(self, hit: Hit, score: float, now: float) -> float:
        if hit.payload.get("kind") != "episodic":
            return score
        age_days = max(0.0, now - float(hit.payload.get("event_ts", now))) / 86400.0
        decay = math.pow(0.5, age_days / self.settings.recency_half_life_days)
        # Recency breaks near-ties without burying an old but exact match.
        return score * (0.7 + 0.3 * decay)

    def _decode(self, payload: Mapping[str, Any]) -> MemoryRecord:
        record, _ = from_payload(payload)
        return record

    def get(self, kind: str, record_id: str, *, user_id: str | None = None) -> MemoryRecord:
        """One record by id (vault redacted).

        Raises:
            UnknownMemoryTypeError: unknown ``kind``.
            MemoryNotFoundError: no live record of that id for that user.
        """
        kind = check_type(kind)
        user = user_id if user_id is not None else self.settings.user_id
        for payload in self.backend.get(kind, [record_id]):
            if payload.get("user_id") == user and self._alive(payload):
                return self._decode(payload)
        raise MemoryNotFoundError(f"no {kind} memory {record_id!r} for user {user!r}")

    async def aget(self, kind: str, record_id: str, *, user_id: str | None = None) -> MemoryRecord:
        """Async :meth:`get`."""
        return await asyncio.to_thread(self.get, kind, record_id, user_id=user_id)

    def _alive(self, payload: Mapping[str, Any]) -> bool:
        return float(payload["expires_at"]) > self.clock()

    def list(
        self,
        kind: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        namespaces: Sequence[str] | None = None,
        tags: Sequence[str] = (),
        since: datetime | float | str | None = None,
        before: datetime | float | str | None = None,
        limit: int = 50,
        offset: str | None = None,
    ) -> Page:
        """A page of live records of one type, in id order (vault redacted).

        Raises:
            UnknownMemoryTypeError: unknown ``kind``.
            InvalidFilterError: a bad limit, time or range.
        """
        kind = check_type(kind)
        if not 1 <= limit <= 1000:
            raise InvalidFilterError(f"limit must be from 1 to 1000, got {limit}")
        flt = self._scope(
            user_id=user_id,
            agent_id=agent_id,
            namespaces=namespaces,
            tags=tags,
            since=since,
            before=before,
        )
        try:
            points, next_offset = self.backend.scroll(kind, flt, limit, offset)
        except ValueError as exc:
            if offset is None:
                raise
            raise InvalidFilterError(
                f"offset {offset!r} is not a page token of this store: {exc}"
            ) from exc
        return Page([self._decode(p.payload) for p in points], next_offset)

    async def alist(self, kind: str, **kwargs: Any) -> Page:
        """Async :meth:`list`."""
        return await asyncio.to_thread(lambda: self.list(kind, **kwargs))

    def count(self, kind: str, *, user_id: str | None = None, live: bool = True) -> int:
        """How many records of ``kind`` (of ``user_id`` if given; live ones unless ``live``
        is false)."""
        kind = check_type(kind)
        flt = MemoryFilter(user_id=user_id, alive_at=self.clock() if live else None)
        return self.backend.count(kind, flt)

    # -- deleting ------------------------------------------------------------------------

    def delete(self, kind: str, record_id: str, *, user_id: str | None = None) -> None:
        """Delete one record.

        Raises:
            UnknownMemoryTypeError: unknown ``kind``.
            MemoryNotFoundError: no record of that id for that user (nothing is deleted).
        """
        kind = check_type(kind)
        user = user_id if user_id is not None else self.settings.user_id
        found = [p for p in self.backend.get(kind, [record_id]) if p.get("user_id") == user]
        if not found:
            raise MemoryNotFoundError(f"no {kind} memory {record_id!r} for user {user!r}")
        self.backend.delete(kind, [record_id])

    async def adelete(self, kind: str, record_id: str, *, user_id: str | None = None) -> None:
        """Async :meth:`delete`."""
        await asyncio.to_thread(self.delete, kind, record_id, user_id=user_id)

    def sweep(self) -> dict[str, int]:
        """Delete every expired record; return how many per type."""
        now = self.clock()
        return {
            kind: self.backend.delete_where(kind, MemoryFilter(expired_at=now))
            for kind in MEMORY_TYPES
        }

    async def asweep(self) -> dict[str, int]:
        """Async :meth:`sweep`."""
        return await asyncio.to_thread(self.sweep)

    # -- core memory ---------------------------------------------------------------------

    @staticmethod
    def core_id(user_id: str, agent_id: str, label: str) -> str:
        """The fixed id of a core block: one persona and one human block per user and agent."""
        return f"core:{user_id}:{agent_id}:{label}"

    def core_blocks(
        self, *, user_id: str | None = None, agent_id: str | None = None
    ) -> builtins.list[CoreMemory]:
        """The user's core blocks for ``agent_id`` (persona first)."""
        user = user_id or self.settings.user_id
        agent = agent_id or self.settings.agent_id
        ids = [self.core_id(user, agent, label) for label in ("persona", "human")]
        found = {p["label"]: p for p in self.backend.get("core", ids) if p.get("user_id") == user}
        blocks = [self._decode(found[x]) for x in ("persona", "human") if x in found]
        return [b for b in blocks if isinstance(b, CoreMemory)]

    def update_core(
        self,
        label: str,
        value: str,
        *,
        append: bool = False,
        user_id: str | None = None,
        agent_id: str | None = None,
        summarize: Summarizer = truncate_summary,
    ) -> CoreMemory:
        """Replace (or append to) a core block, summarising it when it gets over 90% full.

        Raises:
            InvalidInputError: ``label`` is not ``persona`` or ``human``.
        """
        if label not in ("persona", "human"):
            raise InvalidInputError(f"core block label must be persona or human, not {label!r}")
        user = user_id or self.settings.user_id
        agent = agent_id or self.settings.agent_id
        current: dict[str, CoreMemory] = {
            b.label: b for b in self.core_blocks(user_id=user, agent_id=agent)
        }
        block = current.get(label)
        limit = block.limit if block is not None else self.settings.core_block_chars
        text = f"{block.value}\n{value}".strip() if append and block is not None else value
        if len(text) > 0.9 * limit:
            text = summarize(text, limit)
        if len(text) > limit:
            text = text[-limit:]
        record = CoreMemory(
            id=self.core_id(user, agent, label),
            agent_id=agent,
            user_id=user,
            label=label,  # type: ignore[arg-type]
            value=text,
            limit=limit,
            created_at=block.created_at if block is not None else datetime.now(UTC),
        )
        self.add(record)
        return record

    # -- the vault -----------------------------------------------------------------------

    def reveal(self, record_id: str, *, user_id: str | None = None) -> str:
        """The plaintext secret of a vault entry, if the sensitivity policy allows it.

        Raises:
            MemoryNotFoundError: no such live vault entry for the user.
            VaultPolicyError: its sensitivity is above ``vault_reveal_max``.
            VaultKeyError: the configured keys cannot decrypt it.
        """
        user = user_id if user_id is not None else self.settings.user_id
        for payload in self.backend.get("vault", [record_id]):
            if payload.get("user_id") == user and self._alive(payload):
                check_reveal(payload["sensitivity"], self.settings.vault_reveal_max)
                return self.cipher.decrypt(payload["secret_enc"])
        raise MemoryNotFoundError(f"no vault entry {record_id!r} for user {user!r}")

    def rotate_vault(self) -> int:
        """Re-encrypt every vault secret with the newest key; return how many.

        Raises:
            VaultKeyError: a secret cannot be decrypted with any configured key (nothing is
                rewritten for it).
        """
        done = 0
        for point in list(self.backend.iter_points("vault")):
            payload = dict(point.payload)
            payload["secret_enc"] = self.cipher.rotate(payload["secret_enc"])
            from maximus.memory.longterm.records import checksum

            payload["checksum"] = checksum(payload)
            self.backend.upsert("vault", [StoredPoint(point.id, point.vector, payload)])
            done += 1
        return done

    # -- bulk ----------------------------------------------------------------------------

    def export(self, kinds: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every stored payload (vault secrets stay encrypted), with its vector."""
        for kind in [check_type(k) for k in kinds] if kinds is not None else MEMORY_TYPES:
            for point in self.backend.iter_points(kind):
                yield {"kind": kind, "vector": list(point.vector), "payload": point.payload}

    def import_(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Store exported rows as they are (no re-embedding); return how many.

        Raises:
            UnknownMemoryTypeError: a row names an unknown type.
            CorruptRecordError: a row's payload is not a memory record.
        """
        count = 0
        for row in rows:
            kind = check_type(str(row.get("kind")))
            payload = dict(row["payload"])
            from_payload(payload)  # validates
            self.backend.upsert(kind, [StoredPoint(str(payload["id"]), row["vector"], payload)])
            count += 1
        return count

    def flush(self) -> None:
        """Make pending writes durable (and index what is not yet)."""
        self.backend.flush()

    def close(self) -> None:
        """Close the backend."""
        self.backend.close()


def _redacted() -> Any:
    from pydantic import SecretStr

    return SecretStr(REDACTED)


def default_path(settings: Settings, backend: str) -> Path:
    """Where an embedded backend keeps its files by default."""
    return settings.data_dir / "memory" / backend


__all__ = ["MemoryStore", "Page", "SearchResult", "Summarizer", "default_path", "truncate_summary"]

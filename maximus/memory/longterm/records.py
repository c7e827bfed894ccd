"""MIRIX's six memory types as pydantic records, and how each is stored and searched.

Every record carries ``id``, ``agent_id``, ``user_id``, ``namespace``, ``created_at``,
``updated_at``, an optional ``ttl`` (seconds) and ``tags``, plus the fields of its type:

* **core**: a ``persona`` or ``human`` block that always sits in the prompt, with a size
  ``limit``; a block over 90% full is rewritten (summarised) by
  :meth:`maximus.memory.MemoryStore.update_core`.
* **episodic**: ``occurred_at``, ``actor``, ``event_type``, ``summary``, ``details``.
* **semantic**: ``name``, ``summary``, ``details``, ``source``.
* **procedural**: ``name``, ``entry_type`` (workflow / guide / script), ``description``,
  ``steps``, ``triggers``.
* **resource**: ``title``, ``resource_type``, ``summary``, ``content``, ``chunked``.
* **vault**: ``entry_type`` (credential / api_key / bookmark / contact), ``source``,
  ``sensitivity`` (low / medium / high), ``caption``, ``secret``. Only the caption is embedded;
  the secret is encrypted before it reaches a backend.

``namespace`` is ``None`` for an agent's private memory, or the name of a shared namespace
every agent reading it sees. The functions at the bottom map records to the flat payloads the
backends store and back; they are pure.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError

from maximus.errors import CorruptRecordError, InvalidInputError, UnknownMemoryTypeError

MemoryType = Literal["core", "episodic", "semantic", "procedural", "resource", "vault"]
MEMORY_TYPES: tuple[MemoryType, ...] = get_args(MemoryType)
Sensitivity = Literal["low", "medium", "high"]
SENSITIVITY_RANK: dict[str, int] = {"none": 0, "low": 1, "medium": 2, "high": 3}
REDACTED = "[REDACTED]"
NEVER = 1e18
"""``expires_at`` of a record without TTL: one range condition then covers every record."""


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


class MemoryRecord(BaseModel):
    """Fields every memory record has."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str = Field(default_factory=_new_id, min_length=1, max_length=128)
    agent_id: str = Field(default="default", min_length=1, max_length=128)
    user_id: str = Field(default="default", min_length=1, max_length=128)
    namespace: str | None = Field(default=None, max_length=128)
    """``None``: private to ``agent_id``; a name: shared with every agent that reads it."""
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)
    ttl: float | None = Field(default=None, gt=0)
    """Seconds this record lives after ``updated_at``; ``None`` uses the type's default."""
    tags: list[str] = Field(default_factory=list)

    def embed_text(self) -> str:
        """The text whose embedding represents the record."""
        raise NotImplementedError

    def keyword_text(self) -> str:
        """The text keyword (BM25) search sees; by default the embedded text."""
        return self.embed_text()

    def event_time(self) -> datetime:
        """The time "since"/"before" queries compare (``occurred_at`` for episodes)."""
        return self.created_at


class CoreMemory(MemoryRecord):
    """A block of core memory, always in the prompt."""

    kind: Literal["core"] = "core"
    label: Literal["persona", "human"]
    value: str = ""
    limit: int = Field(default=2000, ge=50)
    """Characters the block may hold; at 90% it is summarised."""

    def embed_text(self) -> str:  # noqa: D102
        return f"{self.label}: {self.value}"

    @property
    def fill(self) -> float:
        """How full the block is, from 0 to 1 (or more)."""
        return len(self.value) / self.limit


class EpisodicMemory(MemoryRecord):
    """Something that happened, when, and who did it."""

    kind: Literal["episodic"] = "episodic"
    occurred_at: datetime = Field(default_factory=_now)
    actor: str = "user"
    event_type: str = "event"
    summary: str = Field(min_length=1)
    details: str = ""

    def embed_text(self) -> str:  # noqa: D102
        return f"{self.summary}\n{self.details}".strip()

    def event_time(self) -> datetime:  # noqa: D102
        return self.occurred_at


class SemanticMemory(MemoryRecord):
    """A fact or concept, independent of when it was learned."""

    kind: Literal["semantic"] = "semantic"
    name: str = Field(min_length=1)
    summary: str = ""
    details: str = ""
    source: str = ""

    def embed_text(self) -> str:  # noqa: D102
        return f"{self.name}: {self.summary}\n{self.details}".strip()


class ProceduralMemory(MemoryRecord):
    """How to do something: a workflow, a guide or a script."""

    kind: Literal["procedural"] = "procedural"
    name: str = Field(min_length=1)
    entry_type: Literal["workflow", "guide", "script"] = "guide"
    description: str = ""
    steps: list[str] = Field(default_factory=list)
    triggers: list[str] = Field(default_factory=list)

    def embed_text(self) -> str:  # noqa: D102
        steps = "; ".join(self.steps)
        return f"{self.name}: {self.description}\n{steps}\n{' '.join(self.triggers)}".strip()


class ResourceMemory(MemoryRecord):
    """A document, file or page the user shared (or a chunk of one)."""

    kind: Literal["resource"] = "resource"
    title: str = Field(min_length=1)
    resource_type: str = "document"
    summary: str = ""
    content: str = ""
    chunked: bool = False
    """This record holds one chunk of a larger resource (see ``tags``: ``part:i/n``)."""

    def embed_text(self) -> str:  # noqa: D102
        # MiniLM reads 256 tokens; the head of the content is what it can use.
        return f"{self.title}: {self.summary}\n{self.content[:1500]}".strip()

    def keyword_text(self) -> str:  # noqa: D102
        return f"{self.title} {self.summary} {self.content}"


class VaultEntry(MemoryRecord):
    """A secret (credential, API key, bookmark, contact), encrypted at rest.

    Search returns it with ``secret`` redacted; only the ``reveal_secret`` tool (or
    :meth:`maximus.memory.MemoryStore.reveal`) returns the secret, if the policy allows.
    """

    kind: Literal["vault"] = "vault"
    entry_type: Literal["credential", "api_key", "bookmark", "contact"] = "credential"
    source: str = ""
    sensitivity: Sensitivity = "medium"
    caption: str = Field(min_length=1)
    secret: SecretStr = SecretStr(REDACTED)

    def embed_text(self) -> str:  # noqa: D102
        return self.caption  # never the secret

    @property
    def redacted(self) -> bool:
        """Whether ``secret`` holds the placeholder, not the secret."""
        return self.secret.get_secret_value() == REDACTED


AnyMemory = Annotated[
    CoreMemory | EpisodicMemory | SemanticMemory | ProceduralMemory | ResourceMemory | VaultEntry,
    Field(discriminator="kind"),
]
RECORD_CLASSES: dict[MemoryType, type[MemoryRecord]] = {
    "core": CoreMemory,
    "episodic": EpisodicMemory,
    "semantic": SemanticMemory,
    "procedural": ProceduralMemory,
    "resource": ResourceMemory,
    "vault": VaultEntry,
}
_ADAPTER: TypeAdapter[Any] = TypeAdapter(AnyMemory)


def check_type(kind: str) -> MemoryType:
    """``kind`` as a :data:`MemoryType`.

    Raises:
        UnknownMemoryTypeError: it is not one of the six.
    """
    if kind not in MEMORY_TYPES:
        raise UnknownMemoryTypeError(
            f"unknown memory type {kind!r}; expected one of {', '.join(MEMORY_TYPES)}"
        )
    return kind


def parse_record(data: Mapping[str, Any] | MemoryRecord) -> MemoryRecord:
    """Validate caller input (a dict with ``kind``) into its record class.

    Raises:
        UnknownMemoryTypeError: ``kind`` is missing or unknown.
        InvalidInputError: a field is missing or of the wrong type.
    """
    if isinstance(data, MemoryRecord):
        return data
    check_type(str(data.get("kind", "")))
    try:
        record: MemoryRecord = _ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
            for e in exc.errors()
        )
        raise InvalidInputError(f"invalid {data['kind']} memory: {problems}") from exc
    return record


def text_size(record: MemoryRecord) -> int:
    """Characters of free text in ``record`` (what the size limit counts)."""
    size = 0
    for name, value in record:
        if isinstance(value, str) and name not in ("id", "agent_id", "user_id", "namespace"):
            size += len(value)
        elif isinstance(value, list):
            size += sum(len(v) for v in value if isinstance(v, str))
        elif isinstance(value, SecretStr):
            size += len(value.get_secret_value())
    return size


def to_payload(
    record: MemoryRecord, *, expires_at: float | None, secret: str | None = None
) -> dict:
    """The flat payload a backend stores for ``record``.

    Args:
        record: the record.
        expires_at: epoch seconds after which the record is dead (``None``: never).
        secret: for a vault entry, the *encrypted* secret to store in its place.
    """
    data = record.model_dump(mode="json", exclude={"secret"})
    if isinstance(record, VaultEntry):
        data["secret_enc"] = secret
    data["namespace"] = record.namespace or ""
    data["created_ts"] = record.created_at.timestamp()
    data["updated_ts"] = record.updated_at.timestamp()
    data["event_ts"] = record.event_time().timestamp()
    data["expires_at"] = expires_at if expires_at is not None else NEVER
    data["text"] = record.keyword_text()
    data["checksum"] = checksum(data)
    return data


_DERIVED = frozenset({"created_ts", "updated_ts", "event_ts", "expires_at", "text", "checksum"})


def from_payload(payload: Mapping[str, Any]) -> tuple[MemoryRecord, str | None]:
    """The record a stored payload holds, and its encrypted secret (vault only).

    The returned vault entry carries the redaction placeholder as its secret.

    Raises:
        CorruptRecordError: the payload is not a memory record.
    """
    data = {k: v for k, v in payload.items() if k not in _DERIVED}
    secret = data.pop("secret_enc", None)
    if data.get("namespace") == "":
        data["namespace"] = None
    try:
        record = parse_record(data)
    except InvalidInputError as exc:
        raise CorruptRecordError(f"stored memory payload cannot be decoded: {exc}") from exc
    return record, secret


def checksum(payload: Mapping[str, Any]) -> str:
    """A sha256 over a payload's canonical JSON (without the checksum itself).

    Migration copies payloads verbatim, so source and target checksums must agree.
    """
    body = {k: v for k, v in payload.items() if k != "checksum"}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


__all__ = [
    "MEMORY_TYPES",
    "NEVER",
    "RECORD_CLASSES",
    "REDACTED",
    "SENSITIVITY_RANK",
    "AnyMemory",
    "CoreMemory",
    "EpisodicMemory",
    "MemoryRecord",
    "MemoryType",
    "ProceduralMemory",
    "ResourceMemory",
    "SemanticMemory",
    "Sensitivity",
    "VaultEntry",
    "check_type",
    "checksum",
    "from_payload",
    "parse_record",
    "text_size",
    "to_payload",
]

"""Assistants made by users: a served graph plus its config, context and metadata, versioned.

The served graphs are assistants too (one each, shared by every user, read-only). A user's
own assistants are stored with the sessions (Redis when ``MAXIMUS_REDIS_URL`` is set, else
SQLite in the data directory), one JSON document per assistant holding every version; only
their owner sees them (another user's id answers 404). A run on such an assistant runs its
graph with the assistant's config and context under the run's own.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any, Protocol

import orjson

from maximus.errors import ConflictError, ThreadNotFoundError
from maximus.server.run_manager import now_iso

_ID = {"assistants": "assistant_id", "crons": "cron_id"}
"""The id field of each table's documents."""
VERSION_FIELDS = ("graph_id", "config", "context", "metadata", "name", "description")


class AssistantBackend(Protocol):
    """Where documents (assistants, crons) live: JSON by id, with each owner's ids."""

    async def get(self, assistant_id: str) -> dict[str, Any] | None: ...
    async def put(self, doc: dict[str, Any]) -> None: ...
    async def delete(self, assistant_id: str, owner: str) -> None: ...
    async def owned(self, owner: str) -> list[dict[str, Any]]: ...
    async def every(self) -> list[dict[str, Any]]: ...
    async def close(self) -> None: ...


class RedisAssistants:
    """Documents at ``{prefix}:{kind}:{id}``, with a set of ids per owner."""

    def __init__(self, url: str, prefix: str, kind: str = "assistant") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._prefix = prefix
        self._kind = kind

    @property
    def redis(self) -> Any:
        return self._redis

    def _key(self, assistant_id: str) -> str:
        return f"{self._prefix}:{self._kind}:{assistant_id}"

    def _owner_key(self, owner: str) -> str:
        return f"{self._prefix}:{self._kind}s-of:{owner}"

    async def get(self, assistant_id: str) -> dict[str, Any] | None:
        raw = await self._redis.get(self._key(assistant_id))
        return orjson.loads(raw) if raw else None

    async def put(self, doc: dict[str, Any]) -> None:
        doc_id = doc[_ID[self._kind + "s"]]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(doc_id), orjson.dumps(doc))
            pipe.sadd(self._owner_key(doc["owner"]), doc_id)
            await pipe.execute()

    async def delete(self, assistant_id: str, owner: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(assistant_id))
            pipe.srem(self._owner_key(owner), assistant_id)
            await pipe.execute()

    async def owned(self, owner: str) -> list[dict[str, Any]]:
        members = await self._redis.smembers(self._owner_key(owner))
        ids = sorted(m.decode() if isinstance(m, bytes) else m for m in members)
        if not ids:
            return []
        raws = await self._redis.mget([self._key(i) for i in ids])
        return [orjson.loads(r) for r in raws if r]

    async def every(self) -> list[dict[str, Any]]:
        raise NotImplementedError("RedisAssistants keeps no list of every document")

    async def close(self) -> None:
        await self._redis.aclose()


class SqliteAssistants:
    """Documents in one table of a SQLite file in the data directory."""

    def __init__(self, path: Path, table: str = "assistants") -> None:
        self._path = path
        self._table = table
        self._db: Any = None

    async def _conn(self) -> Any:
        if self._db is None:
            import aiosqlite

            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._db = await aiosqlite.connect(self._path)
            await self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} "
                "(id TEXT PRIMARY KEY, owner TEXT NOT NULL, doc TEXT NOT NULL)"
            )
            await self._db.commit()
        return self._db

    async def get(self, assistant_id: str) -> dict[str, Any] | None:
        db = await self._conn()
        async with db.execute(
            f"SELECT doc FROM {self._table} WHERE id = ?", (assistant_id,)
        ) as cur:
            row = await cur.fetchone()
        return orjson.loads(row[0]) if row else None

    async def put(self, doc: dict[str, Any]) -> None:
        db = await self._conn()
        await db.execute(
            f"INSERT OR REPLACE INTO {self._table} VALUES (?, ?, ?)",
            (doc[_ID[self._table]], doc["owner"], orjson.dumps(doc).decode()),
        )
        await db.commit()

    async def delete(self, assistant_id: str, owner: str) -> None:
        db = await self._conn()
        await db.execute(
            f"DELETE FROM {self._table} WHERE id = ? AND owner = ?", (assistant_id, owner)
        )
        await db.commit()

    async def owned(self, owner: str) -> list[dict[str, Any]]:
        db = await self._conn()
        async with db.execute(
            f"SELECT doc FROM {self._table} WHERE owner = ? ORDER BY id", (owner,)
        ) as cur:
            rows = await cur.fetchall()
        return [orjson.loads(r[0]) for r in rows]

    async def every(self) -> list[dict[str, Any]]:
        db = await self._conn()
        async with db.execute(f"SELECT doc FROM {self._table}") as cur:
            rows = await cur.fetchall()
        return [orjson.loads(r[0]) for r in rows]

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The SDK's ``Assistant``: the document's latest version."""
    latest = next(v for v in doc["versions"] if v["version"] == doc["version"])
    return {
        "assistant_id": doc["assistant_id"],
        **{k: copy.deepcopy(latest[k]) for k in VERSION_FIELDS},
        "version": doc["version"],
        "created_at": doc["created_at"],
        "updated_at": latest["created_at"],
    }


def version_view(doc: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    return {"assistant_id": doc["assistant_id"], **version}


def merged_config(base: dict[str, Any] | None, over: dict[str, Any] | None) -> dict[str, Any]:
    """``over`` on top of ``base``, one level into ``configurable``."""
    out = {**(base or {}), **(over or {})}
    if (base or {}).get("configurable") or (over or {}).get("configurable"):
        out["configurable"] = {
            **((base or {}).get("configurable") or {}),
            **((over or {}).get("configurable") or {}),
        }
    return out


class Assistants:
    """A user's assistants, over a backend; the served graphs come from ``graphs``."""

    def __init__(self, backend: AssistantBackend, graphs: Any) -> None:
        self.backend = backend
        self.graphs = graphs

    async def get(self, assistant_id: str, owner: str) -> dict[str, Any]:
        """The owner's assistant document.

        Raises:
            ThreadNotFoundError: none, or another owner's.
        """
        doc = await self.backend.get(assistant_id)
        if doc is None or doc["owner"] != owner:
            raise ThreadNotFoundError(f"no assistant {assistant_id!r}")
        return doc

    async def resolve(self, assistant_id: str, owner: str) -> dict[str, Any]:
        """Any assistant the owner may use (a served graph's, or one of theirs), as the SDK
        shows it."""
        try:
            graph_id, _ = self.graphs.resolve(assistant_id)
        except ThreadNotFoundError:
            return public(await self.get(assistant_id, owner))
        found: dict[str, Any] = self.graphs.assistant(graph_id)
        return found

    async def create(self, owner: str, body: Any) -> dict[str, Any]:
        self.graphs.resolve(body.graph_id)  # a graph this server serves (else 404)
        assistant_id = body.assistant_id or str(uuid.uuid4())
        existing = await self.backend.get(assistant_id)
        if existing is not None or self._served(assistant_id):
            if body.if_exists == "do_nothing" and existing and existing["owner"] == owner:
                return public(existing)
            raise ConflictError(f"assistant {assistant_id!r} already exists")
        now = now_iso()
        version = {
            "graph_id": body.graph_id,
            "config": body.config or {},
            "context": body.context or {},
            "metadata": body.metadata or {},
            "name": body.name or body.graph_id,
            "description": body.description,
            "version": 1,
            "created_at": now,
        }
        doc = {
            "assistant_id": assistant_id,
            "owner": owner,
            "created_at": now,
            "version": 1,
            "versions": [version],
        }
        await self.backend.put(doc)
        return public(doc)

    def _served(self, assistant_id: str) -> bool:
        try:
            self.graphs.resolve(assistant_id)
        except ThreadNotFoundError:
            return False
        return True

    async def update(self, assistant_id: str, owner: str, body: Any) -> dict[str, Any]:
        """A new version from the latest one with the given fields changed (and latest)."""
        doc = await self.get(assistant_id, owner)
        if body.graph_id:
            self.graphs.resolve(body.graph_id)
        latest = next(v for v in doc["versions"] if v["version"] == doc["version"])
        number = max(v["version"] for v in doc["versions"]) + 1
        changed = {k: getattr(body, k) for k in VERSION_FIELDS if getattr(body, k) is not None}
        version = {**copy.deepcopy(latest), **changed, "version": number, "created_at": now_iso()}
        doc["versions"].append(version)
        doc["version"] = number
        await self.backend.put(doc)
        return public(doc)

    async def delete(self, assistant_id: str, owner: str) -> None:
        await self.get(assistant_id, owner)
        await self.backend.delete(assistant_id, owner)

    async def versions(
        self,
        assistant_id: str,
        owner: str,
        metadata: dict[str, Any] | None,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        doc = await self.get(assistant_id, owner)
        found = [
            version_view(doc, v)
            for v in sorted(doc["versions"], key=lambda v: -v["version"])
            if not metadata or all(v["metadata"].get(k) == x for k, x in metadata.items())
        ]
        return found[offset : offset + limit]

    async def set_latest(self, assistant_id: str, owner: str, version: int) -> dict[str, Any]:
        doc = await self.get(assistant_id, owner)
        if not any(v["version"] == version for v in doc["versions"]):
            raise ThreadNotFoundError(f"assistant {assistant_id!r} has no version {version}")
        doc["version"] = version
        await self.backend.put(doc)
        return public(doc)

    async def owned(self, owner: str) -> list[dict[str, Any]]:
        return [public(d) for d in await self.backend.owned(owner)]


def open_assistants(settings: Any, graphs: Any) -> Assistants:
    """Assistants stored where the sessions are."""
    backend: AssistantBackend
    if settings.redis_url:
        backend = RedisAssistants(settings.redis_url, settings.sessions.key_prefix)
    else:
        backend = SqliteAssistants(Path(settings.data_dir) / "assistants.sqlite")
    return Assistants(backend, graphs)


__all__ = ["Assistants", "RedisAssistants", "SqliteAssistants", "merged_config", "open_assistants"]

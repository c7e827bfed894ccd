"""Key layout, Lua scripts and pure (de)serialisation shared by the sync and async savers.

Only plain Redis commands are used (hashes, sorted sets, sets, strings and Lua), so the savers
run on Redis 6.2 and later, Valkey, managed Redis and Redis Cluster.

Key layout, version 1 (``P`` is the prefix, ``{T}`` the escaped thread id as a hash tag, so
every key of one thread lives in one Cluster slot and one Lua script can touch them all)::

    P:layout                  string   layout version, written by setup()
    P:v1:{T}:idx              zset     "<ns>\\0<checkpoint_id>", score 0, ordered by id (lex)
    P:v1:{T}:cp               hash     member -> msgpack [cp type, cp bytes, md type, md bytes,
                                       parent id]   (checkpoint without channel values)
    P:v1:{T}:cf               hash     member -> msgpack list of the blob fields it reads
    P:v1:{T}:bl               hash     "<ns>\\0<channel>\\0<version>" -> "<type>\\0<bytes>"
    P:v1:{T}:wi               zset     "<member>\\0<task_id>\\0<idx>", score 0 (writes index)
    P:v1:{T}:wv               hash     same field -> msgpack [task id, channel, type, bytes,
                                       task path, idx]
    P:v1:{T}:runs             zset     "<run_id>\\0<member>" for delete_for_runs
    P:v1:run:{R}              set      thread ids that run R wrote to
    P:v1:threads              zset     thread id -> first write time of its latest run
    P:v1:user:{U}             zset     thread id -> same, for threads whose metadata names U

Channel values are stored once per (channel, version), as LangGraph's Postgres saver does, so
a step only writes the channels it changed.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, NamedTuple, cast

import ormsgpack
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    get_serializable_checkpoint_metadata,
    writes_sort_key,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from maximus.errors import ConfigError, CorruptRecordError, StoreUnavailableError

LAYOUT_VERSION = 1
"""The key layout this code reads and writes."""

MIGRATIONS: list[str] = ["v1: hash-tagged per-thread hashes and lex-ordered sorted sets"]
"""One entry per layout version; ``setup()`` runs the steps between the stored and this one."""

THREAD_KEYS = ("idx", "cp", "cf", "bl", "wi", "wv", "runs")
"""The per-thread keys, in the order the Lua scripts receive them."""

SEP = "\x00"
REGISTRY_PAGE = 200
"""Thread ids read per round trip from a registry."""

# --- Lua -----------------------------------------------------------------------------------
# Every script takes the seven thread keys as KEYS, in THREAD_KEYS order. ``hmget_all`` chunks
# HMGET because Lua's unpack() is limited to a few thousand values.
_LUA_HELPERS = """
local function hmget_all(key, fields)
  local out = {}
  for i = 1, #fields, 1000 do
    local chunk = {}
    for j = i, math.min(i + 999, #fields) do chunk[#chunk + 1] = fields[j] end
    local vals = redis.call('HMGET', key, unpack(chunk))
    for j = 1, #vals do out[#out + 1] = vals[j] end
  end
  return out
end
local function touch(ttl)
  if ttl > 0 then
    for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
  end
end
local function read_one(member)
  local rec = redis.call('HGET', KEYS[2], member)
  if not rec then return false end
  local cf = redis.call('HGET', KEYS[3], member)
  local blobs = {}
  if cf then
    local fields = cmsgpack.unpack(cf)
    if #fields > 0 then blobs = hmget_all(KEYS[4], fields) end
  end
  local wfields = redis.call('ZRANGEBYLEX', KEYS[5], '[' .. member .. '\\0', '(' .. member .. '\\1')
  local wvals = {}
  if #wfields > 0 then wvals = hmget_all(KEYS[6], wfields) end
  return {member, rec, cf or '', blobs, wvals}
end
local function drop(member)
  redis.call('HDEL', KEYS[2], member)
  redis.call('HDEL', KEYS[3], member)
  redis.call('ZREM', KEYS[1], member)
  local wfields = redis.call('ZRANGEBYLEX', KEYS[5], '[' .. member .. '\\0', '(' .. member .. '\\1')
  for i = 1, #wfields, 1000 do
    local chunk = {}
    for j = i, math.min(i + 999, #wfields) do chunk[#chunk + 1] = wfields[j] end
    redis.call('HDEL', KEYS[6], unpack(chunk))
    redis.call('ZREM', KEYS[5], unpack(chunk))
  end
end
"""

# ARGV: ns, checkpoint id ('' = latest), refresh ttl (0 = none)
GET_LUA = (
    _LUA_HELPERS
    + """
local member
if ARGV[2] == '' then
  local r = redis.call('ZREVRANGEBYLEX', KEYS[1], '(' .. ARGV[1] .. '\\1', '[' .. ARGV[1] .. '\\0',
                       'LIMIT', 0, 1)
  if #r == 0 then return false end
  member = r[1]
else
  member = ARGV[1] .. '\\0' .. ARGV[2]
end
local out = read_one(member)
if out then touch(tonumber(ARGV[3])) end
return out
"""
)

# ARGV: refresh ttl, member...   -> one entry per member (false when gone)
GET_MANY_LUA = (
    _LUA_HELPERS
    + """
local out = {}
for i = 2, #ARGV do out[#out + 1] = read_one(ARGV[i]) end
touch(tonumber(ARGV[1]))
return out
"""
)

# ARGV: member, record, cf, ttl, runs member ('' = none), then blob field/value pairs
PUT_LUA = (
    _LUA_HELPERS
    + """
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], 0, ARGV[1])
if ARGV[5] ~= '' then redis.call('ZADD', KEYS[7], 0, ARGV[5]) end
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1]) end
touch(tonumber(ARGV[4]))
return 1
"""
)

# ARGV: ttl, then (field, value, overwrite '1'|'0') triples
PUT_WRITES_LUA = (
    _LUA_HELPERS
    + """
for i = 2, #ARGV, 3 do
  if ARGV[i + 2] == '1' then
    redis.call('HSET', KEYS[6], ARGV[i], ARGV[i + 1])
  else
    redis.call('HSETNX', KEYS[6], ARGV[i], ARGV[i + 1])
  end
  redis.call('ZADD', KEYS[5], 0, ARGV[i])
end
touch(tonumber(ARGV[1]))
return 1
"""
)

# ARGV: run id -> number of checkpoints removed
DELETE_RUN_LUA = (
    _LUA_HELPERS
    + """
local runs = redis.call('ZRANGEBYLEX', KEYS[7], '[' .. ARGV[1] .. '\\0', '(' .. ARGV[1] .. '\\1')
for i = 1, #runs do
  drop(string.sub(runs[i], #ARGV[1] + 2))
  redis.call('ZREM', KEYS[7], runs[i])
end
return #runs
"""
)

# Keep the newest checkpoint of every namespace, then drop blobs nothing references any more.
PRUNE_LATEST_LUA = (
    _LUA_HELPERS
    + """
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local latest = {}
for i = 1, #members do
  local ns = string.sub(members[i], 1, string.find(members[i], '\\0', 1, true) - 1)
  latest[ns] = members[i]  -- lex order: the last one seen is the newest
end
local keep = {}
for _, m in pairs(latest) do keep[m] = true end
local removed = 0
for i = 1, #members do
  if not keep[members[i]] then drop(members[i]); removed = removed + 1 end
end
local runs = redis.call('ZRANGE', KEYS[7], 0, -1)
for i = 1, #runs do
  local m = string.sub(runs[i], string.find(runs[i], '\\0', 1, true) + 1)
  if not keep[m] then redis.call('ZREM', KEYS[7], runs[i]) end
end
local used = {}
for m, _ in pairs(keep) do
  local cf = redis.call('HGET', KEYS[3], m)
  if cf then for _, f in ipairs(cmsgpack.unpack(cf)) do used[f] = true end end
end
local fields = redis.call('HKEYS', KEYS[4])
for i = 1, #fields do
  if not used[fields[i]] then redis.call('HDEL', KEYS[4], fields[i]) end
end
return removed
"""
)

# ARGV: token, lease ms -> 1 if taken.   Release: ARGV: token -> 1 if released.
LOCK_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


SCRIPTS = (
    GET_LUA,
    GET_MANY_LUA,
    PUT_LUA,
    PUT_WRITES_LUA,
    DELETE_RUN_LUA,
    PRUNE_LATEST_LUA,
    LOCK_RELEASE_LUA,
)
SHAS = {src: hashlib.sha1(src.encode()).hexdigest() for src in SCRIPTS}
"""Scripts run by SHA; a server that lost them (restart, failover) gets them reloaded."""


# --- keys ----------------------------------------------------------------------------------
def _tag(value: str) -> str:
    """Escape braces so a thread id never ends its own hash tag early."""
    return "{" + value.replace("%", "%25").replace("{", "%7B").replace("}", "%7D") + "}"


class Keys:
    """Builds every key name under one prefix (pure; no I/O)."""

    __slots__ = ("prefix", "root")

    def __init__(self, prefix: str) -> None:
        if not prefix or any(c in prefix for c in "{}\x00"):
            raise ConfigError(f"checkpoint key prefix {prefix!r} must be non-empty, without {{}}")
        self.prefix = prefix
        self.root = f"{prefix}:v{LAYOUT_VERSION}"

    @property
    def layout(self) -> str:
        return f"{self.prefix}:layout"

    def thread(self, thread_id: str) -> list[str]:
        """The seven keys of one thread, in :data:`THREAD_KEYS` order."""
        base = f"{self.root}:{_tag(thread_id)}:"
        return [base + name for name in THREAD_KEYS]

    def run(self, run_id: str) -> str:
        return f"{self.root}:run:{_tag(run_id)}"

    @property
    def threads(self) -> str:
        return f"{self.root}:threads"

    def user(self, user_id: str) -> str:
        return f"{self.root}:user:{_tag(user_id)}"

    def lock(self, thread_id: str) -> str:
        return f"{self.root}:{_tag(thread_id)}:lock"


# --- config helpers ------------------------------------------------------------------------
def thread_id_of(config: RunnableConfig) -> str:
    configurable = config.get("configurable") or {}
    thread_id = configurable.get("thread_id")
    if thread_id is None or thread_id == "":
        from maximus.errors import InvalidInputError

        raise InvalidInputError("a checkpoint config needs configurable.thread_id")
    return str(thread_id)


def ns_of(config: RunnableConfig) -> str:
    return str((config.get("configurable") or {}).get("checkpoint_ns") or "")


def member(ns: str, checkpoint_id: str) -> str:
    return f"{ns}{SEP}{checkpoint_id}"


def stored_config(thread_id: str, ns: str, checkpoint_id: str) -> RunnableConfig:
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": ns,
            "checkpoint_id": checkpoint_id,
        }
    }


# --- put -----------------------------------------------------------------------------------
class PutArgs(NamedTuple):
    """What one ``put`` sends: the script's ARGV plus the registry entries for a new run."""

    argv: list[Any]
    run_id: str | None
    user_id: str | None


def _blob_field(ns: str, channel: str, version: Any) -> str:
    return f"{ns}{SEP}{channel}{SEP}{version}"


def dump_put(
    serde: SerializerProtocol,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    new_versions: ChannelVersions,
    ttl: int,
) -> PutArgs:
    """Serialise a checkpoint into ``PUT_LUA``'s arguments."""
    ns = ns_of(config)
    copy: dict[str, Any] = dict(checkpoint)
    values: dict[str, Any] = copy.pop("channel_values", None) or {}
    md = get_serializable_checkpoint_metadata(config, metadata)
    cp_type, cp_bytes = serde.dumps_typed(copy)
    md_type, md_bytes = serde.dumps_typed(md)
    parent = (config.get("configurable") or {}).get("checkpoint_id")
    record = ormsgpack.packb([cp_type, cp_bytes, md_type, md_bytes, parent])
    fields = [_blob_field(ns, ch, ver) for ch, ver in checkpoint["channel_versions"].items()]
    mem = member(ns, checkpoint["id"])
    run_id = md.get("run_id")
    run_id = str(run_id) if run_id else None
    argv: list[Any] = [
        mem,
        record,
        ormsgpack.packb(fields),
        ttl,
        f"{run_id}{SEP}{mem}" if run_id else "",
    ]
    for channel, version in new_versions.items():
        argv.append(_blob_field(ns, channel, version))
        if channel in values:
            type_, data = serde.dumps_typed(values[channel])
            argv.append(type_.encode() + b"\x00" + data)
        else:
            argv.append(b"empty\x00")
    user = md.get("user_id")
    return PutArgs(argv, run_id, str(user) if user else None)


def dump_writes(
    serde: SerializerProtocol,
    config: RunnableConfig,
    writes: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str,
    ttl: int,
) -> list[Any]:
    """Serialise ``put_writes`` into ``PUT_WRITES_LUA``'s arguments.

    Regular writes keep the first value stored for a (task, index); the special channels
    (errors, interrupts, resumes) overwrite, matching LangGraph's own savers.
    """
    configurable = config.get("configurable") or {}
    base = member(ns_of(config), str(configurable["checkpoint_id"]))
    argv: list[Any] = [ttl]
    for i, (channel, value) in enumerate(writes):
        idx = WRITES_IDX_MAP.get(channel, i)
        type_, data = serde.dumps_typed(value)
        argv += [
            f"{base}{SEP}{task_id}{SEP}{idx}",
            ormsgpack.packb([task_id, channel, type_, data, task_path, idx]),
            "1" if idx < 0 else "0",
        ]
    return argv


# --- get -----------------------------------------------------------------------------------
def _decode(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def load_tuple(
    serde: SerializerProtocol, thread_id: str, raw: Sequence[Any], where: str
) -> CheckpointTuple:
    """Rebuild a :class:`CheckpointTuple` from what ``read_one`` returned.

    Raises:
        CorruptRecordError: the stored record cannot be decoded; ``where`` names the key.
    """
    try:
        mem, record, _cf, blobs, wvals = raw
        ns, checkpoint_id = _decode(mem).split(SEP, 1)
        cp_type, cp_bytes, md_type, md_bytes, parent = ormsgpack.unpackb(record)
        checkpoint = serde.loads_typed((cp_type, cp_bytes))
        metadata = serde.loads_typed((md_type, md_bytes))
        values: dict[str, Any] = {}
        for channel, blob in zip(checkpoint["channel_versions"], blobs or [], strict=False):
            if blob is None:
                continue
            type_, _, data = bytes(blob).partition(b"\x00")
            if type_ != b"empty":
                values[channel] = serde.loads_typed((type_.decode(), data))
        writes = sorted(
            (ormsgpack.unpackb(w) for w in (wvals or []) if w is not None),
            key=lambda w: writes_sort_key(w[4], w[0], w[5]),
        )
        pending: list[PendingWrite] = [
            (w[0], w[1], serde.loads_typed((w[2], w[3]))) for w in writes
        ]
    except (ValueError, TypeError, KeyError, ormsgpack.MsgpackDecodeError) as exc:
        raise CorruptRecordError(f"checkpoint record in {where} cannot be decoded: {exc}") from exc
    return CheckpointTuple(
        config=stored_config(thread_id, ns, checkpoint_id),
        checkpoint=cast(Checkpoint, {**checkpoint, "channel_values": values}),
        metadata=metadata,
        parent_config=stored_config(thread_id, ns, parent) if parent else None,
        pending_writes=pending,
    )


def metadata_matches(metadata: Mapping[str, Any], filter: Mapping[str, Any] | None) -> bool:
    return not filter or all(metadata.get(k) == v for k, v in filter.items())


# --- list ----------------------------------------------------------------------------------
class ListPlan(NamedTuple):
    """How ``list`` walks one thread: which members, newest first."""

    ns: str | None
    """The namespace to list, or None for every namespace of the thread."""
    checkpoint_id: str | None
    before: str | None


def plan_list(config: RunnableConfig, before: RunnableConfig | None) -> ListPlan:
    configurable = config.get("configurable") or {}
    ns = configurable.get("checkpoint_ns")
    before_id = (before.get("configurable") or {}).get("checkpoint_id") if before else None
    return ListPlan(
        None if ns is None else str(ns),
        configurable.get("checkpoint_id"),
        str(before_id) if before_id else None,
    )


def lex_range(plan: ListPlan) -> tuple[str, str]:
    """ZREVRANGEBYLEX bounds (max, min) for a plan with a namespace."""
    assert plan.ns is not None
    high = "(" + member(plan.ns, plan.before) if plan.before else "(" + plan.ns + "\x01"
    return high, "[" + plan.ns + SEP


def order_members(members: Iterable[Any], plan: ListPlan) -> list[str]:
    """Members of every namespace, newest checkpoint first, ``before`` applied."""
    out = []
    for raw in members:
        mem = _decode(raw)
        cid = mem.split(SEP, 1)[1]
        if plan.before is None or cid < plan.before:
            out.append(mem)
    return sorted(out, key=lambda m: m.split(SEP, 1)[1], reverse=True)


def now() -> float:
    return time.time()


# --- maintenance plans (commands for one pipeline) -------------------------------------------
Command = tuple[str, tuple[Any, ...]]
HASH_KEYS = frozenset({"cp", "cf", "bl", "wv"})


def read_thread_commands(keys: Sequence[str]) -> list[Command]:
    """Read every structure of a thread (for copying)."""
    return [
        ("HGETALL", (key,)) if name in HASH_KEYS else ("ZRANGE", (key, 0, -1))
        for key, name in zip(keys, THREAD_KEYS, strict=True)
    ]


def run_of(raw: Any) -> str:
    """The run id of a ``runs`` member."""
    return _decode(raw).split(SEP, 1)[0]


def copy_commands(
    k: Keys, target: str, dst: Sequence[str], data: Sequence[Any], ttl: int
) -> list[Command]:
    """Write what :func:`read_thread_commands` read into the target thread (merging)."""
    cmds: list[Command] = []
    runs: set[str] = set()
    for key, name, value in zip(dst, THREAD_KEYS, data, strict=True):
        if not value:
            continue
        if name in HASH_KEYS:
            flat = [x for pair in dict(value).items() for x in pair]
            cmds.append(("HSET", (key, *flat)))
        else:
            cmds.append(("ZADD", (key, *[x for m in value for x in (0, m)])))
            if name == "runs":
                runs |= {run_of(m) for m in value}
        if ttl:
            cmds.append(("EXPIRE", (key, ttl)))
    if cmds:
        cmds.append(("ZADD", (k.threads, now(), target)))
        cmds += [("SADD", (k.run(run_id), target)) for run_id in sorted(runs)]
    return cmds


def delete_commands(
    k: Keys, thread_id: str, runs: Iterable[Any], user_id: Any | None
) -> list[Command]:
    """Remove a thread and its registry entries."""
    cmds: list[Command] = [("DEL", tuple(k.thread(thread_id))), ("ZREM", (k.threads, thread_id))]
    cmds += [("SREM", (k.run(run_id), thread_id)) for run_id in sorted({run_of(m) for m in runs})]
    if user_id:
        cmds.append(("ZREM", (k.user(str(user_id)), thread_id)))
    return cmds


# --- shared saver state --------------------------------------------------------------------
class BaseRedisSaver(BaseCheckpointSaver[str]):
    """State and pure helpers shared by :class:`RedisSaver` and :class:`AsyncRedisSaver`.

    Args:
        prefix: every key starts with it; give each application (or test) its own.
        ttl: seconds a thread lives after its last write (``None``: forever). Applies to every
            key of the thread at once.
        refresh_on_read: reading a thread also pushes its expiry back by ``ttl``.
        serde: LangGraph serializer (``JsonPlusSerializer`` by default; wrap it in
            ``EncryptedSerializer`` to encrypt at rest).
    """

    MIGRATIONS = MIGRATIONS
    LAYOUT_VERSION = LAYOUT_VERSION

    def __init__(
        self,
        *,
        prefix: str = "maximus:cp",
        ttl: int | None = None,
        refresh_on_read: bool = False,
        serde: SerializerProtocol | None = None,
        url: str = "redis",
    ) -> None:
        super().__init__(serde=serde)
        if ttl is not None and ttl <= 0:
            raise ConfigError(f"checkpoint ttl must be a positive number of seconds, got {ttl}")
        self.keys = Keys(prefix)
        self.ttl = int(ttl or 0)
        self.refresh_on_read = refresh_on_read
        self._where = url
        # (thread, run) pairs this process already put in the registries: later puts of the
        # same run skip those commands, so a step costs one script call.
        self._registered: OrderedDict[tuple[str, str | None], None] = OrderedDict()

    def get_next_version(self, current: str | None, channel: None = None) -> str:
        """Zero-padded counter plus a random tail, ordered as strings (as LangGraph's savers)."""
        if current is None:
            current_v = 0
        elif isinstance(current, int):
            current_v = current
        else:
            current_v = int(str(current).split(".")[0])
        return f"{current_v + 1:032}.{random.random():016}"

    def _read_ttl(self) -> int:
        return self.ttl if self.refresh_on_read else 0

    def _registry_commands(self, thread_id: str, put: PutArgs) -> list[tuple[str, tuple[Any, ...]]]:
        """Registry writes for the first put of a (thread, run) in this process."""
        key = (thread_id, put.run_id)
        if key in self._registered:
            return []
        self._registered[key] = None
        if len(self._registered) > 10_000:
            self._registered.popitem(last=False)
        stamp = now()
        cmds: list[tuple[str, tuple[Any, ...]]] = [("ZADD", (self.keys.threads, stamp, thread_id))]
        if put.run_id:
            run_key = self.keys.run(put.run_id)
            cmds.append(("SADD", (run_key, thread_id)))
            if self.ttl:
                cmds.append(("EXPIRE", (run_key, self.ttl)))
        if put.user_id:
            cmds.append(("ZADD", (self.keys.user(put.user_id), stamp, thread_id)))
        return cmds

    @staticmethod
    def _raise_pipeline_errors(results: Sequence[Any]) -> None:
        """Raise the first error a pipeline returned, bar a missing script (reloaded later)."""
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, NoScriptError):
                raise result

    def _forget(self, thread_id: str) -> None:
        for key in [k for k in self._registered if k[0] == thread_id]:
            del self._registered[key]

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Map client errors to Maximus' typed errors, naming the server and the operation."""
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise StoreUnavailableError(
                f"checkpoint store {self._where} unreachable during {what}: {exc}"
            ) from exc
        except ResponseError as exc:
            if "WRONGTYPE" in str(exc):
                raise CorruptRecordError(
                    f"a key under {self.keys.prefix!r} holds the wrong type during {what}: {exc}"
                ) from exc
            raise

    def _check_layout(self, stored: Any) -> bool:
        """True if setup must write the layout marker; raises if the data is from the future."""
        if stored is None:
            return True
        try:
            version = int(stored)
        except (TypeError, ValueError) as exc:
            raise CorruptRecordError(
                f"{self.keys.layout} holds {stored!r}, not a layout version"
            ) from exc
        if version > LAYOUT_VERSION:
            raise ConfigError(
                f"checkpoints under {self.keys.prefix!r} use key layout v{version}; this Maximus "
                f"reads v{LAYOUT_VERSION}. Upgrade Maximus or use another prefix."
            )
        # Older layouts would be migrated here, one MIGRATIONS step at a time.
        return version < LAYOUT_VERSION


PruneStrategy = Literal["keep_latest", "delete"]

__all__ = [
    "BaseRedisSaver",
    "Command",
    "copy_commands",
    "delete_commands",
    "read_thread_commands",
    "run_of",
    "now",
    "DELETE_RUN_LUA",
    "GET_LUA",
    "GET_MANY_LUA",
    "LAYOUT_VERSION",
    "LOCK_RELEASE_LUA",
    "MIGRATIONS",
    "PRUNE_LATEST_LUA",
    "PUT_LUA",
    "PUT_WRITES_LUA",
    "REGISTRY_PAGE",
    "SCRIPTS",
    "SHAS",
    "THREAD_KEYS",
    "Keys",
    "ListPlan",
    "PruneStrategy",
    "PutArgs",
    "dump_put",
    "dump_writes",
    "lex_range",
    "load_tuple",
    "metadata_matches",
    "order_members",
    "plan_list",
    "stored_config",
    "thread_id_of",
]

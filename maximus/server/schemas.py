"""Request and response bodies, in the shapes of ``langgraph_sdk.schema`` (pydantic, at the
HTTP edge only). Responses allow extra keys so that newer SDK fields pass through."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from maximus.server._events import STREAM_MODES, StreamModeName

Json = dict[str, Any]
PageLimit = Annotated[int, Field(ge=1, le=1000)]
"""How many items a search returns at most."""
PageOffset = Annotated[int, Field(ge=0)]
"""How many matching items a search skips."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- assistants ---------------------------------------------------------------------------


class AssistantSearch(_Body):
    graph_id: str | None = None
    metadata: Json | None = None
    name: str | None = None
    limit: PageLimit = 10
    offset: PageOffset = 0


class Assistant(_Out):
    assistant_id: str
    graph_id: str
    config: Json
    context: Json
    metadata: Json
    name: str
    description: str | None = None
    version: int
    created_at: str
    updated_at: str


class AssistantCreate(_Body):
    graph_id: str = Field(min_length=1, max_length=200)
    assistant_id: str | None = Field(default=None, min_length=1, max_length=200)
    config: Json | None = None
    context: Json | None = None
    metadata: Json | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class AssistantPatch(_Body):
    graph_id: str | None = Field(default=None, min_length=1, max_length=200)
    config: Json | None = None
    context: Json | None = None
    metadata: Json | None = None
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class AssistantVersionSearch(_Body):
    metadata: Json | None = None
    limit: PageLimit = 10
    offset: PageOffset = 0


class AssistantLatest(_Body):
    version: int = Field(ge=1)


class AssistantVersion(_Out):
    assistant_id: str
    graph_id: str
    config: Json
    context: Json
    metadata: Json
    name: str
    description: str | None = None
    version: int
    created_at: str


class AssistantCount(_Body):
    graph_id: str | None = None
    metadata: Json | None = None
    name: str | None = None


# --- threads ------------------------------------------------------------------------------


class ThreadCreate(_Body):
    thread_id: str | None = Field(default=None, min_length=1, max_length=200)
    metadata: Json | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    graph_id: str | None = None


class ThreadSearch(_Body):
    metadata: Json | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None
    limit: PageLimit = 10
    offset: PageOffset = 0


class ThreadPatch(_Body):
    metadata: Json = Field(default_factory=dict)
    """Merged into the thread's metadata."""


class ThreadPrune(_Body):
    thread_ids: list[str] = Field(max_length=1000)
    strategy: Literal["delete", "keep_latest"] = "delete"


class ThreadPruned(_Out):
    pruned_count: int


class RunsCancel(_Body):
    thread_id: str | None = None
    run_ids: list[str] | None = None
    status: Literal["pending", "running", "all"] | None = None


class ThreadCount(_Body):
    metadata: Json | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None


class Thread(_Out):
    thread_id: str
    created_at: str
    updated_at: str
    metadata: Json
    status: Literal["idle", "busy", "interrupted", "error"]
    values: Any = None
    interrupts: dict[str, list[Any]] = Field(default_factory=dict)


class CheckpointRef(_Body):
    thread_id: str | None = None
    checkpoint_ns: str = ""
    checkpoint_id: str | None = None
    checkpoint_map: Json | None = None


class ThreadStateUpdate(_Body):
    values: Any = None
    as_node: str | None = None
    checkpoint: CheckpointRef | None = None
    checkpoint_id: str | None = None


class ThreadStateCheckpoint(_Body):
    checkpoint: CheckpointRef
    subgraphs: bool = False


class ThreadHistory(_Body):
    limit: PageLimit = 10
    before: str | CheckpointRef | None = None
    metadata: Json | None = None
    checkpoint: CheckpointRef | None = None


class Checkpoint(_Out):
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str | None = None
    checkpoint_map: Json | None = None


class ThreadState(_Out):
    values: Any = None
    next: list[str]
    checkpoint: Checkpoint | None = None
    metadata: Json
    created_at: str | None = None
    parent_checkpoint: Checkpoint | None = None
    tasks: list[Json]
    interrupts: list[Any]


class ThreadUpdateStateResponse(_Out):
    checkpoint: Checkpoint | None = None


# --- runs ---------------------------------------------------------------------------------


class RunCommand(_Body):
    resume: Any = None
    update: Any = None
    goto: Any = None


class RunCreate(_Body):
    """A run on a thread (``/threads/{id}/runs*``) or a stateless one (``/runs*``)."""

    assistant_id: str = Field(min_length=1, max_length=200)
    input: Any = None
    command: RunCommand | None = None
    config: Json | None = None
    context: Json | None = None
    metadata: Json | None = None
    stream_mode: StreamModeName | list[StreamModeName] = "values"
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    checkpoint: CheckpointRef | None = None
    checkpoint_id: str | None = None
    multitask_strategy: Literal["reject", "interrupt", "rollback", "enqueue"] = "reject"
    if_not_exists: Literal["reject", "create"] = "reject"
    on_disconnect: Literal["cancel", "continue"] = "continue"
    on_completion: Literal["delete", "keep"] = "delete"
    durability: Literal["sync", "async", "exit"] | None = None
    after_seconds: float | None = Field(default=None, ge=0)
    webhook: str | None = None
    feedback_keys: list[str] | None = None

    @field_validator("stream_mode")
    @classmethod
    def _modes(cls, value: str | list[str]) -> list[str]:
        modes = [value] if isinstance(value, str) else list(value)
        unknown = set(modes) - STREAM_MODES
        if unknown:
            raise ValueError(f"unsupported stream_mode {sorted(unknown)}")
        return modes or ["values"]

    @property
    def modes(self) -> list[str]:
        return list(self.stream_mode)  # the validator made it a list


class CronCreate(RunCreate):
    schedule: str = Field(min_length=1, max_length=200)
    """A cron expression: five fields, or six with seconds last."""
    end_time: datetime | None = None
    enabled: bool = True
    timezone: str | None = None
    on_run_completed: Literal["delete", "keep"] | None = None


class CronPatch(_Body):
    schedule: str | None = Field(default=None, min_length=1, max_length=200)
    end_time: datetime | None = None
    enabled: bool | None = None
    timezone: str | None = None
    metadata: Json | None = None
    input: Any = None
    config: Json | None = None
    context: Json | None = None
    on_run_completed: Literal["delete", "keep"] | None = None


class CronSearch(_Body):
    assistant_id: str | None = None
    thread_id: str | None = None
    enabled: bool | None = None
    limit: PageLimit = 10
    offset: PageOffset = 0


class CronCount(_Body):
    assistant_id: str | None = None
    thread_id: str | None = None


class Cron(_Out):
    cron_id: str
    assistant_id: str
    thread_id: str | None = None
    schedule: str
    payload: Json
    user_id: str | None = None
    next_run_date: str | None = None
    metadata: Json
    enabled: bool
    created_at: str
    updated_at: str


class Run(_Out):
    run_id: str
    thread_id: str
    assistant_id: str
    created_at: str
    updated_at: str
    status: Literal["pending", "running", "error", "success", "timeout", "interrupted"]
    metadata: Json
    multitask_strategy: Literal["reject", "interrupt", "rollback", "enqueue"]


# --- plugins and ops ----------------------------------------------------------------------


class Plugin(_Out):
    name: str
    state: str
    origin: str
    location: str
    version: str | None = None
    type: str | None = None
    description: str = ""
    error: str | None = None
    tools: list[str]
    requires: list[str]
    isolation: str


class Health(_Out):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


class ErrorBody(_Out):
    """Every error response: a stable code and a human message (never a stack trace)."""

    code: str
    message: str
    detail: Any = None
    request_id: str | None = None


__all__ = [
    "Cron",
    "CronCount",
    "CronCreate",
    "CronPatch",
    "CronSearch",
    "AssistantCreate",
    "AssistantLatest",
    "AssistantPatch",
    "AssistantVersion",
    "AssistantVersionSearch",
    "RunsCancel",
    "ThreadPatch",
    "ThreadPrune",
    "ThreadPruned",
    "Assistant",
    "AssistantCount",
    "AssistantSearch",
    "Checkpoint",
    "ErrorBody",
    "Health",
    "Plugin",
    "Run",
    "RunCommand",
    "RunCreate",
    "Thread",
    "ThreadCount",
    "ThreadCreate",
    "ThreadHistory",
    "ThreadSearch",
    "ThreadState",
    "ThreadStateCheckpoint",
    "ThreadStateUpdate",
    "ThreadUpdateStateResponse",
]

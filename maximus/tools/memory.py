"""Memory tools: one retriever tool per MIRIX type, write tools, active retrieval, lessons.

* ``search_<type>_memory`` (six tools): :class:`MemoryRetriever` wrapped by LangChain's
  ``create_retriever_tool(..., response_format="content_and_artifact")``; the artifact is the
  list of ``Document`` s (vault entries redacted).
* ``remember``: stores a memory; the model names the type, or :func:`classify` picks it.
* ``update_core_memory``: appends to or rewrites the persona/human block.
* ``forget``: deletes a memory by type and id.
* ``reveal_secret``: hands the model a *reference* to a vault secret, ``{{vault:<id>}}``, never
  the secret. A tool the vault's policy allows receives the plaintext in place of the
  reference, inside its call only (:mod:`maximus.tools.secrets`).

:func:`make_recall` builds the active-retrieval hook the plan node calls before planning,
and :func:`memory_lesson_writer` turns reflection lessons into procedural and episodic records.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, overload

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool, ToolException, create_retriever_tool, tool
from pydantic import ConfigDict

from maximus.errors import MaximusError
from maximus.memory.lessons import Lesson, LessonWriter
from maximus.memory.longterm.records import MEMORY_TYPES, MemoryRecord, MemoryType, VaultEntry
from maximus.memory.longterm.store import MemoryStore, SearchResult
from maximus.memory.longterm.vault import check_reveal, reference
from maximus.tools.secrets import SecretsTool, VaultSecrets

_DESCRIPTIONS: dict[str, str] = {
    "core": "the persona and human blocks (who the agent is, who the user is)",
    "episodic": "past events and conversations: what happened, when, who did it",
    "semantic": "facts and concepts about people, places, projects and things",
    "procedural": "how-to knowledge: workflows, guides, scripts and learned lessons",
    "resource": "documents, files and pages the user shared",
    "vault": "credentials, API keys, bookmarks and contacts (secrets come back as references)",
}


def render(record: MemoryRecord) -> str:
    """One line (or a few) a model reads for ``record``; vault secrets are never included."""
    kind = record.kind  # type: ignore[attr-defined]
    stamp = record.event_time().strftime("%Y-%m-%d %H:%M")
    if isinstance(record, VaultEntry):
        return (
            f"[vault {record.id}] {record.caption} ({record.entry_type}, "
            f"sensitivity {record.sensitivity}; pass {reference(record.id)} to a tool that "
            "needs the secret)"
        )
    return f"[{kind} {record.id} @ {stamp}] {record.embed_text()}"


@overload
def run_user(default: str) -> str: ...
@overload
def run_user(default: None) -> str | None: ...
def run_user(default: str | None) -> str | None:
    """Whose memory a call inside a run reads and writes: the run's owner when the run names
    one (``configurable.user_id``, which the HTTP server sets from the caller's credentials),
    else ``default``. One compiled agent thus serves many users without sharing memory."""
    from langchain_core.runnables import ensure_config

    owner = ensure_config().get("configurable", {}).get("user_id")
    return str(owner) if owner else default


def to_document(result: SearchResult) -> Document:
    """A LangChain document for a search result (metadata: the record's fields, redacted)."""
    record = result.record
    metadata = record.model_dump(mode="json")
    metadata["score"] = result.score
    return Document(page_content=render(record), metadata=metadata, id=record.id)


class MemoryRetriever(BaseRetriever):
    """Retrieves memories of one type (or all, with ``memory_type=None``) from a store.

    Args:
        store: the memory store.
        memory_type: the type searched; ``None`` searches all six.
        k: results per query (``invoke(query, k=3)`` overrides it).
        user_id: whose memory; ``None`` uses the store's settings.
        agent_id: the reading agent (its private records plus the shared namespaces).
        hybrid: fuse keyword search (default: the settings').
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: MemoryStore
    memory_type: MemoryType | None = None
    k: int = 4
    user_id: str | None = None
    agent_id: str | None = None
    hybrid: bool | None = None

    def _search_args(self, k: int | None) -> dict[str, Any]:
        return {
            "types": [self.memory_type] if self.memory_type else None,
            "k": k or self.k,
            "user_id": run_user(self.user_id),
            "agent_id": self.agent_id,
            "hybrid": self.hybrid,
        }

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        return [to_document(r) for r in self.store.search(query, **self._search_args(k))]

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
    ) -> list[Document]:
        results = await self.store.asearch(query, **self._search_args(k))
        return [to_document(r) for r in results]


def retriever_tools(
    store: MemoryStore, *, user_id: str | None = None, agent_id: str | None = None, k: int = 4
) -> list[BaseTool]:
    """The six ``search_<type>_memory`` tools."""
    return [
        create_retriever_tool(
            MemoryRetriever(store=store, memory_type=kind, k=k, user_id=user_id, agent_id=agent_id),
            f"search_{kind}_memory",
            f"Search long-term {kind} memory: {_DESCRIPTIONS[kind]}. "
            "Input: a natural-language query.",
            response_format="content_and_artifact",
        )
        for kind in MEMORY_TYPES
    ]


_PROCEDURAL = re.compile(r"\b(how to|steps?|first|then|workflow|procedure|always|never)\b", re.I)
_EPISODIC = re.compile(
    r"\b(yesterday|today|last (week|month|night)|ago|happened|met|went|did|was|were)\b", re.I
)
_RESOURCE = re.compile(r"(https?://|\bdocument\b|\bfile\b|\bpdf\b|\barticle\b|\bpage\b)", re.I)


def classify(text: str) -> MemoryType:
    """A rule-based guess at the memory type of ``text`` when the model names none.

    Procedural for instructions, resource for documents and links, episodic for events in
    time, semantic otherwise. (Secrets never go through here: ``remember`` needs ``secret=``
    for the vault, and core memory has its own tool.)
    """
    if _PROCEDURAL.search(text):
        return "procedural"
    if _RESOURCE.search(text):
        return "resource"
    if _EPISODIC.search(text):
        return "episodic"
    return "semantic"


def _title(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "memory"
    return first[:80]


def record_from_text(
    text: str,
    memory_type: MemoryType,
    *,
    user_id: str,
    agent_id: str,
    namespace: str | None = None,
    tags: Sequence[str] = (),
    secret: str | None = None,
) -> dict[str, Any]:
    """The record input for free ``text`` of ``memory_type`` (for ``remember`` and lessons)."""
    base: dict[str, Any] = {
        "kind": memory_type,
        "user_id": user_id,
        "agent_id": agent_id,
        "namespace": namespace,
        "tags": list(tags),
    }
    if memory_type == "episodic":
        return base | {"summary": text, "occurred_at": datetime.now(UTC)}
    if memory_type == "semantic":
        return base | {"name": _title(text), "summary": text}
    if memory_type == "procedural":
        steps = [s.strip() for s in re.split(r"[\n;]+", text) if s.strip()]
        return base | {"name": _title(text), "description": text, "steps": steps}
    if memory_type == "resource":
        return base | {"title": _title(text), "content": text}
    if memory_type == "vault":
        if not secret:
            raise ToolException("a vault memory needs the secret argument")
        return base | {"caption": text, "secret": secret}
    raise ToolException("core memory is changed with update_core_memory")


def memory_tools(
    store: MemoryStore, *, user_id: str | None = None, agent_id: str | None = None, k: int = 4
) -> list[BaseTool]:
    """Every memory tool over ``store``: six retrievers, remember, update_core_memory, forget
    and reveal_secret."""
    user = user_id or store.settings.user_id
    agent = agent_id or store.settings.agent_id

    @tool
    async def remember(
        content: str,
        memory_type: Literal["episodic", "semantic", "procedural", "resource", "vault"]
        | None = None,
        tags: list[str] | None = None,
        shared: bool = False,
        secret: str | None = None,
    ) -> str:
        """Store something in long-term memory.

        Args:
            content: what to remember, in one or a few sentences (for the vault: a caption
                describing the secret, never the secret itself).
            memory_type: episodic (an event), semantic (a fact), procedural (how to do
                something), resource (a document) or vault (a secret); omit to let it be
                classified.
            tags: optional labels.
            shared: store in the shared namespace every agent reads.
            secret: for the vault only, the secret to encrypt.
        """
        kind = memory_type or classify(content)
        namespace = store.settings.shared_namespaces[0] if shared else None
        try:
            data = record_from_text(
                content,
                kind,
                user_id=run_user(user),
                agent_id=agent,
                namespace=namespace,
                tags=tags or (),
                secret=secret,
            )
            (record,) = await store.aadd(data)
        except MaximusError as exc:
            raise ToolException(str(exc)) from exc
        return f"remembered as {kind} memory {record.id}"

    @tool
    async def update_core_memory(
        block: Literal["persona", "human"],
        content: str,
        mode: Literal["append", "replace"] = "append",
    ) -> str:
        """Change a core memory block, which is always in your context.

        Args:
            block: persona (who you are) or human (who the user is).
            content: the text to add or the new text.
            mode: append to the block, or replace it.
        """
        try:
            record = await asyncio.to_thread(
                store.update_core,
                block,
                content,
                append=mode == "append",
                user_id=run_user(user),
                agent_id=agent,
            )
        except MaximusError as exc:
            raise ToolException(str(exc)) from exc
        return f"core {block} block now {len(record.value)}/{record.limit} characters"

    @tool
    async def forget(memory_type: str, memory_id: str) -> str:
        """Delete a memory by its type and id (as shown in search results)."""
        try:
            await store.adelete(memory_type, memory_id, user_id=run_user(user))
        except MaximusError as exc:
            raise ToolException(str(exc)) from exc
        return f"forgot {memory_type} memory {memory_id}"

    async def reveal_secret(memory_id: str) -> str:
        """Get the reference to a vault secret, {{vault:<id>}}, to put in the arguments of a
        tool that needs the secret (for example an API key in a header). You never see the
        secret itself: the tool receives it, if the vault's policy allows that tool.

        Args:
            memory_id: the vault entry's id, as shown in search results.
        """
        owner = run_user(user)
        try:
            entry = await store.aget("vault", memory_id, user_id=owner)
            check_reveal(entry.sensitivity, store.settings.vault_reveal_max)  # type: ignore[attr-defined]
        except MaximusError as exc:
            raise ToolException(str(exc)) from exc
        return (
            f"{reference(memory_id)} stands for the secret of vault entry {memory_id}; put it "
            "in the arguments of the tool that needs the secret"
        )

    reveal = SecretsTool.from_function(
        coroutine=reveal_secret,
        name="reveal_secret",
        secrets=VaultSecrets(store, user_id=user),
    )

    writers: list[BaseTool] = [remember, update_core_memory, forget, reveal]
    for writer in writers:
        writer.handle_tool_error = True  # the model reads the typed error, the run goes on
    return retriever_tools(store, user_id=user, agent_id=agent, k=k) + writers


Recall = Callable[[str], Awaitable[str | None]]


def make_recall(
    store: MemoryStore,
    *,
    k: int | None = None,
    user_id: str | None = None,
    agent_id: str | None = None,
) -> Recall:
    """Active retrieval: ``recall(goal)`` is the context the planner gets before planning.

    It holds the core blocks (always) and the top ``k`` records across the other types
    (``MAXIMUS_MEMORY__ACTIVE_TOP_K``), vault entries redacted. A failing store yields
    ``None``: memory must never stop the agent.
    """
    top = store.settings.active_top_k if k is None else k
    types = [t for t in MEMORY_TYPES if t != "core"]

    async def recall(goal: str) -> str | None:
        user = run_user(user_id)
        try:
            blocks = await asyncio.to_thread(store.core_blocks, user_id=user, agent_id=agent_id)
            hits = (
                await store.asearch(goal, types=types, k=top, user_id=user, agent_id=agent_id)
                if top
                else []
            )
        except Exception:  # noqa: BLE001 - memory is an aid; the run goes on without it
            import logging

            logging.getLogger(__name__).warning("active retrieval failed", exc_info=True)
            return None
        lines = [f"{b.label}: {b.value}" for b in blocks]
        lines += [render(h.record) for h in hits]
        if not lines:
            return None
        return "Relevant long-term memory:\n" + "\n".join(f"- {line}" for line in lines)

    return recall


def memory_lesson_writer(
    store: MemoryStore, *, user_id: str | None = None, agent_id: str | None = None
) -> LessonWriter:
    """A lesson-sink writer that stores reflection lessons as memory.

    Procedural lessons become procedural records (a guide learned from a step); episodic ones
    become episodic records (what happened, with the outcome). Both are tagged ``lesson``.
    """
    user = user_id or store.settings.user_id
    agent = agent_id or store.settings.agent_id

    async def write(lessons: list[Lesson]) -> None:
        records: list[dict[str, Any]] = []
        for lesson in lessons:
            tags = ["lesson", "success" if lesson.success else "failure"]
            when = datetime.fromtimestamp(lesson.created_at, UTC)
            if lesson.kind == "procedural":
                records.append(
                    {
                        "kind": "procedural",
                        "user_id": user,
                        "agent_id": agent,
                        "name": _title(lesson.text),
                        "entry_type": "guide",
                        "description": lesson.text,
                        "steps": [lesson.text],
                        "tags": tags,
                        "created_at": when,
                    }
                )
            else:
                records.append(
                    {
                        "kind": "episodic",
                        "user_id": user,
                        "agent_id": agent,
                        "occurred_at": when,
                        "actor": "assistant",
                        "event_type": "reflection",
                        "summary": lesson.text,
                        "details": f"thread {lesson.thread_id} run {lesson.run} step "
                        f"{lesson.step_id}",
                        "tags": tags,
                    }
                )
        await store.aadd(records)

    return write


__all__ = [
    "MemoryRetriever",
    "Recall",
    "classify",
    "make_recall",
    "memory_lesson_writer",
    "memory_tools",
    "record_from_text",
    "render",
    "retriever_tools",
    "to_document",
]

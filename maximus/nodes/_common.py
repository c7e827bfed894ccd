"""Helpers shared by the nodes: structured model calls, token accounting, budgets."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers.base import BaseLLMOutputParser
from langchain_core.outputs import ChatGeneration
from langchain_core.runnables import Runnable
from langgraph.runtime import Runtime
from pydantic import BaseModel, ValidationError

from maximus.config import Role
from maximus.errors import ModelOutputError
from maximus.graphs.context import AgentDeps, Options, RunOptions
from maximus.graphs.state import AgentState, Counters, new_counters
from maximus.models.thinking import TaskSignals, choose_mode, with_thinking

T = TypeVar("T", bound=BaseModel)

RECURSION_RESERVE = 6
"""Super-steps kept back so a run can always reach ``respond`` before the recursion limit."""


class Usage(NamedTuple):
    """Tokens one model response used, as its provider reported them (0 where it did not)."""

    total: int = 0
    prompt: int = 0
    cached: int = 0
    """Prompt tokens served from the provider's cache (``input_token_details.cache_read``)."""

    def __add__(self, other: object) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(self.total + other.total, self.prompt + other.prompt,
                     self.cached + other.cached)  # fmt: skip


def usage_of(message: Any) -> Usage:
    """The usage a model response reports (zeros if it reports none)."""
    usage = getattr(message, "usage_metadata", None) or {}
    details = usage.get("input_token_details") or {}
    return Usage(
        int(usage.get("total_tokens") or 0),
        int(usage.get("input_tokens") or 0),
        int(details.get("cache_read") or 0),
    )


@dataclass(frozen=True, slots=True)
class StructuredCall:
    """A model prepared to answer with one schema, built once per role, mode and schema.

    Building is not free (``with_structured_output`` converts the schema; for Gemini it takes
    about 0.85 ms), so :func:`ask` keeps these in ``AgentDeps.chains``.
    """

    schema: type[BaseModel]
    binding: Runnable[Any, Any] | None
    """The provider's own model binding, when its chain is ``binding | parser``."""
    parser: BaseLLMOutputParser[Any] | None
    with_raw: Runnable[Any, Any] | None
    """The general ``include_raw=True`` chain, for providers of any other shape."""

    @classmethod
    def build(cls, model: BaseChatModel, schema: type[BaseModel]) -> StructuredCall:
        """Prepare ``model`` to answer with ``schema``."""
        steps: Sequence[Any] = getattr(model.with_structured_output(schema), "steps", ())
        if len(steps) == 2 and isinstance(steps[1], BaseLLMOutputParser):
            return cls(schema, steps[0], steps[1], None)
        return cls(schema, None, None, model.with_structured_output(schema, include_raw=True))

    async def __call__(self, messages: list[BaseMessage]) -> tuple[Any, Any]:
        """``(parsed, raw message)``.

        Raises:
            OutputParserException: the reply does not parse into the schema.
        """
        if self.binding is not None and self.parser is not None:
            # The provider's binding, then its parser, called directly: the work of
            # ``include_raw=True`` without its parallel and fallback wrappers (~1.5 ms a call).
            raw = await self.binding.ainvoke(messages)
            try:
                return self.parser.parse_result([ChatGeneration(message=raw)]), raw
            except ValidationError as exc:
                raise OutputParserException(str(exc)) from exc
        assert self.with_raw is not None
        out: dict[str, Any] = await self.with_raw.ainvoke(messages)
        if out.get("parsed") is None:
            raise OutputParserException(str(out.get("parsing_error") or "no structured output"))
        return out["parsed"], out.get("raw")


async def ask(
    deps: AgentDeps,
    role: Role,
    schema: type[T],
    messages: Sequence[BaseMessage],
    options: Options,
    signals: TaskSignals,
) -> tuple[T, Usage]:
    """One structured model call; returns the parsed object and the tokens it used.

    Raises:
        ModelOutputError: the output did not parse into ``schema`` (nodes retry on this).
    """
    mode = choose_mode(options.mode, signals)
    # Keyed by name: schemas built for the values allowed now (``tools.choices``) replace the
    # previous one of their name instead of piling up.
    key = (role, mode, f"{schema.__module__}.{schema.__qualname__}")
    call = deps.chains.get(key)
    if call is None or call.schema is not schema:
        call = StructuredCall.build(with_thinking(deps.models.get(role), mode), schema)
        deps.chains[key] = call
    try:
        parsed, raw = await call(list(messages))
    except OutputParserException as exc:
        raise _invalid(role, schema, exc) from exc
    if not isinstance(parsed, schema):
        raise _invalid(role, schema, f"got {type(parsed).__name__}")
    return parsed, usage_of(raw)


def _invalid(role: str, schema: type[BaseModel], error: object) -> ModelOutputError:
    name = schema.model_config.get("title") or schema.__name__
    return ModelOutputError(f"the {role} model did not return a valid {name}: {error}")


def counted(
    state: AgentState, *, calls: int = 0, usage: Usage | None = None, **more: int
) -> Counters:
    """The state's counters plus the given increments."""
    counters: dict[str, int] = {**new_counters(), **(state.get("counters") or {})}  # type: ignore[dict-item]
    counters["model_calls"] += calls
    if usage is not None:
        counters["tokens"] += usage.total
        counters["prompt_tokens"] += usage.prompt
        counters["cached_prompt_tokens"] += usage.cached
    for key, value in more.items():
        counters[key] += value
    return counters  # type: ignore[return-value]


def exhausted_reason(state: AgentState, counters: Counters) -> str | None:
    """Why the run must stop now for lack of budget, or ``None``."""
    budgets = state.get("budgets")
    if budgets is None:
        return None
    if counters["steps"] >= budgets["max_steps"]:
        return f"step budget spent: {counters['steps']} of max_steps={budgets['max_steps']}"
    if budgets["max_tokens"] is not None and counters["tokens"] >= budgets["max_tokens"]:
        return f"token budget spent: {counters['tokens']} of max_tokens={budgets['max_tokens']}"
    if budgets["max_seconds"] is not None:
        elapsed = time.time() - budgets["started_at"]
        if elapsed >= budgets["max_seconds"]:
            return f"time budget spent: {elapsed:.1f}s of max_seconds={budgets['max_seconds']}"
    remaining = state.get("remaining_steps")
    if remaining is not None and remaining <= RECURSION_RESERVE:
        return f"recursion budget spent: {remaining} super-steps left"
    return None


def options_of(deps: AgentDeps, runtime: Runtime[RunOptions]) -> Options:
    """The options in force for this node call."""
    return deps.options(runtime.context)


def is_last_attempt(runtime: Runtime[Any], options: Options) -> bool:
    """Whether the retry policy will not run this node again after a failure."""
    info = runtime.execution_info
    attempt = info.node_attempt if info is not None else 1
    return attempt >= options.agent.model_retries


def failed(state: AgentState, error: Exception | str, *, calls: int = 0) -> dict[str, Any]:
    """The update that ends a run cleanly as ``failed``."""
    return {"status": "failed", "error": str(error), "counters": counted(state, calls=calls)}


def last_ai_message(messages: Sequence[BaseMessage]) -> AIMessage | None:
    """The most recent AI message, if any."""
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            return message
    return None

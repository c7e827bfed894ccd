"""The chat model a benchmark runs on, and a meter of its calls and tokens.

Every agent a benchmark compares (Maximus, LangGraph's prebuilt ReAct agent, a plain loop) is
metered the same way: a LangChain callback handler passed in the run's config counts each chat
model call and reads the usage the provider reported (prompt tokens, and prompt tokens served
from the server's cache, ``input_token_details.cache_read``, where the server tells us).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.outputs import LLMResult

from maximus import ModelResolver, Settings
from maximus.config import DEFAULT_GEMINI_MODEL, load_settings


def resolve_model(spec: str, data_dir: Any = None) -> tuple[BaseChatModel, Settings, str]:
    """The chat model for ``--model``, the settings it came from, and its display name.

    Args:
        spec: ``local``, ``gemini``, any ``provider:model`` spec, or the URL of an
            OpenAI-compatible server.
        data_dir: the agents' data directory (a temporary one), if not the settings'.
    """
    extra: dict[str, object] = {"data_dir": data_dir} if data_dir is not None else {}
    if spec.startswith(("http://", "https://")):
        model_name = os.environ.get("MAXIMUS_MODEL", "default")
        settings = load_settings(base_url=spec, model=model_name, **extra)
    elif spec == "gemini":
        settings = load_settings(model=DEFAULT_GEMINI_MODEL, **extra)
    else:
        settings = load_settings(model=spec, **extra)
    model = ModelResolver(settings=settings).get("planner")
    name = spec if spec != "local" else f"local:{getattr(model, 'model_name', 'local')}"
    return model, settings, name


@dataclass(slots=True)
class Usage:
    """What one episode or task cost in model calls and tokens."""

    model_calls: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    output_tokens: int = 0


class UsageMeter(BaseCallbackHandler):
    """Counts chat model calls and the tokens their providers reported.

    Args:
        ignore: names of models not to count (an oracle that is not a model).
    """

    def __init__(self, ignore: frozenset[str] = frozenset()) -> None:
        self.usage = Usage()
        self.ignore = ignore
        self._ignored: set[UUID] = set()

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        name = (serialized or {}).get("name") or ""
        ids = (serialized or {}).get("id") or []
        if name in self.ignore or (ids and ids[-1] in self.ignore):
            self._ignored.add(run_id)
            return
        self.usage.model_calls += 1

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        if run_id in self._ignored:
            self._ignored.discard(run_id)
            return
        for generations in response.generations:
            for generation in generations:
                message = getattr(generation, "message", None)
                usage = getattr(message, "usage_metadata", None) or {}
                self.usage.prompt_tokens += int(usage.get("input_tokens") or 0)
                self.usage.output_tokens += int(usage.get("output_tokens") or 0)
                details = usage.get("input_token_details") or {}
                self.usage.cached_prompt_tokens += int(details.get("cache_read") or 0)


__all__ = ["Usage", "UsageMeter", "resolve_model"]

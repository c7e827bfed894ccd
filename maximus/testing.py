"""Scripted chat models for testing agents without a network.

Built on ``langchain_core``'s ``GenericFakeChatModel``: each call returns the next scripted
message. Structured outputs are scripted as tool calls named after the schema (what
``with_structured_output``'s function-calling method parses), so the real parsing path runs.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable


def structured(schema: str, tokens: int = 0, /, **args: Any) -> AIMessage:
    """A reply that ``with_structured_output(<schema>)`` parses into ``args``."""
    return tool_call(schema, tokens, **args)


def tool_call(name: str, tokens: int = 0, /, **args: Any) -> AIMessage:
    """A reply that calls tool ``name`` with ``args``."""
    usage = {"input_tokens": tokens, "output_tokens": 0, "total_tokens": tokens}
    return AIMessage(
        content="",
        tool_calls=[{"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}"}],
        usage_metadata=usage if tokens else None,
    )


class ScriptedChatModel(GenericFakeChatModel):
    """A fake chat model that replays a script and supports ``bind_tools``.

    Args:
        messages: the replies, in order (an iterator; pass ``itertools.cycle`` to loop).
    """

    calls: int = 0
    """How many times the model was called."""

    def bind_tools(  # type: ignore[override]
        self, tools: Sequence[Any], **kwargs: Any
    ) -> Runnable[LanguageModelInput, BaseMessage]:
        """Tools are ignored: the script already says what to call."""
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        try:
            return super()._generate(messages, *args, **kwargs)
        except StopIteration:
            raise AssertionError(f"the script ran out after {self.calls - 1} replies") from None

    async def _agenerate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        # The base class would hop to a thread for this; the script needs no I/O.
        return self._generate(messages, *args, **kwargs)

    async def _astream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> AsyncIterator[Any]:
        # Streamed in the event loop too: the base class would run each chunk in a thread,
        # which costs a thread hop per token and lets concurrent streams race on the script.
        for chunk in self._stream(messages, *args, **kwargs):
            yield chunk


def scripted(replies: Iterable[AIMessage | str], *, loop: bool = False) -> ScriptedChatModel:
    """A :class:`ScriptedChatModel` over ``replies`` (repeated forever when ``loop``)."""
    items = list(replies)
    return ScriptedChatModel(messages=itertools.cycle(items) if loop else iter(items))


__all__ = ["ScriptedChatModel", "scripted", "structured", "tool_call"]

"""A fake chat model for the benchmarks' ``--fake`` mode: fast, seeded, schema-driven.

It answers whatever it is asked without a script, so every agent a benchmark compares can run
on it (Maximus's structured calls, LangGraph's prebuilt ReAct agent, a plain loop):

* asked for a structured output (a schema bound as a tool that is not a real tool), it fills
  the schema's JSON schema: enums and ``anyOf`` variants by a seeded random choice, an
  ``action`` or a tool's ``args`` from what the benchmark says is possible now (the *hint*),
  ids from their position in a list;
* with real tools bound, it calls one the hint proposes, or answers in text once the hint
  says the work is finished.

It reports token usage (about 4 characters a token) and fakes a prefix cache: the prompt
tokens it shares with the previous call count as served from the cache, so the benchmarks'
accounting of cached prompt tokens runs too. It measures the machinery, never an agent.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr


class Hint(Protocol):
    """What the benchmark tells the fake model about the task in hand."""

    def tool_names(self) -> set[str]:
        """The real tools' names (any other bound tool is a structured-output schema)."""
        ...

    def actions(self) -> list[tuple[str, dict[str, Any]]]:
        """Tool calls that make sense now, as ``(tool, args)``."""
        ...

    def finished(self) -> bool:
        """Whether the work is over (then the model answers instead of calling a tool)."""
        ...

    def answer(self) -> str:
        """The final answer to give."""
        ...


class FakeAgentModel(BaseChatModel):
    """A seeded, schema-driven fake chat model (see the module docstring).

    Args:
        seed: the random seed.
    """

    seed: int = 0
    calls: int = 0
    """How many times it was called."""
    _hint: Hint | None = PrivateAttr(default=None)
    _rng: random.Random = PrivateAttr(default_factory=random.Random)
    _last_prompt: str = PrivateAttr(default="")

    def use(self, hint: Hint, seed: int) -> None:
        """Work on a new task: ``hint`` describes it; the random choices restart at ``seed``."""
        self._hint = hint
        self._rng = random.Random(seed)
        self._last_prompt = ""

    @property
    def _llm_type(self) -> str:
        return "fake-agent"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls += 1
        if self._hint is None:
            raise RuntimeError("FakeAgentModel.use(hint, seed) must be called before a run")
        reply = self._reply(self._hint, kwargs.get("tools") or [], kwargs.get("tool_choice"))
        prompt = "\n".join(str(m.content) for m in messages)
        shared = 0
        for a, b in zip(prompt, self._last_prompt, strict=False):
            if a != b:
                break
            shared += 1
        self._last_prompt = prompt
        reply.usage_metadata = {
            "input_tokens": len(prompt) // 4,
            "output_tokens": 8,
            "total_tokens": len(prompt) // 4 + 8,
            "input_token_details": {"cache_read": shared // 4},
        }
        return ChatResult(generations=[ChatGeneration(message=reply)])

    async def _agenerate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        return self._generate(messages, *args, **kwargs)

    def _reply(self, hint: Hint, tools: list[dict[str, Any]], tool_choice: Any) -> AIMessage:
        real = hint.tool_names()
        functions = [t["function"] for t in tools if t.get("type") == "function"]
        schemas = [f for f in functions if f["name"] not in real]
        usable = [f for f in functions if f["name"] in real]
        if schemas and (tool_choice is not None or not usable):
            schema = schemas[0]
            args = self._fill(hint, schema.get("parameters", {}), None, 0)
            return _call(schema["name"], args if isinstance(args, dict) else {})
        if usable and not hint.finished():
            proposals = [a for a in hint.actions() if a[0] in {f["name"] for f in usable}]
            if proposals:
                name, args = self._rng.choice(proposals)
                return _call(name, dict(args))
        return AIMessage(content=hint.answer())

    def _fill(self, hint: Hint, schema: dict[str, Any], field: str | None, index: int) -> Any:
        """A value for ``schema`` (a JSON schema, refs already inlined by LangChain)."""
        rng = self._rng
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return rng.choice(list(schema["enum"]))
        options = schema.get("anyOf") or schema.get("oneOf")
        if options:
            concrete = [o for o in options if o.get("type") != "null"] or options
            return self._fill(hint, self._pick_variant(hint, concrete), field, index)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object" or "properties" in schema:
            return self._fill_object(hint, schema, field, index)
        if kind == "array":
            low = int(schema.get("minItems", 1))
            high = max(low, min(int(schema.get("maxItems", 3)), 3))
            item = schema.get("items", {})
            return [self._fill(hint, item, field, i) for i in range(rng.randint(low, high))]
        if kind == "string":
            if field == "action":
                actions = [a for t, a in hint.actions() if "action" in a]
                return str(rng.choice(actions)["action"]) if actions else "look around"
            if field in ("final_answer", "answer"):
                return hint.answer()
            return f"fake {field or 'text'}"
        if kind == "integer":
            if field and field.endswith("id"):
                return index
            return rng.randint(int(schema.get("minimum", 0)), int(schema.get("maximum", 3)))
        if kind == "number":
            lowest, highest = float(schema.get("minimum", 0.0)), float(schema.get("maximum", 1.0))
            return round(rng.uniform(lowest, highest), 2)
        if kind == "boolean":
            return rng.random() < 0.5
        return None

    def _fill_object(
        self, hint: Hint, schema: dict[str, Any], field: str | None, index: int
    ) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties") or {}
        if not properties:  # free-form: a tool's arguments
            proposals = hint.actions()
            return dict(self._rng.choice(proposals)[1]) if field == "args" and proposals else {}
        value: dict[str, Any] = {}
        chosen: tuple[str, dict[str, Any]] | None = None
        if "tool" in properties and hint.actions():
            chosen = self._rng.choice(hint.actions())
        for name, sub in properties.items():
            if chosen is not None and name == "tool" and "const" not in sub:
                value[name] = chosen[0]
            elif chosen is not None and name == "args":
                value[name] = dict(chosen[1])
            else:
                value[name] = self._fill(hint, sub, name, index)
        return value

    def _pick_variant(self, hint: Hint, options: list[dict[str, Any]]) -> dict[str, Any]:
        """An ``anyOf`` branch; a tool-call branch for a proposed tool when there is one."""
        names = {t for t, _ in hint.actions()}
        calls = [
            o for o in options if (o.get("properties") or {}).get("tool", {}).get("const") in names
        ]
        return self._rng.choice(calls or options)


def _call(name: str, args: dict[str, Any]) -> AIMessage:
    return AIMessage(
        content="",
        tool_calls=[{"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}"}],
    )


__all__ = ["FakeAgentModel", "Hint"]

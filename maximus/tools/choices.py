"""Choices: the values a tool's argument may take at this moment.

An environment's valid actions change every step; an enum never does. :func:`constrain`
records a provider of those values on the tool (``tool.metadata["choices"]``). The nodes then
put the current values as an ``enum`` in the JSON schema the policy and executor answer with
(a grammar for llama.cpp, the structured output of other providers), and the execute node
refuses an action whose value is not among them before the tool runs.

Example:
    >>> constrain(act, "command", lambda: env.valid_actions())
    >>> constrain(set_unit, "unit", ["celsius", "fahrenheit"])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.tools import BaseTool

from maximus.errors import ToolRegistryError

CHOICES = "choices"

ChoiceProvider = Callable[[], Sequence[str]] | Sequence[str]
"""A zero-argument callable returning the allowed values now, or a fixed list of them."""


def constrain(tool: BaseTool, arg: str, provider: ChoiceProvider) -> BaseTool:
    """Allow ``tool``'s argument ``arg`` only the values ``provider`` gives at call time.

    Raises:
        ToolRegistryError: the tool has no argument called ``arg``.
    """
    if arg not in _argument_names(tool):
        raise ToolRegistryError(f"tool {tool.name!r} has no argument {arg!r} to constrain")
    if not callable(provider):
        provider = tuple(str(v) for v in provider)
    existing = dict((tool.metadata or {}).get(CHOICES) or {})
    existing[arg] = provider
    tool.metadata = {**(tool.metadata or {}), CHOICES: existing}
    return tool


def has_choices(tool: BaseTool) -> bool:
    """Whether any argument of ``tool`` is constrained."""
    return bool((tool.metadata or {}).get(CHOICES))


def choices_of(tool: BaseTool) -> dict[str, list[str]]:
    """The values each constrained argument of ``tool`` may take now."""
    providers: Mapping[str, ChoiceProvider] = (tool.metadata or {}).get(CHOICES) or {}
    current: dict[str, list[str]] = {}
    for arg, provider in providers.items():
        values = provider() if callable(provider) else provider
        current[arg] = [str(v) for v in values]
    return current


def refusal(tool: BaseTool, args: Mapping[str, Any]) -> str | None:
    """Why ``args`` are not allowed for ``tool`` now, or ``None`` when they are."""
    for arg, allowed in choices_of(tool).items():
        value = args.get(arg)
        if value not in allowed:
            shown = ", ".join(repr(v) for v in allowed[:20])
            more = f" (and {len(allowed) - 20} more)" if len(allowed) > 20 else ""
            return (
                f"Invalid action: {tool.name} {arg}={value!r} is not possible now. "
                f"Allowed values: {shown or 'none'}{more}."
            )
    return None


def _argument_names(tool: BaseTool) -> set[str]:
    schema = tool.tool_call_schema
    params = schema if isinstance(schema, dict) else schema.model_json_schema()  # type: ignore[union-attr]
    return set(params.get("properties", {}))


__all__ = ["CHOICES", "ChoiceProvider", "choices_of", "constrain", "has_choices", "refusal"]

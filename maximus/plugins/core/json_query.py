"""Core plugin ``json_query``: JSONPath queries and reshaping over JSON documents.

Queries use ``jsonpath-ng``'s extended syntax: ``$.items[*].name``, filters such as
``$.items[?(@.price < 10)]``, recursive descent ``$..id``, sorting and ``len``. The parser is
imported in ``initialize()``, so a missing library fails this plugin alone, clearly.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.tools import BaseTool, ToolException, tool

from maximus.plugins.base import BasePlugin
from maximus.plugins.hookspecs import hookimpl
from maximus.plugins.manifest import PluginType

MAX_DOCUMENT = 5_000_000


def load(data: str) -> Any:
    """Parse a JSON document.

    Raises:
        ToolException: it is not JSON, or too large.
    """
    if len(data) > MAX_DOCUMENT:
        raise ToolException(f"document larger than {MAX_DOCUMENT:,} characters")
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ToolException(f"data is not valid JSON: {exc}") from None


def query(document: Any, path: str) -> list[Any]:
    """The values ``path`` (JSONPath) selects in ``document``.

    Raises:
        ToolException: the path does not parse.
    """
    from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
    from jsonpath_ng.ext import parse

    try:
        expression = parse(path)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:
        raise ToolException(f"not a JSONPath expression: {path!r} ({exc})") from None
    return [match.value for match in expression.find(document)]


class JsonQueryPlugin(BasePlugin):
    """Query and reshape JSON with JSONPath."""

    name = "json_query"
    version = "1.0.0"
    plugin_type = PluginType.PROCESSING

    def initialize(self) -> bool:
        """Import the JSONPath parser (so a missing library is a load error)."""
        import jsonpath_ng.ext  # noqa: F401

        return True

    def tools(self) -> list[BaseTool]:
        """``json_query`` and ``json_reshape``."""

        @tool
        def json_query(data: str, path: str, first: bool = False) -> str:
            """Select values from a JSON document with a JSONPath expression, e.g.
            '$.items[?(@.price < 10)].name'. Returns a JSON array of the matches (or the
            first match alone when first is true)."""
            values = query(load(data), path)
            if first:
                if not values:
                    raise ToolException(f"{path!r} matched nothing")
                return json.dumps(values[0])
            return json.dumps(values)

        @tool
        def json_reshape(data: str, template: dict[str, str]) -> str:
            """Build a new JSON object: each key of template maps to a JSONPath over data,
            e.g. {"names": "$.items[*].name", "count": "$.items.`len`"}. A path with one
            match gives that value, several give a list, none gives null."""
            document = load(data)
            shaped: dict[str, Any] = {}
            for key, path in template.items():
                values = query(document, path)
                shaped[key] = values[0] if len(values) == 1 else (values or None)
            return json.dumps(shaped)

        return [json_query, json_reshape]


@hookimpl
def maximus_register_plugins() -> list[type[BasePlugin]]:
    """Register the JSON query plugin."""
    return [JsonQueryPlugin]


__all__ = ["JsonQueryPlugin", "load", "query"]

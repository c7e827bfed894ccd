"""The chat client for llama.cpp servers: ``ChatOpenAI`` with grammar-constrained structured output.

The local model and any served model are one code path: ``langchain-openai``'s ``ChatOpenAI``
with a ``base_url``. Two things differ for a small model behind llama-cpp-python's server:

- **Structured output.** That server does not take OpenAI's ``{"type": "json_schema"}``; it takes
  ``{"type": "json_object", "schema": ...}`` and compiles the schema to a GBNF grammar, so the
  model can only emit JSON that fits. :meth:`ChatLlamaCpp.with_structured_output` sends that and
  parses the reply into the Pydantic class, as ``binding | parser`` (the shape
  :class:`maximus.nodes._common.StructuredCall` calls directly).
- **Tool calls.** A 1.5B model's native tool calling is unreliable, so
  :attr:`ChatLlamaCpp.structured_actions` tells the nodes to ask for a structured action and
  build the tool call from it (see ``maximus.nodes.simulate``).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, ClassVar

import openai
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

MAX_STRING = 600
"""Longest string the grammar lets the model write in one field (a small model can ramble)."""


def response_format(schema: dict[str, Any] | type) -> dict[str, Any]:
    """llama.cpp's ``response_format`` for ``schema`` (a Pydantic class or a JSON schema).

    Strings with no length limit get ``maxLength`` :data:`MAX_STRING`, so a reply always ends.
    """
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        json_schema = schema.model_json_schema()
    elif isinstance(schema, dict):
        json_schema = copy.deepcopy(schema)
    else:
        raise TypeError(f"a Pydantic class or a JSON-schema dict is needed, not {schema!r}")
    _bound_strings(json_schema)
    return {"type": "json_object", "schema": json_schema}


def _bound_strings(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and "maxLength" not in node and "enum" not in node:
            node["maxLength"] = MAX_STRING
        for value in node.values():
            _bound_strings(value)
    elif isinstance(node, list):
        for value in node:
            _bound_strings(value)


class ChatLlamaCpp(ChatOpenAI):
    """``ChatOpenAI`` for a llama-cpp-python server; structured output is JSON-schema constrained.

    Example:
        >>> model = ChatLlamaCpp(base_url="http://127.0.0.1:8081/v1", model="local", api_key="x")
        >>> plan = model.with_structured_output(Plan)  # doctest: +SKIP
    """

    structured_actions: ClassVar[bool] = True
    """Nodes build tool calls from a structured action instead of native tool calling."""

    server_dir: str | None = None
    """The embedded server's folder (``<data_dir>/local-model``), when this client talks to it:
    a refused connection is then explained from the server's crash record, in one line."""

    def _explain(self, exc: openai.APIConnectionError) -> Exception:
        if self.server_dir is None:
            return exc
        from maximus.errors import ModelServerError
        from maximus.models.local.server import LocalModelServer

        return ModelServerError(LocalModelServer.at(Path(self.server_dir)).failure())

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        try:
            return super()._generate(*args, **kwargs)
        except openai.APIConnectionError as exc:
            raise self._explain(exc) from None

    async def _agenerate(self, *args: Any, **kwargs: Any) -> ChatResult:
        try:
            return await super()._agenerate(*args, **kwargs)
        except openai.APIConnectionError as exc:
            raise self._explain(exc) from None

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        try:
            yield from super()._stream(*args, **kwargs)
        except openai.APIConnectionError as exc:
            raise self._explain(exc) from None

    async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        try:
            async for chunk in super()._astream(*args, **kwargs):
                yield chunk
        except openai.APIConnectionError as exc:
            raise self._explain(exc) from None

    def _get_request_payload(self, input_: Any, *, stop: Any = None, **kwargs: Any) -> dict:
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        # llama.cpp reads ``max_tokens``; ChatOpenAI renames it to OpenAI's newer name.
        if "max_completion_tokens" in payload:
            payload["max_tokens"] = payload.pop("max_completion_tokens")
        return payload

    def with_structured_output(  # type: ignore[override]
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[Any, Any]:
        """``binding | parser``: the reply is constrained to ``schema`` by the server's grammar.

        Args:
            schema: a Pydantic class (parsed into it) or a JSON schema (parsed into a dict).
            include_raw: return ``{"raw", "parsed", "parsing_error"}`` like LangChain does.
            **kwargs: accepted for compatibility (``method``, ``strict``) and ignored: the
                grammar is always strict.
        """
        # extra_body keeps ChatOpenAI off its OpenAI-only ``.parse`` path for response_format.
        binding = self.bind(extra_body={"response_format": response_format(schema)})
        parser: Runnable[Any, Any]
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            parser = PydanticOutputParser(pydantic_object=schema)
        else:
            parser = JsonOutputParser()
        if not include_raw:
            return binding | parser
        parse = RunnablePassthrough.assign(
            parsed=lambda x: parser.invoke(x["raw"]), parsing_error=lambda _: None
        ).with_fallbacks(
            [RunnablePassthrough.assign(parsed=lambda _: None)],
            exception_key="parsing_error",
        )
        return RunnableMap(raw=binding) | parse


__all__ = ["MAX_STRING", "ChatLlamaCpp", "response_format"]

"""OpenAI tool calling for the local server: the model's ``<tool_call>`` replies as ``tool_calls``.

Qwen2.5's chat template (kept in the GGUF) lists the request's tools in the system prompt and
teaches the model to answer a call as::

    <tool_call>
    {"name": "calculator", "arguments": {"expression": "17 * 23"}}
    </tool_call>

llama-cpp-python renders that template but returns the reply as text. :class:`ToolCallHandler`
is a llama-cpp-python chat handler that renders the prompt with the GGUF's own template (the
same formatter llama-cpp-python builds for it) and turns those blocks into OpenAI
``tool_calls`` with ``finish_reason="tool_calls"``, streaming or not. A request without tools
goes to that formatter's handler untouched, so its prompt is byte for byte what it was.

- ``tool_choice`` absent or ``"auto"``: the model writes freely; blocks that parse become tool
  calls, anything else stays content (a malformed call is returned as text, never an error).
  The 1.5B coder model often leaves the tags out and writes the call as a ```` ```json ````
  block; a reply that is only such an object, naming one of the request's tools, is a call too.
- ``"required"`` or a named tool: a GBNF grammar makes the reply one ``<tool_call>`` block whose
  JSON names an allowed tool and fits its parameters' schema.
- ``"none"``: the tools are left out of the prompt.

Earlier assistant tool calls are rendered with their arguments as JSON objects, as the
template expects (OpenAI sends them as strings), and :class:`AcceptToolCallHistory` lets the
server take such a history as OpenAI clients send it (``"content": null``).

The parsing is pure (:func:`parse_reply`, :class:`ReplySplitter`); llama-cpp-python is imported
only when the handler runs in the server process.
"""

from __future__ import annotations

import json
import re
import uuid
import weakref
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from llama_cpp import Llama

HANDLER_NAME = "maximus-tool-calls"
"""The ``chat_format`` under which :func:`register_handler` registers the handler."""

OPEN, CLOSE = "<tool_call>", "</tool_call>"
_BLOCK = re.compile(re.escape(OPEN) + r"(.*?)(?:" + re.escape(CLOSE) + r"|\Z)", re.S)
_FENCE = re.compile(r"\A```(?:json)?\s*(.*?)\s*```\Z", re.S)
_CALL_RULE = "maximus-tool-call"


class ToolCall(NamedTuple):
    """One call the model wrote: the tool's name and its arguments."""

    name: str
    arguments: dict[str, Any]


class ParsedReply(NamedTuple):
    """A reply split into its text and its tool calls (none: the whole reply is content)."""

    content: str | None
    tool_calls: tuple[ToolCall, ...]


def _call_from(data: Any) -> ToolCall | None:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
        return None
    arguments = data.get("arguments", data.get("parameters", {}))
    if isinstance(arguments, str):  # some models write the arguments as a JSON string
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return None
    if not isinstance(arguments, dict):
        return None
    return ToolCall(data["name"], arguments)


def _json(text: str) -> Any:
    text = text.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return json.loads(text)
    except ValueError:
        return None


def _bare_calls(text: str, tool_names: Collection[str]) -> tuple[ToolCall, ...]:
    """Calls written without the tags: the whole reply one JSON object (or a list of them),
    perhaps in a code fence, with exactly a known tool's ``name`` and its ``arguments``."""
    data = _json(text)
    items = data if isinstance(data, list) else [data]
    calls = []
    for item in items:
        if not isinstance(item, dict) or not (
            "name" in item and set(item) - {"name"} in ({"arguments"}, {"parameters"})
        ):
            return ()
        call = _call_from(item)
        if call is None or call.name not in tool_names:
            return ()
        calls.append(call)
    return tuple(calls)


def parse_reply(text: str, tool_names: Collection[str] = ()) -> ParsedReply:
    """Split a reply into content and tool calls.

    Calls are ``<tool_call>`` blocks, as Qwen's template asks. A last block without its closing
    tag counts if its JSON is whole (the model may stop right after it). If any block does not
    hold ``{"name": ..., "arguments": {...}}``, the whole reply is content and there are no
    calls. Without blocks, a reply that is nothing but such an object (or a list of them),
    perhaps in a ```` ```json ```` fence, is a call when it names one of ``tool_names``: the
    1.5B coder model often writes its call that way.
    """
    if OPEN not in text:
        bare = _bare_calls(text, tool_names) if tool_names else ()
        return ParsedReply(None, bare) if bare else ParsedReply(text, ())
    calls: list[ToolCall] = []
    rest: list[str] = []
    position = 0
    for block in _BLOCK.finditer(text):
        call = _call_from(_json(block.group(1)))
        if call is None:
            return ParsedReply(text, ())
        calls.append(call)
        rest.append(text[position : block.start()])
        position = block.end()
    rest.append(text[position:])
    return ParsedReply("".join(rest).strip() or None, tuple(calls))


def openai_tool_calls(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    """``calls`` as OpenAI ``tool_calls`` (fresh ids, arguments as a JSON string)."""
    return [
        {
            "id": f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {
                "name": call.name,
                "arguments": json.dumps(call.arguments, ensure_ascii=False),
            },
        }
        for call in calls
    ]


class ReplySplitter:
    """Streams a reply's text while holding back what may be a tool call.

    :meth:`feed` returns the text that can be sent now: everything before a ``<tool_call>``
    block, less a tail that might be the start of one. From the first block on, text is held
    until :meth:`close`, which parses it. With ``tool_names``, a reply whose first character is
    ``{``, ``[`` or a backtick is held whole too, as it may be a call written without the tags.
    """

    def __init__(self, tool_names: Collection[str] = ()) -> None:
        self._names = tool_names
        self._held = ""
        self._mode = "start" if tool_names else "text"

    def feed(self, text: str) -> str:
        """Take the next piece of the reply; return what is safe to stream now."""
        self._held += text
        if self._mode == "start":
            first = self._held.lstrip()[:1]
            if not first:
                return ""
            self._mode = "whole" if first in "{[`" else "text"
        if self._mode != "text":
            return ""
        at = self._held.find(OPEN)
        if at >= 0:
            self._mode = "whole"
            out, self._held = self._held[:at], self._held[at:]
            return out
        keep = next(
            (n for n in range(min(len(OPEN) - 1, len(self._held)), 0, -1)
             if self._held.endswith(OPEN[:n])),
            0,
        )  # fmt: skip
        out = self._held[: len(self._held) - keep]
        self._held = self._held[len(out) :]
        return out

    def close(self) -> ParsedReply:
        """The held text, parsed: the calls and the text not yet streamed."""
        held, self._held = self._held, ""
        if self._mode != "whole":
            return ParsedReply(held or None, ())
        return parse_reply(held, self._names)


def with_tool_calls(completion: dict[str, Any], tool_names: Collection[str] = ()) -> dict[str, Any]:
    """A chat completion whose reply holds tool calls (:func:`parse_reply`), with OpenAI
    ``tool_calls``. Replies without calls, or with a malformed one, are returned unchanged.
    """
    choice = completion["choices"][0]
    reply = parse_reply(choice["message"].get("content") or "", tool_names)
    if not reply.tool_calls:
        return completion
    message = {
        "role": "assistant",
        "content": reply.content,
        "tool_calls": openai_tool_calls(reply.tool_calls),
    }
    return {
        **completion,
        "choices": [{**choice, "message": message, "finish_reason": "tool_calls"}],
    }


def _chunk(like: Mapping[str, Any], delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        **like,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def stream_with_tool_calls(
    chunks: Iterator[dict[str, Any]], tool_names: Collection[str] = ()
) -> Iterator[dict[str, Any]]:
    """Chat completion chunks, with tool calls sent as ``tool_calls`` deltas.

    Text before a call streams as it comes (see :class:`ReplySplitter`); the calls are held,
    then sent as one ``tool_calls`` delta and a last chunk with ``finish_reason="tool_calls"``.
    A malformed call is sent as content with the model's own finish reason.
    """
    splitter = ReplySplitter(tool_names)
    for chunk in chunks:
        choice = chunk["choices"][0]
        if choice["finish_reason"] is None:
            text = choice["delta"].get("content")
            if text is None:  # the opening role chunk
                yield chunk
                continue
            out = splitter.feed(text)
            if out:
                yield _chunk(chunk, {"content": out}, None)
            continue
        reply = splitter.close()
        if reply.content:
            yield _chunk(chunk, {"content": reply.content}, None)
        if not reply.tool_calls:
            yield chunk
            continue
        deltas = [
            {"index": index, **call}
            for index, call in enumerate(openai_tool_calls(reply.tool_calls))
        ]
        yield _chunk(chunk, {"tool_calls": deltas}, None)
        yield _chunk(chunk, {}, "tool_calls")


def template_messages(messages: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``messages`` with earlier tool calls' arguments as objects, as chat templates expect.

    OpenAI sends ``function.arguments`` as a JSON string; Qwen's template writes it with
    ``tojson``, which would quote it again. Messages without tool calls are kept as they are.
    """
    out: list[Mapping[str, Any]] = []
    for message in messages:
        calls = message.get("tool_calls")
        if not calls:
            out.append(message)
            continue
        converted = []
        for call in calls:
            function = call.get("function") or {}
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments)
                except ValueError:
                    pass  # not JSON: the template shows the text as the model wrote it
            converted.append({**call, "function": {**function, "arguments": arguments}})
        out.append({**message, "tool_calls": converted})
    return out


def accept_request(raw: bytes) -> bytes:
    """A chat request body that llama-cpp-python's server accepts, given one as OpenAI sends it.

    OpenAI clients (``ChatOpenAI`` among them) send an assistant message that only calls tools
    with ``"content": null``; llama-cpp-python's request model wants a string there and would
    answer 422, so a ReAct agent's second call would fail. That ``null`` becomes ``""`` (the
    templates render both alike). Any other body is returned as it came, byte for byte.
    """
    try:
        body = json.loads(raw)
    except ValueError:
        return raw
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        return raw
    changed = False
    for message in messages:
        if (
            isinstance(message, dict)
            and message.get("role") == "assistant"
            and message.get("tool_calls")
            and "content" in message
            and message["content"] is None
        ):
            message["content"] = ""
            changed = True
    return json.dumps(body).encode() if changed else raw


class AcceptToolCallHistory:
    """ASGI middleware that passes chat requests through :func:`accept_request`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].endswith("/chat/completions")
        ):
            await self.app(scope, receive, send)
            return
        parts: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left before sending it all
                return
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = accept_request(b"".join(parts))
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if replayed:  # later reads wait for the disconnect, as before
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app({**scope, "headers": headers}, replay, send)


def call_schema(tools: Sequence[Mapping[str, Any]], name: str | None = None) -> dict[str, Any]:
    """The JSON schema of one call: an allowed tool's name and arguments that fit it.

    Raises:
        ValueError: ``name`` is not one of ``tools``.
    """
    options = []
    for tool in tools:
        function = tool["function"]
        if name is not None and function["name"] != name:
            continue
        options.append(
            {
                "type": "object",
                "properties": {
                    "name": {"const": function["name"]},
                    "arguments": function.get("parameters") or {"type": "object"},
                },
                "required": ["name", "arguments"],
            }
        )
    if not options:
        raise ValueError(f"tool_choice names {name!r}, which is not among the request's tools")
    return options[0] if len(options) == 1 else {"anyOf": options}


def call_grammar(tools: Sequence[Mapping[str, Any]], name: str | None = None) -> str:
    """GBNF for a reply that is exactly one ``<tool_call>`` block (see :func:`call_schema`)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    rules = json_schema_to_gbnf(json.dumps(call_schema(tools, name)))
    rules = re.sub(r"^root ::=", f"{_CALL_RULE} ::=", rules, count=1, flags=re.M)
    return f'root ::= "{OPEN}\\n" {_CALL_RULE} "\\n{CLOSE}"\n{rules}'


class ToolCallHandler:
    """A llama-cpp-python chat handler: the GGUF's template, with OpenAI tool calls.

    Register it with :func:`register_handler` and load the model with
    ``chat_format=HANDLER_NAME``.
    """

    def __init__(self) -> None:
        self._plain: weakref.WeakKeyDictionary[Llama, Callable[..., Any]] = (
            weakref.WeakKeyDictionary()
        )

    def template_handler(self, llama: Llama) -> Callable[..., Any]:
        """llama-cpp-python's handler for the model's own chat template, built as it builds it."""
        handler = self._plain.get(llama)
        if handler is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = llama.metadata.get("tokenizer.chat_template")
            if template is None:
                raise ValueError("the model file has no chat template (tokenizer.chat_template)")
            eos, bos = llama.token_eos(), llama.token_bos()
            handler = Jinja2ChatFormatter(
                template=template,
                eos_token=_token_text(llama, eos),
                bos_token=_token_text(llama, bos),
                stop_token_ids=[eos],
            ).to_chat_handler()
            self._plain[llama] = handler
        return handler

    def __call__(
        self,
        *,
        llama: Llama,
        messages: list[Any],
        tools: list[Any] | None = None,
        tool_choice: Any = None,
        stream: bool = False,
        grammar: Any = None,
        **kwargs: Any,
    ) -> Any:
        # What every call to the template's own handler shares.
        plain = partial(self.template_handler(llama), llama=llama, stream=stream, **kwargs)
        if not tools:
            return plain(messages=messages, tools=tools, tool_choice=tool_choice, grammar=grammar)
        messages = template_messages(messages)
        if tool_choice == "none":
            return plain(messages=messages, grammar=grammar)
        if tool_choice == "required" or isinstance(tool_choice, dict):
            from llama_cpp.llama_grammar import LlamaGrammar

            name = tool_choice["function"]["name"] if isinstance(tool_choice, dict) else None
            grammar = LlamaGrammar.from_string(call_grammar(tools, name), verbose=llama.verbose)
        reply = plain(messages=messages, tools=tools, grammar=grammar)
        names = {tool["function"]["name"] for tool in tools}
        return stream_with_tool_calls(reply, names) if stream else with_tool_calls(reply, names)


def _token_text(llama: Llama, token: int) -> str:
    if token == -1:
        return ""
    return llama.detokenize([token], special=True).decode("utf-8", errors="ignore")


def register_handler() -> str:
    """Register :class:`ToolCallHandler` with llama-cpp-python; return its ``chat_format``."""
    from llama_cpp.llama_chat_format import LlamaChatCompletionHandlerRegistry

    LlamaChatCompletionHandlerRegistry().register_chat_completion_handler(
        HANDLER_NAME, ToolCallHandler(), overwrite=True
    )
    return HANDLER_NAME


__all__ = [
    "HANDLER_NAME",
    "AcceptToolCallHistory",
    "ParsedReply",
    "ReplySplitter",
    "ToolCall",
    "ToolCallHandler",
    "accept_request",
    "call_grammar",
    "call_schema",
    "openai_tool_calls",
    "parse_reply",
    "register_handler",
    "stream_with_tool_calls",
    "template_messages",
    "with_tool_calls",
]

"""The local server's tool calling without a model: replies parsed, chunks rewritten, the handler.

The handler tests fake only the LLM, a ``Llama`` that returns scripted text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from llama_cpp.server.types import CreateChatCompletionRequest
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import ValidationError

from maximus.models.local.toolcalls import (
    AcceptToolCallHistory,
    ReplySplitter,
    ToolCall,
    ToolCallHandler,
    accept_request,
    call_grammar,
    call_schema,
    parse_reply,
    stream_with_tool_calls,
    template_messages,
    with_tool_calls,
)

# The call in the format Qwen2.5's template asks for (and renders earlier calls in).
CALCULATOR_CALL = (
    '<tool_call>\n{"name": "calculator", "arguments": {"expression": "(128 + 256) * 3 - 17"}}\n'
    "</tool_call>"
)
# Recorded from the local server: the embedded model (Qwen2.5-Coder-1.5B-Instruct, temperature
# 0) asked "What is (128 + 256) * 3 - 17?" with the calculator bound left the tags out.
RECORDED_FENCED_CALL = (
    '```json\n{\n  "name": "calculator",\n  "arguments": {\n    "expression": '
    '"(128 + 256) * 3 - 17"\n  }\n}\n```'
)
NAMES = {"calculator", "current_time"}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "calculator",
            "description": "Evaluate an arithmetic expression.",
            "parameters": {
                "type": "object",
                "properties": {"expression": {"type": "string"}},
                "required": ["expression"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "current_time",
            "description": "The current time.",
            "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}},
        },
    },
]


def test_a_tool_call_block_is_parsed_into_name_and_arguments() -> None:
    reply = parse_reply(CALCULATOR_CALL)
    assert reply.content is None
    assert reply.tool_calls == (ToolCall("calculator", {"expression": "(128 + 256) * 3 - 17"}),)


def test_text_around_calls_stays_content_and_several_calls_are_kept_in_order() -> None:
    text = (
        "I will use two tools.\n"
        + CALCULATOR_CALL
        + '\n<tool_call>\n{"name": "current_time", "arguments": "{\\"timezone\\": \\"UTC\\"}"}'
        + "\n</tool_call>\nDone."
    )
    reply = parse_reply(text)
    assert reply.content == "I will use two tools.\n\n\nDone."
    assert [call.name for call in reply.tool_calls] == ["calculator", "current_time"]
    assert reply.tool_calls[1].arguments == {"timezone": "UTC"}  # a JSON string, decoded


def test_a_last_block_without_its_closing_tag_counts_when_its_json_is_whole() -> None:
    reply = parse_reply(CALCULATOR_CALL.removesuffix("</tool_call>"))
    assert reply.tool_calls == (ToolCall("calculator", {"expression": "(128 + 256) * 3 - 17"}),)


@pytest.mark.parametrize(
    "text",
    [
        CALCULATOR_CALL[:60],  # cut off by max_tokens
        '<tool_call>\n{"name": "calculator", "arguments": [1, 2]}\n</tool_call>',
        '<tool_call>\n{"arguments": {"expression": "1"}}\n</tool_call>',
        "<tool_call>\ncalculator(17 * 23)\n</tool_call>",
        CALCULATOR_CALL + "\n<tool_call>\n{not json}\n</tool_call>",
    ],
)
def test_a_malformed_call_leaves_the_whole_reply_as_content(text: str) -> None:
    assert parse_reply(text) == (text, ())


def test_a_plain_answer_is_content() -> None:
    assert parse_reply("17 * 23 = 391.", NAMES) == ("17 * 23 = 391.", ())


def test_a_call_written_as_a_json_block_without_tags_counts_when_it_names_a_tool() -> None:
    expected = (ToolCall("calculator", {"expression": "(128 + 256) * 3 - 17"}),)
    assert parse_reply(RECORDED_FENCED_CALL, NAMES) == (None, expected)
    bare = '[{"name": "calculator", "arguments": {"expression": "1"}}, {"name": "current_time", '
    bare += '"parameters": {}}]'
    assert [c.name for c in parse_reply(bare, NAMES).tool_calls] == ["calculator", "current_time"]


@pytest.mark.parametrize(
    "text",
    [
        RECORDED_FENCED_CALL.replace("calculator", "abacus"),  # not a tool of this request
        '{"name": "calculator", "arguments": {"expression": "1"}, "note": "x"}',  # more keys
        '{"name": "calculator"}',  # no arguments
        'Here it is: {"name": "calculator", "arguments": {"expression": "1"}}',  # not alone
    ],
)
def test_json_that_is_not_exactly_a_call_stays_content(text: str) -> None:
    assert parse_reply(text, NAMES) == (text, ())
    assert parse_reply(RECORDED_FENCED_CALL) == (RECORDED_FENCED_CALL, ())  # no tools named


def _completion(text: str, finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "local",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 200, "completion_tokens": 30, "total_tokens": 230},
    }


def test_a_completion_with_a_call_gets_openai_tool_calls() -> None:
    completion = ChatCompletion.model_validate(with_tool_calls(_completion(CALCULATOR_CALL)))
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert call.id.startswith("call_") and call.type == "function"
    assert call.function.name == "calculator"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"expression": "(128 + 256) * 3 - 17"}  # type: ignore[union-attr]
    assert completion.usage is not None and completion.usage.prompt_tokens == 200


def test_a_completion_without_a_valid_call_is_returned_unchanged() -> None:
    for text in ("391", CALCULATOR_CALL[:60]):
        original = _completion(text, "length")
        assert with_tool_calls(original) is original


def _chunks(pieces: list[str], finish: str = "stop") -> Iterator[dict[str, Any]]:
    base = {"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": "local"}

    def chunk(delta: dict[str, Any], reason: str | None) -> dict[str, Any]:
        return {
            **base,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}],
        }

    yield chunk({"role": "assistant"}, None)
    for piece in pieces:
        yield chunk({"content": piece}, None)
    yield chunk({}, finish)


def _pieces(text: str, size: int = 3) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_a_streamed_call_becomes_one_tool_calls_delta_after_the_text_before_it() -> None:
    chunks = [
        ChatCompletionChunk.model_validate(chunk)
        for chunk in stream_with_tool_calls(_chunks(_pieces("Let me compute.\n" + CALCULATOR_CALL)))
    ]
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Let me compute.\n"  # streamed as it came; the block never leaks as text
    calls = [tc for c in chunks for tc in c.choices[0].delta.tool_calls or []]
    assert len(calls) == 1 and calls[0].index == 0 and calls[0].id
    assert calls[0].function is not None and calls[0].function.name == "calculator"
    assert json.loads(calls[0].function.arguments or "") == {"expression": "(128 + 256) * 3 - 17"}
    assert [c.choices[0].finish_reason for c in chunks][-1] == "tool_calls"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])


def test_a_streamed_json_block_call_is_held_whole_and_sent_as_tool_calls() -> None:
    chunks = list(stream_with_tool_calls(_chunks(_pieces(RECORDED_FENCED_CALL)), NAMES))
    assert not any(c["choices"][0]["delta"].get("content") for c in chunks)
    (call,) = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls") or []]
    assert call["function"]["name"] == "calculator"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    code = "```python\nprint(391)\n```"  # a code answer is held, then sent whole
    chunks = list(stream_with_tool_calls(_chunks(_pieces(code)), NAMES))
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == code
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_a_streamed_plain_answer_is_the_same_text_and_finish_reason() -> None:
    # A tail that looks like the start of a tag is held back, then sent at the end.
    text = "The answer is 391, not <tool_"
    chunks = list(stream_with_tool_calls(_chunks(_pieces(text, 2), "length"), NAMES))
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == text
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_a_streamed_malformed_call_is_sent_as_content() -> None:
    broken = CALCULATOR_CALL[:60]
    chunks = list(stream_with_tool_calls(_chunks(_pieces(broken), "length")))
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == broken
    assert not any(c["choices"][0]["delta"].get("tool_calls") for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_the_splitter_holds_back_only_what_may_start_a_tag() -> None:
    splitter = ReplySplitter(NAMES)
    assert splitter.feed("  ") == ""  # the first character decides
    assert splitter.feed("abc <to") == "  abc "
    assert splitter.feed("day") == "<today"
    assert splitter.feed(" <tool_call>{") == " "
    assert splitter.feed('"name": "x"}') == ""
    assert splitter.close() == (None, (ToolCall("x", {}),))


def test_earlier_tool_calls_are_given_to_the_template_with_object_arguments() -> None:
    messages = [
        {"role": "user", "content": "17 * 23?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": '{"expression": "17 * 23"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "391"},
    ]
    converted = template_messages(messages)
    assert converted[0] is messages[0] and converted[2] is messages[2]
    function = converted[1]["tool_calls"][0]["function"]
    assert function["arguments"] == {"expression": "17 * 23"}
    assert messages[1]["tool_calls"][0]["function"]["arguments"] == '{"expression": "17 * 23"}'


def test_the_call_schema_allows_only_the_named_or_listed_tools() -> None:
    one = call_schema(TOOLS, "calculator")
    assert one["properties"]["name"] == {"const": "calculator"}
    assert one["properties"]["arguments"]["required"] == ["expression"]
    both = call_schema(TOOLS)
    assert [o["properties"]["name"]["const"] for o in both["anyOf"]] == [
        "calculator",
        "current_time",
    ]
    with pytest.raises(ValueError, match="'nope'"):
        call_schema(TOOLS, "nope")


# --- the handler, on a fake LLM ------------------------------------------------------------

# A small chatml template that lists tools the way Qwen2.5's does.
TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content or '' }}"
    "{% for c in m.tool_calls or [] %}<tool_call>{{ c.function | tojson }}</tool_call>{% endfor %}"
    "<|im_end|>\n{% endfor %}"
    "{% if tools %}<|im_start|>tools\n{% for t in tools %}{{ t.function.name }}\n{% endfor %}"
    "<|im_end|>\n{% endif %}<|im_start|>assistant\n"
)


class ScriptedLlama:
    """Only the LLM is faked: it records each prompt and grammar and answers with ``reply``."""

    verbose = False
    metadata = {"tokenizer.chat_template": TEMPLATE}

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.prompts: list[str] = []
        self.grammars: list[Any] = []

    def token_eos(self) -> int:
        return 2

    def token_bos(self) -> int:
        return 1

    def detokenize(self, tokens: list[int], special: bool = False) -> bytes:
        return {1: b"<s>", 2: b"<|im_end|>"}[tokens[0]]

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        self.prompts.append(text.decode())
        return [0]

    def create_completion(self, *, stream: bool, grammar: Any, **_: Any) -> Any:
        self.grammars.append(grammar)
        base = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "local"}
        if not stream:
            choice = {"text": self.reply, "index": 0, "logprobs": None, "finish_reason": "stop"}
            usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
            return {**base, "choices": [choice], "usage": usage}

        def chunks() -> Iterator[dict[str, Any]]:
            for piece in [*_pieces(self.reply, 4), ""]:
                reason = None if piece else "stop"
                choice = {"text": piece, "index": 0, "logprobs": None, "finish_reason": reason}
                yield {**base, "choices": [choice]}

        return chunks()


def test_without_tools_the_prompt_is_the_templates_own() -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llama = ScriptedLlama("Paris.")
    messages = [{"role": "user", "content": "Capital of France?"}]
    reply = ToolCallHandler()(llama=llama, messages=messages)  # type: ignore[arg-type]
    assert reply["choices"][0]["message"]["content"] == "Paris."
    own = Jinja2ChatFormatter(TEMPLATE, eos_token="<|im_end|>", bos_token="<s>")
    assert llama.prompts == [own(messages=messages).prompt]
    assert llama.grammars == [None]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("text", [CALCULATOR_CALL, RECORDED_FENCED_CALL])
def test_with_tools_the_prompt_lists_them_and_the_reply_has_tool_calls(
    stream: bool, text: str
) -> None:
    llama = ScriptedLlama(text)
    messages = [{"role": "user", "content": "What is (128 + 256) * 3 - 17?"}]
    reply = ToolCallHandler()(llama=llama, messages=messages, tools=TOOLS, stream=stream)  # type: ignore[arg-type]
    assert "<|im_start|>tools\ncalculator\ncurrent_time\n" in llama.prompts[0]
    if stream:
        chunks = [ChatCompletionChunk.model_validate(c) for c in reply]
        calls = [tc for c in chunks for tc in c.choices[0].delta.tool_calls or []]
        assert chunks[-1].choices[0].finish_reason == "tool_calls"
        name, arguments = calls[0].function.name, calls[0].function.arguments  # type: ignore[union-attr]
    else:
        choice = ChatCompletion.model_validate(reply).choices[0]
        assert choice.finish_reason == "tool_calls"
        call = (choice.message.tool_calls or [])[0]
        name, arguments = call.function.name, call.function.arguments  # type: ignore[union-attr]
    assert name == "calculator"
    assert json.loads(arguments or "") == {"expression": "(128 + 256) * 3 - 17"}


def test_required_and_named_choices_constrain_the_reply_with_a_grammar() -> None:
    from llama_cpp.llama_grammar import LlamaGrammar

    for choice in ("required", {"type": "function", "function": {"name": "calculator"}}):
        llama = ScriptedLlama(CALCULATOR_CALL)
        reply = ToolCallHandler()(
            llama=llama,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "17 * 23"}],
            tools=TOOLS,
            tool_choice=choice,
        )
        assert isinstance(llama.grammars[0], LlamaGrammar)
        assert reply["choices"][0]["finish_reason"] == "tool_calls"
    gbnf = call_grammar(TOOLS, "calculator")
    assert gbnf.startswith('root ::= "<tool_call>\\n" maximus-tool-call "\\n</tool_call>"')
    assert '"\\"calculator\\""' in gbnf and "current" not in gbnf
    LlamaGrammar.from_string(call_grammar(TOOLS))  # both tools: a grammar llama.cpp accepts


def test_tool_choice_none_leaves_the_tools_out() -> None:
    llama = ScriptedLlama("No tools needed.")
    reply = ToolCallHandler()(
        llama=llama,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": "hi"}],
        tools=TOOLS,
        tool_choice="none",
    )
    assert "tools" not in llama.prompts[0]
    assert reply["choices"][0]["message"]["content"] == "No tools needed."


# --- requests as OpenAI clients send them ---------------------------------------------------

SECOND_TURN = {
    "model": "local",
    "messages": [
        {"role": "user", "content": "Use the calculator to work out 17 * 23."},
        {
            "role": "assistant",
            "content": None,  # what ChatOpenAI sends for a message that only calls tools
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": '{"expression": "17 * 23"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "391"},
    ],
    "tools": TOOLS,
    "stream_options": {"include_usage": True},
}


def test_a_tool_call_history_is_made_acceptable_to_the_servers_request_model() -> None:
    raw = json.dumps(SECOND_TURN).encode()
    with pytest.raises(ValidationError):
        CreateChatCompletionRequest.model_validate_json(raw)
    request = CreateChatCompletionRequest.model_validate_json(accept_request(raw))
    assert request.messages[1]["content"] == ""  # type: ignore[typeddict-item]
    assert request.messages[1]["tool_calls"][0]["id"] == "call_1"  # type: ignore[typeddict-item]
    plain = json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode()
    for untouched in (plain, b"not json", b"[1, 2]"):
        assert accept_request(untouched) is untouched


async def test_the_middleware_hands_the_app_the_accepted_body() -> None:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(body: CreateChatCompletionRequest) -> dict[str, Any]:
        return {"roles": [m["role"] for m in body.messages]}

    transport = httpx.ASGITransport(app=AcceptToolCallHistory(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
        reply = await client.post("/v1/chat/completions", json=SECOND_TURN)
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"roles": ["user", "assistant", "tool"]}
        unwrapped = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=unwrapped, base_url="http://local") as bare:
            assert (await bare.post("/v1/chat/completions", json=SECOND_TURN)).status_code == 422

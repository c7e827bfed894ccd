"""The real local model calls tools the OpenAI way: bound tools, and the prebuilt ReAct agent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langgraph.prebuilt import create_react_agent

from maximus import ModelResolver
from maximus.models.local.chat import ChatLlamaCpp
from maximus.models.local.server import LocalModelServer
from maximus.models.local.toolcalls import register_handler
from maximus.tools.builtin import calculator, evaluate
from tests.support.local import local_settings

pytestmark = [pytest.mark.integration, pytest.mark.local_model]

# One event loop for the module's async tests: ChatOpenAI keeps one async HTTP client per base
# URL, and its connections belong to the loop that opened them.
module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def model(model_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatLlamaCpp]:
    """The local model at temperature 0, its server started by Maximus and stopped afterwards."""
    data_dir = tmp_path_factory.mktemp("tool-calls") / "data"
    settings = local_settings(data_dir, model_file, temperature=0.0)
    chat = ModelResolver(settings=settings).get("executor")
    assert isinstance(chat, ChatLlamaCpp)
    yield chat
    LocalModelServer(settings).stop()


QUESTION = "What is (128 + 256) * 3 - 17?"


def test_without_tools_the_prompt_is_byte_for_byte_llama_cpps_own(model_file: Path) -> None:
    import llama_cpp

    llama = llama_cpp.Llama(str(model_file), vocab_only=True, verbose=False)
    assert llama.chat_format == "chat_template.default"  # what the server used before
    prompts: list[list[int]] = []

    class Recorded(Exception):
        pass

    def record(*, prompt: list[int], **_: object) -> None:  # only the generation is faked
        prompts.append(list(prompt))
        raise Recorded

    llama.create_completion = record  # type: ignore[method-assign,assignment]
    messages = [
        {"role": "system", "content": "Plan the goal & answer in JSON: <plan>."},
        {"role": "user", "content": "What is 17*23? Use the calculator."},
    ]
    for chat_format in ("chat_template.default", register_handler()):
        llama.chat_format = chat_format
        with pytest.raises(Recorded):
            llama.create_chat_completion(messages=messages)  # type: ignore[arg-type]
    assert len(prompts) == 2 and prompts[0] == prompts[1]


@module_loop
async def test_bound_tools_come_back_as_a_tool_call_streaming_or_not(model: ChatLlamaCpp) -> None:
    bound = model.bind_tools([calculator])
    reply = await bound.ainvoke([HumanMessage(QUESTION)])
    assert isinstance(reply, AIMessage)
    assert reply.response_metadata["finish_reason"] == "tool_calls"
    (call,) = reply.tool_calls
    assert call["name"] == "calculator" and call["id"]
    assert evaluate(call["args"]["expression"]) == 1135  # the brackets kept

    streamed: AIMessageChunk | None = None
    async for chunk in bound.astream([HumanMessage(QUESTION)]):
        assert isinstance(chunk, AIMessageChunk)
        streamed = chunk if streamed is None else streamed + chunk
    assert streamed is not None and len(streamed.tool_calls) == 1
    assert streamed.tool_calls[0]["name"] == "calculator"
    assert evaluate(streamed.tool_calls[0]["args"]["expression"]) == 1135
    assert streamed.response_metadata["finish_reason"] == "tool_calls"


# Without a system prompt the 1.5B model calls the calculator again after its answer (three
# times, then an empty reply, measured); with one, it answers from the tool's result.
REACT_PROMPT = (
    "You are a helpful assistant. Use a tool when you need it. When a tool response answers "
    "the question, reply to the user in words with the answer; do not call the tool again."
)


@module_loop
async def test_the_prebuilt_react_agent_runs_the_calculator_and_answers(
    model: ChatLlamaCpp,
) -> None:
    agent = create_react_agent(model, [calculator], prompt=REACT_PROMPT)
    result = await agent.ainvoke(
        {"messages": [HumanMessage("Use the calculator to work out 17 * 23.")]},
        {"recursion_limit": 8},
    )
    messages = result["messages"]
    tool_results = [m for m in messages if isinstance(m, ToolMessage)]
    assert tool_results and tool_results[0].name == "calculator"
    assert tool_results[0].content == "391"
    final = messages[-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert "391" in str(final.content)

"""Built-in tools, the registry, and the lesson sink's priorities."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from langchain_core.tools import ToolException, tool

from maximus import ToolRegistry, ToolRegistryError, side_effecting
from maximus.memory.lessons import InProcessLessonSink, Lesson, Priority
from maximus.tools.builtin import evaluate, make_write_file


@pytest.mark.parametrize(
    ("expression", "value"), [("17*23", 391), ("2**10", 1024), ("-(3+4)/2", -3.5), ("max(1, 2)", 2)]
)
def test_calculator_evaluates_arithmetic(expression: str, value: float) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    "expression", ["__import__('os').system('true')", "open('x')", "1/0", "9**99999", "x"]
)
def test_calculator_refuses_code_and_bad_math(expression: str) -> None:
    with pytest.raises(ToolException):
        evaluate(expression)


def test_write_file_stays_in_the_workspace(tmp_path: Path) -> None:
    writer = make_write_file(lambda: tmp_path)
    assert writer.metadata == {"side_effecting": True}
    writer.invoke({"path": "notes/a.txt", "content": "hi"})
    assert (tmp_path / "notes" / "a.txt").read_text() == "hi"
    (tmp_path / "link").symlink_to("/etc")
    for escape in ("../outside.txt", "/etc/passwd", "link/passwd"):
        with pytest.raises(ToolException, match="outside the workspace"):
            writer.invoke({"path": escape, "content": "x"})


def test_registry_versions_and_rejects_duplicates() -> None:
    @tool
    def ping() -> str:
        """Ping."""
        return "pong"

    registry = ToolRegistry([ping])
    node = registry.tool_node()
    assert registry.tool_node() is node  # cached while unchanged
    with pytest.raises(ToolRegistryError, match="already registered"):
        registry.register(ping)
    registry.register(side_effecting(ping), replace=True)
    assert registry.is_side_effecting("ping") and registry.tool_node() is not node
    registry.unregister("ping")
    with pytest.raises(ToolRegistryError, match="no tool named"):
        registry.get("ping")


async def test_lesson_priorities_inline_async_and_batched() -> None:
    sink = InProcessLessonSink(batch_size=3, batch_timeout=0.05)
    await sink.submit(Lesson("critical", "procedural", Priority.CRITICAL))
    assert [x.text for x in sink.lessons] == ["critical"]  # written before submit returned

    await sink.submit(Lesson("batched", "episodic", Priority.BATCH))
    await sink.submit(Lesson("high", "procedural", Priority.HIGH))
    assert len(sink.lessons) == 1  # nothing else on the caller's path
    await asyncio.sleep(0.01)
    assert [x.text for x in sink.lessons] == ["critical", "high"]  # high went first
    await asyncio.sleep(0.1)
    assert [x.text for x in sink.lessons] == ["critical", "high", "batched"]  # timeout

    for i in range(3):
        await sink.submit(Lesson(f"b{i}", "episodic", Priority.BATCH))
    await asyncio.sleep(0.01)
    assert [x.text for x in sink.lessons][-3:] == ["b0", "b1", "b2"]  # batch full
    await sink.aclose()


async def test_a_failing_writer_never_reaches_the_agent() -> None:
    async def broken(lessons: list[Lesson]) -> None:
        raise ConnectionError("store down")

    sink = InProcessLessonSink(broken)
    await sink.submit(Lesson("x", "procedural", Priority.CRITICAL))
    await sink.submit(Lesson("y", "procedural", Priority.BATCH))
    await sink.flush()
    assert sink.failed == 2 and sink.written == 0

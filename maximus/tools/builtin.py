"""Built-in tools: a safe calculator, the current time, and a sandboxed file writer."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from langchain_core.tools import BaseTool, ToolException, tool

from maximus.tools.registry import side_effecting

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt, "log": math.log, "exp": math.exp, "sin": math.sin, "cos": math.cos,
    "tan": math.tan, "abs": abs, "round": round, "min": min, "max": max,
}  # fmt: skip
_CONSTANTS = {"pi": math.pi, "e": math.e}
_MAX_EXPONENT = 10_000
_MAX_EXPRESSION = 500


def evaluate(expression: str) -> float | int:
    """Evaluate an arithmetic expression by walking its AST (never ``eval``)."""
    if len(expression) > _MAX_EXPRESSION:
        raise ToolException(f"expression longer than {_MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ToolException(f"not an arithmetic expression: {expression!r}") from exc

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.Name) and node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
                raise ToolException("exponent too large")
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](walk(node.operand))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and not node.keywords
        ):
            return _FUNCTIONS[node.func.id](*(walk(arg) for arg in node.args))
        raise ToolException(f"unsupported syntax in expression: {ast.dump(node)[:80]}")

    try:
        result: float | int = walk(tree)
        return result
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:
        raise ToolException(f"cannot evaluate {expression!r}: {exc}") from exc


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression, e.g. '17 * 23' or 'sqrt(2) + pi'."""
    return str(evaluate(expression))


@tool
def current_time(timezone: str = "UTC") -> str:
    """The current date and time in an IANA time zone, e.g. 'Europe/Lisbon'."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ToolException(f"unknown time zone {timezone!r}") from exc
    return datetime.now(zone).isoformat(timespec="seconds")


def make_write_file(workspace: Callable[[], Path]) -> BaseTool:
    """A side-effecting tool that writes text files inside ``workspace()`` only."""

    @tool
    def write_file(path: str, content: str) -> str:
        """Write text to a file in the agent's workspace (relative paths only)."""
        root = workspace().resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root) or target == root:
            raise ToolException(f"path {path!r} is outside the workspace")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        return f"wrote {len(content.encode())} bytes to {target.relative_to(root)}"

    return side_effecting(write_file)


def builtin_tools(workspace: Callable[[], Path]) -> list[BaseTool]:
    """The tools every agent starts with."""
    return [calculator, current_time, make_write_file(workspace)]


__all__ = ["builtin_tools", "calculator", "current_time", "evaluate", "make_write_file"]

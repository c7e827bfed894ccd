"""Core plugin ``calculator``: arithmetic, comparisons and maths functions with variables.

The expression is parsed with :mod:`ast` and walked node by node; only numbers, names of
variables and constants, the listed operators and the listed functions are evaluated, so
there is no ``eval`` and no attribute access. Sizes are bounded: the expression's length and
node count, exponents, factorials, and the bits of any integer produced.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from langchain_core.tools import BaseTool, ToolException, tool

from maximus.plugins.base import BasePlugin
from maximus.plugins.hookspecs import hookimpl
from maximus.plugins.manifest import PluginType

MAX_LENGTH = 1000
MAX_NODES = 400
MAX_BITS = 100_000
MAX_FACTORIAL = 2000

Number = int | float | bool

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}  # fmt: skip
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_,
}  # fmt: skip
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}  # fmt: skip


def _factorial(n: Any) -> int:
    if not isinstance(n, int) or n > MAX_FACTORIAL:
        raise ToolException(f"factorial takes an integer up to {MAX_FACTORIAL}")
    return math.factorial(n)


def _log(x: Any, base: Any = math.e) -> float:
    return math.log(x, base)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs, "round": round, "min": min, "max": max, "sum": sum,
    "sqrt": math.sqrt, "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x), "exp": math.exp,
    "log": _log, "ln": math.log, "log10": math.log10, "log2": math.log2,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos,
    "atan": math.atan, "atan2": math.atan2, "sinh": math.sinh, "cosh": math.cosh,
    "tanh": math.tanh, "degrees": math.degrees, "radians": math.radians, "hypot": math.hypot,
    "floor": math.floor, "ceil": math.ceil, "trunc": math.trunc, "factorial": _factorial,
    "gcd": math.gcd, "lcm": math.lcm,
}  # fmt: skip
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf}


def _checked(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_BITS:
        raise ToolException(f"a number in the expression exceeds {MAX_BITS} bits")
    return value


def evaluate(expression: str, variables: dict[str, Number] | None = None) -> Any:
    """Evaluate ``expression`` with ``variables``; raise ``ToolException`` on anything else.

    Raises:
        ToolException: bad syntax, an unknown name or function, or a size limit.
    """
    if len(expression) > MAX_LENGTH:
        raise ToolException(f"expression longer than {MAX_LENGTH} characters")
    names: dict[str, Any] = {**CONSTANTS, **(variables or {})}
    for key, value in names.items():
        if not isinstance(value, int | float) or key in FUNCTIONS:
            raise ToolException(f"variable {key!r} must be a number, not a function name")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ToolException(f"not an expression: {expression!r} ({exc.msg})") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ToolException(f"expression has more than {MAX_NODES} parts")

    def walk(node: ast.AST) -> Any:
        match node:
            case ast.Expression(body=body):
                return walk(body)
            case ast.Constant(value=value) if type(value) in (int, float, bool):
                return value
            case ast.Name(id=name) if name in names:
                return names[name]
            case ast.Name(id=name):
                raise ToolException(f"unknown name {name!r}; pass it in 'variables'")
            case ast.Tuple(elts=items) | ast.List(elts=items):
                return [walk(item) for item in items]
            case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
                a, b = walk(left), walk(right)
                if isinstance(op, ast.Pow) and isinstance(a, int) and isinstance(b, int):
                    if b > 0 and max(a.bit_length(), 1) * b > MAX_BITS:
                        raise ToolException(f"{a}**{b} exceeds {MAX_BITS} bits")
                return _checked(_BINARY[type(op)](a, b))
            case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
                return _UNARY[type(op)](walk(operand))
            case ast.BoolOp(op=ast.And(), values=values):
                return all(walk(v) for v in values)
            case ast.BoolOp(op=ast.Or(), values=values):
                return any(walk(v) for v in values)
            case ast.Compare(left=left, ops=ops, comparators=rights):
                current = walk(left)
                for test, right in zip(ops, rights, strict=True):
                    if type(test) not in _COMPARE:
                        raise ToolException(f"unsupported comparison {type(test).__name__}")
                    following = walk(right)
                    if not _COMPARE[type(test)](current, following):
                        return False
                    current = following
                return True
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return walk(body) if walk(test) else walk(orelse)
            case ast.Call(func=ast.Name(id=name), args=args, keywords=[]) if name in FUNCTIONS:
                return _checked(FUNCTIONS[name](*(walk(a) for a in args)))
            case ast.Call(func=ast.Name(id=name)):
                raise ToolException(f"unknown function {name!r}; known: {sorted(FUNCTIONS)}")
        raise ToolException(f"unsupported syntax: {ast.unparse(node)!r}")

    try:
        return walk(tree)
    except ToolException:
        raise
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise ToolException(f"cannot evaluate {expression!r}: {exc}") from None


def format_number(value: Any) -> str:
    """A result as text: integers exactly, floats without needless digits."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, list):
        return "[" + ", ".join(format_number(v) for v in value) + "]"
    return repr(value)


class CalculatorPlugin(BasePlugin):
    """Evaluate arithmetic and maths safely (an AST walk, never eval)."""

    name = "calculator"
    version = "1.0.0"
    plugin_type = PluginType.PROCESSING

    def tools(self) -> list[BaseTool]:
        """The ``calculate`` tool."""

        @tool
        def calculate(expression: str, variables: dict[str, float] | None = None) -> str:
            """Evaluate a maths expression, e.g. 'sqrt(x**2 + y**2)' with variables
            {"x": 3, "y": 4}. Supports + - * / // % **, comparisons, and/or/not, 'a if c
            else b', and functions like sqrt, log, sin, floor, factorial, gcd, min, max."""
            return format_number(evaluate(expression, variables))

        return [calculate]


@hookimpl
def maximus_register_plugins() -> list[type[BasePlugin]]:
    """Register the calculator plugin."""
    return [CalculatorPlugin]


__all__ = ["CalculatorPlugin", "evaluate", "format_number"]

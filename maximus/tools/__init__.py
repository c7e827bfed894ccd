"""Tools the agent can call: the registry and the built-ins."""

from maximus.tools.builtin import builtin_tools, calculator, current_time, make_write_file
from maximus.tools.registry import ToolRegistry, is_side_effecting, side_effecting

__all__ = [
    "ToolRegistry",
    "builtin_tools",
    "calculator",
    "current_time",
    "is_side_effecting",
    "make_write_file",
    "side_effecting",
]

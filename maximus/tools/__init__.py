"""Tools the agent can call: the registry and the built-ins."""

from maximus.tools.builtin import builtin_tools, calculator, current_time, make_write_file
from maximus.tools.choices import choices_of, constrain
from maximus.tools.registry import ToolRegistry, is_side_effecting, side_effecting
from maximus.tools.signals import ToolSignals, signals_of

__all__ = [
    "ToolRegistry",
    "ToolSignals",
    "builtin_tools",
    "calculator",
    "choices_of",
    "constrain",
    "current_time",
    "is_side_effecting",
    "make_write_file",
    "side_effecting",
    "signals_of",
]

"""How ``maximus --help`` reads: real argument names, no type labels on flags, and the shell
completion options once, at the top.

Typer writes a required argument as ``{goal}`` in the usage line, labels every flag
``<bool>``, and gives each command group its own ``--install-completion``. The command
classes here change only that; every group's commands are switched to them by
:func:`use_help_classes`, so the modules that define commands need not name them.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.models import DefaultPlaceholder

COMPLETION_OPTIONS = frozenset({"install_completion", "show_completion"})
"""Typer's shell completion options, which only the top-level command keeps."""


def _plain(params: list[Any], *, top: bool) -> list[Any]:
    kept = []
    for param in params:
        if not top and param.name in COMPLETION_OPTIONS:
            continue
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""  # a flag takes no value: no ``<bool>`` beside it
        if isinstance(param, TyperArgument) and param.metavar is None and param.name:
            param.metavar = param.name.upper()  # as the docstrings say it: "Run GOAL"
        kept.append(param)
    return kept


def _usage_name(param: TyperArgument) -> str:
    name = param.metavar or (param.name or "").upper()
    if param.nargs != 1:
        name += "..."
    return name if param.required else f"[{name}]"


class HelpCommand(TyperCommand):
    """A command whose usage line names its arguments (``GOAL``, not ``{goal}``), and whose
    flags carry no type label."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain(super().get_params(ctx), top=True)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(_usage_name(param))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


class HelpGroup(TyperGroup):
    """A command group that shows completion options only at the top level."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain(super().get_params(ctx), top=ctx.parent is None)


def use_help_classes(app: typer.Typer) -> typer.Typer:
    """Build ``app``'s group and commands (and its sub-apps') with the classes above.

    Only those built with Typer's own classes (the default) are switched. Returns ``app``.
    """
    if isinstance(app.info.cls, DefaultPlaceholder) or app.info.cls in (None, TyperGroup):
        app.info.cls = HelpGroup
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = HelpCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            use_help_classes(group.typer_instance)
    return app


__all__ = ["COMPLETION_OPTIONS", "HelpCommand", "HelpGroup", "use_help_classes"]

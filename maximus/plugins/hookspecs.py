"""The hooks a plugin can implement, in pluggy's style (one module, markers bound to a name).

Every hook is named ``maximus_*`` and returns a list; a host collects the lists. Code
contributes to Maximus in one of three ways, all through these hooks:

- a module implements :func:`maximus_register_plugins` and returns plugin classes (how the
  core plugins are registered, and how a package can ship several plugins);
- a :class:`~maximus.plugins.base.BasePlugin` implements :func:`maximus_register_tools` and
  :func:`maximus_register_graphs` by default, from its ``tools()`` and ``graphs()``;
- a plain module may implement :func:`maximus_register_tools` alone and be named by an entry
  point: the manager wraps it as a plugin called after the entry point.

Example::

    from maximus.plugins import hookimpl

    @hookimpl
    def maximus_register_tools():
        return [my_tool]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

    from maximus.plugins.subgraph import SubGraph

PROJECT = "maximus"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def maximus_register_plugins() -> list[Any]:  # type: ignore[empty-body]
    """Plugin classes (``BasePlugin`` subclasses) or instances this module provides."""


@hookspec
def maximus_register_tools() -> list[BaseTool]:  # type: ignore[empty-body]
    """LangChain tools for the agent's executor; each runs in the plugin's sandbox."""


@hookspec
def maximus_register_graphs() -> list[SubGraph]:  # type: ignore[empty-body]
    """Compiled sub-graphs; the agent calls each as a tool that runs the whole graph."""


__all__ = [
    "PROJECT",
    "hookimpl",
    "hookspec",
    "maximus_register_graphs",
    "maximus_register_plugins",
    "maximus_register_tools",
]

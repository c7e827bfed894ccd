"""The smallest kind of plugin: a module implementing the ``maximus_register_tools`` hook.

Maximus runs it as a plugin named after its entry point (``slugs``), in the same sandbox.
"""

from __future__ import annotations

import re
import unicodedata

from langchain_core.tools import BaseTool, tool

from maximus.plugins import hookimpl


@tool
def slugify(text: str) -> str:
    """Make a URL slug of a text: 'Hello, World!' becomes 'hello-world'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


@hookimpl
def maximus_register_tools() -> list[BaseTool]:
    """The ``slugify`` tool."""
    return [slugify]

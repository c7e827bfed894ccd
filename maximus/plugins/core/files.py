"""Core plugin ``files``: read, write, list and search files in the plugin's own directory.

Every path goes through the plugin's :class:`~maximus.plugins.sandbox.FileScope`, which
resolves it (symlinks included) and refuses anything outside the directory: ``../..``,
absolute paths and symlinks that point out are all refused. Writes open the resolved path
with ``O_NOFOLLOW``, so a symlink swapped in after the check is refused too.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path

from langchain_core.tools import BaseTool, ToolException, tool

from maximus.plugins.base import BasePlugin
from maximus.plugins.hookspecs import hookimpl
from maximus.plugins.manifest import Permissions, PluginType
from maximus.tools.registry import side_effecting

MAX_READ = 200_000
MAX_LIST = 500


class FilesPlugin(BasePlugin):
    """Sandboxed file access: read, write, list and search in one directory."""

    name = "files"
    version = "1.0.0"
    plugin_type = PluginType.INTEGRATION
    permissions = Permissions(filesystem=True)

    def tools(self) -> list[BaseTool]:
        """``file_read``, ``file_write``, ``file_list`` and ``file_search``."""
        plugin = self

        @tool
        def file_read(path: str, max_bytes: int = MAX_READ) -> str:
            """Read a text file (path relative to the files directory)."""
            target = plugin.context.path(path)
            if not target.is_file():
                raise ToolException(f"no file {path!r}")
            with open(target, "rb") as handle:
                data = handle.read(min(max_bytes, MAX_READ) + 1)
            cut = len(data) > min(max_bytes, MAX_READ)
            text = data[: min(max_bytes, MAX_READ)].decode("utf-8", "replace")
            return text + ("\n[cut]" if cut else "")

        @tool
        def file_write(path: str, content: str, append: bool = False) -> str:
            """Write (or append) text to a file in the files directory, creating folders."""
            scope = plugin.context.files
            target = scope.resolve(path)
            if target == scope.root or target.is_dir():
                raise ToolException(f"{path!r} is a directory")
            target.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW
            flags |= os.O_APPEND if append else os.O_TRUNC
            fd = os.open(target, flags, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(content)
            return f"wrote {len(content.encode())} bytes to {scope.relative(target)}"

        @tool
        def file_list(path: str = ".", pattern: str = "*", recursive: bool = False) -> str:
            """List files and folders (folders end with '/'), optionally recursively and
            filtered by a glob pattern like '*.md'."""
            scope = plugin.context.files
            entries = [scope.relative(p) + ("/" if p.is_dir() else "") for p in plugin._walk(
                scope.resolve(path), recursive) if fnmatch.fnmatch(p.name, pattern)]  # fmt: skip
            shown = entries[:MAX_LIST]
            more = f"\n[{len(entries) - MAX_LIST} more]" if len(entries) > MAX_LIST else ""
            return "\n".join(shown) + more if shown else "(empty)"

        @tool
        def file_search(
            query: str, path: str = ".", glob: str = "*", regex: bool = False, max_results: int = 50
        ) -> str:
            """Search text files for a string (or a regular expression); answers
            'file:line: text' for each match."""
            scope = plugin.context.files
            try:
                matcher = re.compile(query if regex else re.escape(query))
            except re.error as exc:
                raise ToolException(f"bad regular expression: {exc}") from None
            hits: list[str] = []
            for file in plugin._walk(scope.resolve(path), True):
                if not file.is_file() or not fnmatch.fnmatch(file.name, glob):
                    continue
                with open(file, encoding="utf-8", errors="replace") as handle:
                    for number, line in enumerate(handle, 1):
                        if matcher.search(line):
                            hits.append(f"{scope.relative(file)}:{number}: {line.rstrip()[:200]}")
                            if len(hits) >= max_results:
                                return "\n".join(hits) + "\n[more results not shown]"
            return "\n".join(hits) or "no matches"

        return [file_read, side_effecting(file_write), file_list, file_search]

    def _walk(self, start: Path, recursive: bool) -> list[Path]:
        """Entries under ``start`` whose real path stays inside the directory (symlinks
        that lead out are skipped, and never followed)."""
        scope = self.context.files
        if not start.is_dir():
            raise ToolException(f"no folder {scope.relative(start)!r}")
        found: list[Path] = []
        for folder, dirs, files in os.walk(start, followlinks=False):
            for name in sorted(dirs) + sorted(files):
                entry = Path(folder) / name
                if scope.contains(entry.resolve()):
                    found.append(entry)
            if not recursive:
                break
            dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
        return found


@hookimpl
def maximus_register_plugins() -> list[type[BasePlugin]]:
    """Register the files plugin."""
    return [FilesPlugin]


__all__ = ["FilesPlugin"]

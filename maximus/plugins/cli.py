"""``maximus plugins``: list, inspect, enable, disable and scaffold plugins.

Enable and disable are saved in the plugin state file in the data directory, so they change
what later ``maximus run`` commands load.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from maximus.errors import PluginError
from maximus.plugins.manager import PluginInfo, PluginManager, PluginState, get_plugin_manager
from maximus.plugins.manifest import PluginType

plugins_app = typer.Typer(
    help="Plugins: list, inspect, enable, disable, or scaffold a new one.",
    no_args_is_help=True,
)
_out = Console()
_err = Console(stderr=True)

USAGE = 2
FAILED = 1

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
NameArg = Annotated[str, typer.Argument(help="The plugin's name.")]


def _manager() -> PluginManager:
    from maximus.config import get_settings

    return get_plugin_manager(get_settings())


def _as_dict(info: PluginInfo) -> dict[str, Any]:
    data = asdict(info)
    manifest = info.manifest
    data["manifest"] = manifest.model_dump(mode="json") if manifest else None
    data["state"] = info.state.value
    data["type"] = info.type.value if info.type else None
    return data


def _fail(exc: PluginError, code: int) -> typer.Exit:
    _err.print(f"[bold red]{type(exc).__name__}:[/] {exc.message}")
    return typer.Exit(code)


@plugins_app.command("list")
def list_plugins(as_json: JsonFlag = False) -> None:
    """List every plugin found, with its state, tools and error."""
    with _manager() as manager:
        infos = manager.list_plugins()
    if as_json:
        typer.echo(json.dumps([_as_dict(i) for i in infos], default=str))
        return
    table = Table(title="plugins")
    for column in ("name", "version", "type", "origin", "state", "tools", "error"):
        table.add_column(column)
    colours = {PluginState.LOADED: "green", PluginState.FAILED: "red"}
    for info in infos:
        colour = colours.get(info.state, "yellow")
        table.add_row(
            info.name,
            info.version or "",
            info.type.value if info.type else "",
            info.origin,
            f"[{colour}]{info.state.value}[/]",
            ", ".join(info.tools),
            info.error or "",
        )
    _out.print(table)


@plugins_app.command()
def info(name: NameArg, as_json: JsonFlag = False) -> None:
    """Show one plugin: manifest, permissions, limits, tools, state and error."""
    with _manager() as manager:
        try:
            found = manager.info(name)
        except PluginError as exc:
            raise _fail(exc, USAGE) from None
        tools = {
            t.name: " ".join(t.description.split())
            for t in manager.tools()
            if t.name in found.tools
        }
    if as_json:
        typer.echo(json.dumps({**_as_dict(found), "tool_descriptions": tools}, default=str))
        return
    _out.print(f"[bold]{found.name}[/] {found.version or ''} ({found.state.value})")
    _out.print(f"from: {found.origin} {found.location}")
    if found.error:
        _out.print(f"[red]error:[/] {found.error}")
    if found.manifest is not None:
        manifest = found.manifest
        _out.print(f"type: {manifest.type.value}  requires: {list(manifest.requires) or 'none'}")
        _out.print(f"permissions: {manifest.permissions.model_dump(mode='json')}")
        _out.print(f"limits: {manifest.limits.model_dump(mode='json')}")
        if manifest.description:
            _out.print(manifest.description)
    for tool_name, description in tools.items():
        _out.print(f"  [cyan]{tool_name}[/]: {description}")


@plugins_app.command()
def enable(name: NameArg) -> None:
    """Enable a plugin (saved: later runs load it)."""
    with _manager() as manager:
        try:
            found = manager.enable(name)
        except PluginError as exc:
            unknown = name not in {i.name for i in manager.list_plugins()}
            raise _fail(exc, USAGE if unknown else FAILED) from None
    typer.echo(f"enabled {found.name} ({found.state.value}; tools: {', '.join(found.tools)})")


@plugins_app.command()
def disable(name: NameArg) -> None:
    """Disable a plugin (saved: later runs do not load it)."""
    with _manager() as manager:
        try:
            manager.disable(name)
        except PluginError as exc:
            raise _fail(exc, USAGE) from None
    typer.echo(f"disabled {name}")


@plugins_app.command()
def new(
    name: Annotated[str, typer.Argument(help="The new plugin's name (lower_snake_case).")],
    directory: Annotated[
        Path,
        typer.Option("--dir", metavar="DIR", help="Where to create it (a plugin directory)."),
    ] = Path("plugins"),
    plugin_type: Annotated[
        PluginType,
        typer.Option(
            "--type",
            metavar="TYPE",
            help=f"What kind of plugin: {', '.join(t.value for t in PluginType)}.",
        ),
    ] = PluginType.PROCESSING,
    description: Annotated[str, typer.Option(metavar="TEXT", help="One line about it.")] = "",
) -> None:
    """Scaffold a plugin: plugin.yaml, plugin.py with one tool, and a test."""
    from maximus.plugins._scaffold import scaffold

    try:
        root = scaffold(name, directory, plugin_type, description)
    except PluginError as exc:
        raise _fail(exc, USAGE) from None
    typer.echo(f"created {root} (plugin.yaml, plugin.py, test_plugin.py)")


__all__ = ["plugins_app"]

"""``/plugins``: list, inspect, enable and disable plugins (enable/disable: admins only)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from fastapi import APIRouter
from starlette.exceptions import HTTPException

from maximus.errors import PluginError, ThreadNotFoundError
from maximus.server.deps import CurrentUser, ServerState, State
from maximus.server.schemas import Plugin

router = APIRouter(prefix="/plugins", tags=["plugins"])


def _as_dict(info: Any) -> dict[str, Any]:
    data = {f.name: getattr(info, f.name) for f in dataclasses.fields(info) if f.name != "manifest"}
    data["state"] = str(info.state.value)
    data["type"] = str(info.type.value) if info.type is not None else None
    data["tools"] = list(info.tools)
    data["requires"] = list(info.requires)
    return data


def _manager(state: ServerState) -> Any:
    if state.plugins is None:
        raise ThreadNotFoundError("plugins are not enabled on this server")
    return state.plugins.get()  # loaded by the warm-up; waits for it if still loading


def _info(manager: Any, name: str) -> Any:
    try:
        return manager.info(name)
    except PluginError:
        raise ThreadNotFoundError(f"no plugin named {name!r}") from None


def _admin(state: ServerState, user: Any) -> None:
    if state.settings.server.auth != "none" and user.user_id not in state.settings.server.admins:
        raise HTTPException(403, "only admins may enable or disable plugins")


async def _switch(state: ServerState, user: Any, name: str, *, enable: bool) -> dict[str, Any]:
    """Enable or disable a known plugin, as an admin; its new snapshot."""
    _admin(state, user)
    manager = await asyncio.to_thread(_manager, state)
    _info(manager, name)
    action = manager.enable if enable else manager.disable
    return _as_dict(await asyncio.to_thread(action, name))


@router.get("", response_model=list[Plugin])
async def list_plugins(state: State, user: CurrentUser) -> Any:
    """Every plugin found, with its state, tools and error."""
    manager = await asyncio.to_thread(_manager, state)
    return [_as_dict(i) for i in await asyncio.to_thread(manager.list_plugins)]


@router.get("/{name}", response_model=Plugin)
async def get_plugin(name: str, state: State, user: CurrentUser) -> Any:
    """One plugin."""
    return _as_dict(_info(await asyncio.to_thread(_manager, state), name))


@router.post("/{name}/enable", response_model=Plugin)
async def enable_plugin(name: str, state: State, user: CurrentUser) -> Any:
    """Enable and load a plugin (saved in the plugin state file)."""
    return await _switch(state, user, name, enable=True)


@router.post("/{name}/disable", response_model=Plugin)
async def disable_plugin(name: str, state: State, user: CurrentUser) -> Any:
    """Disable and unload a plugin (and the plugins that require it)."""
    return await _switch(state, user, name, enable=False)

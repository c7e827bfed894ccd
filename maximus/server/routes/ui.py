"""``/ui``: the built-in web UI, static files shipped inside the package (no auth here).

The pages are plain ES modules and CSS under ``maximus/server/ui/``; they call the same HTTP
API as the SDK with the key the user types (kept in ``sessionStorage``), so every resource is
still checked by the API's auth. The responses carry a Content-Security-Policy that lets the
page reach only this server: nothing loads from, or is sent to, anywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException

from maximus.server.deps import State

router = APIRouter(prefix="/ui", tags=["ui"], include_in_schema=False)

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
"""Where the page's files live inside the package."""
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def resolve(path: str, root: Path = UI_DIR) -> Path | None:
    """The file under ``root`` that ``path`` names, or ``None`` (missing, or outside it)."""
    target = (root / path).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_file():
        return None
    return target


def _file(target: Path, cache: str) -> FileResponse:
    headers = {**SECURITY_HEADERS, "Cache-Control": cache}
    return FileResponse(target, media_type=MEDIA_TYPES.get(target.suffix), headers=headers)


@router.get("")
async def ui_root() -> Any:
    """Redirect to ``/ui/`` so that the page's relative URLs resolve under it."""
    return RedirectResponse("/ui/", status_code=308)


@router.get("/")
async def ui_index() -> Any:
    """The single page; each view is a ``#/...`` route inside it."""
    return _file(UI_DIR / "index.html", "no-cache")


@router.get("/config.json")
async def ui_config(state: State) -> Any:
    """What the page needs before signing in: whether the API asks for credentials."""
    return JSONResponse({"auth": state.settings.server.auth}, headers=SECURITY_HEADERS)


@router.get("/{path:path}")
async def ui_file(path: str) -> Any:
    """A script, style sheet or image of the page (revalidated, so upgrades show at once)."""
    target = resolve(path)
    if target is None or target.suffix not in MEDIA_TYPES:
        raise HTTPException(404, "no such file")
    return _file(target, "no-cache")


__all__ = ["UI_DIR", "resolve", "router"]

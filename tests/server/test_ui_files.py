"""The web UI's files: every module the page imports is in the package and shipped as package
data, and ``/ui/<path>`` resolves only files inside the UI folder."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

from maximus.server.routes.ui import MEDIA_TYPES, UI_DIR, resolve

ROOT = Path(__file__).resolve().parents[2]
IMPORT = re.compile(r"""(?:from\s+|import\s*\(\s*)["'](\./[^"']+)["']""")
LINK = re.compile(r"""(?:src|href)="([^"#:]+)\"""")


def test_resolve_stays_inside_the_ui_folder(tmp_path: Path) -> None:
    (tmp_path / "ui" / "js").mkdir(parents=True)
    (tmp_path / "ui" / "js" / "a.js").write_text("")
    (tmp_path / "secret.txt").write_text("no")
    root = tmp_path / "ui"
    assert resolve("js/a.js", root) == (root / "js" / "a.js").resolve()
    for outside in ("../secret.txt", "js/../../secret.txt", "/etc/passwd", "js", "missing.js"):
        assert resolve(outside, root) is None, outside


def test_every_file_the_page_loads_exists() -> None:
    html = (UI_DIR / "index.html").read_text()
    wanted = {UI_DIR / link for link in LINK.findall(html)}
    for script in (UI_DIR / "js").glob("*.js"):
        wanted |= {(script.parent / name).resolve() for name in IMPORT.findall(script.read_text())}
    missing = sorted(str(p.relative_to(UI_DIR)) for p in wanted if not p.is_file())
    assert missing == []
    assert {p.suffix for p in wanted} <= set(MEDIA_TYPES)
    # Every module in js/ is reachable from the page (no dead files shipped).
    assert {p.resolve() for p in (UI_DIR / "js").glob("*.js")} <= {p.resolve() for p in wanted}


def test_every_ui_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["maximus"]
    files = [p.relative_to(ROOT / "maximus").as_posix() for p in UI_DIR.rglob("*") if p.is_file()]
    assert files
    assert [f for f in files if not any(fnmatch(f, pattern) for pattern in patterns)] == []

"""Every module of the package imports by itself in a fresh interpreter: no import cycles.

A cycle shows up only when a module is the first of its cycle to be imported, so each module
is imported alone, in its own interpreter, rather than all in one.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import maximus

MODULES = sorted(info.name for info in pkgutil.walk_packages(maximus.__path__, prefix="maximus."))


def _import_alone(module: str) -> tuple[str, int, str]:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return module, done.returncode, done.stderr[-2000:]


def test_the_package_has_the_rooms_of_the_architecture() -> None:
    rooms = {m.removeprefix("maximus.") for m in MODULES if m.count(".") == 1}
    assert {"graphs", "nodes", "tools", "memory", "plugins", "server", "models"} <= rooms
    assert {"memory.checkpoint", "memory.cache", "memory.lessons", "memory.longterm"} <= {
        m.removeprefix("maximus.") for m in MODULES
    }
    gone = {"local_model", "local_server", "local_chat", "local_cli", "thinking"}
    assert not gone & rooms


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    assert len(MODULES) > 100
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(_import_alone, MODULES))
    failed = {module: err for module, code, err in results if code != 0}
    assert not failed, failed

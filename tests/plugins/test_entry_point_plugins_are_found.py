"""The example third-party package, installed with pip, is found through its entry points."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from maximus.plugins import PluginManager, PluginState
from maximus.plugins._isolation import IsolatedPlugin
from tests.support.cli import maximus

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).parents[2] / "examples" / "maximus-example-plugin"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example installed by pip into its own directory, put on ``sys.path``."""
    tmp = tmp_path_factory.mktemp("example")
    source = tmp / "src"
    shutil.copytree(EXAMPLE, source)  # build outside the repository: no build/ left in it
    target = tmp / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
         str(target), str(source)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    sys.path.insert(0, str(target))
    yield target
    sys.path.remove(str(target))
    for module in [m for m in sys.modules if m.startswith("maximus_example_plugin")]:
        del sys.modules[module]


def test_entry_points_load_both_kinds_of_plugin(site: Path, tmp_path: Path) -> None:
    pm = PluginManager(data_dir=tmp_path, core=False)
    pm.discover()
    units, slugs = pm.info("units"), pm.info("slugs")
    assert units.state is PluginState.LOADED and units.origin == "entry_point"
    assert "maximus-example-plugin" in units.location
    assert slugs.state is PluginState.LOADED and slugs.version == "0.1.0"
    # Installed packages are not core and not trusted: each runs in a worker process.
    assert units.isolation == slugs.isolation == "process"
    convert = pm.registry.get("convert_units")
    assert convert.invoke({"value": 100, "from_unit": "c", "to_unit": "f"}) == "212 f"
    assert convert.invoke({"value": 1, "from_unit": "mi", "to_unit": "km"}) == "1.60934 km"
    assert pm.registry.get("slugify").invoke({"text": "Héllo, Wörld!"}) == "hello-world"
    failed = convert.invoke(
        {"type": "tool_call", "name": "convert_units", "id": "1",
         "args": {"value": 1, "from_unit": "kg", "to_unit": "km"}}
    )  # fmt: skip
    assert failed.status == "error" and "cannot convert 'kg' to 'km'" in failed.text
    pm.close()


def test_a_packaged_plugin_runs_in_process_isolation(site: Path, tmp_path: Path) -> None:
    pm = PluginManager(
        data_dir=tmp_path,
        core=False,
        overrides={"units": {"permissions": {"isolation": "process"}, "config": {"digits": 2}}},
    )
    pm.discover()
    assert isinstance(pm.get("units"), IsolatedPlugin)
    convert = pm.registry.get("convert_units")
    assert convert.invoke({"value": 1, "from_unit": "lb", "to_unit": "kg"}) == "0.45 kg"
    pm.close()


def test_the_cli_lists_the_installed_plugins(site: Path) -> None:
    proc = maximus("plugins", "list", "--json", env={"PYTHONPATH": str(site)})
    assert proc.returncode == 0, proc.stderr
    plugins = {p["name"]: p for p in json.loads(proc.stdout)}
    assert plugins["units"]["tools"] == ["convert_units"] and plugins["units"]["state"] == "loaded"
    assert plugins["slugs"]["tools"] == ["slugify"]

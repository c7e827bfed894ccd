"""Tests of the example package, as its author would write them (run once installed)."""

from pathlib import Path

from maximus.plugins import PluginManager, PluginState


def test_entry_points_load_and_convert(tmp_path: Path) -> None:
    manager = PluginManager(data_dir=tmp_path, core=False)
    manager.discover()
    assert manager.info("units").state is PluginState.LOADED
    assert (
        manager.registry.get("convert_units").invoke(
            {"value": 100, "from_unit": "c", "to_unit": "f"}
        )
        == "212 f"
    )
    assert manager.registry.get("slugify").invoke({"text": "Hello, World!"}) == "hello-world"
    manager.close()

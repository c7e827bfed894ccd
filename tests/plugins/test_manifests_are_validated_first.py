"""Manifests are validated before any plugin code runs; load order is resolved purely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from maximus.errors import PluginManifestError
from maximus.plugins import PluginManifest, PluginType, read_manifest
from maximus.plugins._resolve import resolve
from maximus.plugins.manifest import parse_manifest, validate_config


def manifest(name: str, version: str = "1.0.0", **fields: Any) -> PluginManifest:
    return parse_manifest({"name": name, "version": version, **fields}, where=name)


def test_a_full_manifest_parses(tmp_path: Path) -> None:
    path = tmp_path / "plugin.yaml"
    path.write_text(
        "name: weather\nversion: 1.2.0\ntype: integration\nentry_point: weather:Plugin\n"
        "requires: ['geo>=1.0,<2']\nmaximus: '>=0.1'\n"
        "permissions: {filesystem: true, network: {hosts: [api.example.com], "
        "allow_private: [10.0.0.0/8]}, isolation: process}\n"
        "limits: {timeout_s: 5, max_output_bytes: 1000}\n"
        "config_schema: {type: object, properties: {units: {type: string, "
        "enum: [metric, imperial], default: metric}}}\n"
    )
    found = read_manifest(path)
    assert found.type is PluginType.INTEGRATION
    assert [str(r) for r in found.requirements()] == ["geo<2,>=1.0"]
    assert found.permissions.network is not None
    assert found.permissions.network.hosts == ("api.example.com",)
    assert found.permissions.isolation == "process" and found.limits.timeout_s == 5
    assert validate_config(found, {}) == {"units": "metric"}
    assert found.supports("0.1.0") and not manifest("x", maximus=">=1.0").supports("0.1.0")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: [unclosed\n", "not valid YAML"),
        ("- a list\n", "must be a mapping"),
        ("version: 1.0\n", "name: Field required"),
        ("name: Bad-Name\nversion: '1'\n", "name: Value error"),
        ("name: ok\nversion: not.a.version\n", "not a PEP 440 version"),
        ("name: ok\nversion: '1'\nrequires: ['geo >=> 1']\n", "not a requirement"),
        ("name: ok\nversion: '1'\nmaximus: 'abc'\n", "not a version specifier"),
        ("name: ok\nversion: '1'\npermisions: {}\n", "permisions: Extra inputs"),
        ("name: ok\nversion: '1'\nlimits: {timeout_s: -1}\n", "limits.timeout_s"),
        ("name: ok\nversion: '1'\nentry_point: 'no colon'\n", "must be 'module:Class'"),
        (
            "name: ok\nversion: '1'\npermissions: {network: {allow_private: [nonsense]}}\n",
            "not an address or CIDR range",
        ),
        (
            "name: ok\nversion: '1'\nconfig_schema: {properties: {a: {type: complex}}}\n",
            "unsupported type",
        ),
    ],
)
def test_malformed_manifests_are_clear_errors(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "plugin.yaml"
    path.write_text(text)
    with pytest.raises(PluginManifestError) as caught:
        read_manifest(path)
    assert problem in caught.value.message
    assert str(path) in caught.value.message  # it names the file


def test_config_is_checked_against_the_schema() -> None:
    schema = {
        "type": "object",
        "required": ["token"],
        "properties": {
            "token": {"type": "string", "minLength": 3},
            "retries": {"type": "integer", "default": 2, "minimum": 0, "maximum": 5},
        },
    }
    found = manifest("svc", config_schema=schema)
    assert validate_config(found, {"token": "abcd"}) == {"token": "abcd", "retries": 2}
    for bad, field in (({}, "token"), ({"token": "abcd", "retries": 9}, "retries"),
                       ({"token": "abcd", "typo": 1}, "typo")):  # fmt: skip
        with pytest.raises(PluginManifestError) as caught:
            validate_config(found, bad)
        assert "plugin 'svc'" in caught.value.message and field in caught.value.message


def resolved(*manifests: PluginManifest, **kwargs: Any) -> tuple[list[str], dict[str, str]]:
    order, errors = resolve({m.name: m for m in manifests}, maximus_version="0.1.0", **kwargs)
    return order, {name: error.message for name, error in errors.items()}


def test_requirements_load_first() -> None:
    order, errors = resolved(
        manifest("app", requires=["db>=1", "cache"]),
        manifest("db", "1.5", requires=["base"]),
        manifest("cache", requires=["base"]),
        manifest("base"),
    )
    assert errors == {}
    assert order.index("base") < order.index("db") < order.index("app")
    assert order.index("cache") < order.index("app")


def test_each_problem_names_its_plugin_and_the_rest_still_load() -> None:
    order, errors = resolved(
        manifest("ok"),
        manifest("needs_missing", requires=["ghost"]),
        manifest("old_db", "0.9"),
        manifest("wants_new_db", requires=["old_db>=1.0"]),
        manifest("ping", requires=["pong"]),
        manifest("pong", requires=["ping"]),
        manifest("on_ping", requires=["ping"]),
        manifest("future", maximus=">=2.0"),
    )
    assert sorted(order) == ["ok", "old_db"]
    assert (
        errors["needs_missing"] == "plugin 'needs_missing' requires 'ghost', which is not installed"
    )
    assert "requires 'old_db>=1.0', but old_db 0.9 is the one available" in errors["wants_new_db"]
    assert "dependency cycle: " in errors["ping"] and "dependency cycle: " in errors["pong"]
    assert "ping -> pong -> ping" in errors["ping"] or "pong -> ping -> pong" in errors["ping"]
    assert "requires 'ping', which cannot load" in errors["on_ping"]
    assert errors["future"] == "plugin 'future' supports maximus >=2.0, not 0.1.0"


def test_loaded_and_blocked_plugins_count() -> None:
    order, errors = resolved(
        manifest("a", requires=["base>=1"]),
        manifest("b", requires=["off"]),
        loaded={"base": "1.2"},
        blocked={"off": "is disabled"},
    )
    assert order == ["a"]
    assert errors == {"b": "plugin 'b' requires 'off', which is disabled"}

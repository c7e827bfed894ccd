"""The six core plugins, loaded the way the host loads them (through their hooks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from maximus.plugins import PluginManager, PluginState


@pytest.fixture
def core(tmp_path: Path) -> Iterator[PluginManager]:
    pm = PluginManager(data_dir=tmp_path / "data", entry_point_group=None)
    pm.discover()
    yield pm
    pm.close()


def run(pm: PluginManager, tool: str, **args: Any) -> ToolMessage:
    message: ToolMessage = pm.registry.get(tool).invoke(
        {"type": "tool_call", "name": tool, "args": args, "id": "call_1"}
    )
    return message


def ok(pm: PluginManager, tool: str, **args: Any) -> str:
    message = run(pm, tool, **args)
    assert message.status == "success", message.text
    return message.text


def refused(pm: PluginManager, tool: str, **args: Any) -> str:
    message = run(pm, tool, **args)
    assert message.status == "error", message.text
    return message.text


def test_all_six_core_plugins_load_through_their_hooks(core: PluginManager) -> None:
    infos = {i.name: i for i in core.list_plugins()}
    assert set(infos) == {"calculator", "datetime", "http_fetch", "files", "json_query",
                          "text_stats"}  # fmt: skip
    assert all(i.state is PluginState.LOADED and i.origin == "core" for i in infos.values())
    assert core.hooks.has_plugin("core:maximus.plugins.core.calculator")
    assert core.hooks.has_plugin("calculator")  # the loaded plugin object too


def test_calculator_evaluates_safely(core: PluginManager) -> None:
    assert ok(core, "calculate", expression="17 * 23 + 9") == "400"
    assert ok(core, "calculate", expression="sqrt(x**2 + y**2)", variables={"x": 3, "y": 4}) == "5"
    assert ok(core, "calculate", expression="2 < 3 <= 3 and not 0") == "True"
    assert ok(core, "calculate", expression="max(1, 7, 3) if 1 else 0") == "7"
    assert ok(core, "calculate", expression="factorial(20) // gcd(12, 18)") == str(
        2432902008176640000 // 6
    )
    assert ok(core, "calculate", expression="round(log(8, 2), 6)") == "3"
    for expression, message in {
        "__import__('os')": "unknown function '__import__'",
        "(1).__class__.__subclasses__()": "unsupported syntax",
        "().__class__": "unsupported syntax",
        "9 ** 9 ** 9": "exceeds 100000 bits",
        "factorial(10 ** 6)": "factorial takes an integer up to 2000",
        "1 / 0": "division by zero",
        "a + 1": "unknown name 'a'",
        "1 +": "not an expression",
        "1" * 1001: "longer than 1000 characters",
    }.items():
        assert message in refused(core, "calculate", expression=expression)


def test_datetime_converts_shifts_and_diffs_with_time_zones(core: PluginManager) -> None:
    converted = ok(core, "datetime_convert", timestamp="2025-07-01T12:00:00Z",
                   to_timezone="Asia/Tokyo")  # fmt: skip
    assert converted == "2025-07-01T21:00:00+09:00 (Tuesday, Asia/Tokyo)"
    naive = ok(core, "datetime_convert", timestamp="2025-01-15T09:00",
               from_timezone="America/New_York", to_timezone="Europe/Lisbon")  # fmt: skip
    assert naive.startswith("2025-01-15T14:00:00+00:00")
    # A day across the US spring-forward is 23 hours long.
    assert ok(core, "datetime_diff", start="2025-03-09T00:00:00-05:00",
              end="2025-03-10T00:00:00-04:00", unit="hours") == "23 hours"  # fmt: skip
    shifted = ok(core, "datetime_shift", timestamp="2025-12-31T23:30:00+00:00", minutes=45)
    assert shifted.startswith("2026-01-01T00:15:00+00:00 (Thursday")
    assert "+09:00" in ok(core, "datetime_now", timezone="Asia/Tokyo")
    assert "unknown time zone 'Mars/Base'" in refused(core, "datetime_now", timezone="Mars/Base")
    assert "not an ISO 8601" in refused(core, "datetime_diff", start="yesterday", end="now")


def test_datetime_default_zone_is_configurable_and_checked(tmp_path: Path) -> None:
    kolkata = {"datetime": {"config": {"default_timezone": "Asia/Kolkata"}}}
    pm = PluginManager(data_dir=tmp_path, entry_point_group=None, overrides=kolkata)
    pm.discover()
    assert "+05:30" in ok(pm, "datetime_now")
    nowhere = {"datetime": {"config": {"default_timezone": "Nowhere"}}}
    bad = PluginManager(data_dir=tmp_path, entry_point_group=None, overrides=nowhere)
    bad.discover()
    assert "unknown time zone 'Nowhere'" in (bad.info("datetime").error or "")
    assert bad.info("calculator").state is PluginState.LOADED


def test_files_reads_writes_lists_and_searches_inside_its_directory(
    core: PluginManager, tmp_path: Path
) -> None:
    root = core.plugin_dir("files")
    assert ok(core, "file_write", path="notes/todo.md", content="buy milk\ncall Ada\n") == (
        "wrote 18 bytes to notes/todo.md"
    )
    ok(core, "file_write", path="notes/todo.md", content="pay rent\n", append=True)
    assert ok(core, "file_read", path="notes/todo.md") == "buy milk\ncall Ada\npay rent\n"
    assert ok(core, "file_list", recursive=True) == "notes/\nnotes/todo.md"
    assert ok(core, "file_search", query="ada", regex=False) == "no matches"
    assert ok(core, "file_search", query="(?i)ada", regex=True) == "notes/todo.md:2: call Ada"
    assert (root / "notes" / "todo.md").exists()
    assert core.registry.is_side_effecting("file_write")


def test_files_refuses_traversal_and_symlinks_out(core: PluginManager, tmp_path: Path) -> None:
    root = core.plugin_dir("files")
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    (root / "link_file").symlink_to(secret)
    (root / "link_dir").symlink_to(tmp_path)
    for path in ("../../etc/passwd", "/etc/passwd", "link_file", "link_dir/secret.txt"):
        assert "is outside its directory" in refused(core, "file_read", path=path)
    assert "is outside its directory" in refused(core, "file_write", path="link_file",
                                                 content="overwritten")  # fmt: skip
    assert "is outside its directory" in refused(core, "file_write", path="../escape.txt",
                                                 content="x")  # fmt: skip
    assert secret.read_text() == "top secret" and not (tmp_path / "data" / "escape.txt").exists()
    assert "secret" not in ok(core, "file_list", recursive=True)
    assert ok(core, "file_search", query="secret") == "no matches"
    # The other plugins are unaffected.
    assert ok(core, "calculate", expression="1+1") == "2"


def test_json_query_selects_and_reshapes(core: PluginManager) -> None:
    data = json.dumps({"items": [{"name": "pen", "price": 2}, {"name": "desk", "price": 90},
                                 {"name": "ink", "price": 7}]})  # fmt: skip
    assert json.loads(ok(core, "json_query", data=data, path="$.items[?(@.price < 10)].name")) == [
        "pen", "ink",
    ]  # fmt: skip
    assert ok(core, "json_query", data=data, path="$.items[1].price", first=True) == "90"
    template = {"names": "$.items[*].name", "count": "$.items.`len`", "none": "$.x"}
    shaped = ok(core, "json_reshape", data=data, template=template)
    assert json.loads(shaped) == {"names": ["pen", "desk", "ink"], "count": 3, "none": None}
    assert "not valid JSON" in refused(core, "json_query", data="{oops", path="$")
    assert "not a JSONPath expression" in refused(core, "json_query", data=data, path="$[?(")


def test_text_stats_and_its_report_sub_graph(core: PluginManager) -> None:
    text = "The cat sat on the mat. The cat was happy!\n\nDogs bark loudly."
    stats = json.loads(ok(core, "text_stats", text=text))
    assert stats["words"] == 13 and stats["sentences"] == 3 and stats["paragraphs"] == 2
    assert stats["unique_words"] == 10 and stats["flesch_reading_ease"] > 80
    assert json.loads(ok(core, "text_keywords", text=text, top=2)) == {"cat": 2, "bark": 1}
    report = ok(core, "text_report", text=text)
    assert report.startswith("13 words in 3 sentences;") and "keywords: cat (2)" in report
    assert (core.registry.get("text_report").metadata or {}).get("subgraph") is True


def test_http_fetch_refuses_private_addresses_and_other_schemes(core: PluginManager) -> None:
    for url in ("http://127.0.0.1:9/", "http://localhost/", "http://169.254.169.254/latest",
                "http://[::1]/", "http://10.1.2.3/"):  # fmt: skip
        assert "private, loopback or link-local" in refused(core, "http_fetch", url=url)
    assert "only http and https" in refused(core, "http_fetch", url="file:///etc/passwd")

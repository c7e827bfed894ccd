"""``maximus memory search`` and ``list`` take the memory type the same way (``--type``), and
say so when they find nothing."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import maximus

pytestmark = pytest.mark.integration

TEA = {"kind": "semantic", "name": "tea", "summary": "green tea has caffeine"}


def test_an_empty_listing_says_so() -> None:
    everything = maximus("memory", "list")
    assert everything.returncode == 0, everything.stderr
    assert everything.stdout.strip() == "no memories"
    semantic = maximus("memory", "list", "--type", "semantic")
    assert semantic.returncode == 0, semantic.stderr
    assert semantic.stdout.strip() == "no semantic memories"
    two = maximus("memory", "list", "--type", "core", "--type", "vault", "--user", "ana")
    assert two.stdout.strip() == "no core or vault memories for user 'ana'"
    # With --json, standard output stays valid (empty) JSON lines; the note goes to stderr.
    as_json = maximus("memory", "list", "--type", "semantic", "--json")
    assert as_json.returncode == 0 and as_json.stdout == ""
    assert "no semantic memories" in as_json.stderr


def test_list_and_search_both_take_type() -> None:
    added = maximus("memory", "add", json.dumps(TEA))
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("semantic ")
    listed = maximus("memory", "list", "--type", "semantic", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [json.loads(line)["name"] for line in listed.stdout.splitlines()] == ["tea"]
    found = maximus("memory", "search", "caffeine", "--type", "semantic", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout.splitlines()[0])["name"] == "tea"
    everything = maximus("memory", "list")
    assert "tea" in everything.stdout
    other = maximus("memory", "list", "--type", "episodic")
    assert other.returncode == 0 and other.stdout.strip() == "no episodic memories"
    missed = maximus("memory", "search", "caffeine", "--type", "procedural")
    assert missed.returncode == 0, missed.stderr
    assert missed.stdout.strip() == "no procedural memories match 'caffeine'"


def test_the_type_is_an_option_not_an_argument() -> None:
    positional = maximus("memory", "list", "semantic")
    assert positional.returncode == 2
    assert "unexpected extra argument" in positional.stderr and "(semantic)" in positional.stderr
    unknown = maximus("memory", "list", "--type", "dream")
    assert unknown.returncode == 2
    assert "UnknownMemoryTypeError" in unknown.stderr and "unknown memory type" in unknown.stderr
    assert "Traceback" not in unknown.stderr

"""``maximus memory import`` and ``export`` with a file they cannot use: exit 2, one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import maximus

pytestmark = pytest.mark.integration


def test_import_of_a_missing_file(tmp_path: Path) -> None:
    proc = maximus("memory", "import", str(tmp_path / "missing.jsonl"))
    assert proc.returncode == 2
    assert "InvalidInputError: cannot read" in proc.stderr and "missing.jsonl" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_import_of_a_line_that_is_not_json(tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    dump.write_text("not json\n")
    proc = maximus("memory", "import", str(dump))
    assert proc.returncode == 2
    assert "line 1 is not JSON" in proc.stderr and "Traceback" not in proc.stderr


def test_export_into_a_missing_folder(tmp_path: Path) -> None:
    proc = maximus("memory", "export", str(tmp_path / "nowhere" / "dump.jsonl"))
    assert proc.returncode == 2
    assert "InvalidInputError: cannot write" in proc.stderr and "Traceback" not in proc.stderr

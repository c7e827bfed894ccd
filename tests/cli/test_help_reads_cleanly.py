"""Every command's ``--help``, as a user sees it: real argument names, no ``<bool>`` beside
flags, no RST markup, completion options once at the top, and no word cut in two."""

from __future__ import annotations

import re

import pytest

from tests.support.cli import maximus

pytestmark = pytest.mark.integration

GROUPS = {
    (): ["graph", "memory", "model", "plugins", "resume", "run", "serve", "version", "worker"],
    ("memory",): [
        "add",
        "search",
        "list",
        "export",
        "import",
        "sweep",
        "migrate",
        "verify",
        "vault-keygen",
        "vault-rotate",
        "reveal",
    ],
    ("model",): ["serve", "status", "rebuild", "stop"],
    ("plugins",): ["list", "info", "enable", "disable", "new"],
    ("serve",): ["hash-key"],
}
"""Every command group, with the commands it lists."""
COMMANDS = [*GROUPS, *(
    (*group, name) for group, names in GROUPS.items() for name in names
    if (*group, name) not in GROUPS
)]  # fmt: skip
COMPLETION = ("--install-completion", "--show-completion")


def _help(command: tuple[str, ...], columns: int) -> str:
    proc = maximus(*command, "--help", env={"COLUMNS": str(columns), "TERM": "dumb"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _words(text: str) -> set[str]:
    return set(re.split(r"[\s│╭╮╰╯─]+", text)) - {""}


def test_every_group_lists_the_commands_tested_here() -> None:
    for group, names in GROUPS.items():
        text = _help(group, 200)
        listed = re.findall(r"^│ (\S+)\s", text.split("Commands")[1], flags=re.MULTILINE)
        assert sorted(listed) == sorted(names), group


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "maximus")
def test_help_reads_cleanly(command: tuple[str, ...]) -> None:
    text = _help(command, 200)
    assert text.lstrip().startswith(f"Usage: maximus {' '.join(command)}".rstrip())
    for bad in ("{", "}", "<bool>", "``", ":class:", ":func:"):
        assert bad not in text, f"{bad!r} in the help of {command}:\n{text}"
    for option in COMPLETION:
        assert text.count(option) == (1 if command == () else 0), text
    # Nothing is cut in two when the terminal is narrow (rich folds long type labels
    # mid-word, e.g. "ada ptive"): every word at 80 columns is a word at 200.
    narrow = _help(command, 80)
    assert _words(narrow) <= _words(text), sorted(_words(narrow) - _words(text))


def test_an_argument_is_named_as_the_usage_line_says() -> None:
    text = _help(("run",), 200)
    assert "Usage: maximus run [OPTIONS] GOAL" in text
    assert re.search(r"│ \*\s+GOAL\s", text)
    resume = _help(("resume",), 200)
    assert "Usage: maximus resume [OPTIONS] THREAD" in resume
    assert "default: approve" not in resume and "required" in resume  # a decision is needed


def test_completion_options_are_refused_below_the_top() -> None:
    proc = maximus("memory", "--show-completion")
    assert proc.returncode == 2
    assert "No such option" in proc.stderr

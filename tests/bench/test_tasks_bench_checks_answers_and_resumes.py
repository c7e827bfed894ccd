"""``bench.tasks``: every task's gold tool calls produce an answer its checker accepts, and the
``--fake`` run logs each (agent, task) once, resumes, and reports its headline."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import tasks as bench_tasks
from bench._task_suite import TOOLS, Task, all_tasks, answer_ok, numbers_in
from maximus.plugins.manager import PluginManager


def test_the_suite_has_at_least_30_tasks_in_every_category() -> None:
    suite = all_tasks()
    assert len(suite) >= 30 and len({t.id for t in suite}) == len(suite)
    assert {t.category for t in suite} == set(TOOLS)
    assert all(len(t.runs) == 2 for t in suite if t.category == "memory")


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PluginManager]:
    manager = PluginManager(data_dir=tmp_path_factory.mktemp("plugins"), entry_point_group=None)
    manager.discover()
    yield manager
    manager.close()


@pytest.mark.parametrize(
    "task", [t for t in all_tasks() if t.category != "memory"], ids=lambda t: t.id
)
def test_the_gold_calls_solve_the_task(task: Task, plugins: PluginManager) -> None:
    tools = {t.name: t for t in plugins.tools()}
    files = plugins.plugin_dir("files")
    shutil.rmtree(files, ignore_errors=True)
    files.mkdir(parents=True)
    for path, text in task.setup.items():
        (files / path).parent.mkdir(parents=True, exist_ok=True)
        (files / path).write_text(text)
    (run,) = task.runs
    outputs = [str(tools[name].invoke(args)) for name, args in run.gold]
    assert all(name in TOOLS[task.category] for name, _ in run.gold)
    assert answer_ok(task, " ".join(outputs)), outputs
    assert not answer_ok(task, "I do not know.")
    for path, needle in task.files.items():
        assert needle in (files / path).read_text()


def test_numbers_are_compared_as_numbers() -> None:
    assert numbers_in("It is 1,135 (or 1135.0); -3.5 too") == [1135.0, 1135.0, -3.5]
    (task,) = [t for t in all_tasks() if t.id == "calc_brackets"]
    assert answer_ok(task, "The result is 1,135.") and not answer_ok(task, "11350")


async def test_a_fake_run_logs_each_task_once_and_resumes(tmp_path: Path) -> None:
    argv = ["--fake", "--tasks", "calc_brackets,date_weekday,file_sum,memory_locker",
            "--out", str(tmp_path / "out")]  # fmt: skip
    headline = await bench_tasks.main(argv)

    log = tmp_path / "out" / "fake.jsonl"
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert {(r["agent"], r["task"]) for r in rows} == {
        (a, t)
        for a in ("maximus", "react")
        for t in ("calc_brackets", "date_weekday", "file_sum", "memory_locker")
    }
    react = {r["task"]: r for r in rows if r["agent"] == "react"}
    # The fake follows the gold calls with the ReAct agent: every task passes, memory
    # included (remembered in one run, found in the next).
    assert all(r["success"] for r in react.values()), react
    assert react["memory_locker"]["tool_calls"] == 2 and react["file_sum"]["tool_calls"] == 3
    assert all(r["model_calls"] >= 1 and r["prompt_tokens"] > 0 for r in rows)
    runs = {"memory_locker": 2}  # one call per tool call, plus each run's answer
    assert all(r["model_calls"] == r["tool_calls"] + runs.get(t, 1) for t, r in react.items())
    assert headline["tasks"] == 4 and headline["react_success"] == 1.0
    assert set(headline) == {
        "model", "tasks", "maximus_success", "react_success", "maximus_model_calls_per_task",
        "react_model_calls_per_task", "maximus_s_per_task", "react_s_per_task",
    }  # fmt: skip
    assert (tmp_path / "out" / "fake.md").exists() and (tmp_path / "out" / "fake.png").exists()

    assert await bench_tasks.main(argv) == headline
    assert len(log.read_text().splitlines()) == len(rows)


def test_an_echo_of_the_input_earns_nothing() -> None:
    (task,) = [t for t in all_tasks() if t.id == "json_qty"]
    data = task.quoted[0]
    as_text = '{"name": "json_query", "arguments": {"data": ' + json.dumps(data) + "}}"
    assert not answer_ok(task, as_text)  # a tool call written out holds "qty": 2
    assert answer_ok(task, "The quantity of bread is 2.")
    assert answer_ok(task, as_text + " So the quantity of bread is 2.")

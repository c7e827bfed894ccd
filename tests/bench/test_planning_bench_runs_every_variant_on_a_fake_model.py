"""``bench.planning --fake`` plays every variant on a tiny scripted game, logs each episode
once, resumes without replaying, and writes its table, plot and headline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import planning
from bench._models import UsageMeter
from bench._players import VARIANTS, OracleWorldModel, action_schema, supported
from bench._results import wilson
from maximus.nodes.schemas import Predictions

ACTIONS = ["look around", "take coin", "take key"]


class TinyWorld:
    """A deterministic stand-in for TextWorldExpress: 'take coin' wins."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.closed = False

    def getValidSeedsTest(self) -> list[int]:  # noqa: N802 - TextWorldExpress's name
        return [7, 8, 9]

    def reset(self, seed: int, gameFold: str, gameName: str, gameParams: str,  # noqa: N803
              generateGoldPath: bool = False) -> tuple[str, dict[str, Any]]:  # noqa: N803  # fmt: skip
        infos = {"taskDescription": "Find the coin and take it.", "validActions": ACTIONS}
        return "You are in a kitchen. You see a coin and a key.", infos

    def getGoldActionSequence(self) -> list[str]:  # noqa: N802
        return ["look around", "take coin"]

    def step(self, command: str) -> tuple[str, float, bool, dict[str, Any]]:
        won = command == "take coin"
        infos = {
            "score": 1.0 if won else 0.0,
            "tasksuccess": won,
            "taskfailure": False,
            "validActions": ACTIONS,
        }
        return ("You take the coin." if won else "Nothing happens."), infos["score"], won, infos

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def tiny_world(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planning, "open_env", TinyWorld)


async def test_every_variant_plays_once_and_a_rerun_resumes(tiny_world: None, tmp_path: Path):
    variants = [v for v in VARIANTS if supported(v)]
    argv = ["--fake", "--variants", ",".join(variants), "--games", "coin,sorting", "--seeds", "2",
            "--out", str(tmp_path / "out")]  # fmt: skip
    headline = await planning.main(argv)

    log = tmp_path / "out" / "fake.jsonl"
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) == len(variants) * 2 * 2
    assert {(r["variant"], r["game"], r["seed"]) for r in rows} == {
        (v, g, s) for v in variants for g in ("coin", "sorting") for s in (7, 8)
    }
    for row in rows:
        assert row["steps"] <= 4 and row["success"] == (row["score"] == 1.0)
        if row["variant"] == "random":
            assert row["model_calls"] == 0
        else:
            assert row["model_calls"] >= 1 and row["prompt_tokens"] > 0, row
        if row["variant"] == "zero_shot":
            assert row["model_calls"] == row["steps"]  # one call per move
        if row["variant"] == "oracle":  # the environment predicts the real next observation
            assert all(x >= 0.5 for x in row["wm_overlap"]), row
    assert (tmp_path / "out" / "fake.md").read_text().count("| all |") == len(variants)
    assert (tmp_path / "out" / "fake.png").stat().st_size > 1000
    assert set(headline) == {
        "model", "episodes_per_variant", "success_with_world_model", "success_without",
        "relative_gain", "react_success", "zero_shot_success", "oracle_success",
        "model_calls_per_episode_with", "model_calls_per_episode_without",
    }  # fmt: skip
    assert headline["episodes_per_variant"] == {v: 4 for v in variants}
    assert (
        headline["success_without"]
        == planning.summarize([r for r in rows if r["variant"] == "off"])["success"]
    )

    again = await planning.main(argv)
    assert again == headline
    assert len(log.read_text().splitlines()) == len(rows)  # nothing replayed


def test_the_zero_shot_schema_allows_only_the_valid_actions() -> None:
    schema = action_schema(ACTIONS).model_json_schema()
    assert schema["properties"]["action"]["enum"] == ACTIONS


def test_wilson_interval() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(5, 10)
    assert round(low, 3) == 0.237 and round(high, 3) == 0.763
    assert wilson(10, 10)[1] == 1.0 and round(wilson(10, 10)[0], 3) == 0.722


def test_the_oracle_predicts_from_the_environment_and_is_not_a_model_call() -> None:
    class Episode:
        def predict(self, env: Any, action: str) -> str:
            return f"after {action}"

    oracle = OracleWorldModel(episode=Episode(), env=None)
    meter = UsageMeter(ignore=frozenset({"OracleWorldModel"}))
    prompt = 'Candidates: [{"id": 0, "tool": "act", "args": {"action": "take coin"}}]'
    predicted = oracle.with_structured_output(Predictions).invoke(prompt, {"callbacks": [meter]})
    assert predicted.predictions[0].next_state == "after take coin"
    assert oracle.calls == 1 and meter.usage.model_calls == 0

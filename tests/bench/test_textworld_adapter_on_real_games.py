"""The planning benchmark's TextWorldExpress adapter, on real generated games (Java)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bench._textworld import GAMES, TextWorldEpisode, open_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env() -> Iterator[Any]:
    environment = open_env()
    yield environment
    environment.close()


@pytest.mark.parametrize("game", list(GAMES))
def test_the_gold_path_wins_through_the_act_tool(env: Any, game: str) -> None:
    seed = env.getValidSeedsTest()[0]
    episode = TextWorldEpisode(env, game, seed, GAMES[game], max_moves=20)
    goal = episode.reset()
    assert episode.task in goal and "Valid actions:" in goal
    assert 2 <= len(episode.gold) <= 10  # small parameters: short games
    act = episode.tool()
    reply = ""
    for action in episode.gold:
        assert not episode.done
        reply = act.invoke({"action": action.upper()})  # case and spacing are forgiven
    assert episode.success and episode.done and episode.score == 1.0
    assert "game is over (won" in reply
    assert all(step.valid for step in episode.steps)
    assert "Finish now" in act.invoke({"action": "look around"})


def test_an_invalid_action_is_recorded_and_the_valid_ones_listed(env: Any) -> None:
    episode = TextWorldEpisode(env, "coin", env.getValidSeedsTest()[1], GAMES["coin"], max_moves=3)
    episode.reset()
    reply = episode.tool().invoke({"action": "fly to the moon"})
    assert "was not a valid action" in reply and "Valid actions now:" in reply
    assert episode.steps[0].valid is False and not episode.success
    episode.act("look around")
    episode.act("look around")
    assert episode.done and not episode.success  # out of moves: lost


def test_the_act_tool_returns_the_environments_signals(env: Any) -> None:
    episode = TextWorldEpisode(env, "coin", env.getValidSeedsTest()[0], GAMES["coin"])
    episode.reset()
    call = {"type": "tool_call", "name": "act", "args": {"action": "fly"}, "id": "call_1"}
    message = episode.tool().invoke(call)
    assert message.artifact["valid"] is False and message.artifact["done"] is False
    assert "not a valid action" in message.artifact["message"]
    for action in episode.gold:
        message = episode.tool().invoke({**call, "args": {"action": action}})
    assert message.artifact == {**message.artifact, "valid": True, "done": True, "won": True,
                                "score": 1.0, "max_score": 1.0}  # fmt: skip


def test_the_oracle_predicts_the_real_next_observation(env: Any) -> None:
    other = open_env()
    episode = TextWorldEpisode(env, "mapreader", env.getValidSeedsTest()[2], GAMES["mapreader"])
    episode.reset()
    for action in episode.gold[:4]:
        predicted = episode.predict(other, action)
        assert predicted.split(" (score")[0] in episode.act(action)
    other.close()
    other.close = lambda: None  # its __del__ would close the Java pipe again

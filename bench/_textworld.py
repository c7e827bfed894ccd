"""An environment adapter over TextWorldExpress for the Maximus agent.

The agent gets the task description and the observations; the environment's valid actions are
its action space, exposed as one tool, ``act(action)``, whose every answer lists the actions
valid next. Games are generated locally by TextWorldExpress (a Java 17 process behind py4j),
from the test fold, with a seed, so an episode is the same game for every variant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

GAMES: dict[str, str] = {
    "coin": "numLocations=2,numDistractorItems=0,includeDoors=0",
    "arithmetic": "",
    "mapreader": "numLocations=2,maxDistanceApart=1,includeDoors=0,maxDistractorItemsPerLocation=0",
}
"""The game types the benchmark plays, with small parameters (short gold paths)."""


@dataclass(slots=True)
class StepRecord:
    """One action taken in the environment."""

    action: str
    valid: bool
    """Whether the action was in the valid-action list when taken."""
    observation: str
    score: float
    done: bool


@dataclass(slots=True)
class TextWorldEpisode:
    """One seeded game, played through :meth:`tool`.

    Args:
        env: a ``TextWorldExpressEnv`` (one Java process; reuse it across episodes).
        game: a TextWorldExpress game name.
        seed: a seed from the test fold.
        params: the game's generation parameters.
        max_moves: actions after which the episode ends as lost.
    """

    env: Any
    game: str
    seed: int
    params: str = ""
    max_moves: int = 10
    task: str = ""
    observation: str = ""
    valid_actions: list[str] = field(default_factory=list)
    gold: list[str] = field(default_factory=list)
    score: float = 0.0
    success: bool = False
    done: bool = False
    steps: list[StepRecord] = field(default_factory=list)

    def reset(self) -> str:
        """Start the game; the goal text the agent is given."""
        obs, infos = self.env.reset(
            seed=self.seed,
            gameFold="test",
            gameName=self.game,
            gameParams=self.params,
            generateGoldPath=True,
        )
        self.task = infos["taskDescription"]
        self.observation = obs
        self.valid_actions = sorted(infos["validActions"])
        self.gold = list(self.env.getGoldActionSequence())
        self.score, self.success, self.done = 0.0, False, False
        self.steps = []
        return (
            f"Play a text game to its end. Task: {self.task}\n"
            f"Act only with the `act` tool, one valid action per step (exact text).\n"
            f"Start: {obs.strip()}\nValid actions: {', '.join(self.valid_actions)}"
        )

    def act(self, action: str) -> str:
        """Take ``action``; the observation, the score and the actions valid next."""
        if self.done:
            outcome = "won" if self.success else "lost"
            return f"The game is over ({outcome}, score {self.score:.2f}). Finish now."
        command = " ".join(action.strip().lower().split())
        valid = command in self.valid_actions
        obs, _reward, done, infos = self.env.step(command)
        self.score = float(infos["score"])
        self.success = bool(infos["tasksuccess"])
        moves = len(self.steps) + 1
        self.done = bool(done or infos["taskfailure"] or self.success or moves >= self.max_moves)
        self.observation = obs
        self.valid_actions = sorted(infos["validActions"])
        self.steps.append(StepRecord(command, valid, obs, self.score, self.done))
        if self.done:
            outcome = "won" if self.success else "lost"
            return f"{obs.strip()}\nThe game is over ({outcome}, score {self.score:.2f})."
        note = "" if valid else f"('{command}' was not a valid action.) "
        return (
            f"{note}Valid actions now: {', '.join(self.valid_actions)}\n"
            f"Score {self.score:.2f}. Observation: {obs.strip()}"
        )

    def tool(self) -> BaseTool:
        """The ``act`` tool over this episode."""
        return StructuredTool.from_function(
            func=self.act,
            name="act",
            description=(
                "Take one action in the text game. `action` must be exactly one of the valid "
                "actions listed in the latest observation (e.g. 'look around', 'move north', "
                "'take coin'). Returns the new observation and the valid actions."
            ),
        )


def open_env(step_limit: int = 100) -> Any:
    """A TextWorldExpress environment (starts its Java server)."""
    from textworld_express import TextWorldExpressEnv

    return TextWorldExpressEnv(envStepLimit=step_limit)


__all__ = ["GAMES", "StepRecord", "TextWorldEpisode", "open_env"]

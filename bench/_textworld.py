"""An environment adapter over TextWorldExpress for the Maximus agent.

The agent gets the task description and the observations; the environment's valid actions are
its action space, exposed as one tool, ``act(action)``, whose every answer lists the actions
valid next. Games are generated locally by TextWorldExpress (a Java 17 process behind py4j),
from the test fold, with a seed, so an episode is the same game for every variant.

The tool returns its observation as content and the environment's signals as a dict artifact
(``response_format="content_and_artifact"``: ``valid``, ``done``, ``won``, ``score``,
``max_score``, ``message``), which the agent judges steps from. Where Maximus can constrain an
argument to the values possible now (``maximus.tools.choices.constrain``), ``action`` is
constrained to the valid actions. Because the games are deterministic, :meth:`predict` replays
an episode on a second environment and steps it: the oracle world model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

GAMES: dict[str, str] = {
    "coin": "numLocations=1,numDistractorItems=5,includeDoors=0",
    "mapreader": "numLocations=2,maxDistanceApart=1,includeDoors=0,maxDistractorItemsPerLocation=0",
    "arithmetic": "",
    "sorting": "",
}
"""The game types the benchmark plays, with TALES' small parameters (coin: 1 location and 5
distractors; mapreader: 2 locations at distance 1). Gold paths: coin 2 actions, mapreader 7,
arithmetic 5, sorting 6-10."""


def move_limit(gold: list[str]) -> int:
    """Actions allowed in an episode: twice the gold path, at least 4 (the same for every
    variant; a budget, never shown to the agent)."""
    return max(4, 2 * len(gold))


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
        max_moves: actions after which the episode ends as lost (``None``: :func:`move_limit`
            of the gold path).
    """

    env: Any
    game: str
    seed: int
    params: str = ""
    max_moves: int | None = None
    limit: int = 0
    """The move limit in force (set by :meth:`reset`)."""
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
        self.limit = self.max_moves or move_limit(self.gold)
        self.score, self.success, self.done = 0.0, False, False
        self.steps = []
        return (
            f"Play a text game to its end. Task: {self.task}\n"
            f"Act only with the `act` tool, one valid action per step (exact text).\n"
            f"Start: {obs.strip()}\nValid actions: {', '.join(self.valid_actions)}"
        )

    def act(self, action: str) -> str:
        """Take ``action``; the observation, the score and the actions valid next."""
        return self.step(action)[0]

    def signals(self, valid: bool, message: str) -> dict[str, Any]:
        """The environment's signals for the step just taken."""
        return {
            "valid": valid,
            "done": self.done,
            "won": self.success,
            "score": self.score,
            "max_score": 1.0,
            "message": message,
        }

    def step(self, action: str) -> tuple[str, dict[str, Any]]:
        """Take ``action``; the observation text and the signals (see :meth:`signals`)."""
        if self.done:
            outcome = "won" if self.success else "lost"
            text = f"The game is over ({outcome}, score {self.score:.2f}). Finish now."
            return text, self.signals(False, "the game is over")
        command = " ".join(action.strip().lower().split())
        valid = command in self.valid_actions
        obs, _reward, done, infos = self.env.step(command)
        self.score = float(infos["score"])
        self.success = bool(infos["tasksuccess"])
        moves = len(self.steps) + 1
        self.done = bool(done or infos["taskfailure"] or self.success or moves >= self.limit)
        self.observation = obs
        self.valid_actions = sorted(infos["validActions"])
        self.steps.append(StepRecord(command, valid, obs, self.score, self.done))
        message = "" if valid else f"'{command}' was not a valid action"
        if self.done:
            outcome = "won" if self.success else "lost"
            text = f"{obs.strip()}\nThe game is over ({outcome}, score {self.score:.2f})."
            return text, self.signals(valid, message or f"the game is over ({outcome})")
        note = "" if valid else f"({message}.) "
        text = (
            f"{note}Valid actions now: {', '.join(self.valid_actions)}\n"
            f"Score {self.score:.2f}. Observation: {obs.strip()}"
        )
        return text, self.signals(valid, message)

    def predict(self, other: Any, action: str) -> str:
        """The oracle world model: the observation ``action`` would give now, found by replaying
        this episode on ``other`` (a second environment) and stepping it. Leaves this one alone.
        """
        other.reset(seed=self.seed, gameFold="test", gameName=self.game, gameParams=self.params)
        for done in self.steps:
            other.step(done.action)
        obs, _reward, _done, infos = other.step(" ".join(action.strip().lower().split()))
        won = " The game is won." if infos["tasksuccess"] else ""
        return f"{obs.strip()} (score {float(infos['score']):.2f}).{won}"

    def tool(self) -> BaseTool:
        """The ``act`` tool over this episode (content and signals; ``action`` constrained to
        the valid actions where Maximus supports it)."""
        act = StructuredTool.from_function(
            func=self.step,
            name="act",
            response_format="content_and_artifact",
            description=(
                "Take one action in the text game. `action` must be exactly one of the valid "
                "actions listed in the latest observation (e.g. 'look around', 'move north', "
                "'take coin'). Returns the new observation and the valid actions."
            ),
        )
        try:
            from maximus.tools.choices import constrain
        except ImportError:  # the constraint lands with issue 14's agent loop
            return act
        constrained = constrain(act, "action", lambda: list(self.valid_actions))
        return constrained if isinstance(constrained, BaseTool) else act


def open_env(step_limit: int = 100) -> Any:
    """A TextWorldExpress environment (starts its Java server)."""
    from textworld_express import TextWorldExpressEnv

    return TextWorldExpressEnv(envStepLimit=step_limit)


__all__ = ["GAMES", "StepRecord", "TextWorldEpisode", "move_limit", "open_env"]

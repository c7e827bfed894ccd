"""A tiny deterministic text environment, exposed as a tool that returns signals."""

from __future__ import annotations

from dataclasses import dataclass, field

from langchain_core.tools import BaseTool, tool

from maximus.tools import constrain
from maximus.tools.signals import ToolSignals


@dataclass
class Room:
    """A room with a closed box holding a coin: ``open box``, then ``take coin`` wins."""

    opened: bool = False
    won: bool = False
    commands: list[str] = field(default_factory=list)
    """Every command the tool actually ran (refused ones never get here)."""

    def valid(self) -> list[str]:
        """The commands possible now."""
        if self.won:
            return []
        return ["look", "take coin"] if self.opened else ["look", "open box"]

    def step(self, command: str) -> tuple[str, ToolSignals]:
        self.commands.append(command)
        if command not in self.valid():
            return "Nothing happens.", {"valid": False, "done": False, "won": False}
        if command == "open box":
            self.opened = True
            observation = "You open the box. A coin glints inside."
        elif command == "take coin":
            self.won = True
            observation = "You take the coin. You win!"
        else:
            observation = "A room with a box" + (" (open)." if self.opened else ".")
        score = 1.0 if self.won else 0.0
        return observation, {"valid": True, "done": self.won, "won": self.won,
                             "score": score, "max_score": 1.0}  # fmt: skip


def room_tool(room: Room, *, constrained: bool = True) -> BaseTool:
    """The ``act`` tool over ``room``: observation as content, signals as artifact."""

    @tool(response_format="content_and_artifact")
    def act(command: str) -> tuple[str, ToolSignals]:
        """Do something in the room, e.g. 'look'."""
        return room.step(command)

    return constrain(act, "command", room.valid) if constrained else act


__all__ = ["Room", "room_tool"]

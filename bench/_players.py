"""The players of ``bench.planning``: Maximus variants, the baselines and the oracle.

Each ``play_*`` function plays one seeded TextWorldExpress episode and returns an
:class:`Episode`; success, score, steps and invalid actions come from the environment, model
calls and tokens from one :class:`~bench._models.UsageMeter` per episode, so every player is
measured the same way.

* Maximus (``auto``, ``full``, ``fused``, ``off``): :func:`maximus.create_agent` with the
  ``act`` tool, run with the variant's :class:`~maximus.RunOptions`.
* ``oracle``: Maximus ``full`` whose world model is the environment itself
  (:class:`OracleWorldModel`), the ceiling of what a world model can add.
* ``react``: LangGraph's prebuilt ``create_react_agent``, same tool, same model, same goal.
* ``zero_shot``: a TALES-style loop, task and full history in, one action out, decoded under a
  schema that allows only the valid actions.
* ``random``: a random valid action each move (seeded by game and seed).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
import warnings
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import GraphRecursionError
from pydantic import Field, create_model

from bench._models import UsageMeter
from bench._textworld import TextWorldEpisode
from maximus import RunOptions, Settings, create_agent
from maximus.memory.lessons import InProcessLessonSink

MAXIMUS_VARIANTS = ("auto", "full", "fused", "off", "oracle")
VARIANTS = (*MAXIMUS_VARIANTS, "react", "zero_shot", "random")
EPISODE_SECONDS = 600.0
"""Wall-time cap per episode; an episode past it ends as lost (status ``timeout``)."""
ZERO_SHOT_SYSTEM = (
    "You are playing a text-based game and your goal is to finish it with the highest score. "
    "Upon reading the text observation, choose a *single* action to interact with the game, "
    "exactly one of the valid actions listed."
)
REACT_SYSTEM = "You play a text game with the `act` tool, one valid action per call."


@dataclass(slots=True)
class Episode:
    """The outcome of one episode."""

    game: str
    seed: int
    variant: str
    success: bool = False
    score: float = 0.0
    steps: int = 0
    """Actions taken in the environment."""
    model_calls: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    status: str = ""
    invalid_actions: int = 0
    wm_overlap: list[float] = field(default_factory=list)
    """Per simulated step: word overlap (Jaccard) of the prediction with the real observation."""
    critic_choices: list[bool] = field(default_factory=list)
    """Per contested step (gold and non-gold candidates both offered): critic chose gold."""
    gold_offered: list[bool] = field(default_factory=list)
    """Per simulated step: whether any candidate was on the gold path."""
    rejected_good_steps: int = 0
    """Steps judged failed although the action was valid and on the gold path."""
    replans: int = 0


class UnsupportedVariant(RuntimeError):
    """A Maximus variant this checkout's agent cannot run (its run options are missing)."""


def _option_names() -> set[str]:
    return {f.name for f in fields(RunOptions)}


def variant_options(variant: str) -> dict[str, Any]:
    """The :class:`~maximus.RunOptions` fields that select a Maximus variant.

    Raises:
        UnsupportedVariant: the agent in this checkout has no such mode yet.
    """
    names = _option_names()
    if "simulation" in names and "simulate_when" in names:
        return {
            "auto": {"simulate_when": "auto"},
            "full": {"simulation": "full", "simulate_when": "always"},
            "fused": {"simulation": "fused", "simulate_when": "always"},
            "off": {"simulation": "off"},
            "oracle": {"simulation": "full", "simulate_when": "always"},
        }[variant]
    if variant in ("full", "oracle"):
        return {"simulate": True}
    if variant == "off":
        return {"simulate": False}
    raise UnsupportedVariant(
        f"variant {variant!r} needs RunOptions(simulation=..., simulate_when=...) "
        "(issue 14's agent loop), which this checkout's agent does not have yet; until it "
        "lands, pick others with --variants (off, full, oracle, react, zero_shot, random)"
    )


def supported(variant: str) -> bool:
    """Whether ``variant`` runs on this checkout."""
    if variant not in MAXIMUS_VARIANTS:
        return variant in VARIANTS
    try:
        variant_options(variant)
    except UnsupportedVariant:
        return False
    return True


class OracleWorldModel(BaseChatModel):
    """A world model that is the environment: it predicts each ``act`` candidate's next
    observation by replaying the episode on a second environment and stepping it.

    It reads the candidates the simulate node lists in its prompt (a JSON array of objects
    with ``id``, ``tool`` and ``args``) and answers the ``Predictions`` schema.
    """

    episode: Any = None
    env: Any = None
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "oracle-world-model"

    def bind_tools(
        self, tools: Any, *, tool_choice: Any = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.calls += 1
        schemas = [t["function"] for t in kw.get("tools") or []]
        schema = schemas[0] if schemas else {}
        if "predictions" not in schema.get("parameters", {}).get("properties", {}):
            raise RuntimeError("the oracle world model only answers the Predictions schema")
        candidates = _candidates(messages)
        predictions = [
            {
                "candidate_id": c["id"],
                "next_state": self.episode.predict(self.env, str(c["args"].get("action", "")))
                if c.get("tool") == "act" and isinstance(c.get("args"), dict)
                else "Nothing changes in the game.",
            }
            for c in candidates
        ]
        call = {"name": schema["name"], "args": {"predictions": predictions}, "id": "oracle"}
        return ChatResult(generations=[ChatGeneration(message=AIMessage("", tool_calls=[call]))])

    async def _agenerate(self, messages: list[BaseMessage], *args: Any, **kw: Any) -> Any:
        return self._generate(messages, *args, **kw)


def _candidates(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """The last JSON array of candidate objects in the prompt."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    for message in messages:
        text = message.text if isinstance(message.content, list) else str(message.content)
        at = text.find("[")
        while at != -1:
            try:
                value, end = decoder.raw_decode(text, at)
            except ValueError:
                at = text.find("[", at + 1)
                continue
            if (
                isinstance(value, list)
                and value
                and all(isinstance(v, dict) and "id" in v and "args" in v for v in value)
            ):
                found = value
            at = text.find("[", end)
    if not found:
        raise RuntimeError("the oracle world model found no candidate list in its prompt")
    return found


def _finish(result: Episode, episode: TextWorldEpisode, meter: UsageMeter, started: float) -> None:
    result.success, result.score = episode.success, episode.score
    result.steps = len(episode.steps)
    result.invalid_actions = sum(not s.valid for s in episode.steps)
    usage = meter.usage
    result.model_calls, result.prompt_tokens = usage.model_calls, usage.prompt_tokens
    result.cached_prompt_tokens, result.output_tokens = (
        usage.cached_prompt_tokens,
        usage.output_tokens,
    )
    result.seconds = round(time.perf_counter() - started, 2)


async def play_maximus(
    model: BaseChatModel,
    settings: Settings,
    episode: TextWorldEpisode,
    variant: str,
    oracle_env: Any = None,
) -> Episode:
    """One episode by a Maximus variant (``oracle``: world model = ``oracle_env``)."""
    goal = episode.reset()
    result = Episode(episode.game, episode.seed, variant)
    models: dict[str, Any] = {}
    if variant == "oracle":
        models["world_model"] = OracleWorldModel(episode=episode, env=oracle_env)
    lessons = InProcessLessonSink()
    agent = create_agent(
        model=model,
        models=models or None,  # type: ignore[arg-type]
        tools=[episode.tool()],
        include_builtin_tools=False,
        settings=settings,
        checkpointer=InMemorySaver(),
        lesson_sink=lessons,
    )
    meter = UsageMeter(ignore=frozenset({"OracleWorldModel"}))
    config: RunnableConfig = {
        "configurable": {"thread_id": uuid.uuid4().hex},
        "callbacks": [meter],
    }
    options = RunOptions(
        mode="fast",
        max_steps=episode.limit + 2,
        max_seconds=EPISODE_SECONDS,
        **variant_options(variant),
    )
    started = time.perf_counter()
    try:
        async with asyncio.timeout(EPISODE_SECONDS + 60):
            await agent.ainvoke({"goal": goal}, config, context=options)
        state = (await agent.aget_state(config)).values
        result.status = str(state.get("status", "failed"))
    except TimeoutError:
        state = (await agent.aget_state(config)).values
        result.status = "timeout"
    except Exception as exc:  # a crashed episode counts as lost, and says why
        state = (await agent.aget_state(config)).values
        result.status = f"error: {type(exc).__name__}: {exc}"[:200]
    finally:
        await lessons.aclose()
    _finish(result, episode, meter, started)
    diagnose(state, episode, result)
    return result


async def play_react(model: BaseChatModel, episode: TextWorldEpisode) -> Episode:
    """One episode by LangGraph's prebuilt ReAct agent over the same ``act`` tool."""
    from langgraph.prebuilt import create_react_agent
    from langgraph.warnings import LangGraphDeprecationWarning

    goal = episode.reset()
    result = Episode(episode.game, episode.seed, "react")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LangGraphDeprecationWarning)
        agent = create_react_agent(model, [episode.tool()], prompt=REACT_SYSTEM)
    meter = UsageMeter()
    # Two super-steps per move (model, tools), a final answer and some slack.
    config: RunnableConfig = {"callbacks": [meter], "recursion_limit": 2 * episode.limit + 6}
    started = time.perf_counter()
    try:
        async with asyncio.timeout(EPISODE_SECONDS):
            state = await agent.ainvoke({"messages": [("user", goal)]}, config)
        last = state["messages"][-1]
        result.status = "done" if not getattr(last, "tool_calls", None) else "stopped"
    except TimeoutError:
        result.status = "timeout"
    except GraphRecursionError:
        result.status = "recursion limit"
    _finish(result, episode, meter, started)
    return result


def action_schema(valid: list[str]) -> type[Any]:
    """A one-field schema whose ``action`` may take only the ``valid`` actions."""
    choice = Literal[tuple(valid)]  # type: ignore[valid-type]
    described = (choice, Field(description="Exactly one of the valid actions."))
    return create_model("GameAction", action=described)  # type: ignore[arg-type]


async def play_zero_shot(model: BaseChatModel, episode: TextWorldEpisode) -> Episode:
    """One episode by the TALES-style zero-shot loop (task and history in, one action out)."""
    episode.reset()
    result = Episode(episode.game, episode.seed, "zero_shot")
    meter = UsageMeter()
    config: RunnableConfig = {"callbacks": [meter]}
    history: list[BaseMessage] = [
        HumanMessage(f"Task: {episode.task}\nObservation: {episode.observation.strip()}")
    ]
    started = time.perf_counter()
    try:
        async with asyncio.timeout(EPISODE_SECONDS):
            while not episode.done:
                valid = list(episode.valid_actions)
                ask = HumanMessage(f"Valid actions: {', '.join(valid)}\nYour next action?")
                chooser = model.with_structured_output(action_schema(valid))
                try:
                    prompt = [SystemMessage(ZERO_SHOT_SYSTEM), *history, ask]
                    reply = await chooser.ainvoke(prompt, config)
                    action = str(getattr(reply, "action", "") or "")
                except ValueError:  # unparsable output: an invalid move, as in TALES
                    action = ""
                observation = episode.act(action or "(no action)")
                history += [AIMessage(action), HumanMessage(f"Observation: {observation}")]
        result.status = "done"
    except TimeoutError:
        result.status = "timeout"
    _finish(result, episode, meter, started)
    return result


def play_random(episode: TextWorldEpisode) -> Episode:
    """One episode of random valid actions (seeded by the game and seed)."""
    episode.reset()
    result = Episode(episode.game, episode.seed, "random", status="done")
    rng = random.Random(f"random/{episode.game}/{episode.seed}")
    started = time.perf_counter()
    while not episode.done:
        episode.act(rng.choice(episode.valid_actions))
    _finish(result, episode, UsageMeter(), started)
    return result


def _words(text: str) -> set[str]:
    return {w.strip(".,:;'\"()!?").lower() for w in text.split() if len(w) > 2}


def jaccard(a: str, b: str) -> float:
    """Word overlap of two texts (words of 3+ letters, case and punctuation ignored)."""
    x, y = _words(a), _words(b)
    return len(x & y) / len(x | y) if x | y else 0.0


def diagnose(state: dict[str, Any], episode: TextWorldEpisode, result: Episode) -> None:
    """Match Maximus's simulated steps with the real ones: world-model overlap, critic choices
    on contested steps, and good steps the agent judged failed."""
    gold = set(episode.gold)
    acted = [
        r
        for o, r in zip(state.get("observations", []), state.get("reflections", []), strict=False)
        if o.get("tool") == "act"
    ]
    for reflection, step in zip(acted, episode.steps, strict=False):
        if not reflection.get("success", True) and step.valid and step.action in gold:
            result.rejected_good_steps += 1
    result.replans = int((state.get("counters") or {}).get("replans", 0))
    executed = [
        s
        for s in state.get("simulations", [])
        if s.get("outcome") == "execute" and s.get("simulated") and s.get("chosen_id") is not None
    ]
    executed = [
        s
        for s in executed
        if 0 <= s["chosen_id"] < len(s.get("candidates", []))
        and s["candidates"][s["chosen_id"]].get("tool") == "act"
    ]
    for record, step in zip(executed, episode.steps, strict=False):
        predicted = {p["candidate_id"]: p["next_state"] for p in record.get("predictions", [])}
        if record["chosen_id"] in predicted:
            result.wm_overlap.append(
                round(jaccard(predicted[record["chosen_id"]], step.observation), 3)
            )
        actions = {
            c["id"]: " ".join(str((c.get("args") or {}).get("action", "")).lower().split())
            for c in record["candidates"]
            if c.get("tool") == "act"
        }
        on_gold = {i for i, a in actions.items() if a in gold}
        result.gold_offered.append(bool(on_gold))
        if on_gold and len(set(actions.values())) > 1 and len(on_gold) < len(actions):
            result.critic_choices.append(record["chosen_id"] in on_gold)


__all__ = [
    "EPISODE_SECONDS",
    "MAXIMUS_VARIANTS",
    "VARIANTS",
    "Episode",
    "OracleWorldModel",
    "UnsupportedVariant",
    "action_schema",
    "diagnose",
    "jaccard",
    "play_maximus",
    "play_random",
    "play_react",
    "play_zero_shot",
    "supported",
    "variant_options",
]

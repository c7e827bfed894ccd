"""``MAXIMUS_REDIS_URL`` switches the agent and the CLI to Redis sessions; thread helpers."""

from __future__ import annotations

from typing import Any

import pytest

from maximus.config import load_settings
from maximus.errors import ThreadNotFoundError
from maximus.graphs.agent import create_agent
from maximus.memory.checkpoint import AsyncRedisSaver, RedisSaver
from maximus.memory.checkpoint.sessions import (
    adelete_thread,
    aget_thread,
    alist_threads,
    delete_thread,
    get_thread,
    list_threads,
    open_checkpointer,
    open_sync_checkpointer,
)
from tests.support.cli import events, maximus, model_env, risky_responder
from tests.support.gemini_server import GeminiServer
from tests.support.redis import key_prefix, start_server, stop_server
from tests.support.scripts import answer, candidates, plan, roles

pytestmark = pytest.mark.integration


def redis_env(url: str) -> dict[str, str]:
    return {"MAXIMUS_REDIS_URL": url, "MAXIMUS_SESSIONS__KEY_PREFIX": key_prefix()}


def test_cli_sessions_live_in_redis_across_processes(gemini: GeminiServer, plain_redis_url: str):
    env = {**model_env(gemini), **redis_env(plain_redis_url)}
    first = maximus("run", "What is 17*23?", "--json", "--thread", "r1", env=env)
    second = maximus("run", "And again?", "--json", "--thread", "r1", env=env)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert events(first)[-1]["run"] == 1 and events(second)[-1]["run"] == 2
    settings = load_settings(
        redis_url=plain_redis_url, sessions={"key_prefix": env["MAXIMUS_SESSIONS__KEY_PREFIX"]}
    )
    with open_sync_checkpointer(settings) as saver:
        assert isinstance(saver, RedisSaver)
        assert [t.thread_id for t in list_threads(saver)] == ["r1"]
        assert get_thread(saver, "r1").values["run"] == 2
    assert not (settings.data_dir / "sessions.sqlite").exists()


def test_cli_approval_resumes_over_redis_in_a_new_process(
    gemini: GeminiServer, valkey_url: str
) -> None:
    gemini.responder = risky_responder
    env = {**model_env(gemini), **redis_env(valkey_url), "MAXIMUS_AGENT__ON_RISK": "human"}
    paused = maximus("run", "Save a greeting", "--json", "--thread", "ap", env=env)
    assert paused.returncode == 5, paused.stderr
    resumed = maximus("resume", "ap", "--approve", "--json", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert events(resumed)[-1]["final_answer"] == "saved hello.txt"


def test_cli_with_redis_down_is_a_clear_error(gemini: GeminiServer) -> None:
    record = start_server("plain", name=f"gone-{key_prefix()}")
    stop_server(record["name"])
    proc = maximus("run", "x", env={**model_env(gemini), "MAXIMUS_REDIS_URL": record["url"]})
    assert proc.returncode == 1
    assert "StoreUnavailableError" in proc.stderr and "unreachable" in proc.stderr


def _agent_models() -> dict[str, Any]:
    return roles(
        planner=[plan(("Multiply", "391", "calculator"))],
        policy=[candidates(("calculator", {"expression": "17*23"}))],
        reflector=[answer("391")],
    )


async def test_users_see_only_their_own_threads(plain_redis_url: str):
    settings = load_settings(redis_url=plain_redis_url, sessions={"key_prefix": key_prefix()})
    async with open_checkpointer(settings) as saver:
        assert isinstance(saver, AsyncRedisSaver)
        for thread, user in [("t-alice-1", "alice"), ("t-bob", "bob"), ("t-alice-2", "alice")]:
            agent = create_agent(models=_agent_models(), checkpointer=saver, settings=settings)
            config = {"configurable": {"thread_id": thread, "user_id": user}}
            out = await agent.ainvoke({"goal": "What is 17*23?"}, config)
            assert out["status"] == "done"
        alice = await alist_threads(saver, user_id="alice")
        assert [t.thread_id for t in alice] == ["t-alice-2", "t-alice-1"]
        assert {t.user_id for t in alice} == {"alice"}
        assert {t.thread_id for t in await alist_threads(saver)} == {
            "t-alice-1",
            "t-alice-2",
            "t-bob",
        }
        assert (await aget_thread(saver, "t-bob", user_id="bob")).values["final_answer"] == "391"
        with pytest.raises(ThreadNotFoundError):  # another user's thread looks absent
            await aget_thread(saver, "t-bob", user_id="alice")
        with pytest.raises(ThreadNotFoundError):
            await adelete_thread(saver, "t-bob", user_id="alice")
        await adelete_thread(saver, "t-alice-1", user_id="alice")
        assert [t.thread_id for t in await alist_threads(saver, user_id="alice")] == ["t-alice-2"]
        with pytest.raises(ThreadNotFoundError):
            await aget_thread(saver, "t-alice-1")


def test_thread_helpers_work_on_sqlite_too(isolated_env):
    settings = load_settings()
    with open_sync_checkpointer(settings) as saver:
        agent = create_agent(models=_agent_models(), checkpointer=saver, settings=settings)
        agent.invoke(
            {"goal": "What is 17*23?"}, {"configurable": {"thread_id": "s1", "user_id": "carol"}}
        )
        assert [t.thread_id for t in list_threads(saver, user_id="carol")] == ["s1"]
        assert list_threads(saver, user_id="dave") == []
        with pytest.raises(ThreadNotFoundError):
            delete_thread(saver, "s1", user_id="dave")
        delete_thread(saver, "s1", user_id="carol")
        assert list_threads(saver) == []


def test_cli_lessons_go_through_the_redis_queue_into_the_lesson_log(
    gemini: GeminiServer, plain_redis_url: str
) -> None:
    import json

    import redis

    queue_prefix = key_prefix()
    env = {
        **model_env(gemini),
        **redis_env(plain_redis_url),
        "MAXIMUS_LESSON_QUEUE__PREFIX": queue_prefix,
        "MAXIMUS_LESSON_QUEUE__BATCH_TIMEOUT": "0.05",
        # With long-term memory on, lessons are written into it; this test is about the log.
        "MAXIMUS_MEMORY__ENABLED": "false",
    }
    proc = maximus("run", "What is 17*23?", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    raw = redis.Redis.from_url(plain_redis_url, decode_responses=True)
    logged = [json.loads(e) for e in raw.lrange(f"{queue_prefix}:{{lessons}}:log", 0, -1)]
    lessons = {json.loads(e["lesson"])["text"]: json.loads(e["lesson"]) for e in logged}
    # the episode is told from the facts (the step was judged from the tool's status)
    assert set(lessons) == {
        "use the calculator for arithmetic",
        'step 1 finish: Step 1: calculator({"expression": "17*23"}) ran; the plan is complete.',
    }
    assert lessons["use the calculator for arithmetic"]["kind"] == "procedural"
    assert raw.xlen(f"{queue_prefix}:{{lessons}}:p3") == 0  # acknowledged and deleted
    raw.close()


def test_cli_llm_cache_answers_a_repeated_run_without_the_model(
    gemini: GeminiServer, plain_redis_url: str
) -> None:
    env = {
        **model_env(gemini),
        **redis_env(plain_redis_url),
        "MAXIMUS_CACHE__LLM": "true",
        "MAXIMUS_CACHE__PREFIX": key_prefix(),
        # Memory would put the first run's lessons into the second run's planner prompt, and
        # a different prompt is rightly a cache miss; this test is about identical prompts.
        "MAXIMUS_MEMORY__ENABLED": "false",
    }
    first = maximus("run", "What is 17*23?", "--json", env=env)
    calls = len(gemini.requests)
    second = maximus("run", "What is 17*23?", "--json", env=env)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert calls > 0 and len(gemini.requests) == calls  # every model call was a cache hit
    assert events(second)[-1]["final_answer"] == events(first)[-1]["final_answer"]

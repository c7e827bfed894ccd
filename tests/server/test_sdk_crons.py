"""``client.crons``: runs on a schedule, once per tick even with three replicas firing them,
owner-scoped; on one process with SQLite and on three replicas behind a round-robin."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from maximus.server.crons import next_fire_ms, run_id_for

pytestmark = pytest.mark.integration


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def test_next_fire_and_run_ids_are_pure() -> None:
    base = 1_700_000_000_000  # on a whole second
    assert next_fire_ms("* * * * * */2", base) - base in (1000, 2000)
    assert next_fire_ms("0 * * * *", base) % 3_600_000 == 0
    assert run_id_for("c", 1) == run_id_for("c", 1) != run_id_for("c", 2)


async def test_a_thread_cron_runs_once_per_tick(deployment: dict[str, Any]) -> None:
    alice, bob = deployment["alice"], deployment["bob"]
    tid = (await alice.threads.create())["thread_id"]
    cron = await alice.crons.create_for_thread(
        tid, "chat", schedule="* * * * * *", input=said("tick"), multitask_strategy="enqueue"
    )
    started = time.monotonic()
    assert cron["thread_id"] == tid and cron["next_run_date"]
    assert [c["cron_id"] for c in await alice.crons.search(thread_id=tid)] == [cron["cron_id"]]
    assert await bob.crons.search(thread_id=tid) == []
    with pytest.raises(httpx.HTTPStatusError) as err:
        await bob.crons.delete(cron["cron_id"])
    assert err.value.response.status_code == 404
    await asyncio.sleep(3.5)
    await alice.crons.delete(cron["cron_id"])
    elapsed = time.monotonic() - started
    await asyncio.sleep(1.5)  # runs already made finish; no new ones come
    runs = await alice.runs.list(tid, limit=100)
    assert 2 <= len(runs) <= elapsed + 1  # one per tick, not one per replica
    for run in runs:
        await alice.runs.join(tid, run["run_id"])
    assert len(await alice.runs.list(tid, limit=100)) == len(runs)
    state = await alice.threads.get_state(tid)
    humans = [m for m in state["values"]["messages"] if m["type"] == "human"]
    assert len(humans) == len(runs)


async def test_stateless_cron_search_update_count_delete(deployment: dict[str, Any]) -> None:
    alice = deployment["alice"]
    cron = await alice.crons.create("chat", schedule="0 3 * * *", input=said("nightly"))
    cid = cron["cron_id"]
    assert cron["thread_id"] is None and cron["enabled"] is True
    assert await alice.crons.count(assistant_id="chat") >= 1
    updated = await alice.crons.update(cid, schedule="0 4 * * *", enabled=False)
    assert updated["schedule"] == "0 4 * * *" and updated["enabled"] is False
    found = await alice.crons.search(assistant_id="chat", enabled=False, limit=100)
    assert cid in {c["cron_id"] for c in found}
    await alice.crons.delete(cid)
    assert cid not in {c["cron_id"] for c in await alice.crons.search(limit=1000)}
    with pytest.raises(httpx.HTTPStatusError) as err:
        await alice.crons.create("chat", schedule="every tuesday", input=said("x"))
    assert err.value.response.status_code == 422

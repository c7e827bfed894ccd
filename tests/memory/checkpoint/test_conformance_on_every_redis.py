"""``langgraph-checkpoint-conformance``, in full, against every Redis flavour we support.

``AsyncRedisSaver`` runs the suite directly; ``RedisSaver`` runs it through a thin adapter
that calls the sync methods from a worker thread. Every optional capability must be detected
and pass, on plain Redis (no modules), Redis 8 with modules, Valkey 8, a 3-master Cluster and
a Sentinel-watched master.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES

from maximus.memory.checkpoint import AsyncRedisSaver, RedisSaver
from tests.support.redis import key_prefix

pytestmark = pytest.mark.integration

SERVERS = ["plain_redis_url", "redis8_url", "valkey_url", "cluster_url", "sentinel_url"]


class SyncAdapter(BaseCheckpointSaver[str]):
    """Exposes a sync saver's methods as the async API, each call on a worker thread."""

    def __init__(self, inner: RedisSaver) -> None:
        super().__init__(serde=inner.serde)
        self.inner = inner

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await asyncio.to_thread(self.inner.get_tuple, config)

    async def alist(  # type: ignore[override]
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        def collect() -> list[CheckpointTuple]:
            return list(self.inner.list(config, filter=filter, before=before, limit=limit))

        for tup in await asyncio.to_thread(collect):
            yield tup

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await asyncio.to_thread(self.inner.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await asyncio.to_thread(self.inner.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.inner.delete_thread, thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await asyncio.to_thread(self.inner.delete_for_runs, run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await asyncio.to_thread(self.inner.copy_thread, source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await asyncio.to_thread(self.inner.prune, thread_ids, strategy=strategy)


async def _run_suite(name: str, factory: Any) -> None:
    report = await validate(checkpointer_test(name=name)(factory))
    failures = {cap: r.failures for cap, r in report.results.items() if r.failures}
    undetected = {cap for cap, r in report.results.items() if not r.detected}
    assert not undetected, f"capabilities not detected: {undetected}"
    assert set(report.results) == {c.value for c in ALL_CAPABILITIES}
    assert report.passed_all_base(), failures
    assert report.passed_all(), failures
    assert report.conformance_level() == "FULL"


@pytest.mark.parametrize("server", SERVERS)
async def test_async_saver_passes_full_conformance(server: str, request: pytest.FixtureRequest):
    url = request.getfixturevalue(server)
    prefix = key_prefix()

    async def factory() -> AsyncIterator[AsyncRedisSaver]:
        async with AsyncRedisSaver.from_url(url, prefix=prefix) as saver:
            await saver.asetup()
            yield saver

    await _run_suite(f"AsyncRedisSaver@{server}", factory)


@pytest.mark.parametrize("server", SERVERS)
async def test_sync_saver_passes_full_conformance(server: str, request: pytest.FixtureRequest):
    url = request.getfixturevalue(server)
    prefix = key_prefix()

    async def factory() -> AsyncIterator[SyncAdapter]:
        with RedisSaver.from_url(url, prefix=prefix) as saver:
            saver.setup()
            yield SyncAdapter(saver)

    await _run_suite(f"RedisSaver@{server}", factory)

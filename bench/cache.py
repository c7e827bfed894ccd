"""Cache latency and hit rate on a replayed workload of repeated queries.

The workload is ``REQUESTS`` look-ups drawn (seeded) from ``KEYS`` distinct prompts with a Zipf
law (exponent ``ZIPF_S``): a few prompts come back again and again, most are rare, as with
LLM prompts and context look-ups. Each answer is 200 to 4,000 characters of text; the long
ones cross the compression threshold.

Every request is a read-through: look the prompt up; on a miss, "compute" the answer and
store it. Computing costs nothing here (the answer is prebuilt), so the figures are the
cache's own cost: a hit is one timed ``get``, a miss is the timed ``get`` plus ``set``. The
hit rate therefore shows that no repeated entry is lost; its ceiling is set by the workload
(``1 - distinct / requests``), printed beside it.

The same sequence is replayed, request by request in rotating order, against four backends,
each under its own key prefix, so noise spreads evenly and every backend sees the same hits:

- ``maximus``: :class:`~maximus.memory.cache.CacheManager` (msgpack, zlib, stats, fallback).
- ``llm_cache``: Maximus's LangChain LLM cache (``lookup``/``update``, plain ``GET``/``SET``).
- ``langchain_redis``: upstream ``langchain_redis.RedisCache`` (``lookup``/``update``); it
  stores RedisJSON documents, so it runs on a Redis 8 with modules, the others on plain Redis.
- ``raw_redis``: ``redis.Redis`` ``GET``/``SET`` of the answer's bytes: no framing,
  serialization, compression or stats; the floor.

Servers are started by ``scripts/redis_servers.py`` (through ``bench._servers``) and stopped
on exit. Run from the repository root with ``python -m bench.cache``; the last line printed
is one JSON object with the results.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import time
import uuid
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import redis
from langchain_core.outputs import Generation
from langchain_redis import RedisCache as LangChainRedisCache

from bench._servers import redis_server
from maximus.memory.cache import CacheManager, Namespace, llm_cache

REQUESTS = 5000
"""Timed look-ups per backend."""
KEYS = 1000
"""Distinct prompts the look-ups are drawn from."""
ZIPF_S = 1.1
"""Zipf exponent of the prompt popularity."""
WARMUP = 300
"""Untimed read-throughs per backend first, on prompts outside the timed key space."""
SEED = 7
LLM_STRING = "fake-chat-model:temperature=0"
TOPICS = ("billing", "refunds", "the API", "onboarding", "latency", "the roadmap", "security")


def workload(rng: random.Random) -> tuple[list[int], list[str], list[str]]:
    """The request sequence (prompt indexes), and the prompts and answers it indexes."""
    weights = [1 / (rank**ZIPF_S) for rank in range(1, KEYS + WARMUP + 1)]
    prompts = [
        f"Question {i}: what should a customer know about {TOPICS[i % 7]}?"
        for i in range(KEYS + WARMUP)
    ]
    answers = []
    for i in range(KEYS + WARMUP):
        sentence = f"Answer {i}: regarding {TOPICS[i % 7]}, the short version is this. "
        answers.append((sentence * (rng.randint(200, 4000) // len(sentence) + 1))[:4000])
    sequence = rng.choices(range(KEYS), weights=weights[:KEYS], k=REQUESTS)
    return sequence, prompts, answers


@dataclass
class Backend:
    """One cache under test: a read-through ``request`` that says whether it hit."""

    name: str
    lookup: Callable[[str], Any]
    store: Callable[[str, str], None]
    hits: list[int] = field(default_factory=list)
    misses: list[int] = field(default_factory=list)

    def request(self, prompt: str, answer: str, timed: bool) -> None:
        """Look ``prompt`` up; on a miss store ``answer``. Records ns per hit or miss."""
        start = time.perf_counter_ns()
        found = self.lookup(prompt)
        if found is None:
            self.store(prompt, answer)
            elapsed = time.perf_counter_ns() - start
            if timed:
                self.misses.append(elapsed)
        else:
            elapsed = time.perf_counter_ns() - start
            if timed:
                self.hits.append(elapsed)
            if found != answer:
                raise RuntimeError(f"{self.name} returned a wrong answer for {prompt!r}")


def backends(
    manager: CacheManager, plain_url: str, modules_url: str, stack: ExitStack
) -> list[Backend]:
    """The four backends, each under a fresh prefix; their clients are closed by ``stack``."""
    ns = Namespace.CONTEXTS
    ours = llm_cache(plain_url, prefix=_prefix(), ttl=3600)
    stack.callback(ours.redis.close)
    upstream_client = stack.enter_context(redis.Redis.from_url(modules_url))
    upstream = LangChainRedisCache(redis_client=upstream_client, prefix=_prefix(), ttl=3600)
    raw = stack.enter_context(redis.Redis.from_url(plain_url))
    raw_prefix = _prefix()

    def raw_lookup(prompt: str) -> str | None:
        value = raw.get(f"{raw_prefix}:{prompt}")
        return None if value is None else bytes(value).decode()

    return [
        Backend("maximus", lambda p: manager.get(ns, p), lambda p, a: manager.set(ns, p, a)),
        Backend("llm_cache", _llm_lookup(ours), _llm_store(ours)),
        Backend("langchain_redis", _llm_lookup(upstream), _llm_store(upstream)),
        Backend("raw_redis", raw_lookup, lambda p, a: raw.set(f"{raw_prefix}:{p}", a, ex=3600)),
    ]


def _prefix() -> str:
    return f"bench-cache-{uuid.uuid4().hex[:8]}"


def _llm_lookup(cache: Any) -> Callable[[str], str | None]:
    def lookup(prompt: str) -> str | None:
        found = cache.lookup(prompt, LLM_STRING)
        return None if found is None else str(found[0].text)

    return lookup


def _llm_store(cache: Any) -> Callable[[str, str], None]:
    return lambda prompt, answer: cache.update(prompt, LLM_STRING, [Generation(text=answer)])


def run() -> tuple[list[Backend], dict[str, Any]]:
    """Start the servers, replay the workload on every backend; return them and extra figures."""
    sequence, prompts, answers = workload(random.Random(SEED))
    with (
        redis_server("plain") as plain_url,
        redis_server("redis8") as modules_url,
        ExitStack() as stack,
    ):
        manager = stack.enter_context(CacheManager(plain_url, prefix=_prefix()))
        benches = backends(manager, plain_url, modules_url, stack)
        for i in range(KEYS, KEYS + WARMUP):  # connections, code paths, server allocator
            for bench in benches:
                bench.request(prompts[i], answers[i], timed=False)
        before = manager.stats()
        gc.collect()
        gc.disable()  # a collection inside one backend's call would bill it for all of them
        try:
            for n, index in enumerate(sequence):
                for bench in benches[n % 4 :] + benches[: n % 4]:
                    bench.request(prompts[index], answers[index], timed=True)
        finally:
            gc.enable()
        after = manager.stats()
    if after.backend != "redis" or after.fallbacks or after.errors:
        raise RuntimeError(f"the cache left Redis during the run: {after}")
    extra = {
        "ceiling": 1 - len(set(sequence)) / REQUESTS,
        "stats_hit_rate": (after.hits - before.hits) / REQUESTS,
        "bytes_saved": after.bytes_saved - before.bytes_saved,
    }
    return benches, extra


def pct(samples: list[int], q: float) -> float:
    """The ``q`` quantile of ``samples`` (nanoseconds), in milliseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


def main() -> None:
    """Run the benchmark, print a table, then the results as one JSON line."""
    # LangChain's reviver is marked beta; its one-off warning would land among the results
    warnings.filterwarnings("ignore", message="The function `load` is in beta")
    benches, extra = run()
    hit_counts = {len(b.hits) for b in benches}
    if len(hit_counts) != 1:
        raise RuntimeError(f"backends disagree on hits: {[len(b.hits) for b in benches]}")
    hit_rate = len(benches[0].hits) / REQUESTS
    rows = [
        ("hit p50 ms", lambda b: pct(b.hits, 0.5)),
        ("hit p90 ms", lambda b: pct(b.hits, 0.9)),
        ("hit p99 ms", lambda b: pct(b.hits, 0.99)),
        ("miss p50 ms (get+set)", lambda b: pct(b.misses, 0.5)),
        ("miss p99 ms (get+set)", lambda b: pct(b.misses, 0.99)),
        ("mean ms/request", lambda b: statistics.fmean(b.hits + b.misses) / 1e6),
    ]
    print(
        f"{REQUESTS} requests over {KEYS} prompts (Zipf s={ZIPF_S}), {WARMUP} warm-up; "
        f"hit rate {hit_rate:.4f} (workload ceiling {extra['ceiling']:.4f})"
    )
    print(f"{'':24}" + "".join(f"{b.name:>17}" for b in benches))
    for label, figure in rows:
        print(f"{label:24}" + "".join(f"{figure(b):>17.4f}" for b in benches))
    by_name = {b.name: b for b in benches}
    ours, raw = pct(by_name["maximus"].hits, 0.5), pct(by_name["raw_redis"].hits, 0.5)
    upstream = pct(by_name["langchain_redis"].hits, 0.5)
    print(
        f"{'hit p50 ratio vs raw':24}"
        + "".join(f"{pct(b.hits, 0.5) / raw:>17.3f}" for b in benches)
    )
    result = {
        "hit_rate": round(hit_rate, 4),
        "hit_rate_ceiling": round(extra["ceiling"], 4),
        "hit_p50_ms": round(ours, 4),
        "hit_p99_ms": round(pct(by_name["maximus"].hits, 0.99), 4),
        "miss_p50_ms": round(pct(by_name["maximus"].misses, 0.5), 4),
        "miss_p99_ms": round(pct(by_name["maximus"].misses, 0.99), 4),
        "llm_cache_hit_p50_ms": round(pct(by_name["llm_cache"].hits, 0.5), 4),
        "langchain_redis_hit_p50_ms": round(upstream, 4),
        "raw_redis_hit_p50_ms": round(raw, 4),
        "ratio_vs_raw_redis": round(ours / raw, 3),
        "ratio_vs_langchain_redis": round(ours / upstream, 3),
        "stats_hit_rate": round(extra["stats_hit_rate"], 4),
        "bytes_saved": extra["bytes_saved"],
        "requests": REQUESTS,
        "keys": KEYS,
        "zipf_s": ZIPF_S,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""The cache: namespaced values in Redis, an in-process LRU while Redis is down.

- :class:`CacheManager` (:mod:`.manager`): get/set/delete by namespace, with TTLs,
  compression, stats and an LRU fallback that is replayed to Redis when it is back.
- :class:`LLMCache` / :func:`llm_cache` / :func:`install_llm_cache` and :class:`NodeCache` /
  :func:`node_cache` (:mod:`.adapters`): LangChain's LLM cache and LangGraph's node cache on
  the same Redis, plain (no modules) or Cluster, which also degrade to misses on outages.

The adapters are imported on first use, so importing the manager does not load
langchain-redis (and with it redisvl and numpy).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from maximus.memory.cache._codec import (
    CacheHealth,
    CacheStats,
    Namespace,
    cache_key,
    decode,
    encode,
    namespace_pattern,
)
from maximus.memory.cache.manager import CacheManager

if TYPE_CHECKING:
    from maximus.memory.cache.adapters import (
        LLMCache,
        NodeCache,
        install_llm_cache,
        llm_cache,
        node_cache,
    )

_ADAPTERS = frozenset({"LLMCache", "NodeCache", "install_llm_cache", "llm_cache", "node_cache"})
"""Names re-exported from :mod:`.adapters`, which is imported when one is first asked for."""


def __getattr__(name: str) -> Any:
    if name in _ADAPTERS:
        value = getattr(importlib.import_module(f"{__name__}.adapters"), name)
        globals()[name] = value  # found directly from now on
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _ADAPTERS)


__all__ = [
    "CacheHealth",
    "CacheManager",
    "CacheStats",
    "LLMCache",
    "Namespace",
    "NodeCache",
    "cache_key",
    "decode",
    "encode",
    "install_llm_cache",
    "llm_cache",
    "namespace_pattern",
    "node_cache",
]

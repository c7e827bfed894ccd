"""The vault's encryption: Fernet (AES-128-CBC + HMAC-SHA256) with key rotation.

Keys come from ``MAXIMUS_MEMORY__VAULT_KEY`` (comma-separated, newest first) or from
``MAXIMUS_MEMORY__VAULT_KEY_FILE`` (one key a line, newest first). With neither set, a key
file is created on first use at ``<data_dir>/memory/vault.key`` (mode 0600). The newest key
encrypts; every listed key decrypts, so a rotation is: put the new key first, keep the old one
after it, run ``maximus memory vault-rotate`` (re-encrypts every secret with the new key),
then drop the old key.

A secret never leaves this module except through :meth:`VaultCipher.decrypt`, which the store
calls only for an explicit, policy-checked reveal. The agent never sees a secret: it holds an
opaque reference, ``{{vault:<id>}}`` (:func:`reference`), which the tool layer replaces with
the plaintext only inside a call to a tool the policy allows (:func:`check_tool`), and
redacts back to the reference in what the tool returns (:mod:`maximus.tools.secrets`).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from maximus.errors import VaultKeyError, VaultPolicyError
from maximus.memory.longterm.records import SENSITIVITY_RANK

REFERENCE = re.compile(r"\{\{vault:([A-Za-z0-9_.:-]{1,128})\}\}")
"""A reference to a vault secret, as the model writes it in a tool's arguments."""


def reference(record_id: str) -> str:
    """The opaque reference the model uses in place of the secret of vault entry
    ``record_id``."""
    return "{{vault:" + record_id + "}}"


def generate_key() -> str:
    """A new random Fernet key (url-safe base64, 32 bytes)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def read_key_file(path: Path) -> list[str]:
    """The keys in ``path``, newest first (blank lines and ``#`` comments skipped).

    Raises:
        VaultKeyError: the file cannot be read or holds no key.
    """
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise VaultKeyError(f"cannot read the vault key file {path}: {exc}") from exc
    keys = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not keys:
        raise VaultKeyError(f"the vault key file {path} holds no key")
    return keys


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Write ``keys`` (newest first) to ``path``, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(keys) + "\n")


class VaultCipher:
    """Encrypts and decrypts vault secrets with the configured keys.

    Args:
        keys: Fernet keys, newest first.
        key_file: read the keys from here instead (created with a new key if missing and
            ``create`` is true).
        create: allow creating ``key_file``.

    Raises:
        VaultKeyError: no key, or a key that is not a valid Fernet key.
    """

    def __init__(
        self,
        keys: Sequence[str] = (),
        *,
        key_file: Path | None = None,
        create: bool = False,
    ) -> None:
        self._keys = list(keys)
        self._key_file = key_file
        self._create = create
        self._fernet: Any = None
        self._lock = threading.Lock()

    def _multi(self) -> Any:
        with self._lock:
            if self._fernet is None:
                from cryptography.fernet import Fernet, MultiFernet

                keys = self._keys
                if not keys and self._key_file is not None:
                    if not self._key_file.exists() and self._create:
                        write_key_file(self._key_file, [generate_key()])
                    keys = read_key_file(self._key_file)
                if not keys:
                    raise VaultKeyError(
                        "no vault key: set MAXIMUS_MEMORY__VAULT_KEY or "
                        "MAXIMUS_MEMORY__VAULT_KEY_FILE (maximus memory vault-keygen)"
                    )
                try:
                    self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
                except (ValueError, TypeError) as exc:
                    raise VaultKeyError(
                        "a vault key is malformed (expected 32 url-safe base64-encoded bytes)"
                    ) from exc
            return self._fernet

    def encrypt(self, secret: str) -> str:
        """``secret`` encrypted with the newest key (a Fernet token)."""
        return str(self._multi().encrypt(secret.encode()).decode())

    def decrypt(self, token: str) -> str:
        """The secret in ``token``.

        Raises:
            VaultKeyError: no configured key decrypts it (wrong key, or damaged token).
        """
        from cryptography.fernet import InvalidToken

        try:
            return str(self._multi().decrypt(token.encode()).decode())
        except (InvalidToken, ValueError, TypeError) as exc:
            raise VaultKeyError(
                "the vault key cannot decrypt this secret: wrong key, or a key rotated out "
                "too early (add the old key after the new one)"
            ) from exc

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted with the newest key.

        Raises:
            VaultKeyError: no configured key decrypts it.
        """
        from cryptography.fernet import InvalidToken

        try:
            return str(self._multi().rotate(token.encode()).decode())
        except InvalidToken as exc:
            raise VaultKeyError("the vault key cannot decrypt a stored secret") from exc


def check_reveal(sensitivity: str, allowed_max: str) -> None:
    """Raise unless the policy allows revealing a secret of ``sensitivity``.

    Raises:
        VaultPolicyError: ``sensitivity`` ranks above ``allowed_max``.
    """
    if SENSITIVITY_RANK[sensitivity] > SENSITIVITY_RANK[allowed_max]:
        raise VaultPolicyError(
            f"revealing a {sensitivity}-sensitivity secret is not allowed "
            f"(MAXIMUS_MEMORY__VAULT_REVEAL_MAX={allowed_max})"
        )


def check_tool(tool: str, allowed: Sequence[str]) -> None:
    """Raise unless the policy lets ``tool`` receive vault secrets.

    Raises:
        VaultPolicyError: ``tool`` is not in ``allowed`` (and ``allowed`` is not ``["*"]``).
    """
    if "*" not in allowed and tool not in allowed:
        raise VaultPolicyError(
            f"tool {tool!r} may not receive vault secrets; allow it with "
            f"MAXIMUS_MEMORY__VAULT_TOOLS (now {list(allowed)})"
        )


__all__ = [
    "REFERENCE",
    "VaultCipher",
    "check_reveal",
    "check_tool",
    "generate_key",
    "read_key_file",
    "reference",
    "write_key_file",
]

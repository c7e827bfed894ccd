"""Who is calling: API keys (stored as SHA-256 digests) or bearer JWTs, and rate limits.

Every resource belongs to the user the credentials name. ``auth="none"`` (local development
only; the app logs a warning at start) makes every caller the user ``anonymous``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from maximus.config import ServerSettings
from maximus.errors import AuthenticationError, RateLimitedError

ANONYMOUS = "anonymous"


def hash_key(key: str) -> str:
    """The digest to put in ``MAXIMUS_SERVER__API_KEYS`` for ``key``."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller."""

    user_id: str
    key: str
    """What the rate limit counts against: the key's digest, or ``jwt:<user>``."""


class Authenticator:
    """Checks a request's credentials against the settings."""

    def __init__(self, settings: ServerSettings) -> None:
        self.mode = settings.auth
        self._keys = {digest.lower(): user for digest, user in settings.api_keys.items()}
        self._settings = settings

    def authenticate(self, api_key: str | None, authorization: str | None) -> Principal:
        """The caller named by an ``x-api-key`` header or an ``Authorization: Bearer`` JWT.

        Raises:
            AuthenticationError: no credentials, or ones that are not accepted.
        """
        if self.mode == "none":
            return Principal(ANONYMOUS, ANONYMOUS)
        token = None
        if authorization and authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
        if self.mode == "api_key":
            key = api_key or token
            if not key:
                raise AuthenticationError("missing API key (send the x-api-key header)")
            digest = hash_key(key)
            for known, user in self._keys.items():
                if hmac.compare_digest(known, digest):
                    return Principal(user, digest)
            raise AuthenticationError("invalid API key")
        if not token:
            raise AuthenticationError("missing bearer token (send Authorization: Bearer <jwt>)")
        return self._jwt(token)

    def _jwt(self, token: str) -> Principal:
        import jwt

        secret = self._settings.jwt_secret
        if secret is None:
            raise AuthenticationError("the server has no JWT key configured")
        try:
            claims = jwt.decode(
                token,
                secret.get_secret_value(),
                algorithms=self._settings.jwt_algorithms,
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": ["exp"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from None
        user = claims.get(self._settings.jwt_user_claim)
        if not isinstance(user, str) or not user:
            raise AuthenticationError(f"the token has no {self._settings.jwt_user_claim!r} claim")
        return Principal(user, f"jwt:{user}")


class RateLimiter:
    """A token bucket per key: ``per_minute`` sustained, ``burst`` at once (0: no limit)."""

    def __init__(self, per_minute: int, burst: int, max_keys: int = 100_000) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._max_keys = max_keys

    def check(self, key: str) -> None:
        """Take one token for ``key``.

        Raises:
            RateLimitedError: the bucket is empty.
        """
        if self._rate <= 0:
            return
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            raise RateLimitedError(
                f"rate limit exceeded; retry in {(1 - tokens) / self._rate:.1f}s"
            )
        if len(self._buckets) >= self._max_keys and key not in self._buckets:
            self._buckets.clear()  # bounded memory; a reset only grants a fresh burst
        self._buckets[key] = (tokens - 1.0, now)


__all__ = ["ANONYMOUS", "Authenticator", "Principal", "RateLimiter", "hash_key"]

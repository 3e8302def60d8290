"""Clients' public keys for private_key_jwt (RFC 7523): inline `jwks` or fetched `jwks_uri`.

Fetched sets are cached by URI (parsed keys cannot change the answer to a security question
within their cache life, ARCHITECTURE.md "State and scale"). Nothing is fetched inside a
database transaction: a flow that finds no cached set raises JwksNeeded, fetches, and retries.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from authgate.core import jose
from authgate.core.errors import InvalidClientError
from authgate.core.models import Client

CACHE_SECONDS = 300
REFETCH_COOLDOWN = 30

Fetch = Callable[[str], Awaitable[str]]


class JwksNeeded(Exception):
    """Raised inside a transaction when a client's jwks_uri must be (re)fetched first."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.uri = uri


class ClientKeys:
    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._cache: dict[str, tuple[jose.KeySet, float]] = {}

    def key_set(self, client: Client, *, kid: str | None) -> jose.KeySet:
        """The client's key set, from its inline jwks or the cache; may raise JwksNeeded."""
        if client.jwks is not None:
            try:
                return jose.parse_jwks(client.jwks)
            except jose.JoseVerificationError as exc:
                raise InvalidClientError("the client's registered keys are unusable") from exc
        assert client.jwks_uri is not None  # noqa: S101 - registration requires one
        cached = self._cache.get(client.jwks_uri)
        now = time.monotonic()
        if cached is None or now - cached[1] > CACHE_SECONDS:
            raise JwksNeeded(client.jwks_uri)
        keys, fetched_at = cached
        unknown_kid = kid is not None and not any(k.kid == kid for k in keys.keys)
        if unknown_kid and now - fetched_at > REFETCH_COOLDOWN:  # the client rotated its keys?
            raise JwksNeeded(client.jwks_uri)
        return keys

    async def refresh(self, uri: str) -> None:
        try:
            text = await self._fetch(uri)
            keys = jose.parse_jwks(jose.normalise_public_jwks(text))
        except (OSError, ValueError) as exc:
            raise InvalidClientError(
                "the client's jwks_uri could not be fetched", detail=str(exc)
            ) from None
        self._cache[uri] = (keys, time.monotonic())

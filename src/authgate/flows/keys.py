"""Signing keys: bootstrap at first start, rotation, and the per-process key ring cache.

ARCHITECTURE.md "Keys": the active key signs; retired keys stay published until every token
they signed has expired. Publish-then-sign (SECURITY.md REL-10): a rotated-in key is
published at once but signs only after `key_cache_ttl`, the longest any process may serve a
cached key set, so no process hands out a JWKS without a key that another process signs with.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import anyio

from authgate.config import Settings
from authgate.core import jose
from authgate.core.models import SigningKey
from authgate.core.types import SigningAlg
from authgate.store.base import Store, StoreTx

# RFC 7517 consumers cache the JWKS; our /jwks says max-age=300 (JWKS_MAX_AGE).
JWKS_MAX_AGE = 300


class KeyCache:
    """The key ring of this process, reloaded from the database every `ttl` seconds."""

    def __init__(self, store: Store, *, ttl: int) -> None:
        self._store = store
        self._ttl = timedelta(seconds=ttl)
        self._ring: jose.KeyRing | None = None
        self._last: jose.KeyRing | None = None  # the last ring built: its keys are parsed
        self._lock = anyio.Lock()

    async def ring(self, now: datetime) -> jose.KeyRing:
        ring = self._ring
        if ring is not None and now - ring.built_at < self._ttl:
            return ring
        async with self._lock:
            ring = self._ring
            if ring is None or now - ring.built_at >= self._ttl:
                async with self._store.transaction(readonly=True) as tx:
                    records = await tx.list_signing_keys()
                previous = self._last
                ring = await anyio.to_thread.run_sync(
                    lambda: jose.KeyRing(records, now=now, previous=previous)
                )
                self._ring = self._last = ring
        return ring

    def invalidate(self) -> None:
        self._ring = None


async def _new_key(alg: SigningAlg, *, now: datetime, active_from: datetime) -> SigningKey:
    kid, private, public = await anyio.to_thread.run_sync(jose.generate_key, alg)
    return SigningKey(
        kid=kid,
        alg=alg,
        private_jwk=private,
        public_jwk=public,
        created_at=now,
        active_from=active_from,
    )


def _active(keys: list[SigningKey], alg: SigningAlg, now: datetime) -> bool:
    return any(k.alg is alg and (k.retired_at is None or k.retired_at > now) for k in keys)


async def ensure_keys(store: Store, *, now: datetime) -> list[SigningKey]:
    """Create an ES256 and an RS256 key if there is none (first start); idempotent."""
    created: list[SigningKey] = []
    async with store.transaction() as tx:
        await tx.lock_keys()
        keys = await tx.list_signing_keys()
        for alg in SigningAlg:
            if not _active(keys, alg, now):
                key = await _new_key(alg, now=now, active_from=now)
                await tx.add_signing_key(key)
                created.append(key)
    return created


async def rotate_keys(store: Store, settings: Settings, *, now: datetime) -> list[SigningKey]:
    """New keys for every algorithm; the current ones retire when the new ones activate and
    stay published until their last token has expired.
    """
    switch = now + timedelta(seconds=settings.key_cache_ttl)
    async with store.transaction() as tx:
        await tx.lock_keys()
        longest = await _longest_token_life(tx, settings)
        publish_until = switch + timedelta(seconds=longest + JWKS_MAX_AGE)
        await tx.retire_signing_keys(now=switch, publish_until=publish_until)
        created = [await _new_key(alg, now=now, active_from=switch) for alg in SigningAlg]
        for key in created:
            await tx.add_signing_key(key)
    return created


async def list_keys(store: Store) -> list[SigningKey]:
    async with store.transaction(readonly=True) as tx:
        return await tx.list_signing_keys()


async def _longest_token_life(tx: StoreTx, settings: Settings) -> int:
    ttls = [settings.access_token_ttl, settings.id_token_ttl]
    ttls += [r.access_token_ttl for r in await tx.list_resources() if r.access_token_ttl]
    return max(ttls)

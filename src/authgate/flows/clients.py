"""Operator actions on clients (CLI `authgate client …` and /admin/clients)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime

from authgate.config import Settings
from authgate.core.client_metadata import ClientMetadata, ClientRegistration, validate_registration
from authgate.core.errors import NotFoundError
from authgate.core.models import Client
from authgate.core.tokens import hash_token, new_id, new_token
from authgate.core.types import ClientId
from authgate.flows import audit
from authgate.store.base import Store, StoreTx


def _details_types(settings: Settings) -> list[str]:
    return [t.name for t in settings.authorization_details_types]


def _client(client_id: ClientId, meta: ClientMetadata, **extra: object) -> Client:
    values = {f.name: getattr(meta, f.name) for f in dataclasses.fields(ClientMetadata)}
    return Client(client_id=client_id, **values, **extra)  # type: ignore[arg-type]


def registration_of(client: Client) -> ClientRegistration:
    """The registration that would produce `client` (the base of an update)."""
    return ClientRegistration(
        name=client.name,
        redirect_uris=client.redirect_uris,
        post_logout_redirect_uris=client.post_logout_redirect_uris,
        grant_types=tuple(sorted(g.value for g in client.grant_types)),
        scope=" ".join(sorted(client.scope)),
        auth_method=client.auth_method.value,
        public=client.is_public,
        authorization_details_types=tuple(sorted(client.authorization_details_types)),
        can_introspect=client.can_introspect,
        require_pkce=client.require_pkce,
        jwks=client.jwks,
        jwks_uri=client.jwks_uri,
        id_token_signed_response_alg=client.id_token_signed_response_alg.value,
        access_token_format=client.access_token_format.value
        if client.access_token_format
        else None,
        rotate_refresh_tokens=client.rotate_refresh_tokens,
        application_type=client.application_type.value,
        logo_uri=client.logo_uri,
        policy_uri=client.policy_uri,
        tos_uri=client.tos_uri,
        client_uri=client.client_uri,
    )


async def create_client(
    store: Store, settings: Settings, reg: ClientRegistration, *, now: datetime
) -> tuple[Client, str | None]:
    """Register a client; returns it and its secret (shown once, stored only hashed)."""
    meta = validate_registration(reg, details_types=_details_types(settings))
    secret = new_token() if meta.needs_secret else None
    client = _client(
        ClientId(new_id()),
        meta,
        secret_hash=hash_token(secret) if secret else None,
        created_at=now,
    )
    async with store.transaction() as tx:
        await tx.add_client(client)
    return client, secret


async def _get(tx: StoreTx, client_id: str) -> Client:
    client = await tx.find_client(ClientId(client_id))
    if client is None:
        raise NotFoundError(f"no client with client_id {client_id!r}")
    return client


async def get_client(store: Store, client_id: str) -> Client:
    async with store.transaction(readonly=True) as tx:
        return await _get(tx, client_id)


async def list_clients(store: Store) -> list[Client]:
    async with store.transaction(readonly=True) as tx:
        return await tx.list_clients()


async def update_client(
    store: Store,
    settings: Settings,
    client_id: str,
    changes: Mapping[str, object],
    *,
    new_secret: bool = False,
    now: datetime,
) -> tuple[Client, str | None]:
    """Change registration fields; every rule of registration applies to the result."""
    async with store.transaction() as tx:
        client = await _get(tx, client_id)
        reg = dataclasses.replace(registration_of(client), **changes)  # type: ignore[arg-type]
        meta = validate_registration(reg, details_types=_details_types(settings))
        secret = None
        secret_hash = client.secret_hash if meta.needs_secret else None
        if meta.needs_secret and (new_secret or secret_hash is None):
            secret = new_token()
            secret_hash = hash_token(secret)
        updated = _client(
            client.client_id,
            meta,
            secret_hash=secret_hash,
            created_at=client.created_at,
            updated_at=now,
            retired_at=client.retired_at,
        )
        await tx.replace_client(updated)
    return updated, secret


async def delete_client(store: Store, client_id: str, *, actor: str, now: datetime) -> None:
    """Delete a client and, by cascade, every grant, code and token it holds."""
    async with store.transaction() as tx:
        await _get(tx, client_id)
        await tx.delete_client(ClientId(client_id))
        await audit.record(
            tx, now=now, actor=actor, action="client.delete", target_type="client", target=client_id
        )


async def set_retired(
    store: Store,
    client_id: str,
    *,
    retired: bool,
    actor: str,
    reason: str | None = None,
    now: datetime,
) -> Client:
    """`client revoke` retires a client: every token of it is rejected and nothing new is
    issued to it. `client approve` restores it; its unexpired, individually unrevoked tokens
    work again (issue 4). Retirement is a flag checked at every use, not a mass update.
    """
    async with store.transaction() as tx:
        client = await _get(tx, client_id)
        updated = dataclasses.replace(client, retired_at=now if retired else None, updated_at=now)
        await tx.replace_client(updated)
        await audit.record(
            tx,
            now=now,
            actor=actor,
            action="client.revoke" if retired else "client.approve",
            target_type="client",
            target=client_id,
            reason=reason,
        )
    return updated

"""Issuing access tokens, shared by every grant: format, audience, lifetime, storage.

ARCHITECTURE.md "Tokens": opaque tokens are 256 random bits stored as their SHA-256; RFC 9068
JWTs are signed with the active key and their `jti` (and hash) stored, so revocation shows at
introspection. RFC 8707: the `resource` parameter picks a registered resource server, which
becomes the token's `aud` and may set its format, algorithm and lifetime.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from authgate.core import jwt_access_token
from authgate.core.errors import InvalidTargetError
from authgate.core.models import AccessToken, Client, Grant, RefreshToken, Resource
from authgate.core.resource_indicators import single_resource
from authgate.core.tokens import expiry, hash_token, new_id, new_token
from authgate.core.types import AccessTokenFormat, GrantId, SigningAlg, Subject
from authgate.flows.context import Context
from authgate.store.base import StoreTx


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    token: str = field(repr=False)
    record: AccessToken
    expires_in: int


async def resolve_resource(tx: StoreTx, values: Sequence[str]) -> Resource | None:
    """RFC 8707 §2: the registered resource server a request names, if any."""
    return await find_resource(tx, single_resource(values))


async def find_resource(tx: StoreTx, uri: str | None) -> Resource | None:
    """The registered resource server `uri`; an unregistered one is `invalid_target`."""
    if uri is None:
        return None
    resource = await tx.find_resource(uri)
    if resource is None:
        raise InvalidTargetError("unknown resource")
    return resource


async def issue_access_token(
    tx: StoreTx,
    ctx: Context,
    *,
    client: Client,
    sub: Subject | None,
    scope: frozenset[str],
    resource: Resource | None,
    now: datetime,
    grant_id: GrantId | None = None,
    refresh_token_hash: bytes | None = None,
    authorization_details: str | None = None,
    auth_time: datetime | None = None,
) -> IssuedAccessToken:
    """Create, store and return one access token."""
    settings = ctx.settings
    ttl = (resource.access_token_ttl if resource else None) or settings.access_token_ttl
    token_format = _format(ctx, client, resource)
    expires_at = expiry(now, ttl)
    jti = new_id()
    if token_format is AccessTokenFormat.JWT:
        claims = jwt_access_token.build_claims(
            issuer=settings.issuer,
            sub=sub or client.client_id,
            audience=resource.uri if resource else settings.issuer,
            client_id=client.client_id,
            scope=scope,
            issued_at=now,
            expires_at=expires_at,
            jti=jti,
            authorization_details=authorization_details,
            auth_time=auth_time,
        )
        ring = await ctx.keys.ring(now)
        alg = resource.alg if resource else SigningAlg.RS256
        token = ring.sign(claims, alg=alg, typ=jwt_access_token.TYP)
    else:
        token = new_token()
    record = AccessToken(
        token_hash=hash_token(token),
        jti=jti,
        client_id=client.client_id,
        scope=scope,
        issued_at=now,
        expires_at=expires_at,
        token_format=token_format,
        sub=sub,
        grant_id=grant_id,
        audience=resource.uri if resource else None,
        authorization_details=authorization_details,
        refresh_token_hash=refresh_token_hash,
    )
    await tx.add_access_token(record)
    return IssuedAccessToken(token, record, ttl)


def _format(ctx: Context, client: Client, resource: Resource | None) -> AccessTokenFormat:
    if resource is not None:
        return resource.access_token_format
    if client.access_token_format is not None:
        return client.access_token_format
    return AccessTokenFormat(ctx.settings.access_token_format)


@dataclass(frozen=True, slots=True)
class IssuedRefreshToken:
    token: str = field(repr=False)
    record: RefreshToken


async def issue_refresh_token(
    tx: StoreTx,
    ctx: Context,
    *,
    grant: Grant,
    scope: frozenset[str],
    now: datetime,
    parent_hash: bytes | None = None,
) -> IssuedRefreshToken:
    """Create and store a refresh token of `grant`. Its absolute lifetime is the grant's
    (rotation never extends it, SEC-55); an idle timeout applies when configured.
    """
    token = new_token()
    idle = ctx.settings.refresh_token_idle_ttl
    record = RefreshToken(
        token_hash=hash_token(token),
        grant_id=grant.grant_id,
        client_id=grant.client_id,
        scope=scope,
        issued_at=now,
        expires_at=grant.expires_at,
        parent_hash=parent_hash,
        idle_expires_at=min(expiry(now, idle), grant.expires_at) if idle else None,
    )
    await tx.add_refresh_token(record)
    return IssuedRefreshToken(token, record)

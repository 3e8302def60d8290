"""Operator actions on resource servers (RFC 8707 `resource` values)."""

from __future__ import annotations

import urllib.parse
from datetime import datetime

from authgate.core.errors import ConflictError, InvalidRequestError, to_error_charset
from authgate.core.models import Resource
from authgate.core.types import AccessTokenFormat, SigningAlg
from authgate.store.base import Store


async def create_resource(
    store: Store,
    *,
    uri: str,
    token_format: str = "jwt",
    alg: str = "RS256",
    ttl: int | None = None,
    now: datetime,
) -> Resource:
    parts = urllib.parse.urlsplit(uri)
    if not parts.scheme or "#" in uri:
        # RFC 8707 §2: an absolute URI without a fragment.
        raise InvalidRequestError(
            to_error_charset(f"resource must be an absolute URI without a fragment: {uri!r}")
        )
    if ttl is not None and ttl <= 0:
        raise InvalidRequestError("ttl must be greater than 0")
    try:
        resource = Resource(
            uri=uri,
            access_token_format=AccessTokenFormat(token_format),
            alg=SigningAlg(alg),
            access_token_ttl=ttl,
            created_at=now,
        )
    except ValueError as exc:
        raise InvalidRequestError(to_error_charset(str(exc))) from None
    async with store.transaction() as tx:
        if not await tx.add_resource(resource):
            raise ConflictError(f"resource {uri!r} is already registered")
    return resource


async def list_resources(store: Store) -> list[Resource]:
    async with store.transaction(readonly=True) as tx:
        return await tx.list_resources()

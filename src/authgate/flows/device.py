"""RFC 8628 use cases of the device code: device authorization (§3.1–3.2), the device_code
grant (§3.4–3.5), and recording the person's decision (§3.3). The person's pages are driven
by flows/user_codes.py (finding a code, with the §5.1 limits) and
flows/device_verification.py (sign in, approve or deny).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from authgate.core import authorization_details, device as rules
from authgate.core.client_auth import ClientCredentials
from authgate.core.errors import (
    InvalidGrantError,
    InvalidRequestError,
    OAuthError,
    TemporarilyUnavailableError,
)
from authgate.core.models import Client, DeviceCode, Grant, Session
from authgate.core.params import Params
from authgate.core.scopes import OFFLINE_ACCESS, parse_scope, validate_scope
from authgate.core.token_request import TokenResponse, validate_client_grant
from authgate.core.tokens import expiry, hash_prefix, hash_token, new_id, new_token
from authgate.core.types import DeviceStatus, GrantId, GrantType, RevokedBy
from authgate.flows.client_auth import with_authenticated_client
from authgate.flows.context import Context
from authgate.flows.id_tokens import issue_grant_tokens
from authgate.flows.outcomes import RaiseAfterCommit, reuse_refused
from authgate.flows.tokens import resolve_resource
from authgate.store.base import StoreTx

log = logging.getLogger(__name__)

_USER_CODE_TRIES = 5


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    """RFC 8628 §3.2 response."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int

    def body(self) -> dict[str, object]:
        return {
            "device_code": self.device_code,
            "user_code": self.user_code,
            "verification_uri": self.verification_uri,
            "verification_uri_complete": self.verification_uri_complete,
            "expires_in": self.expires_in,
            "interval": self.interval,
        }


def verification_uri(issuer: str) -> str:
    return f"{issuer}/device"


def _device_scope(client: Client, requested: str | None) -> frozenset[str]:
    if requested is None:
        return client.scope - {OFFLINE_ACCESS}
    scope = validate_scope(parse_scope(requested), client.scope)
    if GrantType.REFRESH_TOKEN not in client.grant_types:
        scope = scope - {OFFLINE_ACCESS}  # no refresh token could be issued anyway
    return scope


async def authorize_device(
    ctx: Context,
    creds: ClientCredentials,
    params: Params,
    *,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> DeviceAuthorization:
    """§3.1: register a device request and return the codes the device shows and polls with."""
    settings = ctx.settings

    async def work(tx: StoreTx, client: Client) -> DeviceAuthorization:
        validate_client_grant(client, GrantType.DEVICE_CODE)
        scope = _device_scope(client, params.get("scope"))
        resource = await resolve_resource(tx, params.get_all("resource"))
        details = authorization_details.from_parameter(
            params.get("authorization_details"),
            settings.details_types,
            allowed=client.authorization_details_types,
        )
        code = new_token()
        for _ in range(_USER_CODE_TRIES):
            user_code = rules.new_user_code()
            device = DeviceCode(
                device_code_hash=hash_token(code),
                user_code=user_code,
                client_id=client.client_id,
                scope=scope,
                status=DeviceStatus.PENDING,
                interval=settings.device_poll_interval,
                created_at=now,
                expires_at=expiry(now, settings.device_code_ttl),
                resource=resource.uri if resource else None,
                authorization_details=details,
                request_ip=ip,
                request_user_agent=(user_agent or "")[:512] or None,
            )
            if await tx.add_device_code(device, now=now):
                break
        else:  # pragma: no cover - five collisions among 20^8 codes
            raise TemporarilyUnavailableError("could not allocate a user code; retry")
        shown = rules.format_user_code(user_code)
        uri = verification_uri(settings.issuer)
        return DeviceAuthorization(
            device_code=code,
            user_code=shown,
            verification_uri=uri,
            verification_uri_complete=f"{uri}?user_code={shown}",
            expires_in=settings.device_code_ttl,
            interval=settings.device_poll_interval,
        )

    # Reads, then one insert (a user code already taken leaves the table as it was and another
    # is tried).
    return await with_authenticated_client(ctx, creds, work, now=now, single_write=True)


async def exchange(
    tx: StoreTx, ctx: Context, client: Client, params: Params, *, now: datetime
) -> TokenResponse:
    """§3.4–3.5: one poll. Polling state and reuse revocation are written even when the
    answer is an error (RaiseAfterCommit).
    """
    validate_client_grant(client, GrantType.DEVICE_CODE)
    code_hash = hash_token(params.require("device_code"))
    device = await tx.find_device_code(code_hash)
    if device is None:
        raise InvalidGrantError("unknown device_code")
    try:
        decision = rules.validate_poll(device, client_id=client.client_id, now=now)
    except OAuthError as error:
        if device.status is DeviceStatus.CONSUMED and device.client_id == client.client_id:
            await _revoke_on_reuse(tx, device, now)
            raise reuse_refused(ctx.metrics, error, RevokedBy.DEVICE_CODE_REUSE) from None
        raise
    if decision.outcome is not rules.PollOutcome.ISSUE:
        await tx.record_device_poll(decision.device)
        raise RaiseAfterCommit(decision.error())
    if not await tx.consume_device_code(code_hash, now=now):
        raise InvalidGrantError("device_code has already been used")
    return await _issue(tx, ctx, client, device, params.get("authorization_details"), now)


async def _revoke_on_reuse(tx: StoreTx, device: DeviceCode, now: datetime) -> None:
    # SECURITY.md SEC-62: a device code yields tokens once; using it again revokes them.
    if device.grant_id is not None and await tx.revoke_grant(
        device.grant_id, now=now, by=RevokedBy.DEVICE_CODE_REUSE
    ):
        log.warning(
            "device_code reuse: grant revoked (client=%s code=%s)",
            device.client_id,
            hash_prefix(device.device_code_hash),
        )


async def _issue(
    tx: StoreTx,
    ctx: Context,
    client: Client,
    device: DeviceCode,
    requested: str | None,
    now: datetime,
) -> TokenResponse:
    grant = await tx.find_grant(device.grant_id) if device.grant_id else None
    user = await tx.find_user(grant.sub) if grant and grant.sub else None
    if grant is None or user is None or user.is_disabled or grant.revoked_at is not None:
        # SEC-68: the user is checked again when the tokens are issued.
        raise InvalidGrantError("the user who approved this device can no longer sign in")
    # RFC 9396 §6: no more than the user approved; an error rolls the consumption back.
    details = authorization_details.narrow(
        requested,
        grant.authorization_details,
        ctx.settings.details_types,
        allowed=client.authorization_details_types,
    )
    resource = await resolve_resource(tx, (grant.resource,) if grant.resource else ())
    return await issue_grant_tokens(
        tx, ctx, client, grant, user, resource, details, now=now, with_nonce=False
    )


async def record_decision(
    tx: StoreTx, ctx: Context, device: DeviceCode, s: Session, *, approve: bool, now: datetime
) -> None:
    """§3.3: pending → approved (with the grant the device's tokens will belong to, for the
    stored request and the signed-in session `s`) or denied. One conditional UPDATE: of two
    deciders one wins; the other's transaction is rolled back by the error.
    """
    grant_id = GrantId(new_id()) if approve else None
    status = DeviceStatus.APPROVED if approve else DeviceStatus.DENIED
    if not await tx.decide_device_code(
        device.device_code_hash, status=status, sub=s.sub, grant_id=grant_id, now=now
    ):
        raise InvalidRequestError("this code has already been used")
    if grant_id is not None:
        await tx.add_grant(
            Grant(
                grant_id=grant_id,
                client_id=device.client_id,
                sub=s.sub,
                scope=device.scope,
                created_at=now,
                expires_at=expiry(now, ctx.settings.refresh_token_ttl),
                authorization_details=device.authorization_details,
                resource=device.resource,
                auth_time=s.auth_time,
                acr=s.acr,
                amr=s.amr,
                sid=s.sid,
            )
        )

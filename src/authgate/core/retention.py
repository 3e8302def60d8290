"""Retention: which stored rows the janitor may delete, and when (SECURITY.md REL-11).

The one rule behind every predicate here: a row may go only when its absence cannot change
any answer the server gives. An expired code, token or session answers exactly like an
unknown one (`invalid_grant`, `{"active": false}`, "not signed in"), so once it has expired
it may go. What must stay:

- a consumed authorization code or device code, and a rotated (consumed) refresh token,
  while its grant lives: presenting it again is replay, which revokes the grant (RFC 6749
  §4.1.2, RFC 9700 §4.14.2). Deleted early, "replay detected" would become "unknown token"
  and the thief's tokens would stay live;
- everything under a grant an operator revoked, until the grant expires: `token approve`
  may restore it (SECURITY.md SEC-86). Grants revoked by the client, the user or replay
  detection are final and may go once the retention window has passed;
- a grant while any access token issued under it is unexpired.

A retention window (`janitor_retention`) is added to every expiry, so clock skew between
hosts (REL-08) and requests in flight never meet a row that vanished under them.
Rate-limit windows are the exception: an ended window counts from zero whether or not its
row exists, so it may go as soon as it ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from authgate.core.models import (
    AccessToken,
    AuthorizationCode,
    DeviceCode,
    Grant,
    Interaction,
    RefreshToken,
    Session,
)
from authgate.core.types import RevokedBy


class Purgeable(StrEnum):
    """What one janitor step deletes, in the order a sweep runs them: a grant's children go
    before the grant, so deleting a grant never cascades into a large delete.
    """

    RATE_LIMITS = "rate_limits"  # windows that have ended
    USED_JTIS = "used_jtis"  # client assertion ids past their expiry (RFC 7523 §3)
    SESSIONS = "sessions"  # expired or ended browser sessions
    INTERACTIONS = "interactions"  # expired login/consent interactions
    AUTHORIZATION_CODES = "authorization_codes"  # expired unredeemed; all of a purgeable grant
    REFRESH_TOKENS = "refresh_tokens"  # only those of a purgeable grant
    ACCESS_TOKENS = "access_tokens"  # expired, or of a purgeable grant
    GRANTS = "grants"  # expired with no live access token, or revoked for good
    DEVICE_CODES = "device_codes"  # expired; those that yielded tokens once their grant is gone


SWEEP_ORDER: tuple[Purgeable, ...] = tuple(Purgeable)


def cutoff(now: datetime, retention_seconds: int) -> datetime:
    """Rows that expired (or were revoked) at or before this instant may be purged."""
    if retention_seconds < 0:
        raise ValueError("retention must not be negative")
    return now - timedelta(seconds=retention_seconds)


def _due(at: datetime | None, limit: datetime) -> bool:
    return at is not None and at <= limit


def rate_limit_purgeable(window_ends_at: datetime, *, now: datetime) -> bool:
    """An ended window counts from zero with or without its row."""
    return window_ends_at <= now


def used_jti_purgeable(expires_at: datetime, *, cutoff: datetime) -> bool:
    """RFC 7523 §3: a jti need only be remembered while its assertion could be accepted."""
    return expires_at <= cutoff


def session_purgeable(session: Session, *, cutoff: datetime) -> bool:
    return session.expires_at <= cutoff or _due(session.ended_at, cutoff)


def interaction_purgeable(interaction: Interaction, *, cutoff: datetime) -> bool:
    return interaction.expires_at <= cutoff


def grant_purgeable(grant: Grant, *, live_access_token: bool, cutoff: datetime) -> bool:
    """A grant (with its whole tree) may go when it was revoked for good, or when it has
    expired and no access token issued under it is still unexpired (`live_access_token`:
    an access token of this grant with `expires_at` after `cutoff`).
    """
    final = grant.revoked_by is not None and grant.revoked_by is not RevokedBy.OPERATOR
    if final and _due(grant.revoked_at, cutoff):
        return True
    return grant.expires_at <= cutoff and not live_access_token


def authorization_code_purgeable(
    code: AuthorizationCode, *, grant_purgeable: bool, cutoff: datetime
) -> bool:
    """An unredeemed code once expired; a redeemed one only with its grant (RFC 6749 §4.1.2:
    a second redemption must still find it and revoke what the first one issued).
    """
    if grant_purgeable:
        return True
    return code.consumed_at is None and code.expires_at <= cutoff


def refresh_token_purgeable(token: RefreshToken, *, grant_purgeable: bool) -> bool:
    """Only with its grant: a rotated refresh token is the evidence of replay (RFC 9700
    §4.14.2), and a refresh token never outlives its grant (SEC-55).
    """
    return grant_purgeable


def access_token_purgeable(token: AccessToken, *, grant_purgeable: bool, cutoff: datetime) -> bool:
    return grant_purgeable or token.expires_at <= cutoff


def device_code_purgeable(device: DeviceCode, *, grant_exists: bool, cutoff: datetime) -> bool:
    """RFC 8628 §3.5: an expired device code answers `expired_token` or `invalid_grant`
    either way; one that yielded tokens stays while its grant does, so that polling it
    again is still seen as reuse.
    """
    if device.expires_at > cutoff:
        return False
    return device.consumed_at is None or device.grant_id is None or not grant_exists

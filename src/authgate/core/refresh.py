"""Refresh tokens (RFC 6749 §6): rotation, reuse detection and lifetimes (RFC 9700 §4.14.2).

- Rotation: every use returns a new refresh token; mandatory for public clients (RFC 9700
  §4.14.2 "MUST ... use refresh token rotation"), a per-client setting for confidential ones.
- Reuse: a rotated-out token presented again means two parties hold the family, so the whole
  grant is revoked (RevokedBy.REPLAY). Strict by default (SECURITY.md REL-01): the loser of two
  concurrent refreshes presents a spent token, which is a replay. With a grace window of N
  seconds, a repeat within N seconds of the first use is a benign retry and gets the same
  successor pair; after it, a repeat is a replay.
- Lifetimes: the grant's absolute lifetime (`refresh_token_ttl`, never extended by rotation,
  SEC-55) and an idle timeout (`refresh_token_idle_ttl`); expiry gives `invalid_grant`.
- Status: a retired client, a disabled or deleted user, or a revoked access token issued with
  this refresh token (SECURITY.md SEC-77) make it unusable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from authgate.core.errors import InvalidGrantError
from authgate.core.models import Client, Grant, RefreshToken, TokenStatus
from authgate.core.scopes import parse_scope, validate_narrowing


class Outcome(Enum):
    """What a refresh request with a known token of the right client leads to."""

    USE = "use"  # a live token: issue (and, if rotating, consume it)
    RETRY = "retry"  # a repeat inside the grace window: answer with the stored successor pair
    REUSE = "reuse"  # a replayed spent token: revoke the whole grant, answer invalid_grant


@dataclass(frozen=True, slots=True)
class RefreshState:
    """A refresh token with everything that decides whether it may be used now."""

    token: RefreshToken
    grant: Grant
    status: TokenStatus
    blocked: bool = False  # an access token issued with it was revoked (SEC-77)

    @property
    def expires_at(self) -> datetime:
        """When it stops working at the latest: absolute or idle expiry, whichever is first."""
        ends = min(self.token.expires_at, self.grant.expires_at)
        idle = self.token.idle_expires_at
        return min(ends, idle) if idle is not None else ends


def must_rotate(client: Client) -> bool:
    """RFC 9700 §4.14.2: public clients always rotate; confidential ones per registration."""
    return client.is_public or client.rotate_refresh_tokens


def problem(state: RefreshState, *, now: datetime) -> str | None:
    """Why the token cannot be used now (as a client-facing description), or None."""
    rt, grant, status = state.token, state.grant, state.status
    if now >= min(rt.expires_at, grant.expires_at):
        return "refresh token expired (absolute lifetime of the grant)"
    if rt.consumed_at is not None:
        return "refresh token was already used"
    if rt.revoked_at is not None or grant.revoked_at is not None:
        return "refresh token was revoked"
    if rt.idle_expires_at is not None and now >= rt.idle_expires_at:
        return "refresh token expired (unused for too long)"
    if status.client_retired:
        return "the client has been retired"
    if status.user_disabled or (grant.sub is not None and status.username is None):
        return "the user account is disabled or deleted"
    if state.blocked:
        return "an access token issued with this refresh token was revoked"
    return None


def decide(state: RefreshState, *, client: Client, now: datetime) -> Outcome:
    """RFC 6749 §6 and RFC 9700 §4.14.2: use, retry or reuse; raises InvalidGrantError when
    the token is simply unusable (no state changes in that case).
    """
    rt = state.token
    if rt.client_id != client.client_id:
        # RFC 6749 §6: "the refresh token was issued to the authenticated client"; SEC-51.
        raise InvalidGrantError("refresh token was issued to another client")
    if now >= min(rt.expires_at, state.grant.expires_at):
        raise InvalidGrantError(problem(state, now=now))
    if rt.consumed_at is not None:
        if in_grace_window(rt, now=now):
            return Outcome.RETRY
        inside = rt.replay_until is not None and now < rt.replay_until
        if inside and state.grant.revoked_at is not None:
            # A retry after the grant was revoked (which dropped the kept pair): refused as
            # revoked, not escalated to a replay, so an operator revocation stays undoable.
            raise InvalidGrantError("refresh token was revoked")
        return Outcome.REUSE
    reason = problem(state, now=now)
    if reason is not None:
        raise InvalidGrantError(reason)
    return Outcome.USE


def in_grace_window(rt: RefreshToken, *, now: datetime) -> bool:
    """REL-01 with a grace window: a spent token repeated before `replay_until`, with its
    sealed successor pair still kept, is a retry, not a replay.
    """
    return rt.replay_payload is not None and rt.replay_until is not None and now < rt.replay_until


def repeat_allowed(successor: RefreshState, *, now: datetime) -> bool:
    """Whether a retry inside the grace window may get the kept pair again. Not if the
    successor is already in use (then the repeat is no lost response but a second holder:
    a replay); the pair's other problems (revoked, expired, client or user) are answered with
    `invalid_grant` as they are, without treating the retry as an attack.
    """
    if successor.token.consumed_at is not None:
        return False
    reason = problem(successor, now=now)
    if reason is not None:
        raise InvalidGrantError(reason)
    return True


def replay_until(*, now: datetime, grace: int) -> datetime | None:
    """Until when a spent token's successor pair is kept (None: strict, keep nothing)."""
    return now + timedelta(seconds=grace) if grace > 0 else None


def validate_scope(requested: str | None, granted: frozenset[str]) -> frozenset[str]:
    """RFC 6749 §6: "The requested scope MUST NOT include any scope not originally granted
    by the resource owner, and if omitted is treated as equal to the scope originally
    granted"; a wider request is `invalid_scope`.
    """
    if requested is None:
        return granted
    return validate_narrowing(parse_scope(requested), granted)


def slid_idle_expiry(token: RefreshToken, *, now: datetime, idle: int) -> datetime | None:
    """The idle deadline of a refresh token kept in use without rotation: moved forward on
    every use, never beyond its absolute expiry.
    """
    if idle <= 0:
        return None
    return min(now + timedelta(seconds=idle), token.expires_at)

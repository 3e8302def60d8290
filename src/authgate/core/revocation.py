"""Revocation (RFC 7009) and operator re-approval: what revoking or approving a token takes
down or brings back. A plan, not a query: the flow applies it to the store.

The cascade table (SECURITY.md "Decisions where the RFCs leave a choice"):

| action                         | the named token | its grant tree                          |
|--------------------------------|-----------------|-----------------------------------------|
| revoke, cascade (default)      | revoked         | grant and every live token revoked      |
| revoke, --no-cascade           | revoked         | untouched (SEC-85); but a refresh token |
|                                |                 | issued with a revoked access token      |
|                                |                 | stays unusable meanwhile (SEC-77)       |
| client's RFC 7009 request      | as cascade, recorded as revoked by the client             |
| approve, cascade               | restored        | grant and its tokens restored           |
| approve, --no-cascade          | restored        | only the grant flag, so the named token |
|                                |                 | lives; its siblings stay revoked        |

A token of a user grant: revoking a refresh token also revokes the access tokens of the same
grant (RFC 7009 §2.1 SHOULD), and revoking a rotated-out member revokes the family (SEC-82).
Approval restores only what an operator took away (SEC-86): never a token revoked by replay
or code-reuse detection, by its client, or by the user; never an expired or spent one.
An unknown, expired or already revoked token is not an error (RFC 7009 §2.2): no change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from authgate.core.errors import ConflictError, InvalidRequestError
from authgate.core.models import Target
from authgate.core.types import GrantId, RevokedBy, TokenTypeHint

_WHO = {
    RevokedBy.CLIENT: "by its client (RFC 7009 request)",
    RevokedBy.USER: "by the user",
    RevokedBy.REPLAY: "by refresh token reuse detection",
    RevokedBy.CODE_REUSE: "by authorization code reuse detection",
    RevokedBy.DEVICE_CODE_REUSE: "by device code reuse detection",
}


def lookup_order(hint: str | None) -> tuple[TokenTypeHint, ...]:
    """RFC 7009 §2.1 / RFC 7662 §2.1: look where the hint points first, then "extend its
    search across all of its supported token types"; an unknown hint is ignored.
    """
    kinds = (TokenTypeHint.ACCESS_TOKEN, TokenTypeHint.REFRESH_TOKEN)
    if hint == TokenTypeHint.REFRESH_TOKEN:
        return kinds[::-1]
    return kinds


def parse_operator_type(value: str | None) -> str | None:
    """`--type access|refresh` as a lookup hint (issue 4: a wrong type only orders the search)."""
    if value is None:
        return None
    names = {"access": TokenTypeHint.ACCESS_TOKEN, "refresh": TokenTypeHint.REFRESH_TOKEN}
    if value not in names:
        raise InvalidRequestError("type must be access or refresh")
    return names[value].value


@dataclass(frozen=True, slots=True)
class RevocationPlan:
    """Rows to mark revoked: the named token's, and the whole tree of `grant_id`."""

    token: bool = False
    grant_id: GrantId | None = None

    @property
    def changes(self) -> bool:
        return self.token or self.grant_id is not None


@dataclass(frozen=True, slots=True)
class ApprovalPlan:
    """Operator revocations to undo: the named token's row, the grant's flag, and (with
    cascade) the operator-revoked rows of the grant's tree.
    """

    token: bool = False
    grant_flag: GrantId | None = None
    grant_tree: GrantId | None = None

    @property
    def changes(self) -> bool:
        return self.token or self.grant_flag is not None or self.grant_tree is not None


def plan_revocation(target: Target, *, cascade: bool, now: datetime) -> RevocationPlan:
    """What revoking `target` takes down (RFC 7009 §2.1, SEC-77, SEC-85)."""
    if now >= target.expires_at:
        return RevocationPlan()  # RFC 7009 §2.2: expired, nothing to do
    if target.grant_revoked_by is not None:
        return RevocationPlan()  # the whole tree is already dead
    if cascade and target.grant_id is not None:
        return RevocationPlan(token=target.revoked_by is None, grant_id=target.grant_id)
    return RevocationPlan(token=target.revoked_by is None)


def plan_approval(target: Target, *, cascade: bool, now: datetime) -> ApprovalPlan:
    """What approving `target` brings back (issue 4 item 3, SEC-86); raises ConflictError
    with the reason when the token cannot be approved.
    """
    if now >= target.expires_at:
        raise ConflictError(f"the {target.label} has expired; expired tokens cannot be approved")
    if target.consumed:
        raise ConflictError(
            "the refresh token was already used (rotated); approve the grant's latest "
            "refresh token or one of its access tokens instead"
        )
    for by in (target.grant_revoked_by, target.revoked_by):
        if by is not None and by is not RevokedBy.OPERATOR:
            raise ConflictError(
                f"the {target.label} was revoked {_WHO[by]}; only operator revocations "
                "can be undone"
            )
    grant = target.grant_id if target.grant_revoked_by is RevokedBy.OPERATOR else None
    if cascade:
        return ApprovalPlan(
            token=target.revoked_by is not None, grant_flag=grant, grant_tree=target.grant_id
        )
    if target.blocked:
        raise ConflictError(
            "an access token issued with this refresh token is revoked, so it would stay "
            "unusable (SEC-77); approve that access token too, or approve with cascade"
        )
    return ApprovalPlan(token=target.revoked_by is not None, grant_flag=grant)


@dataclass(frozen=True, slots=True)
class BulkSelection:
    """Every token of one client or one user, optionally only those issued before a time."""

    client_id: str | None = None
    sub: str | None = None
    before: datetime | None = None

    @property
    def revokes_grants(self) -> bool:
        """Without `before` the grants themselves end (no pending code or device code of them
        can issue anything); with it only tokens issued before that time are revoked, so
        later tokens of the same grant stay valid (SECURITY.md SEC-84).
        """
        return self.before is None


def validate_bulk(*, client_id: str | None, sub: str | None, before: str | None) -> BulkSelection:
    """`--client-id C | --user SUB [--before ISO8601]`: exactly one of client or user."""
    if (client_id is None) == (sub is None):
        raise InvalidRequestError("name exactly one of a client or a user")
    when = None
    if before is not None:
        try:
            when = datetime.fromisoformat(before)
        except ValueError:
            raise InvalidRequestError("before must be an ISO 8601 date and time") from None
        if when.tzinfo is None:
            raise InvalidRequestError("before needs a UTC offset, e.g. 2026-01-31T12:00:00Z")
    return BulkSelection(client_id=client_id, sub=sub, before=when)

"""Token introspection (RFC 7662): who may ask, whether a token is active, what is exposed.

§2.1: the caller authenticates; SECURITY.md SEC-92: only confidential clients may introspect
(public clients get 401). A client sees its own tokens; a client registered with
`--can-introspect` (a resource server) sees any token; every other token is reported as
`{"active": false}`, exactly as an unknown one, so introspection tells nothing about tokens
of others. §2.2: an inactive token is `{"active": false}` and nothing else (SEC-89).
JWT access tokens (RFC 9068) are looked up by their stored hash like opaque ones, so a
revoked JWT is inactive here at once even though its signature still verifies (SEC-87).
"""

from __future__ import annotations

import json
from datetime import datetime

from authgate.core.errors import InvalidClientError
from authgate.core.models import AccessToken, Client, TokenStatus
from authgate.core.refresh import RefreshState, problem as refresh_problem
from authgate.core.scopes import format_scope

Response = dict[str, object]
INACTIVE: Response = {"active": False}


def validate_caller(client: Client) -> Client:
    """SEC-92: public clients cannot be authenticated, so they may not introspect."""
    if client.is_public:
        raise InvalidClientError("introspection requires a confidential client")
    return client


def may_see(caller: Client, token_client_id: str) -> bool:
    """A resource server may introspect any token; other clients only their own."""
    return caller.can_introspect or caller.client_id == token_client_id


def access_token_problem(token: AccessToken, status: TokenStatus, *, now: datetime) -> str | None:
    """Why an access token is not active now, or None."""
    if now >= token.expires_at:
        return "expired"
    if token.revoked_at is not None or status.grant_revoked:
        return "revoked"
    if status.client_retired:
        return "client retired"
    if status.user_disabled or (token.sub is not None and status.username is None):
        return "user disabled or deleted"
    return None


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _common(
    *,
    scope: frozenset[str],
    client_id: str,
    sub: str | None,
    username: str | None,
    issued_at: datetime,
    expires_at: datetime,
    issuer: str,
    authorization_details: str | None,
) -> Response:
    body: Response = {"active": True}
    if scope:
        body["scope"] = format_scope(scope)
    body["client_id"] = client_id
    if username is not None:
        body["username"] = username
    body["exp"] = _epoch(expires_at)
    body["iat"] = _epoch(issued_at)
    body["nbf"] = _epoch(issued_at)
    # RFC 9068 §2.2: without a resource owner, `sub` identifies the client (as in our JWTs).
    body["sub"] = sub if sub is not None else client_id
    body["iss"] = issuer
    if authorization_details is not None:
        # RFC 9396 §9.2: granted details as a top-level member.
        body["authorization_details"] = json.loads(authorization_details)
    return body


def build_access_token_response(
    token: AccessToken, status: TokenStatus, *, caller: Client, issuer: str, now: datetime
) -> Response:
    """RFC 7662 §2.2 for an access token (opaque or JWT)."""
    if not may_see(caller, token.client_id) or access_token_problem(token, status, now=now):
        return dict(INACTIVE)
    body = _common(
        scope=token.scope,
        client_id=token.client_id,
        sub=token.sub,
        username=status.username if token.sub is not None else None,
        issued_at=token.issued_at,
        expires_at=token.expires_at,
        issuer=issuer,
        authorization_details=token.authorization_details,
    )
    body["token_type"] = "Bearer"  # RFC 6749 §7.1 type of every access token we issue
    # The same audience a JWT of this token carries: its resource server, else the issuer.
    body["aud"] = token.audience or issuer
    body["jti"] = token.jti
    return body


def build_refresh_token_response(
    state: RefreshState, *, caller: Client, issuer: str, now: datetime
) -> Response:
    """RFC 7662 §2.2 for a refresh token: active exactly when a refresh with it would be
    accepted (a rotated-out token is inactive). `token_type` names access token types
    (RFC 6749 §7.1), so it is left out here.
    """
    rt = state.token
    if not may_see(caller, rt.client_id) or refresh_problem(state, now=now):
        return dict(INACTIVE)
    return _common(
        scope=rt.scope,
        client_id=rt.client_id,
        sub=state.grant.sub,
        username=state.status.username if state.grant.sub is not None else None,
        issued_at=rt.issued_at,
        expires_at=state.expires_at,
        issuer=issuer,
        authorization_details=state.grant.authorization_details,
    )

"""The records the store returns: frozen values, hashes never in a repr, plaintext never."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from authgate.core.types import (
    AccessTokenFormat,
    ApplicationType,
    ClientAuthMethod,
    ClientId,
    DeviceStatus,
    GrantId,
    GrantType,
    RevokedBy,
    SigningAlg,
    Subject,
    TokenTypeHint,
)


@dataclass(frozen=True, slots=True)
class Client:
    """A registered client (RFC 6749 §2, RFC 7591 §2 metadata)."""

    client_id: ClientId
    name: str
    auth_method: ClientAuthMethod
    redirect_uris: tuple[str, ...]
    grant_types: frozenset[GrantType]
    scope: frozenset[str]
    created_at: datetime
    secret_hash: bytes | None = field(default=None, repr=False)
    post_logout_redirect_uris: tuple[str, ...] = ()
    require_pkce: bool = True
    authorization_details_types: frozenset[str] = frozenset()
    can_introspect: bool = False
    jwks: str | None = None
    jwks_uri: str | None = None
    id_token_signed_response_alg: SigningAlg = SigningAlg.RS256
    access_token_format: AccessTokenFormat | None = None
    rotate_refresh_tokens: bool = True
    application_type: ApplicationType = ApplicationType.WEB
    logo_uri: str | None = None
    policy_uri: str | None = None
    tos_uri: str | None = None
    client_uri: str | None = None
    updated_at: datetime | None = None
    retired_at: datetime | None = None

    @property
    def is_public(self) -> bool:
        """RFC 6749 §2.1: a client that cannot keep a credential confidential."""
        return self.auth_method is ClientAuthMethod.NONE

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


@dataclass(frozen=True, slots=True)
class User:
    """An end user; `sub` is server-generated and never reassigned (OIDC Core §2)."""

    sub: Subject
    username: str
    created_at: datetime
    password_hash: str | None = field(default=None, repr=False)
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    locale: str | None = None
    phone_number: str | None = None
    address: str | None = None
    updated_at: datetime | None = None
    disabled_at: datetime | None = None

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A JWS signing key. It signs from `active_from` until it is retired, and is published
    in the JWKS until `publish_until` (ARCHITECTURE.md "Keys").
    """

    kid: str
    alg: SigningAlg
    private_jwk: str = field(repr=False)
    public_jwk: str
    created_at: datetime
    active_from: datetime
    retired_at: datetime | None = None
    publish_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource server (RFC 8707 `resource` value); becomes the access token's `aud`."""

    uri: str
    access_token_format: AccessTokenFormat
    alg: SigningAlg
    created_at: datetime
    access_token_ttl: int | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """What one user (or a client on its own behalf) granted one client: the root of the
    tree of codes and tokens that rotation, replay detection and cascade revocation walk.
    """

    grant_id: GrantId
    client_id: ClientId
    sub: Subject | None
    scope: frozenset[str]
    created_at: datetime
    expires_at: datetime
    authorization_details: str | None = None  # canonical JSON array (RFC 9396)
    resource: str | None = None
    claims: str | None = None  # OIDC Core §5.5 `claims` request, JSON
    auth_time: datetime | None = None
    acr: str | None = None
    amr: tuple[str, ...] = ()
    sid: str | None = None
    nonce: str | None = None
    revoked_at: datetime | None = None
    revoked_by: RevokedBy | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An issued access token, looked up by the SHA-256 of its value."""

    token_hash: bytes = field(repr=False)
    jti: str
    client_id: ClientId
    scope: frozenset[str]
    issued_at: datetime
    expires_at: datetime
    token_format: AccessTokenFormat
    sub: Subject | None = None
    grant_id: GrantId | None = None
    audience: str | None = None
    authorization_details: str | None = None
    refresh_token_hash: bytes | None = field(default=None, repr=False)
    revoked_at: datetime | None = None
    revoked_by: RevokedBy | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """A stored token as revocation and approval see it."""

    kind: TokenTypeHint
    client_id: ClientId
    grant_id: GrantId | None
    expires_at: datetime  # for a refresh token: the earlier of absolute and idle expiry
    revoked_by: RevokedBy | None
    grant_revoked_by: RevokedBy | None = None
    consumed: bool = False  # a rotated-out refresh token
    blocked: bool = False  # a refresh token whose access token is revoked (SEC-77)

    @property
    def label(self) -> str:
        return "access token" if self.kind is TokenTypeHint.ACCESS_TOKEN else "refresh token"


@dataclass(frozen=True, slots=True)
class TokenStatus:
    """An access or refresh token together with what decides whether it is live now: its
    grant, client and user state, read in one statement.
    """

    client_retired: bool
    user_disabled: bool
    grant_revoked: bool
    grant_expires_at: datetime | None
    username: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One operator action: who did what to which target, with what effect."""

    at: datetime
    actor: str
    action: str
    target_type: str
    target: str
    cascade: bool = False
    reason: str | None = None
    count: int = 1
    details: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    """RFC 6749 §4.1.2: a single-use code bound to its grant, client, redirect_uri and PKCE
    challenge (RFC 7636 §4.4).
    """

    code_hash: bytes = field(repr=False)
    grant_id: GrantId
    client_id: ClientId
    redirect_uri: str
    created_at: datetime
    expires_at: datetime
    code_challenge: str | None = None
    consumed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """RFC 6749 §6: a refresh token; rotation links each to its parent (RFC 9700 §4.14.2)."""

    token_hash: bytes = field(repr=False)
    grant_id: GrantId
    client_id: ClientId
    scope: frozenset[str]
    issued_at: datetime
    expires_at: datetime
    parent_hash: bytes | None = field(default=None, repr=False)
    idle_expires_at: datetime | None = None
    consumed_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: RevokedBy | None = None
    replay_payload: bytes | None = field(default=None, repr=False)
    replay_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeviceCode:
    """RFC 8628 §3.2: a device authorization request, pending → approved/denied → consumed."""

    device_code_hash: bytes = field(repr=False)
    user_code: str
    client_id: ClientId
    scope: frozenset[str]
    status: DeviceStatus
    interval: int
    created_at: datetime
    expires_at: datetime
    authorization_details: str | None = None
    resource: str | None = None
    sub: Subject | None = None
    grant_id: GrantId | None = None
    last_polled_at: datetime | None = None
    next_poll_at: datetime | None = None
    penalized: bool = False
    decided_at: datetime | None = None
    consumed_at: datetime | None = None
    request_ip: str | None = None
    request_user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser (OIDC Core §3.1.2.3 authentication state). The cookie holds a
    random secret; only its hash is stored. `sid` is the public session id (ID token `sid`).
    """

    session_hash: bytes = field(repr=False)
    sid: str
    sub: Subject
    auth_time: datetime
    created_at: datetime
    expires_at: datetime
    acr: str | None = None
    amr: tuple[str, ...] = ()
    last_seen_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Interaction:
    """A validated authorization (or device) request waiting for login and consent, kept
    server-side so the consent acts on what was requested, not on form fields (SEC-39).
    The browser that started it holds its secret in a cookie (only the hash is stored).
    """

    interaction_id: str
    secret_hash: bytes = field(repr=False)
    kind: str
    client_id: ClientId
    request: str  # JSON of the validated request
    created_at: datetime
    expires_at: datetime
    sub: Subject | None = None
    device_code_hash: bytes | None = field(default=None, repr=False)
    consumed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Consent:
    """What a user has agreed to share with a client, remembered so they are asked once."""

    sub: Subject
    client_id: ClientId
    scope: frozenset[str]
    created_at: datetime
    updated_at: datetime

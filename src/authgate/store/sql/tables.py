"""SQLAlchemy Core tables: the only place column names appear.

Times are stored as whole microseconds since the Unix epoch (BIGINT) on every backend, so
comparisons and ordering behave the same on SQLite and PostgreSQL. Token, code and secret
values are stored only as SHA-256 digests (`*_hash`, 32 bytes).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Timestamp(TypeDecorator[datetime]):
    """An aware UTC datetime stored as microseconds since the epoch."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

    def process_result_value(self, value: int | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromtimestamp(value // 1_000_000, UTC).replace(
            microsecond=value % 1_000_000
        )


def _ts(name: str, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, Timestamp(), nullable=nullable)


def _hash(name: str, nullable: bool = False) -> sa.Column[bytes]:
    return sa.Column(name, sa.LargeBinary(32), nullable=nullable)


clients = sa.Table(
    "clients",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    _hash("secret_hash", nullable=True),
    sa.Column("auth_method", sa.String(32), nullable=False),
    sa.Column("redirect_uris", sa.Text, nullable=False),  # JSON array
    sa.Column("post_logout_redirect_uris", sa.Text, nullable=False),  # JSON array
    sa.Column("grant_types", sa.Text, nullable=False),  # JSON array
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("require_pkce", sa.Boolean, nullable=False),
    sa.Column("authorization_details_types", sa.Text, nullable=False),  # JSON array
    sa.Column("can_introspect", sa.Boolean, nullable=False),
    sa.Column("jwks", sa.Text),
    sa.Column("jwks_uri", sa.Text),
    sa.Column("id_token_signed_response_alg", sa.String(16), nullable=False),
    sa.Column("access_token_format", sa.String(16)),
    sa.Column("rotate_refresh_tokens", sa.Boolean, nullable=False),
    sa.Column("application_type", sa.String(16), nullable=False),
    sa.Column("logo_uri", sa.Text),
    sa.Column("policy_uri", sa.Text),
    sa.Column("tos_uri", sa.Text),
    sa.Column("client_uri", sa.Text),
    _ts("created_at", nullable=False),
    _ts("updated_at"),
    _ts("retired_at"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("sub", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(255), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text),
    sa.Column("email", sa.String(320)),
    sa.Column("email_verified", sa.Boolean, nullable=False),
    sa.Column("name", sa.String(255)),
    sa.Column("given_name", sa.String(255)),
    sa.Column("family_name", sa.String(255)),
    sa.Column("locale", sa.String(35)),
    sa.Column("phone_number", sa.String(64)),
    sa.Column("address", sa.Text),
    _ts("created_at", nullable=False),
    _ts("updated_at"),
    _ts("disabled_at"),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(128), primary_key=True),
    sa.Column("alg", sa.String(16), nullable=False),
    sa.Column("private_jwk", sa.Text, nullable=False),
    sa.Column("public_jwk", sa.Text, nullable=False),
    _ts("created_at", nullable=False),
    _ts("active_from", nullable=False),
    _ts("retired_at"),
    _ts("publish_until"),
)

resources = sa.Table(
    "resources",
    metadata,
    sa.Column("uri", sa.String(2048), primary_key=True),
    sa.Column("access_token_format", sa.String(16), nullable=False),
    sa.Column("alg", sa.String(16), nullable=False),
    sa.Column("access_token_ttl", sa.Integer),
    _ts("created_at", nullable=False),
)

grants = sa.Table(
    "grants",
    metadata,
    sa.Column("grant_id", sa.String(64), primary_key=True),
    sa.Column(
        "client_id",
        sa.String(64),
        sa.ForeignKey("clients.client_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("sub", sa.String(64), sa.ForeignKey("users.sub", ondelete="CASCADE"), index=True),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("authorization_details", sa.Text),
    sa.Column("resource", sa.Text),
    sa.Column("claims", sa.Text),
    _ts("auth_time"),
    sa.Column("acr", sa.String(255)),
    sa.Column("amr", sa.Text),  # JSON array
    sa.Column("sid", sa.String(64)),
    sa.Column("nonce", sa.Text),
    _ts("created_at", nullable=False),
    _ts("expires_at", nullable=False),
    _ts("revoked_at"),
    sa.Column("revoked_by", sa.String(32)),
    _ts("last_used_at"),
)

authorization_codes = sa.Table(
    "authorization_codes",
    metadata,
    _hash("code_hash"),
    sa.Column(
        "grant_id",
        sa.String(64),
        sa.ForeignKey("grants.grant_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    sa.Column("code_challenge", sa.String(128)),
    _ts("created_at", nullable=False),
    _ts("expires_at", nullable=False),
    _ts("consumed_at"),
    sa.PrimaryKeyConstraint("code_hash"),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    _hash("token_hash"),
    sa.Column(
        "grant_id",
        sa.String(64),
        sa.ForeignKey("grants.grant_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("client_id", sa.String(64), nullable=False),
    _hash("parent_hash", nullable=True),
    sa.Column("scope", sa.Text, nullable=False),
    _ts("issued_at", nullable=False),
    _ts("expires_at", nullable=False),
    _ts("idle_expires_at"),
    _ts("consumed_at"),
    _ts("revoked_at"),
    sa.Column("revoked_by", sa.String(32)),
    sa.Column("replay_payload", sa.LargeBinary),  # encrypted successor pair (grace window)
    _ts("replay_until"),
    sa.PrimaryKeyConstraint("token_hash"),
)

access_tokens = sa.Table(
    "access_tokens",
    metadata,
    _hash("token_hash"),
    sa.Column("jti", sa.String(64), nullable=False),
    sa.Column(
        "grant_id",
        sa.String(64),
        sa.ForeignKey("grants.grant_id", ondelete="CASCADE"),
        index=True,
    ),
    sa.Column(
        "client_id",
        sa.String(64),
        sa.ForeignKey("clients.client_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("sub", sa.String(64)),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("audience", sa.Text),
    sa.Column("authorization_details", sa.Text),
    sa.Column("token_format", sa.String(16), nullable=False),
    _hash("refresh_token_hash", nullable=True),
    _ts("issued_at", nullable=False),
    _ts("expires_at", nullable=False),
    _ts("revoked_at"),
    sa.Column("revoked_by", sa.String(32)),
    sa.PrimaryKeyConstraint("token_hash"),
)

device_codes = sa.Table(
    "device_codes",
    metadata,
    _hash("device_code_hash"),
    sa.Column("user_code", sa.String(16), nullable=False, unique=True),
    sa.Column(
        "client_id",
        sa.String(64),
        sa.ForeignKey("clients.client_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("authorization_details", sa.Text),
    sa.Column("resource", sa.Text),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("sub", sa.String(64)),
    sa.Column("grant_id", sa.String(64)),
    sa.Column("interval", sa.Integer, nullable=False),  # seconds; grows by 5 per slow_down
    _ts("last_polled_at"),
    _ts("next_poll_at"),  # RFC 8628 §3.5: a poll before this gets slow_down
    sa.Column("penalized", sa.Boolean, nullable=False),  # slow_down given since last accepted poll
    _ts("created_at", nullable=False),
    _ts("expires_at", nullable=False),
    _ts("decided_at"),
    _ts("consumed_at"),
    sa.Column("request_ip", sa.String(64)),
    sa.Column("request_user_agent", sa.String(512)),
    sa.PrimaryKeyConstraint("device_code_hash"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    _hash("session_hash"),
    sa.Column("sid", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "sub",
        sa.String(64),
        sa.ForeignKey("users.sub", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    _ts("auth_time", nullable=False),
    sa.Column("acr", sa.String(255)),
    sa.Column("amr", sa.Text),  # JSON array
    _ts("created_at", nullable=False),
    _ts("expires_at", nullable=False),
    _ts("last_seen_at"),
    _ts("ended_at"),
    sa.PrimaryKeyConstraint("session_hash"),
)

interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("interaction_id", sa.String(64), primary_key=True),
    _hash("secret_hash"),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("request", sa.Text, nullable=False),  # JSON of the validated request
    sa.Column("sub", sa.String(64)),
    _hash("device_code_hash", nullable=True),
    _ts("created_at", nullable=False),
    _ts("expires_at", nullable=False),
    _ts("consumed_at"),
)

consents = sa.Table(
    "consents",
    metadata,
    sa.Column("sub", sa.String(64), sa.ForeignKey("users.sub", ondelete="CASCADE")),
    sa.Column("client_id", sa.String(64), sa.ForeignKey("clients.client_id", ondelete="CASCADE")),
    sa.Column("scope", sa.Text, nullable=False),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    sa.PrimaryKeyConstraint("sub", "client_id"),
)

rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("bucket", sa.String(255), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    _ts("window_ends_at", nullable=False),
)

used_jtis = sa.Table(
    "used_jtis",
    metadata,
    sa.Column("client_id", sa.String(64)),
    sa.Column("jti", sa.String(255)),
    _ts("expires_at", nullable=False),
    sa.PrimaryKeyConstraint("client_id", "jti"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _ts("at", nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target_type", sa.String(32), nullable=False),
    sa.Column("target", sa.String(255), nullable=False),
    sa.Column("cascade", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("details", sa.Text),
)

# Indexes for bulk operations (revoke by client/user, --before) and the janitor.
sa.Index("ix_access_tokens_expires_at", access_tokens.c.expires_at)
sa.Index("ix_refresh_tokens_expires_at", refresh_tokens.c.expires_at)
sa.Index("ix_authorization_codes_expires_at", authorization_codes.c.expires_at)
sa.Index("ix_device_codes_expires_at", device_codes.c.expires_at)
sa.Index("ix_sessions_expires_at", sessions.c.expires_at)
sa.Index("ix_interactions_expires_at", interactions.c.expires_at)
sa.Index("ix_rate_limits_window_ends_at", rate_limits.c.window_ends_at)
sa.Index("ix_used_jtis_expires_at", used_jtis.c.expires_at)

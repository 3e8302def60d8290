"""The Store protocol: the repository interface between flows and the database.

Shaped around "a grant owns its codes and tokens" (node-oidc-provider's adapter lesson).
Every write happens inside `async with store.transaction() as tx:`, opened by a flow; the
store never commits on its own. Consume-once operations are single conditional UPDATEs, so
of two concurrent callers exactly one wins (ARCHITECTURE.md "State and scale").
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from authgate.core.models import (
    AccessToken,
    AuditEntry,
    AuthorizationCode,
    Client,
    Grant,
    RefreshToken,
    Resource,
    SigningKey,
    TokenStatus,
    User,
)
from authgate.core.types import ClientId, GrantId, RevokedBy, Subject
from authgate.store.authorization import AuthorizationStoreTx
from authgate.store.device import DeviceStoreTx
from authgate.store.janitor import JanitorStore, JanitorStoreTx
from authgate.store.revocation import RevocationStoreTx


class CoreStoreTx(Protocol):
    """Clients, users, keys, resources, access tokens, replay and rate-limit state, audit."""

    # clients
    async def add_client(self, client: Client) -> None: ...
    async def find_client(self, client_id: ClientId) -> Client | None: ...
    async def list_clients(self) -> list[Client]: ...
    async def replace_client(self, client: Client) -> bool: ...
    async def delete_client(self, client_id: ClientId) -> bool: ...

    # users
    async def add_user(self, user: User) -> bool:
        """Insert a user; False if the username is taken."""
        ...

    async def find_user(self, sub: Subject) -> User | None: ...
    async def find_user_by_username(self, username: str) -> User | None: ...
    async def list_users(self) -> list[User]: ...
    async def replace_user(self, user: User) -> bool: ...

    # signing keys
    async def list_signing_keys(self) -> list[SigningKey]: ...
    async def add_signing_key(self, key: SigningKey) -> None: ...
    async def retire_signing_keys(self, *, now: datetime, publish_until: datetime) -> int:
        """Retire every active key; they stay published until `publish_until`."""
        ...

    async def lock_keys(self) -> None:
        """Serialise key bootstrap and rotation among processes."""
        ...

    # resource servers (RFC 8707)
    async def add_resource(self, resource: Resource) -> bool: ...
    async def find_resource(self, uri: str) -> Resource | None: ...
    async def list_resources(self) -> list[Resource]: ...

    # access tokens
    async def add_access_token(self, token: AccessToken) -> None: ...
    async def find_access_token(
        self, token_hash: bytes
    ) -> tuple[AccessToken, TokenStatus] | None: ...

    # replay protection for client assertions (RFC 7523 §3)
    async def record_jti(
        self, client_id: ClientId, jti: str, *, now: datetime, expires_at: datetime
    ) -> bool:
        """Record a jti once; False if it was already recorded and is unexpired."""
        ...

    # rate limits (fixed windows; shared by every process)
    async def hit_rate_limit(
        self, bucket: str, *, now: datetime, window_ends_at: datetime
    ) -> tuple[int, datetime]:
        """Count one event in `bucket`; returns the count in the current window and its end."""
        ...

    async def peek_rate_limit(self, bucket: str, *, now: datetime) -> int:
        """The count in the bucket's current window, without counting."""
        ...

    # audit log
    async def add_audit_entry(self, entry: AuditEntry) -> None: ...
    async def list_audit_entries(self, *, limit: int) -> list[AuditEntry]: ...


class GrantStoreTx(Protocol):
    """The grant tree: a grant owns its codes and tokens."""

    async def add_grant(self, grant: Grant) -> None: ...
    async def find_grant(self, grant_id: GrantId) -> Grant | None: ...
    async def revoke_grant(self, grant_id: GrantId, *, now: datetime, by: RevokedBy) -> bool:
        """Revoke a live grant (and so its whole tree); False if already revoked."""
        ...

    async def touch_grant(self, grant_id: GrantId, *, now: datetime) -> None: ...
    async def list_offline_grants(self, sub: Subject, *, now: datetime) -> list[Grant]:
        """The user's live grants that hold a live refresh token ("connected apps"), of
        clients not retired, newest first.
        """
        ...

    async def add_authorization_code(self, code: AuthorizationCode) -> None: ...
    async def find_authorization_code(self, code_hash: bytes) -> AuthorizationCode | None: ...
    async def consume_authorization_code(self, code_hash: bytes, *, now: datetime) -> bool:
        """Mark an unconsumed, unexpired code used; of concurrent callers exactly one wins."""
        ...

    async def add_refresh_token(self, token: RefreshToken) -> None: ...
    async def find_refresh_token(
        self, token_hash: bytes
    ) -> tuple[RefreshToken, Grant, TokenStatus] | None: ...
    async def consume_refresh_token(
        self,
        token_hash: bytes,
        *,
        now: datetime,
        replay_payload: bytes | None = None,
        replay_until: datetime | None = None,
    ) -> bool:
        """Rotate a live refresh token; of concurrent callers exactly one wins."""
        ...


class StoreTx(
    CoreStoreTx,
    GrantStoreTx,
    AuthorizationStoreTx,
    RevocationStoreTx,
    DeviceStoreTx,
    JanitorStoreTx,
    Protocol,
):
    """One transaction's view of the store."""


class Store(JanitorStore, Protocol):
    """A database holding every piece of protocol state."""

    def transaction(
        self, *, readonly: bool = False, single_write: bool = False
    ) -> AbstractAsyncContextManager[StoreTx]:
        """One transaction. `readonly`: the work only reads. `single_write`: the work reads,
        then changes rows in at most one statement and sends nothing after it (it may run
        without BEGIN/COMMIT, that statement being atomic by itself).
        """
        ...

    async def close(self) -> None: ...
    async def ping(self) -> None:
        """Raise TemporarilyUnavailableError if the database cannot be reached."""
        ...

    async def schema_is_current(self) -> bool: ...
    async def upgrade(self) -> None:
        """Apply schema migrations (idempotent; safe when several processes start at once)."""
        ...

    @property
    def table_names(self) -> Sequence[str]: ...

"""Browser sessions (OIDC Core §3.1.2.3 "authenticate the End-User").

A browser may be signed in to several accounts (the account chooser of `prompt=
select_account`): its session cookie holds up to MAX_ACCOUNTS random secrets, the current
account first. Only their SHA-256 hashes are stored. Signing in creates a new session and a
new secret (the cookie value changes on every login: session fixation, SEC-44) and ends any
older session of the same user in this browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from authgate.core.models import Session, User
from authgate.core.prompt import Account
from authgate.core.tokens import expiry, hash_token, new_id, new_token
from authgate.store.base import StoreTx

MAX_ACCOUNTS = 5
# The authentication context class of a password login (OIDC Core §2 `acr`; "1": ISO/IEC
# 29115 level 1) and its method (RFC 8176 `amr` "pwd").
ACR_PASSWORD = "1"
AMR_PASSWORD = ("pwd",)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """One live session of this browser, with its user."""

    secret: str = field(repr=False)
    session: Session
    user: User

    @property
    def account(self) -> Account:
        s = self.session
        return Account(s.sid, s.sub, self.user.username, s.auth_time, s.acr, s.amr)


def parse_cookie(value: str | None) -> tuple[str, ...]:
    """The session secrets a cookie value holds (malformed parts ignored)."""
    if not value:
        return ()
    parts = [p for p in value.split(".") if 20 <= len(p) <= 64 and p.isascii()]
    return tuple(dict.fromkeys(parts))[:MAX_ACCOUNTS]


def cookie_value(secrets: Sequence[str]) -> str:
    return ".".join(secrets[:MAX_ACCOUNTS])


async def signed_in(tx: StoreTx, secrets: Sequence[str], *, now: datetime) -> list[SignedIn]:
    """The live sessions of enabled users among `secrets`, in cookie order."""
    by_hash = {hash_token(s): s for s in secrets}
    found = await tx.find_sessions(list(by_hash), now=now)
    live: dict[str, SignedIn] = {}
    for session in found:
        user = await tx.find_user(session.sub)
        if user is not None and not user.is_disabled:
            secret = by_hash[session.session_hash]
            live[secret] = SignedIn(secret, session, user)
    return [live[s] for s in secrets if s in live]


async def start_session(
    tx: StoreTx,
    user: User,
    *,
    current: Sequence[SignedIn],
    ttl: int,
    now: datetime,
) -> tuple[SignedIn, tuple[str, ...]]:
    """A new session for `user`; returns it and the browser's new list of secrets."""
    secret = new_token()
    session = Session(
        session_hash=hash_token(secret),
        sid=new_id(),
        sub=user.sub,
        auth_time=now,
        created_at=now,
        expires_at=expiry(now, ttl),
        acr=ACR_PASSWORD,
        amr=AMR_PASSWORD,
    )
    await tx.add_session(session)
    same_user = [hash_token(s.secret) for s in current if s.user.sub == user.sub]
    await tx.end_sessions(same_user, now=now)
    others = [s.secret for s in current if s.user.sub != user.sub]
    return SignedIn(secret, session, user), (secret, *others)[:MAX_ACCOUNTS]


async def end_all(tx: StoreTx, secrets: Sequence[str], *, now: datetime) -> int:
    """End every session this browser holds (RP-initiated logout)."""
    return await tx.end_sessions([hash_token(s) for s in secrets], now=now)

"""Operator actions on users (CLI `authgate user …` and /admin/users)."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import datetime

import anyio

from authgate.core import passwords
from authgate.core.errors import ConflictError, InvalidRequestError, NotFoundError
from authgate.core.models import User
from authgate.core.tokens import new_subject
from authgate.core.types import Subject
from authgate.store.base import Store, StoreTx


def normalise_username(username: str) -> str:
    """NFKC, surrounding spaces removed; no control characters (RFC 8265 in spirit)."""
    name = unicodedata.normalize("NFKC", username).strip()
    if not name or len(name) > 255 or any(unicodedata.category(c).startswith("C") for c in name):
        raise InvalidRequestError("username must be 1 to 255 printable characters")
    return name


def _check_password(password: str) -> str:
    try:
        return passwords.validate_new_password(password)
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from None


async def create_user(
    store: Store,
    *,
    username: str,
    password: str,
    now: datetime,
    email: str | None = None,
    name: str | None = None,
    email_verified: bool = False,
) -> User:
    username = normalise_username(username)
    password_hash = await anyio.to_thread.run_sync(
        passwords.hash_password, _check_password(password)
    )
    user = User(
        sub=Subject(new_subject()),
        username=username,
        created_at=now,
        password_hash=password_hash,
        email=email or None,
        email_verified=email_verified,
        name=name or None,
    )
    async with store.transaction() as tx:
        if not await tx.add_user(user):
            raise ConflictError(f"username {username!r} is taken")
    return user


async def _find(tx: StoreTx, who: str) -> User:
    """A user by `sub` or by username."""
    user = await tx.find_user(Subject(who)) or await tx.find_user_by_username(who)
    if user is None:
        raise NotFoundError(f"no user with sub or username {who!r}")
    return user


async def get_user(store: Store, who: str) -> User:
    async with store.transaction(readonly=True) as tx:
        return await _find(tx, who)


async def list_users(store: Store) -> list[User]:
    async with store.transaction(readonly=True) as tx:
        return await tx.list_users()


async def set_password(store: Store, who: str, password: str, *, now: datetime) -> User:
    password_hash = await anyio.to_thread.run_sync(
        passwords.hash_password, _check_password(password)
    )
    async with store.transaction() as tx:
        user = dataclasses.replace(
            await _find(tx, who), password_hash=password_hash, updated_at=now
        )
        await tx.replace_user(user)
    return user


async def set_disabled(store: Store, who: str, *, disabled: bool, now: datetime) -> User:
    """A disabled user cannot sign in, and every token issued for them stops working."""
    async with store.transaction() as tx:
        user = await _find(tx, who)
        user = dataclasses.replace(user, disabled_at=now if disabled else None, updated_at=now)
        await tx.replace_user(user)
    return user

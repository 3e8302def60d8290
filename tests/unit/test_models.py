"""core/models.py: frozen records; hashes and private keys never in a repr (STYLE.md §3)."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, datetime

import pytest

from authgate.core import models
from authgate.core.models import Client, User
from authgate.core.types import ClientAuthMethod, ClientId, Subject

NOW = datetime(2030, 1, 1, tzinfo=UTC)
RECORDS = [
    cls
    for _, cls in inspect.getmembers(models, inspect.isclass)
    if dataclasses.is_dataclass(cls) and cls.__module__ == models.__name__
]


def test_every_record_is_frozen() -> None:
    assert RECORDS
    for cls in RECORDS:
        assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]


def test_secret_fields_are_not_in_the_repr() -> None:
    for cls in RECORDS:
        for f in dataclasses.fields(cls):
            if f.name.endswith("_hash") or f.name in {"private_jwk", "replay_payload"}:
                assert not f.repr, f"{cls.__name__}.{f.name}"


def client(**kwargs: object) -> Client:
    args: dict[str, object] = {
        "client_id": ClientId("c1"),
        "name": "C",
        "auth_method": ClientAuthMethod.CLIENT_SECRET_BASIC,
        "redirect_uris": (),
        "grant_types": frozenset(),
        "scope": frozenset(),
        "created_at": NOW,
        "secret_hash": b"\x01" * 32,
    }
    args.update(kwargs)
    return Client(**args)  # type: ignore[arg-type]


@pytest.mark.spec("RFC 6749 §2.1")
def test_public_client() -> None:
    assert client(auth_method=ClientAuthMethod.NONE).is_public
    assert not client().is_public


def test_retired_client() -> None:
    assert not client().is_retired
    assert client(retired_at=NOW).is_retired


def test_disabled_user() -> None:
    user = User(sub=Subject("u1"), username="ann", created_at=NOW, password_hash="$argon2id$x")
    assert not user.is_disabled
    assert dataclasses.replace(user, disabled_at=NOW).is_disabled
    assert "argon2" not in repr(user)


def test_client_repr_hides_the_secret_hash() -> None:
    assert "\\x01" not in repr(client())

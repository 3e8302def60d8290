"""OIDC Core §5.5: the claims request parameter."""

from __future__ import annotations

import json

import pytest

from authgate.core.claims import EMPTY, ClaimSpec, load_claims, parse_claims
from authgate.core.errors import InvalidRequestError


def test_absent_claims() -> None:
    assert parse_claims(None) is None
    assert load_claims(None) is EMPTY
    assert EMPTY.requested_sub() is None


def test_round_trip_keeps_both_targets_and_drops_others() -> None:
    raw = json.dumps(
        {
            "userinfo": {"email": {"essential": True}, "name": None},
            "id_token": {"auth_time": {"essential": True}, "acr": {"values": ["1", "2"]}},
            "other": {"x": None},
        }
    )
    stored = parse_claims(raw)
    assert stored is not None and "other" not in stored
    loaded = load_claims(stored)
    assert loaded.userinfo["email"] == ClaimSpec(essential=True)
    assert loaded.userinfo["name"] == ClaimSpec()
    assert loaded.id_token["acr"].values == ("1", "2")
    assert loaded.is_essential("id_token", "auth_time")
    assert not loaded.is_essential("userinfo", "name")
    assert not loaded.is_essential("userinfo", "phone_number")
    assert loaded.target("userinfo") is loaded.userinfo
    assert loaded.names() == {"email", "name", "auth_time", "acr"}


def test_requested_sub() -> None:
    stored = parse_claims('{"id_token": {"sub": {"value": "u1"}}}')
    assert load_claims(stored).requested_sub() == "u1"
    stored = parse_claims('{"id_token": {"sub": {"value": 5}}}')
    assert load_claims(stored).requested_sub() is None


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        '{"userinfo": []}',
        '{"userinfo": {"email": 1}}',
        '{"id_token": {"acr": {"essential": "yes"}}}',
        '{"id_token": {"acr": {"values": "1"}}}',
    ],
)
def test_malformed_claims_are_invalid_requests(raw: str) -> None:
    with pytest.raises(InvalidRequestError):
        parse_claims(raw)


def test_loading_tolerates_non_object_specs() -> None:
    loaded = load_claims('{"userinfo": {"email": 1}}')
    assert loaded.userinfo["email"] == ClaimSpec()

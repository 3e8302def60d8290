"""`authgate client …`, `user …`, `resource …`, `keys …`, `audit …` (INTERFACE.md)."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Invoke, as_json


def test_create_confidential_client_prints_id_and_secret_once(cli: Invoke) -> None:
    created = as_json(
        cli(
            "client",
            "create",
            "--name",
            "Web app",
            "--redirect-uri",
            "https://app.test/cb",
            "--scope",
            "openid profile",
            "--json",
        )
    )
    assert isinstance(created, dict)
    assert len(created["client_secret"]) >= 43
    assert created["grant_types"] == ["authorization_code", "refresh_token"]
    assert created["token_endpoint_auth_method"] == "client_secret_basic"
    shown = as_json(cli("client", "show", created["client_id"], "--json"))
    assert isinstance(shown, dict)
    assert "client_secret" not in shown
    assert shown["redirect_uris"] == ["https://app.test/cb"]
    listed = as_json(cli("client", "list", "--json"))
    assert [c["client_id"] for c in listed] == [created["client_id"]]  # type: ignore[union-attr,index]


def test_public_client_has_no_secret(cli: Invoke) -> None:
    created = as_json(
        cli(
            "client",
            "create",
            "--name",
            "CLI",
            "--public",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--json",
        )
    )
    assert isinstance(created, dict)
    assert "client_secret" not in created
    assert created["token_endpoint_auth_method"] == "none"
    assert created["application_type"] == "native"


@pytest.mark.spec("SEC-03")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--redirect-uri", "http://c9.test/cb"], "loopback"),
        (["--redirect-uri", "https://c9.test/cb#frag"], "fragment"),
        (["--redirect-uri", "javascript:alert(1)"], "not allowed"),
        (["--grant-type", "password"], "unknown grant type"),
        (["--public", "--grant-type", "client_credentials"], "confidential"),
        (["--authorization-details-type", "payment_initiation"], "not declared"),
        (["--grant-type", "authorization_code"], "needs a redirect URI"),
    ],
)
def test_bad_registrations_exit_1_with_one_line(cli: Invoke, args: list[str], message: str) -> None:
    result = cli("client", "create", "--name", "Bad", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_update_rotate_secret_retire_and_delete(cli: Invoke) -> None:
    created = as_json(cli("client", "create", "--name", "Svc", "--scope", "api:read", "--json"))
    assert isinstance(created, dict)
    cid = created["client_id"]
    updated = as_json(
        cli("client", "update", cid, "--scope", "api:read api:write", "--new-secret", "--json")
    )
    assert isinstance(updated, dict)
    assert updated["scope"] == "api:read api:write"
    assert updated["client_secret"] != created["client_secret"]
    revoked = as_json(cli("client", "revoke", cid, "--reason", "leaked", "--json"))
    assert isinstance(revoked, dict)
    assert revoked["retired_at"] is not None
    approved = as_json(cli("client", "approve", cid, "--json"))
    assert isinstance(approved, dict)
    assert approved["retired_at"] is None
    audit = as_json(cli("audit", "list", "--json"))
    assert [(e["action"], e["reason"]) for e in audit][:2] == [  # type: ignore[index,union-attr]
        ("client.approve", None),
        ("client.revoke", "leaked"),
    ]
    assert cli("client", "delete", cid).exit_code == 0
    missing = cli("client", "show", cid)
    assert missing.exit_code == 1
    assert "no client" in missing.stderr


def test_users(cli: Invoke) -> None:
    created = as_json(
        cli(
            "user",
            "create",
            "--username",
            "alice",
            "--password",
            "correct horse battery",
            "--email",
            "alice@example.test",
            "--name",
            "Alice",
            "--json",
        )
    )
    assert isinstance(created, dict)
    assert len(created["sub"]) == 36
    again = cli("user", "create", "--username", "alice", "--password", "another password")
    assert again.exit_code == 1
    assert "taken" in again.stderr
    short = cli("user", "create", "--username", "bob", "--password", "short")
    assert short.exit_code == 1
    assert "at least 8" in short.stderr
    assert cli("user", "set-password", "alice", "--password", "a new long password").exit_code == 0
    disabled = as_json(cli("user", "disable", created["sub"], "--json"))
    assert isinstance(disabled, dict)
    assert disabled["disabled_at"] is not None
    enabled = as_json(cli("user", "enable", "alice", "--json"))
    assert isinstance(enabled, dict)
    assert enabled["disabled_at"] is None
    listed = as_json(cli("user", "list", "--json"))
    assert [u["username"] for u in listed] == ["alice"]  # type: ignore[index,union-attr]


@pytest.mark.spec("SEC-96")
def test_user_sub_never_equals_a_client_id(cli: Invoke) -> None:
    created = as_json(cli("client", "create", "--name", "Svc", "--json"))
    assert isinstance(created, dict)
    user = as_json(
        cli(
            "user",
            "create",
            "--username",
            created["client_id"],
            "--password",
            "long enough pw",
            "--json",
        )
    )
    assert isinstance(user, dict)
    assert user["sub"] != created["client_id"]
    assert user["username"] == created["client_id"]


def test_resources_and_keys(cli: Invoke) -> None:
    res = as_json(
        cli(
            "resource",
            "create",
            "--uri",
            "https://api.test",
            "--alg",
            "ES256",
            "--ttl",
            "300",
            "--json",
        )
    )
    assert res == {
        "uri": "https://api.test",
        "format": "jwt",
        "alg": "ES256",
        "ttl": 300,
        "created_at": res["created_at"],
    }  # type: ignore[index]
    dup = cli("resource", "create", "--uri", "https://api.test")
    assert dup.exit_code == 1
    before = as_json(cli("keys", "list", "--json"))
    rotated = as_json(cli("keys", "rotate", "--json"))
    assert sorted(k["alg"] for k in rotated) == ["ES256", "RS256"]  # type: ignore[index,union-attr]
    after = as_json(cli("keys", "list", "--json"))
    assert len(after) == len(before) + 2  # type: ignore[arg-type]
    retired = [k for k in after if k["retired_at"]]  # type: ignore[index,union-attr]
    assert len(retired) == len(before)  # type: ignore[arg-type]
    assert all(k["publish_until"] > k["retired_at"] for k in retired)  # type: ignore[index]


def test_demo_is_idempotent(cli: Invoke) -> None:
    first = as_json(cli("demo", "--json"))
    second = as_json(cli("demo", "--json"))
    assert first == second
    assert isinstance(first, dict)
    assert first["client_secret"]
    assert cli("db", "upgrade").output.strip() == "database schema is current"


def test_bad_configuration_is_one_line_exit_1(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHGATE_ISSUER", "http://example.test")
    result = cli("client", "list")
    assert result.exit_code == 1
    assert "AUTHGATE_ISSUER" in result.stderr
    assert "https" in result.stderr

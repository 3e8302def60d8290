"""OIDC Core §5.3 UserInfo; RFC 6750 bearer token usage and errors."""

from __future__ import annotations

import httpx2
import pytest

from tests.helpers import ASGIApp, issue_user_tokens, make_client, make_user


@pytest.fixture
async def tokens(app: ASGIApp) -> dict[str, str]:
    c = await make_client(app, name="C", redirect_uris=("https://c.test/cb",))
    sub = await make_user(app, "alice")
    full = await issue_user_tokens(app, c.client_id, sub, "openid email profile", refresh=False)
    bare = await issue_user_tokens(app, c.client_id, sub, "openid", refresh=False)
    api = await issue_user_tokens(app, c.client_id, sub, "profile", refresh=False)
    return {
        "sub": sub,
        "full": full.access_token,
        "bare": bare.access_token,
        "api": api.access_token,
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_get_with_bearer_header(client: httpx2.AsyncClient, tokens: dict[str, str]) -> None:
    r = await client.get("/userinfo", headers=bearer(tokens["full"]))
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.json() == {
        "sub": tokens["sub"],
        "email": "alice@example.test",
        "email_verified": False,
        "name": "Alice",
        "preferred_username": "alice",
    }


async def test_claims_follow_the_scope(client: httpx2.AsyncClient, tokens: dict[str, str]) -> None:
    r = await client.get("/userinfo", headers=bearer(tokens["bare"]))
    assert r.json() == {"sub": tokens["sub"]}


async def test_post_with_header_or_form_body(
    client: httpx2.AsyncClient, tokens: dict[str, str]
) -> None:
    r = await client.post("/userinfo", headers=bearer(tokens["bare"]))
    assert r.status_code == 200 and r.json()["sub"] == tokens["sub"]
    r = await client.post("/userinfo", data={"access_token": tokens["bare"]})
    assert r.status_code == 200 and r.json()["sub"] == tokens["sub"]
    both = await client.post(
        "/userinfo", data={"access_token": tokens["bare"]}, headers=bearer(tokens["bare"])
    )
    assert both.status_code == 400 and both.json()["error"] == "invalid_request"


async def test_missing_token_gets_a_bare_challenge(client: httpx2.AsyncClient) -> None:
    r = await client.get("/userinfo")
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Bearer realm="authgate"'


async def test_bad_tokens(client: httpx2.AsyncClient, tokens: dict[str, str]) -> None:
    for headers in (bearer("garbage"), {"Authorization": "Basic abc"}):
        r = await client.get("/userinfo", headers=headers)
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


async def test_token_without_openid_is_insufficient(
    client: httpx2.AsyncClient, tokens: dict[str, str]
) -> None:
    r = await client.get("/userinfo", headers=bearer(tokens["api"]))
    assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["www-authenticate"]


async def test_disabled_user_token_is_refused(
    app: ASGIApp, client: httpx2.AsyncClient, tokens: dict[str, str]
) -> None:
    from datetime import UTC, datetime

    from authgate.flows import users

    await users.set_disabled(app.store, "alice", disabled=True, now=datetime.now(UTC))
    r = await client.get("/userinfo", headers=bearer(tokens["full"]))
    assert r.status_code == 401

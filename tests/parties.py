"""The fixture notation of SECURITY.md §0 for revocation, introspection and refresh tests:
C1, C2 confidential clients, P1 a public client, R1 a resource server (`--can-introspect`),
U1, U2 users; plus small helpers that speak to the endpoints over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2

from tests.helpers import (
    ASGIApp,
    RegisteredClient,
    UserTokens,
    issue_user_tokens,
    make_client,
    make_user,
)

USER_GRANTS = ("authorization_code", "refresh_token")


@dataclass
class Parties:
    app: ASGIApp
    c1: RegisteredClient
    c2: RegisteredClient
    p1: RegisteredClient
    r1: RegisteredClient
    u1: str
    u2: str

    async def tokens(
        self,
        client: RegisteredClient | None = None,
        sub: str | None = None,
        scope: str = "openid offline_access profile",
    ) -> UserTokens:
        """A user grant with an access and a refresh token, as the code exchange makes them."""
        return await issue_user_tokens(
            self.app, (client or self.c1).client_id, sub or self.u1, scope
        )


async def make_parties(app: ASGIApp) -> Parties:
    def confidential(name: str, **extra: object) -> dict[str, object]:
        return {
            "name": name,
            "redirect_uris": (f"https://{name.lower()}.test/cb",),
            "grant_types": (*USER_GRANTS, "client_credentials"),
            "scope": "openid profile email offline_access api:read api:write",
            **extra,
        }

    return Parties(
        app=app,
        c1=await make_client(app, **confidential("C1")),
        c2=await make_client(app, **confidential("C2")),
        p1=await make_client(
            app,
            name="P1",
            public=True,
            redirect_uris=("http://127.0.0.1/cb",),
            grant_types=USER_GRANTS,
        ),
        r1=await make_client(app, **confidential("R1", can_introspect=True)),
        u1=await make_user(app, "u1"),
        u2=await make_user(app, "u2"),
    )


def auth_of(client: RegisteredClient) -> dict[str, object]:
    """httpx2 keyword arguments that authenticate `client` (Basic, or client_id if public)."""
    if client.secret is None:
        return {}
    return {"auth": client.auth}


def form_of(client: RegisteredClient, **values: str) -> dict[str, str]:
    if client.secret is None:
        return {"client_id": client.client_id, **values}
    return values


async def refresh(
    http: httpx2.AsyncClient, client: RegisteredClient, token: str, **extra: str
) -> httpx2.Response:
    data = form_of(client, grant_type="refresh_token", refresh_token=token, **extra)
    return await http.post("/token", data=data, **auth_of(client))  # type: ignore[arg-type]


async def introspect(
    http: httpx2.AsyncClient, caller: RegisteredClient, token: str, **extra: str
) -> httpx2.Response:
    return await http.post("/introspect", data={"token": token, **extra}, auth=caller.auth)


async def is_active(http: httpx2.AsyncClient, caller: RegisteredClient, token: str) -> bool:
    response = await introspect(http, caller, token)
    assert response.status_code == 200, response.text
    body = response.json()
    if not body["active"]:
        assert body == {"active": False}
    return bool(body["active"])


async def revoke(
    http: httpx2.AsyncClient, client: RegisteredClient, token: str, **extra: str
) -> httpx2.Response:
    data = form_of(client, token=token, **extra)
    return await http.post("/revoke", data=data, **auth_of(client))  # type: ignore[arg-type]


async def client_credentials(
    http: httpx2.AsyncClient, client: RegisteredClient, **extra: str
) -> str:
    response = await http.post(
        "/token", data={"grant_type": "client_credentials", **extra}, auth=client.auth
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])

"""Test helpers: run the app's lifespan without a server, and make clients and users."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette

from authgate.config import Settings
from authgate.core.client_metadata import ClientRegistration
from authgate.flows import clients, users
from authgate.store.base import Store


class ASGIApp:
    """The app with its lifespan state injected into every request scope, as a server does."""

    def __init__(self, app: Starlette, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["state"] = dict(self.state)
        await self.app(scope, receive, send)

    @property
    def store(self) -> Store:
        return self.state["ctx"].store  # type: ignore[no-any-return]

    @property
    def settings(self) -> Settings:
        return self.state["settings"]  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def lifespan_app(app: Starlette) -> AsyncIterator[ASGIApp]:
    async with app.router.lifespan_context(app) as state:
        yield ASGIApp(app, dict(state or {}))


def now() -> datetime:
    return datetime.now(UTC)


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@dataclass
class RegisteredClient:
    client_id: str
    secret: str | None

    @property
    def auth(self) -> tuple[str, str]:
        assert self.secret is not None
        return (self.client_id, self.secret)


async def make_client(app: ASGIApp, **fields: Any) -> RegisteredClient:
    fields.setdefault("name", "Test client")
    client, secret = await clients.create_client(
        app.store, app.settings, ClientRegistration(**fields), now=now()
    )
    return RegisteredClient(client.client_id, secret)


async def make_user(
    app: ASGIApp, username: str = "alice", password: str = "correct horse battery"
) -> str:
    user = await users.create_user(
        app.store,
        username=username,
        password=password,
        email=f"{username}@example.test",
        name=username.title(),
        now=now(),
    )
    return user.sub


@dataclass
class UserTokens:
    """Tokens of one user grant, minted without the browser (for tests of later stages)."""

    grant_id: str
    access_token: str
    refresh_token: str


async def issue_user_tokens(
    app: ASGIApp,
    client_id: str,
    sub: str,
    scope: str = "openid offline_access",
    *,
    refresh: bool = True,
) -> UserTokens:
    """A grant for (client, user) with one access token and, by default, a refresh token,
    as the authorization code exchange would issue them.
    """
    from datetime import timedelta

    from authgate.core.models import Grant
    from authgate.core.tokens import new_id
    from authgate.core.types import ClientId, GrantId, Subject
    from authgate.flows.tokens import issue_access_token, issue_refresh_token

    ctx = app.state["ctx"]
    when = now()
    scopes = frozenset(scope.split())
    grant = Grant(
        grant_id=GrantId(new_id()),
        client_id=ClientId(client_id),
        sub=Subject(sub),
        scope=scopes,
        created_at=when,
        expires_at=when + timedelta(seconds=app.settings.refresh_token_ttl),
        auth_time=when,
    )
    async with app.store.transaction() as tx:
        client = await tx.find_client(ClientId(client_id))
        assert client is not None
        await tx.add_grant(grant)
        rt = (
            await issue_refresh_token(tx, ctx, grant=grant, scope=scopes, now=when)
            if refresh
            else None
        )
        at = await issue_access_token(
            tx,
            ctx,
            client=client,
            sub=grant.sub,
            scope=scopes,
            resource=None,
            now=when,
            grant_id=grant.grant_id,
            refresh_token_hash=rt.record.token_hash if rt else None,
        )
    return UserTokens(grant.grant_id, at.token, rt.token if rt else "")


def metric_samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """(sample name, labels) → value, of a Prometheus text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


async def metric(http: Any, name: str, **labels: str) -> float:
    """One sample of the app's GET /metrics (0 when it is not there)."""
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    return metric_samples(response.text).get((name, frozenset(labels.items())), 0.0)

"""A scripted browser for the authorization code flow: a cookie jar, HTML forms found by
field name (INTERFACE.md), and the steps of SECURITY.md §0 `flow(C, **params)`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx2

from tests.helpers import ASGIApp, RegisteredClient, make_client, make_user

ISSUER = "http://127.0.0.1:8000"
PASSWORD = "correct horse battery"
C1_URI = "https://c1.test/cb"


def pkce() -> tuple[str, str]:
    """A 43-character verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms and "name" in a:
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and "name" in a:
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def form_with(html: str, name: str) -> Form:
    for f in forms(html):
        if name in f.fields or any(b[0] == name for b in f.buttons):
            return f
    raise AssertionError(f"no form with field {name!r} in page:\n{html[:2000]}")


def location_params(response: httpx2.Response) -> dict[str, str]:
    """The query (or fragment) parameters of a redirect's Location."""
    parts = urllib.parse.urlsplit(response.headers["location"])
    raw = parts.query or parts.fragment
    return dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))


class Browser:
    """One browser: its own cookie jar over the app."""

    def __init__(self, app: ASGIApp, issuer: str = ISSUER) -> None:
        transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
        self.http = httpx2.AsyncClient(transport=transport, base_url=issuer)
        self.issuer = issuer

    async def aclose(self) -> None:
        await self.http.aclose()

    async def authorize(self, **params: Any) -> httpx2.Response:
        return await self.http.get("/authorize", params=params)

    async def follow(self, response: httpx2.Response) -> httpx2.Response:
        """Follow redirects that stay on the authorization server."""
        while response.status_code in (302, 303) and response.headers["location"].startswith(
            self.issuer
        ):
            response = await self.http.get(response.headers["location"])
        return response

    async def submit(
        self, page: httpx2.Response, values: dict[str, str], button: tuple[str, str] | None = None
    ) -> httpx2.Response:
        names = set(values) | ({button[0]} if button else set())
        form = next(
            f for f in forms(page.text) if names <= set(f.fields) | {b[0] for b in f.buttons}
        )
        data = {**form.fields, **values}
        if button:
            data[button[0]] = button[1]
        return await self.http.post(form.action, data=data, headers={"Origin": self.issuer})

    async def login(
        self, page: httpx2.Response, username: str = "alice", password: str = PASSWORD
    ) -> httpx2.Response:
        return await self.submit(page, {"username": username, "password": password})

    async def decide(self, page: httpx2.Response, decision: str = "approve") -> httpx2.Response:
        return await self.submit(page, {}, ("decision", decision))

    async def flow(
        self,
        *,
        username: str = "alice",
        password: str = PASSWORD,
        decision: str = "approve",
        **params: Any,
    ) -> httpx2.Response:
        """GET AUTHZ → login if asked → consent if asked → the response to the client."""
        response = await self.follow(await self.authorize(**params))
        for _ in range(4):
            if response.status_code != 200 or "<form" not in response.text:
                return response
            if 'name="username"' in response.text:
                response = await self.follow(await self.login(response, username, password))
            elif 'name="decision"' in response.text:
                response = await self.follow(await self.decide(response, decision))
            else:
                return response
        return response


class Browsers:
    """Make browsers on demand; close them all at the end of the test."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.made: list[Browser] = []

    def __call__(self) -> Browser:
        self.made.append(Browser(self.app))
        return self.made[-1]

    async def aclose(self) -> None:
        for b in self.made:
            await b.aclose()


@dataclass
class Setup:
    """SECURITY.md §0 fixtures: C1, C2 (confidential), P1 (public), U1 and U2."""

    app: ASGIApp
    c1: RegisteredClient
    c2: RegisteredClient
    p1: RegisteredClient
    u1: str
    u2: str


async def setup(app: ASGIApp) -> Setup:
    grants = ("authorization_code", "refresh_token")
    scope = "openid profile email offline_access"
    c1 = await make_client(app, name="C1", redirect_uris=(C1_URI,), grant_types=grants, scope=scope)
    c2 = await make_client(
        app, name="C2", redirect_uris=("https://c2.test/cb",), grant_types=grants, scope=scope
    )
    p1 = await make_client(
        app,
        name="P1",
        public=True,
        redirect_uris=("http://127.0.0.1/cb",),
        grant_types=grants,
        scope=scope,
    )
    return Setup(app, c1, c2, p1, await make_user(app, "alice"), await make_user(app, "bob"))


def code_params(client_id: str, challenge: str, **extra: Any) -> dict[str, Any]:
    """A valid OpenID authorization request of C1."""
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": C1_URI,
        "scope": "openid",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


async def redeem(
    http: httpx2.AsyncClient,
    client: RegisteredClient,
    code: str,
    verifier: str | None,
    redirect_uri: str = C1_URI,
    **extra: str,
) -> httpx2.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, **extra}
    if verifier is not None:
        data["code_verifier"] = verifier
    if client.secret is None:
        data["client_id"] = client.client_id
        return await http.post("/token", data=data)
    return await http.post("/token", data=data, auth=client.auth)

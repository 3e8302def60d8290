"""Interop: Authlib's OAuth 2.0 client (httpx2 integration) completes the authorization
code flow with PKCE against a live `authgate serve`; the ID token is checked with Authlib's
OpenID Connect claim rules (authlib.oidc.core.CodeIDToken) over a joserfc signature check.
"""

from __future__ import annotations

import httpx2
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.interop.live import live_server, sign_in_and_consent

pytestmark = pytest.mark.interop


def test_authlib_client_completes_the_code_flow(db: str) -> None:
    with (
        live_server(db) as live,
        OAuth2Client(
            live.client_id,
            live.client_secret,
            scope="openid profile email",
            redirect_uri=live.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
        ) as oauth,
    ):
        md = httpx2.get(f"{live.issuer}/.well-known/openid-configuration").json()
        verifier, nonce = generate_token(48), generate_token(20)
        url, state = oauth.create_authorization_url(
            md["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        callback = sign_in_and_consent(url, live.issuer)
        token = oauth.fetch_token(
            md["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
        keys = KeySet.import_key_set(httpx2.get(md["jwks_uri"]).json())
        decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
        claims = CodeIDToken(
            dict(decoded.claims),
            dict(decoded.header),
            options={"iss": {"essential": True, "value": live.issuer}},
            params={
                "nonce": nonce,
                "client_id": live.client_id,
                "access_token": token["access_token"],
            },
        )
        claims.validate()
        userinfo = oauth.get(md["userinfo_endpoint"]).json()
    assert state and claims["aud"] == live.client_id
    assert userinfo["sub"] == claims["sub"] and userinfo["email"] == "interop@example.test"

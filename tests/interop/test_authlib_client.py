"""Interop: Authlib's OAuth 2.0 client (httpx2 integration) completes the authorization
code flow with PKCE against a live `authgate serve`; the ID token is checked with Authlib's
OpenID Connect claim rules (authlib.oidc.core.CodeIDToken) over a joserfc signature check;
then, with offline_access, refresh with rotation, introspection and revocation (issue 5).
"""

from __future__ import annotations

import httpx2
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
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


@pytest.mark.spec("RFC 9700 §4.14.2")
@pytest.mark.spec("RFC 7009 §2.1")
def test_authlib_client_refreshes_introspects_and_revokes(db: str) -> None:
    with (
        live_server(db) as live,
        OAuth2Client(
            live.client_id,
            live.client_secret,
            scope="openid offline_access",
            redirect_uri=live.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
        ) as oauth,
    ):
        md = httpx2.get(f"{live.issuer}/.well-known/openid-configuration").json()
        verifier = generate_token(48)
        # OIDC Core §11: offline_access with prompt=consent gets a refresh token.
        url, _ = oauth.create_authorization_url(
            md["authorization_endpoint"],
            code_verifier=verifier,
            nonce=generate_token(20),
            prompt="consent",
        )
        callback = sign_in_and_consent(url, live.issuer)
        first = oauth.fetch_token(
            md["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
        second = oauth.refresh_token(md["token_endpoint"], refresh_token=first["refresh_token"])
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        live_status = oauth.introspect_token(
            md["introspection_endpoint"], token=second["refresh_token"]
        ).json()
        assert live_status["active"] is True and live_status["client_id"] == live.client_id

        revoked = oauth.revoke_token(
            md["revocation_endpoint"],
            token=second["refresh_token"],
            token_type_hint="refresh_token",
        )
        assert revoked.status_code == 200
        for token in (second["access_token"], second["refresh_token"]):
            status = oauth.introspect_token(md["introspection_endpoint"], token=token)
            assert status.json() == {"active": False}
        for spent in (first["refresh_token"], second["refresh_token"]):
            with pytest.raises(OAuthError) as refused:
                oauth.refresh_token(md["token_endpoint"], refresh_token=spent)
            assert refused.value.error == "invalid_grant"

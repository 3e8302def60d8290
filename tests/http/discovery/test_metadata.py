"""Discovery (OIDC Discovery §4, RFC 8414 §3) and SECURITY.md 1.N (metadata and transport)."""

from __future__ import annotations

import httpx2
import pytest

WELL_KNOWN = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")


@pytest.mark.spec("SEC-35")
async def test_both_documents_name_the_configured_issuer(client: httpx2.AsyncClient) -> None:
    docs = [(await client.get(path)).json() for path in WELL_KNOWN]
    assert docs[0] == docs[1]
    assert docs[0]["issuer"] == "http://127.0.0.1:8000"


@pytest.mark.spec("SEC-99")
async def test_metadata_advertises_only_what_is_served(client: httpx2.AsyncClient) -> None:
    md = (await client.get(WELL_KNOWN[0])).json()
    assert md["code_challenge_methods_supported"] == ["S256"]
    assert md["request_parameter_supported"] is False
    assert "openid" in md["scopes_supported"]
    assert "password" not in md["grant_types_supported"]
    assert "implicit" not in md["grant_types_supported"]
    assert md["response_types_supported"] == ["code"]
    assert "none" not in md["id_token_signing_alg_values_supported"]
    for key, value in md.items():
        if key.endswith("_endpoint") or key == "jwks_uri":
            assert isinstance(value, str) and value.startswith(md["issuer"] + "/")
            path = value.removeprefix(md["issuer"])
            method = (
                "GET"
                if key
                in {
                    "jwks_uri",
                    "authorization_endpoint",
                    "userinfo_endpoint",
                    "end_session_endpoint",
                }
                else "POST"
            )
            response = await client.request(method, path)
            assert response.status_code != 404, key


@pytest.mark.spec("SEC-100")
async def test_forwarded_headers_do_not_change_the_issuer(client: httpx2.AsyncClient) -> None:
    md = (
        await client.get(
            WELL_KNOWN[0],
            headers={
                "X-Forwarded-Host": "evil.test",
                "X-Forwarded-Proto": "https",
                "Host": "evil.test",
            },
        )
    ).json()
    assert md["issuer"] == "http://127.0.0.1:8000"
    assert "evil" not in str(md)

"""core/discovery.py: provider metadata derived from the served paths (OIDC Discovery §3,
RFC 8414 §2).
"""

from __future__ import annotations

import pytest

from authgate.core.discovery import build_metadata
from authgate.core.types import GrantType

ISS = "https://as.test"
ALL_PATHS = ("/authorize", "/userinfo", "/logout", "/revoke", "/introspect",
             "/device_authorization", "/par")  # fmt: skip

# Each served path and the metadata members that exist only because it is served.
BY_PATH = {
    "/authorize": {
        "authorization_endpoint",
        "response_modes_supported",
        "prompt_values_supported",
        "display_values_supported",
        "ui_locales_supported",
        "claims_parameter_supported",
        "claims_supported",
        "authorization_response_iss_parameter_supported",
    },
    "/userinfo": {"userinfo_endpoint"},
    "/logout": {"end_session_endpoint"},
    "/revoke": {
        "revocation_endpoint",
        "revocation_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_signing_alg_values_supported",
    },
    "/introspect": {
        "introspection_endpoint",
        "introspection_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_signing_alg_values_supported",
    },
    "/device_authorization": {"device_authorization_endpoint"},
    "/par": {"pushed_authorization_request_endpoint"},
}


def build(paths: tuple[str, ...] = (), **kwargs: object) -> dict[str, object]:
    args: dict[str, object] = {
        "paths": paths,
        "scopes": ["openid", "profile"],
        "grant_types": [GrantType.CLIENT_CREDENTIALS, GrantType.AUTHORIZATION_CODE],
        "details_types": [],
    }
    args.update(kwargs)
    return build_metadata(ISS, **args)  # type: ignore[arg-type]


@pytest.mark.spec("RFC 8414 §2")
def test_minimal_metadata() -> None:
    md = build()
    assert md["issuer"] == ISS
    assert md["token_endpoint"] == f"{ISS}/token"
    assert md["jwks_uri"] == f"{ISS}/jwks"
    assert md["scopes_supported"] == ["openid", "profile"]
    assert md["response_types_supported"] == ["code"]
    assert md["grant_types_supported"] == ["authorization_code", "client_credentials"]
    assert md["subject_types_supported"] == ["public"]
    assert md["code_challenge_methods_supported"] == ["S256"]
    assert md["request_parameter_supported"] is False
    assert md["request_uri_parameter_supported"] is False
    for keys in BY_PATH.values():
        assert not keys & set(md)
    assert "authorization_details_types_supported" not in md


@pytest.mark.spec("RFC 8414 §2")
@pytest.mark.parametrize("path", sorted(BY_PATH))
def test_metadata_keys_appear_only_for_served_paths(path: str) -> None:
    md = build((path,))
    assert set(md) - set(build()) == BY_PATH[path]
    others = set().union(*(v for k, v in BY_PATH.items() if k != path))
    assert not others & set(md)


@pytest.mark.spec("SEC-99")
def test_full_metadata() -> None:
    md = build(ALL_PATHS, details_types=["payment_initiation", "account_information"])
    assert md["authorization_endpoint"] == f"{ISS}/authorize"
    assert md["userinfo_endpoint"] == f"{ISS}/userinfo"
    assert md["end_session_endpoint"] == f"{ISS}/logout"
    assert md["revocation_endpoint"] == f"{ISS}/revoke"
    assert md["introspection_endpoint"] == f"{ISS}/introspect"
    assert md["device_authorization_endpoint"] == f"{ISS}/device_authorization"
    assert md["pushed_authorization_request_endpoint"] == f"{ISS}/par"
    assert md["authorization_response_iss_parameter_supported"] is True
    assert md["authorization_details_types_supported"] == [
        "account_information",
        "payment_initiation",
    ]
    for key, value in md.items():
        if key.endswith("_endpoint") or key == "jwks_uri":
            assert isinstance(value, str) and value.startswith(f"{ISS}/")


@pytest.mark.spec("SEC-92")
def test_introspection_does_not_offer_method_none() -> None:
    md = build(("/introspect", "/revoke"))
    assert "none" not in md["introspection_endpoint_auth_methods_supported"]  # type: ignore[operator]
    assert "none" in md["revocation_endpoint_auth_methods_supported"]  # type: ignore[operator]
    assert "none" in md["token_endpoint_auth_methods_supported"]  # type: ignore[operator]


@pytest.mark.spec("RFC 8725 §3.1")
def test_only_asymmetric_signing_algorithms_are_offered() -> None:
    md = build(ALL_PATHS)
    for key in (
        "token_endpoint_auth_signing_alg_values_supported",
        "revocation_endpoint_auth_signing_alg_values_supported",
        "introspection_endpoint_auth_signing_alg_values_supported",
        "id_token_signing_alg_values_supported",
    ):
        algs = md[key]
        assert isinstance(algs, list) and algs
        assert not [a for a in algs if a == "none" or a.startswith("HS")]


def test_unknown_paths_add_nothing() -> None:
    assert build(("/healthz", "/metrics", "/jwks")) == build()

"""OpenID Connect Discovery 1.0 §3 and RFC 8414 §2: the provider metadata document.

It advertises exactly what authgate implements: each endpoint's metadata appears only when
the app serves that endpoint (the web layer passes the paths it routes), so a client that
trusts the document never meets a `*_supported` value the server then refuses.
"""

from __future__ import annotations

from collections.abc import Iterable

from authgate.core.client_auth import ASSERTION_ALGS
from authgate.core.types import ClientAuthMethod, GrantType, SigningAlg

Metadata = dict[str, object]

AUTH_METHODS = [m.value for m in ClientAuthMethod]
ID_TOKEN_ALGS = [SigningAlg.RS256.value, SigningAlg.ES256.value]
# OIDC Core §5.1 standard claims authgate can return.
CLAIMS = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "locale",
    "updated_at",
    "email",
    "email_verified",
    "phone_number",
    "address",
]


def build_metadata(
    issuer: str,
    *,
    paths: Iterable[str],
    scopes: Iterable[str],
    grant_types: Iterable[GrantType],
    details_types: Iterable[str],
) -> Metadata:
    """The metadata for `issuer` (the same at both well-known paths, SEC-35)."""
    served = set(paths)
    md: Metadata = {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "scopes_supported": sorted(scopes),
        "response_types_supported": ["code"],
        "grant_types_supported": sorted(g.value for g in grant_types),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ID_TOKEN_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
    if "/authorize" in served:
        md["authorization_endpoint"] = f"{issuer}/authorize"
        md["response_modes_supported"] = ["query", "fragment", "form_post"]
        md["prompt_values_supported"] = ["none", "login", "consent", "select_account"]
        md["display_values_supported"] = ["page", "popup", "touch", "wap"]
        md["ui_locales_supported"] = ["en", "it", "zh-CN"]
        md["claims_parameter_supported"] = True
        md["claims_supported"] = list(CLAIMS)
        # RFC 9207 §3: authorization responses carry `iss`.
        md["authorization_response_iss_parameter_supported"] = True
    if "/userinfo" in served:
        md["userinfo_endpoint"] = f"{issuer}/userinfo"
    if "/logout" in served:
        md["end_session_endpoint"] = f"{issuer}/logout"
    if "/revoke" in served:
        md["revocation_endpoint"] = f"{issuer}/revoke"
        md["revocation_endpoint_auth_methods_supported"] = list(AUTH_METHODS)
        md["revocation_endpoint_auth_signing_alg_values_supported"] = list(ASSERTION_ALGS)
    if "/introspect" in served:
        md["introspection_endpoint"] = f"{issuer}/introspect"
        md["introspection_endpoint_auth_methods_supported"] = [
            m for m in AUTH_METHODS if m != ClientAuthMethod.NONE.value
        ]
        md["introspection_endpoint_auth_signing_alg_values_supported"] = list(ASSERTION_ALGS)
    if "/device_authorization" in served:
        md["device_authorization_endpoint"] = f"{issuer}/device_authorization"
    if "/par" in served:
        md["pushed_authorization_request_endpoint"] = f"{issuer}/par"
    types = sorted(details_types)
    if types:
        md["authorization_details_types_supported"] = types
    return md

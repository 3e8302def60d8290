"""OpenID Connect Discovery 1.0 §3 and RFC 8414 §2: the provider metadata document.

It advertises exactly what authgate implements: a client that trusts it must never meet a
`*_supported` value the server then refuses.
"""

from __future__ import annotations

from collections.abc import Iterable

from authgate.core.client_auth import ASSERTION_ALGS
from authgate.core.types import ClientAuthMethod, GrantType, SigningAlg

Metadata = dict[str, object]


def build_metadata(
    issuer: str,
    *,
    scopes: Iterable[str],
    grant_types: Iterable[GrantType],
    details_types: Iterable[str],
) -> Metadata:
    """The metadata document for `issuer` (the same at both well-known paths, SEC-35)."""
    metadata: Metadata = {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "scopes_supported": sorted(scopes),
        "response_types_supported": ["code"],
        "grant_types_supported": sorted(g.value for g in grant_types),
        "token_endpoint_auth_methods_supported": [m.value for m in ClientAuthMethod],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [SigningAlg.RS256.value, SigningAlg.ES256.value],
        "code_challenge_methods_supported": ["S256"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
    types = sorted(details_types)
    if types:
        metadata["authorization_details_types_supported"] = types
    return metadata

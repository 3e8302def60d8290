"""Records for the unit tests of the authorization code flow rules."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from authgate.core.authorize import AuthorizationRequest
from authgate.core.models import Client
from authgate.core.types import ClientAuthMethod, ClientId, GrantType, ResponseMode

NOW = datetime(2026, 1, 1, tzinfo=UTC)
C1 = Client(
    client_id=ClientId("c1"),
    name="C1",
    auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC,
    redirect_uris=("https://c1.test/cb",),
    grant_types=frozenset({GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN}),
    scope=frozenset({"openid", "profile", "email", "offline_access", "api"}),
    created_at=NOW,
)


def client(**changes: Any) -> Client:
    return dataclasses.replace(C1, **changes)


def request(**changes: Any) -> AuthorizationRequest:
    base = AuthorizationRequest(
        client_id=C1.client_id,
        redirect_uri="https://c1.test/cb",
        response_mode=ResponseMode.QUERY,
        scope=frozenset({"openid"}),
    )
    return dataclasses.replace(base, **changes)

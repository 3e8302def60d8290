"""Seed a benchmark database: clients, resources, a user, and pools of single-use values
(refresh tokens, authorization codes) minted directly through authgate's flows and store.

    python bench/seed.py --database-url URL --issuer ISSUER --out seed.json
        [--refresh-pool N] [--code-pool N] [--live-tokens N]

Prints nothing; writes the credentials and pool files named in seed.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime, timedelta

from authgate.config import Settings
from authgate.core.client_metadata import ClientRegistration
from authgate.core.models import AccessToken, AuthorizationCode, Grant
from authgate.core.tokens import hash_token, new_id, new_token
from authgate.core.types import AccessTokenFormat, ClientId, GrantId, Subject
from authgate.flows import clients, resources, users
from authgate.flows.client_keys import ClientKeys
from authgate.flows.context import Context
from authgate.flows.keys import KeyCache, ensure_keys
from authgate.flows.tokens import issue_refresh_token
from authgate.server import open_store

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
REDIRECT = "https://bench.test/cb"
VERIFIER = "bench-verifier-" + "x" * 43


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def _fetch(uri: str) -> str:  # pragma: no cover - never called by the seed
    raise OSError(uri)


async def seed(args: argparse.Namespace) -> dict[str, object]:
    settings = Settings(issuer=args.issuer, database_url=args.database_url)
    store = open_store(settings)
    now = datetime.now(UTC)
    try:
        await store.upgrade()
        await ensure_keys(store, now=now)
        ctx = Context(settings, store, KeyCache(store, ttl=60), ClientKeys(_fetch))
        service, secret = await clients.create_client(
            store,
            settings,
            ClientRegistration(
                name="bench service",
                grant_types=("client_credentials", DEVICE),
                scope="api:read openid",
                can_introspect=True,
            ),
            now=now,
        )
        web, web_secret = await clients.create_client(
            store,
            settings,
            ClientRegistration(
                name="bench web",
                redirect_uris=(REDIRECT,),
                scope="openid profile offline_access api:read",
            ),
            now=now,
        )
        for alg in ("ES256", "RS256"):
            await resources.create_resource(
                store, uri=f"urn:authgate:bench:jwt-{alg.lower()}", alg=alg, now=now
            )
        user = await users.create_user(
            store, username=f"bench-{new_id(4)}", password="bench password", now=now
        )
        out: dict[str, object] = {
            "client_id": service.client_id,
            "client_secret": secret,
            "web_client_id": web.client_id,
            "web_client_secret": web_secret,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        }
        out["refresh_pool"] = await _refresh_pool(ctx, web.client_id, user.sub, args.refresh_pool)
        out["code_pool"] = await _code_pool(ctx, web.client_id, user.sub, args.code_pool)
        await _live_tokens(ctx, service.client_id, args.live_tokens)
        return out
    finally:
        await store.close()


def _grant(client_id: str, sub: str, now: datetime) -> Grant:
    return Grant(
        grant_id=GrantId(new_id()),
        client_id=ClientId(client_id),
        sub=Subject(sub),
        scope=frozenset({"openid", "offline_access", "api:read"}),
        created_at=now,
        expires_at=now + timedelta(days=1),
        auth_time=now,
    )


def _pool_file(values: list[str]) -> str:
    fd, path = tempfile.mkstemp(prefix="authgate-bench-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(values) + "\n")
    return path


async def _refresh_pool(ctx: Context, client_id: str, sub: str, n: int) -> str:
    values = []
    now = datetime.now(UTC)
    for start in range(0, n, 1000):
        async with ctx.store.transaction() as tx:
            for _ in range(min(1000, n - start)):
                grant = _grant(client_id, sub, now)
                await tx.add_grant(grant)
                issued = await issue_refresh_token(tx, ctx, grant=grant, scope=grant.scope, now=now)
                values.append(issued.token)
    return _pool_file(values)


async def _code_pool(ctx: Context, client_id: str, sub: str, n: int) -> str:
    values = []
    now = datetime.now(UTC)
    for start in range(0, n, 1000):
        async with ctx.store.transaction() as tx:
            for _ in range(min(1000, n - start)):
                grant = _grant(client_id, sub, now)
                await tx.add_grant(grant)
                code = new_token()
                await tx.add_authorization_code(
                    AuthorizationCode(
                        code_hash=hash_token(code),
                        grant_id=grant.grant_id,
                        client_id=ClientId(client_id),
                        redirect_uri=REDIRECT,
                        code_challenge=challenge(VERIFIER),
                        created_at=now,
                        expires_at=now + timedelta(hours=1),
                    )
                )
                values.append(code)
    return _pool_file(values)


async def _live_tokens(ctx: Context, client_id: str, n: int) -> None:
    """`n` live opaque access tokens, so that costs can be compared at 10^3 and 10^6."""
    now = datetime.now(UTC)
    for start in range(0, n, 5000):
        async with ctx.store.transaction() as tx:
            for _ in range(min(5000, n - start)):
                await tx.add_access_token(
                    AccessToken(
                        token_hash=hash_token(new_token()),
                        jti=new_id(),
                        client_id=ClientId(client_id),
                        scope=frozenset({"api:read"}),
                        issued_at=now,
                        expires_at=now + timedelta(days=1),
                        token_format=AccessTokenFormat.OPAQUE,
                    )
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--refresh-pool", type=int, default=0)
    parser.add_argument("--code-pool", type=int, default=0)
    parser.add_argument("--live-tokens", type=int, default=0)
    args = parser.parse_args()
    data = asyncio.run(seed(args))
    with open(args.out, "w") as f:
        json.dump(data, f, indent=2)


if __name__ == "__main__":
    main()

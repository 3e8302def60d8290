"""Fetching a client's jwks_uri (RFC 7591 §2) over HTTPS, with a size and time limit."""

from __future__ import annotations

import httpx2

MAX_BYTES = 65_536
TIMEOUT = 5.0


async def fetch_jwks(uri: str) -> str:
    """The JWK Set document at `uri`; raises OSError or ValueError on any failure."""
    try:
        body = await _get(uri)
    except httpx2.HTTPError as exc:
        raise OSError(f"jwks_uri could not be fetched: {type(exc).__name__}") from None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("jwks_uri document is not UTF-8") from None


async def _get(uri: str) -> bytes:
    async with (
        httpx2.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client,
        client.stream("GET", uri, headers={"Accept": "application/json"}) as response,
    ):
        if response.status_code != 200:
            raise ValueError(f"jwks_uri answered {response.status_code}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_BYTES:
                raise ValueError("jwks_uri document is too large")
    return bytes(body)

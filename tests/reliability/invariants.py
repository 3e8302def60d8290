"""The global invariants I1–I5 of SECURITY.md §4, checked in the database after a scenario.

Grey-box: plain SQL over the real schema (src/authgate/store/sql/tables.py; times are
microseconds since the epoch, token values are stored as SHA-256 digests). What only the
client side can know (which tokens it was given, which statuses it saw) is passed in:

* I1 every token acknowledged in a 200 response is in the database (durable) and the server
  calls it active exactly when its row, grant, client and user are live (`Ledger`);
* I2 at most one live refresh token per grant (refresh family);
* I3 no token of a revoked grant, disabled client or disabled user is called active by the
  server (the same comparison as I1, other direction);
* I4 no 5xx response (503 only where a scenario allows an outage);
* I5 every authorization code and device code was consumed at most once: a grant holds at
  most one first issuance, and a grant with tokens has its code consumed.

Plus the REL-12 orphan check: no grant exists without the code, device code or tokens that
made it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import httpx2
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from authgate.core.tokens import hash_token


def _now_us() -> int:
    return int(time.time() * 1_000_000)


# A refresh token the server would accept now (row, grant, client and user all live, and no
# revoked access token issued with it: SEC-77).
LIVE_RT = """
    SELECT rt.token_hash FROM refresh_tokens rt
    JOIN grants g ON g.grant_id = rt.grant_id
    JOIN clients c ON c.client_id = rt.client_id
    LEFT JOIN users u ON u.sub = g.sub
    WHERE rt.revoked_at IS NULL AND rt.consumed_at IS NULL AND rt.expires_at > :now
      AND (rt.idle_expires_at IS NULL OR rt.idle_expires_at > :now)
      AND g.revoked_at IS NULL AND g.expires_at > :now AND c.retired_at IS NULL
      AND u.disabled_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM access_tokens a
                      WHERE a.refresh_token_hash = rt.token_hash AND a.revoked_at IS NOT NULL)
"""
LIVE_AT = """
    SELECT a.token_hash FROM access_tokens a
    JOIN clients c ON c.client_id = a.client_id
    LEFT JOIN grants g ON g.grant_id = a.grant_id
    LEFT JOIN users u ON u.sub = a.sub
    WHERE a.revoked_at IS NULL AND a.expires_at > :now AND c.retired_at IS NULL
      AND u.disabled_at IS NULL
      AND (a.grant_id IS NULL OR (g.revoked_at IS NULL AND g.expires_at > :now))
"""

CHECKS: dict[str, str] = {
    # I2: no forked refresh family
    "I2 forked refresh family": """
        SELECT grant_id, COUNT(*) FROM refresh_tokens
        WHERE revoked_at IS NULL AND consumed_at IS NULL AND expires_at > :now
        GROUP BY grant_id HAVING COUNT(*) > 1
    """,
    # I2: every rotated token has exactly one successor
    "I2 refresh token with two successors": """
        SELECT parent_hash, COUNT(*) FROM refresh_tokens WHERE parent_hash IS NOT NULL
        GROUP BY parent_hash HAVING COUNT(*) > 1
    """,
    # I5: a code or device code issues once: one root refresh token per grant
    "I5 grant issued twice (refresh tokens)": """
        SELECT grant_id, COUNT(*) FROM refresh_tokens WHERE parent_hash IS NULL
        GROUP BY grant_id HAVING COUNT(*) > 1
    """,
    # I5: … and one access token minted without a refresh token
    "I5 grant issued twice (access tokens)": """
        SELECT grant_id, COUNT(*) FROM access_tokens
        WHERE grant_id IS NOT NULL AND refresh_token_hash IS NULL
        GROUP BY grant_id HAVING COUNT(*) > 1
    """,
    # I5: tokens were issued only by consuming the code
    "I5 tokens from an unconsumed code": """
        SELECT c.grant_id FROM authorization_codes c
        WHERE c.consumed_at IS NULL AND (
            EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = c.grant_id)
            OR EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = c.grant_id))
    """,
    "I5 tokens from an unconsumed device code": """
        SELECT d.grant_id FROM device_codes d
        WHERE d.grant_id IS NOT NULL AND d.consumed_at IS NULL AND (
            EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = d.grant_id)
            OR EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = d.grant_id))
    """,
    "I5 device code consumed without a grant": """
        SELECT user_code FROM device_codes WHERE consumed_at IS NOT NULL AND grant_id IS NULL
    """,
    "I5 one grant for two codes": """
        SELECT grant_id, COUNT(*) FROM authorization_codes
        GROUP BY grant_id HAVING COUNT(*) > 1
    """,
    # REL-12: no orphan grant (neither the code nor the device code nor tokens behind it)
    "REL-12 orphan grant": """
        SELECT g.grant_id FROM grants g
        WHERE NOT EXISTS (SELECT 1 FROM authorization_codes c WHERE c.grant_id = g.grant_id)
          AND NOT EXISTS (SELECT 1 FROM device_codes d WHERE d.grant_id = g.grant_id)
          AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.grant_id)
          AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.grant_id)
    """,
}


async def violations(database_url: str) -> dict[str, list[tuple[object, ...]]]:
    """Rows breaking I2, I5 and the orphan rule; empty when all hold."""
    engine = create_async_engine(database_url)
    found: dict[str, list[tuple[object, ...]]] = {}
    try:
        async with engine.connect() as conn:
            for name, sql in CHECKS.items():
                rows = (await conn.execute(sa.text(sql), {"now": _now_us()})).all()
                if rows:
                    found[name] = [tuple(r) for r in rows]
    finally:
        await engine.dispose()
    return found


@dataclass
class Snapshot:
    """Token digests in the database: all of them, and those usable now."""

    known_at: set[bytes]
    known_rt: set[bytes]
    live_at: set[bytes]
    live_rt: set[bytes]


async def snapshot(database_url: str) -> Snapshot:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            now = {"now": _now_us()}

            async def digests(sql: str) -> set[bytes]:
                return {bytes(r[0]) for r in await conn.execute(sa.text(sql), now)}

            return Snapshot(
                known_at=await digests("SELECT token_hash FROM access_tokens"),
                known_rt=await digests("SELECT token_hash FROM refresh_tokens"),
                live_at=await digests(LIVE_AT),
                live_rt=await digests(LIVE_RT),
            )
    finally:
        await engine.dispose()


@dataclass
class Ledger:
    """What the clients saw: statuses (I4) and the tokens of every 200 response (I1, I3).

    Thread-safe, so load generators in threads can share one.
    """

    statuses: Counter[int] = field(default_factory=Counter)
    access_tokens: list[str] = field(default_factory=list)
    refresh_tokens: list[str] = field(default_factory=list)
    bodies_5xx: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, response: httpx2.Response) -> httpx2.Response:
        with self._lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.bodies_5xx.append(response.text[:300])
            if response.status_code == 200 and response.request.url.path.endswith("/token"):
                body = response.json()
                self.access_tokens.append(body["access_token"])
                if "refresh_token" in body:
                    self.refresh_tokens.append(body["refresh_token"])
        return response

    def assert_no_5xx(self, *, allow_503: bool = False) -> None:
        """I4."""
        bad = {s: n for s, n in self.statuses.items() if s >= 500 and not (allow_503 and s == 503)}
        assert not bad, (bad, self.bodies_5xx[:5])


Introspect = Callable[[str], Awaitable[bool]]


async def check(
    database_url: str,
    ledger: Ledger | None = None,
    introspect: Introspect | None = None,
    *,
    allow_503: bool = False,
    sample: int | None = None,
) -> None:
    """Assert I1–I5 (and no orphans). With a ledger: every acknowledged token is in the
    database (durable) and, with `introspect` (token → active?), the server's answer equals
    the database's view for each (at most `sample` of each kind, newest first).
    """
    broken = await violations(database_url)
    assert not broken, broken
    if ledger is None:
        return
    ledger.assert_no_5xx(allow_503=allow_503)
    db = await snapshot(database_url)
    kinds: Iterable[tuple[str, list[str], set[bytes], set[bytes]]] = (
        ("access", ledger.access_tokens, db.known_at, db.live_at),
        ("refresh", ledger.refresh_tokens, db.known_rt, db.live_rt),
    )
    for kind, tokens, known, live in kinds:
        chosen = tokens[::-1][:sample] if sample else tokens
        missing = [t[:8] for t in chosen if hash_token(t) not in known]
        assert not missing, f"I1: acknowledged {kind} tokens lost: {missing}"
        if introspect is None:
            continue
        for token in chosen:
            expected = hash_token(token) in live
            actual = await introspect(token)
            rule = "I1 (acknowledged token inactive)" if expected else "I3 (dead token active)"
            assert actual == expected, f"{rule}: {kind} {token[:8]}…"

"""Real `authgate serve` deployments for the reliability tests (SECURITY.md §4).

A `Cluster` is either two server processes on one PostgreSQL database (requests alternate
between them) or one `authgate serve --workers 4` on one SQLite file: the two deployments
the races REL-01…REL-04 must survive. Clients and users are seeded through an in-process app
on the same database (tests/parties.py), codes come from a scripted browser at the live
server (tests/http/authorize/browser.py).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx2

from authgate.config import Settings
from authgate.server import build_app
from tests.helpers import ASGIApp, RegisteredClient, lifespan_app
from tests.http.authorize.browser import Browser, code_params, location_params, pkce
from tests.live import LiveServer, free_port, live_server
from tests.parties import Parties, make_parties

SOAK = os.environ.get("AUTHGATE_SOAK") == "1"


def rounds(in_suite: int, soak: int = 100) -> int:
    """Rounds of a race: `soak` under `make soak` (AUTHGATE_SOAK=1), else `in_suite`."""
    return soak if SOAK else in_suite


@dataclass
class Cluster:
    database_url: str
    servers: list[LiveServer]
    parties: Parties
    issuer: str = ""
    _turn: Iterator[int] = field(default_factory=lambda: itertools.count())

    @property
    def bases(self) -> list[str]:
        return [s.base_url for s in self.servers]

    def next_base(self) -> str:
        """The servers in turn (two processes: every other request goes to the other)."""
        return self.bases[next(self._turn) % len(self.bases)]

    def http(self, **kwargs: object) -> httpx2.AsyncClient:
        """A client whose relative URLs alternate between the servers."""
        cluster = self

        async def route(request: httpx2.Request) -> None:
            base = httpx2.URL(cluster.next_base())
            request.url = request.url.copy_with(host=base.host, port=base.port)
            request.headers["host"] = f"{base.host}:{base.port}"

        return httpx2.AsyncClient(
            base_url=self.issuer,
            timeout=kwargs.pop("timeout", 30),  # type: ignore[arg-type]
            event_hooks={"request": [route]},
            **kwargs,  # type: ignore[arg-type]
        )

    def browser(self) -> Browser:
        """A scripted browser at the cluster (its requests alternate between the servers)."""
        return live_browser(self.issuer, self.http())


def live_browser(issuer: str, http: httpx2.AsyncClient | None = None) -> Browser:
    """tests/http/authorize/browser.py's Browser over real HTTP instead of ASGI."""
    b = Browser.__new__(Browser)  # its __init__ wants an app for an ASGI transport
    b.issuer = issuer
    b.http = http or httpx2.AsyncClient(base_url=issuer, timeout=10)
    return b


@contextlib.asynccontextmanager
async def cluster(
    database_url: str, env: dict[str, str] | None = None, *, processes: int | None = None
) -> AsyncIterator[Cluster]:
    """PostgreSQL: two processes; SQLite: one process with four workers (`processes=0`:
    only the seeded database, for tests that run their own servers).
    """
    pg = database_url.startswith("postgresql")
    n = (2 if pg else 1) if processes is None else processes
    ports = [free_port() for _ in range(max(n, 1))]
    issuer = f"http://127.0.0.1:{ports[0]}"
    full_env = {"AUTHGATE_ISSUER": issuer, **(env or {})}
    async with lifespan_app(build_app(Settings(issuer=issuer, database_url=database_url))) as app:
        assert isinstance(app, ASGIApp)
        parties = await make_parties(app)
        with contextlib.ExitStack() as stack:
            servers = [
                stack.enter_context(
                    live_server(database_url, workers=1 if pg else 4, env=full_env, port=port)
                )
                for port in ports[:n]
            ]
            yield Cluster(database_url, servers, parties, issuer=issuer)


async def fresh_code(
    browser: Browser, client: RegisteredClient, *, username: str = "u1", **extra: str
) -> tuple[str, str]:
    """A new authorization code of `client` (C1 of tests/parties.py) and its verifier; the
    browser logs in and consents the first time, later requests get a code at once.
    """
    verifier, challenge = pkce()
    params = code_params(client.client_id, challenge, scope="openid offline_access", **extra)
    response = await browser.authorize(**params)
    if response.status_code in (302, 303) and "code=" in response.headers.get("location", ""):
        return location_params(response)["code"], verifier
    final = await browser.flow(username=username, **params)
    assert final.status_code in (302, 303), final.text[:500]
    return location_params(final)["code"], verifier

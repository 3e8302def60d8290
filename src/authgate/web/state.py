"""What every request can reach: `request.state["ctx"]` etc. (Starlette lifespan state)."""

from __future__ import annotations

from typing import TypedDict

from authgate.config import Settings
from authgate.flows.context import Context
from authgate.web.pages import Pages


class AppState(TypedDict):
    settings: Settings
    ctx: Context
    paths: frozenset[str]  # the paths this app routes (discovery advertises only these)
    templates: Pages  # the HTML pages (authorization code flow)

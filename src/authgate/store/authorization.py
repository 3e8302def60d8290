"""Store protocol, part: sessions, interactions and remembered consents (code flow)."""

from __future__ import annotations

from typing import Protocol


class AuthorizationStoreTx(Protocol):
    """Sessions, interactions and remembered consents (authorization code flow)."""

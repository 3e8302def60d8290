"""Store protocol, part: sessions, interactions and remembered consents (code flow)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from authgate.core.models import Consent, Interaction, Session
from authgate.core.types import ClientId, Subject


class AuthorizationStoreTx(Protocol):
    """Sessions, interactions and remembered consents (authorization code flow)."""

    # browser sessions (the cookie holds the secrets; only hashes are stored)
    async def add_session(self, session: Session) -> None: ...
    async def find_sessions(self, hashes: Sequence[bytes], *, now: datetime) -> list[Session]:
        """The live (unended, unexpired) sessions among `hashes`, in no particular order."""
        ...

    async def end_sessions(self, hashes: Sequence[bytes], *, now: datetime) -> int: ...

    # pending authorization requests
    async def add_interaction(self, interaction: Interaction) -> None: ...
    async def find_interaction(self, interaction_id: str) -> Interaction | None: ...
    async def update_interaction(
        self, interaction_id: str, *, request: str, sub: Subject | None, now: datetime
    ) -> bool:
        """Record progress on a live interaction; False if it is consumed or expired."""
        ...

    async def consume_interaction(self, interaction_id: str, *, now: datetime) -> bool:
        """Mark a live interaction finished; of concurrent callers exactly one wins."""
        ...

    # remembered consent
    async def find_consent(self, sub: Subject, client_id: ClientId) -> Consent | None: ...
    async def save_consent(self, consent: Consent) -> None:
        """Insert or replace the consent of (sub, client_id)."""
        ...

"""What every flow needs besides the store: settings, the key ring, client key sets."""

from __future__ import annotations

from dataclasses import dataclass, field

from authgate.config import Settings
from authgate.flows.client_keys import ClientKeys
from authgate.flows.events import FlowEvents, NoEvents
from authgate.flows.keys import KeyCache
from authgate.store.base import Store


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    store: Store
    keys: KeyCache
    client_keys: ClientKeys
    metrics: FlowEvents = field(default_factory=NoEvents)  # counted after commit

    @property
    def issuer(self) -> str:
        return self.settings.issuer

    @property
    def token_endpoint(self) -> str:
        return f"{self.settings.issuer}/token"

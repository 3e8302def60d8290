"""What flows tell the outside about their outcomes, for metrics (issue 8 "operations").

Flows call `ctx.metrics.<event>(…)` after their transaction has committed, so an event is
never counted for work that rolled back. The web layer implements FlowEvents on Prometheus
(web/metrics.py); the CLI and tests get NoEvents. Labels are small closed sets (grant type,
token type, format, outcome): never a client id, a subject or a token.
"""

from __future__ import annotations

from typing import Protocol


class FlowEvents(Protocol):
    def client_authenticated(self, client_id: str) -> None:
        """The request acts for this client (its log lines then name it)."""
        ...

    def token_issued(self, grant_type: str, token_type: str, token_format: str) -> None:
        """One token issued at the token endpoint (token_type: access, refresh or id)."""
        ...

    def tokens_revoked(self, reason: str, count: int) -> None:
        """Tokens or grants revoked (reason: a core.types.RevokedBy value)."""
        ...

    def reuse_detected(self, reason: str) -> None:
        """A spent single-use value was presented again, so its grant was revoked (reason:
        RevokedBy.REPLAY, CODE_REUSE or DEVICE_CODE_REUSE).
        """
        ...

    def device_flow(self, outcome: str) -> None:
        """A device authorization outcome (RFC 8628: approved, denied, expired, slow_down …)."""
        ...

    def rate_limit_hit(self, limit: str) -> None:
        """A request refused by a rate limit (limit: token, login, user_code …)."""
        ...

    def rows_purged(self, table: str, count: int) -> None:
        """The janitor deleted `count` rows of `table`."""
        ...


class NoEvents:
    """FlowEvents that go nowhere."""

    def client_authenticated(self, client_id: str) -> None:
        return None

    def token_issued(self, grant_type: str, token_type: str, token_format: str) -> None:
        return None

    def tokens_revoked(self, reason: str, count: int) -> None:
        return None

    def reuse_detected(self, reason: str) -> None:
        return None

    def device_flow(self, outcome: str) -> None:
        return None

    def rate_limit_hit(self, limit: str) -> None:
        return None

    def rows_purged(self, table: str, count: int) -> None:
        return None

"""Errors whose state changes must persist (STYLE.md "Rules of the house": record the state
change, leave the transaction, then raise).

A flow running inside a transaction it does not own (a grant handler of the token endpoint)
raises RaiseAfterCommit; the owner of the transaction catches it inside the `async with`, so
the transaction commits, and raises the carried OAuthError once it has left it. Used when a
replayed refresh token revokes its grant (RFC 9700 §4.14.2) and the client must still get
`invalid_grant`. `after_commit`, if given, runs once the transaction has committed and
before the error is raised (a reuse detection is counted in the metrics only then).
"""

from __future__ import annotations

from collections.abc import Callable

from authgate.core.errors import OAuthError
from authgate.core.types import RevokedBy
from authgate.flows.events import FlowEvents


class RaiseAfterCommit(Exception):
    def __init__(self, error: OAuthError, *, after_commit: Callable[[], None] | None = None):
        super().__init__(error.error)
        self.error = error
        self.after_commit = after_commit


def reuse_refused(events: FlowEvents, error: OAuthError, reason: RevokedBy) -> RaiseAfterCommit:
    """The answer to a spent single-use value presented again: `error` once the revocation
    of its grant is committed, the detection counted then (`reason`: REPLAY, CODE_REUSE or
    DEVICE_CODE_REUSE).
    """
    return RaiseAfterCommit(error, after_commit=lambda: events.reuse_detected(reason.value))

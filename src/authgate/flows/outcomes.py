"""Errors whose state changes must persist (STYLE.md "Rules of the house": record the state
change, leave the transaction, then raise).

A flow running inside a transaction it does not own (a grant handler of the token endpoint)
raises RaiseAfterCommit; the owner of the transaction catches it inside the `async with`, so
the transaction commits, and raises the carried OAuthError once it has left it. Used when a
replayed refresh token revokes its grant (RFC 9700 §4.14.2) and the client must still get
`invalid_grant`.
"""

from __future__ import annotations

from authgate.core.errors import OAuthError


class RaiseAfterCommit(Exception):
    def __init__(self, error: OAuthError) -> None:
        super().__init__(error.error)
        self.error = error

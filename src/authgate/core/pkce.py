"""RFC 7636: Proof Key for Code Exchange, `S256` only (RFC 9700 §2.1.1).

§4.1: code_verifier = 43*128unreserved. §4.2: the S256 challenge is
BASE64URL(SHA256(ASCII(code_verifier))), 43 characters. §4.6: the server recomputes the
challenge from the verifier and compares. RFC 9700 §2.1.1: "Authorization servers MUST
mitigate PKCE Downgrade Attacks by ensuring that a token request containing a
`code_verifier` parameter is accepted only if a `code_challenge` parameter was present in
the authorization request", and S256 "is the only such method" that does not expose the
verifier, so `plain` is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from authgate.core.errors import InvalidGrantError, InvalidRequestError

S256 = "S256"
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: the S256 code_challenge of `verifier`."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def validate_challenge(challenge: str | None, method: str | None, *, required: bool) -> str | None:
    """The code_challenge of an authorization request, or None when PKCE is optional for
    this client and none was sent; raises InvalidRequestError (RFC 7636 §4.4.1).
    """
    if challenge is None:
        if method is not None:
            raise InvalidRequestError("code_challenge_method sent without code_challenge")
        if required:
            raise InvalidRequestError("code_challenge required (PKCE with S256, RFC 7636)")
        return None
    if method is None:
        # RFC 7636 §4.3: a missing method means "plain", which authgate refuses.
        raise InvalidRequestError("code_challenge_method must be S256 (plain is not supported)")
    if method != S256:
        raise InvalidRequestError("code_challenge_method must be S256 (plain is not supported)")
    if _CHALLENGE.fullmatch(challenge) is None:
        raise InvalidRequestError("code_challenge must be 43 base64url characters (S256)")
    return challenge


def verify(challenge: str | None, verifier: str | None) -> None:
    """RFC 7636 §4.6 at the token endpoint; raises InvalidGrantError on any mismatch."""
    if challenge is None:
        if verifier is not None:
            # RFC 9700 §2.1.1: PKCE downgrade.
            raise InvalidGrantError("code_verifier sent for a code issued without code_challenge")
        return
    if verifier is None:
        raise InvalidGrantError("code_verifier required: the code was issued with PKCE")
    if _VERIFIER.fullmatch(verifier) is None:
        raise InvalidGrantError("code_verifier must be 43 to 128 unreserved characters")
    if not hmac.compare_digest(s256(verifier), challenge):
        raise InvalidGrantError("code_verifier does not match code_challenge")

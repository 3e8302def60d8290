"""What needs the user's consent, remembered consent, and the `offline_access` rule.

OIDC Core §11: the OP "MUST ensure that the prompt parameter contains consent unless other
conditions for processing the request permitting offline access to the requested resources
are in place". authgate's rule (SECURITY.md SEC-32): in an OpenID request `offline_access`
counts only when the client may use the `refresh_token` grant and the request carries
`prompt=consent`, or the user already granted offline access to this client; otherwise it
is dropped from the request (not an error). A plain OAuth request (no `openid`) gets a
refresh token whenever the client may use the `refresh_token` grant.

RFC 8252 §8.6: "authorization servers SHOULD NOT process authorization requests
automatically without user consent or interaction, except when the identity of the client
can be assured". A public native client's identity cannot be assured (any app can claim its
loopback or private-use redirect URI), so it is asked every time.
"""

from __future__ import annotations

from authgate.core.errors import ConsentRequiredError, InteractionRequiredError, OAuthError
from authgate.core.models import Client
from authgate.core.scopes import OFFLINE_ACCESS, OPENID
from authgate.core.types import ApplicationType, GrantType, Prompt


def offline_allowed(
    client: Client,
    *,
    openid: bool,
    prompt: frozenset[Prompt],
    remembered: frozenset[str] | None,
) -> bool:
    """Whether an `offline_access` request is honoured (SEC-32, OIDC Core §11)."""
    if GrantType.REFRESH_TOKEN not in client.grant_types:
        return False
    if not openid:
        return True
    return Prompt.CONSENT in prompt or (remembered is not None and OFFLINE_ACCESS in remembered)


def effective_scope(
    requested: frozenset[str],
    client: Client,
    *,
    prompt: frozenset[Prompt],
    remembered: frozenset[str] | None,
) -> frozenset[str]:
    """The scope the request will actually be granted if the user agrees."""
    openid = OPENID in requested
    if OFFLINE_ACCESS in requested and not offline_allowed(
        client, openid=openid, prompt=prompt, remembered=remembered
    ):
        return requested - {OFFLINE_ACCESS}  # OIDC Core §11: ignored, not an error
    return requested


def always_asks(client: Client) -> bool:
    """RFC 8252 §8.6: a public native client is never approved without the user."""
    return client.is_public and client.application_type is ApplicationType.NATIVE


def needs_consent(
    scope: frozenset[str],
    client: Client,
    *,
    prompt: frozenset[Prompt],
    remembered: frozenset[str] | None,
    details: bool = False,
) -> bool:
    """OIDC Core §3.1.2.4: ask unless the user already agreed to all of `scope`. Remembered
    consent covers scopes only: a request with authorization details (RFC 9396 §3: a
    payment, a document to sign) is shown to the user every time.
    """
    if Prompt.CONSENT in prompt or always_asks(client) or details:
        return True
    return remembered is None or not scope <= remembered


def consent_error(
    scope: frozenset[str], remembered: frozenset[str] | None, details: bool = False
) -> OAuthError:
    """OIDC Core §3.1.2.6, for `prompt=none`: consent missing, or interaction needed
    although consent was given (RFC 8252 §8.6).
    """
    if details:
        return ConsentRequiredError("authorization_details need the user's consent each time")
    if remembered is not None and scope <= remembered:
        return InteractionRequiredError("this client needs the user to approve each sign-in")
    return ConsentRequiredError("the user has not consented to this client and scope")


def remember(previous: frozenset[str] | None, approved: frozenset[str]) -> frozenset[str]:
    """The remembered consent after the user approves `approved`."""
    return (previous or frozenset()) | approved


def issues_refresh_token(client: Client, scope: frozenset[str]) -> bool:
    """SEC-32: whether a code exchange for a grant of `scope` returns a refresh token."""
    if GrantType.REFRESH_TOKEN not in client.grant_types:
        return False
    if OPENID in scope:
        return OFFLINE_ACCESS in scope  # granted only under offline_allowed above
    return True

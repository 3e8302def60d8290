"""Request parameters: a raw list of name/value pairs to a typed, checked mapping.

RFC 6749 §3.1 and §3.2: "Parameters sent without a value MUST be treated as if they were
omitted from the request." and "Request and response parameters MUST NOT be included more
than once." Unknown parameters are ignored (RFC 6749 §3.1), so only the parameters authgate
knows are checked for repetition. RFC 8707 `resource` may repeat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from authgate.core.errors import InvalidRequestError

KNOWN = frozenset(
    {
        "acr_values",
        "assertion",
        "audience",
        "authorization_details",
        "claims",
        "claims_locales",
        "client_assertion",
        "client_assertion_type",
        "client_id",
        "client_secret",
        "code",
        "code_challenge",
        "code_challenge_method",
        "code_verifier",
        "decision",
        "device_code",
        "display",
        "grant_type",
        "id_token_hint",
        "login_hint",
        "max_age",
        "nonce",
        "password",
        "post_logout_redirect_uri",
        "prompt",
        "redirect_uri",
        "refresh_token",
        "registration",
        "request",
        "request_uri",
        "resource",
        "response_mode",
        "response_type",
        "scope",
        "state",
        "token",
        "token_type_hint",
        "ui_locales",
        "user_code",
        "username",
    }
)
REPEATABLE = frozenset({"resource"})


@dataclass(frozen=True, slots=True)
class Params:
    """Known request parameters with their values; empty values already dropped."""

    values: Mapping[str, str]
    repeated: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def get_all(self, name: str) -> tuple[str, ...]:
        """Every value of a repeatable parameter (RFC 8707 `resource`)."""
        return self.repeated.get(name, ())

    def require(self, name: str) -> str:
        value = self.values.get(name)
        if value is None:
            raise InvalidRequestError(f"missing parameter: {name}")
        return value

    def __contains__(self, name: object) -> bool:
        return name in self.values


def parse_params(pairs: Iterable[tuple[str, str]], *, max_length: int) -> Params:
    """Check repetition and length of the parameters authgate knows; ignore the others."""
    values: dict[str, str] = {}
    repeated: dict[str, list[str]] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name not in KNOWN:
            continue  # RFC 6749 §3.1: unknown parameters are ignored
        if len(value) > max_length:
            raise InvalidRequestError(f"parameter {name} is longer than {max_length} characters")
        if name in REPEATABLE:
            if value:
                repeated.setdefault(name, []).append(value)
                values.setdefault(name, value)
            continue
        if name in seen:
            raise InvalidRequestError(f"parameter {name} is repeated (RFC 6749 section 3.1)")
        seen.add(name)
        if value:
            values[name] = value
    return Params(values, {k: tuple(v) for k, v in repeated.items()})


def from_mapping(values: Mapping[str, str]) -> Params:
    """Params from an already single-valued mapping (the CLI, stored requests)."""
    return Params({k: v for k, v in values.items() if v})

"""OIDC Core §5.5: the `claims` request parameter, for the ID token and UserInfo.

The value is a JSON object whose members `userinfo` and `id_token` each name claims, as
`null` (requested voluntarily) or an object with `essential` (boolean), `value` or `values`
(§5.5.1). Other members are ignored. The parsed request is stored with the grant in a
canonical JSON form and read back by the token and UserInfo endpoints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from authgate.core.errors import InvalidRequestError

TARGETS = ("userinfo", "id_token")


@dataclass(frozen=True, slots=True)
class ClaimSpec:
    """One requested claim (§5.5.1)."""

    essential: bool = False
    value: object = None
    values: tuple[object, ...] | None = None


@dataclass(frozen=True, slots=True)
class ClaimsRequest:
    """The claims asked for, per target."""

    userinfo: Mapping[str, ClaimSpec] = field(default_factory=dict)
    id_token: Mapping[str, ClaimSpec] = field(default_factory=dict)

    def target(self, name: str) -> Mapping[str, ClaimSpec]:
        return self.userinfo if name == "userinfo" else self.id_token

    def requested_sub(self) -> str | None:
        """§5.5.1: a `sub` asked for with a value names the only acceptable End-User."""
        spec = self.id_token.get("sub")
        return spec.value if spec is not None and isinstance(spec.value, str) else None

    def is_essential(self, target: str, name: str) -> bool:
        spec = self.target(target).get(name)
        return spec is not None and spec.essential

    def names(self) -> frozenset[str]:
        return frozenset(self.userinfo) | frozenset(self.id_token)


EMPTY = ClaimsRequest()


def parse_claims(value: str | None) -> str | None:
    """Validate a `claims` parameter; returns its canonical JSON (or None when absent)."""
    if value is None:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        raise InvalidRequestError("claims must be a JSON object (OIDC Core 5.5)") from None
    if not isinstance(data, dict):
        raise InvalidRequestError("claims must be a JSON object (OIDC Core 5.5)")
    canonical: dict[str, object] = {}
    for target in TARGETS:
        if target not in data:
            continue
        members = data[target]
        if not isinstance(members, dict):
            raise InvalidRequestError(f"claims.{target} must be a JSON object")
        canonical[target] = {name: _check_spec(target, name, s) for name, s in members.items()}
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"))


def _check_spec(target: str, name: str, spec: object) -> object:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise InvalidRequestError(f"claims.{target}.{name} must be null or a JSON object")
    if "essential" in spec and not isinstance(spec["essential"], bool):
        raise InvalidRequestError(f"claims.{target}.{name}.essential must be a boolean")
    if "values" in spec and not isinstance(spec["values"], list):
        raise InvalidRequestError(f"claims.{target}.{name}.values must be an array")
    return spec


def load_claims(text: str | None) -> ClaimsRequest:
    """A stored canonical `claims` value, parsed (EMPTY when none was requested)."""
    if not text:
        return EMPTY
    data = json.loads(text)
    parts: dict[str, dict[str, ClaimSpec]] = {}
    for target in TARGETS:
        members = data.get(target, {})
        parts[target] = {name: _spec(raw) for name, raw in members.items()}
    return ClaimsRequest(userinfo=parts["userinfo"], id_token=parts["id_token"])


def _spec(raw: object) -> ClaimSpec:
    if not isinstance(raw, dict):
        return ClaimSpec()
    values = raw.get("values")
    return ClaimSpec(
        essential=raw.get("essential") is True,
        value=raw.get("value"),
        values=tuple(values) if isinstance(values, list) else None,
    )

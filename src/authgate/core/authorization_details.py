"""RFC 9396 Rich Authorization Requests: parse, validate, canonical form, and comparison.

`parse` turns the `authorization_details` parameter into a list of objects after checking,
in this order: size and nesting bounds before decoding (RFC 9396 §11.4, SECURITY.md SEC-75),
strict JSON, an array of objects (§2), a `type` the server declares and the client may use
(§2, §10), the common fields of §2.2 of the right shape, and the type's JSON Schema (§5).
Every failure is `invalid_authorization_details` naming the entry and the field (§5).

`narrow` is the §6 and §6.1 rule of every token and refresh request: without details the
token carries everything granted; with them, the request may ask for no more than the
grant holds (`covers`). The comparison is exact (§12: "No additional transformation or
normalization"): "EUR" does not authorize "eur".

This is the only module that imports jsonschema (STYLE.md §2); each type's schema is
compiled once, by `compile_type`, when the settings are built.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from jsonschema import exceptions as schema_errors, validators

from authgate.core.errors import ConfigError, InvalidAuthorizationDetailsError, to_error_charset

MAX_LENGTH = 8192  # characters of the parameter (SEC-75)
MAX_DEPTH = 10  # nested arrays/objects, the outer array included (SEC-75)
MAX_ENTRIES = 32  # objects in one request
# RFC 9396 §2.2: the common data fields and their shapes.
COMMON_ARRAYS = ("locations", "actions", "datatypes", "privileges")
IDENTIFIER = "identifier"
COMMON_FIELDS = frozenset({"type", IDENTIFIER, *COMMON_ARRAYS})
# A number written as a JSON string ("123.50"): may_lower compares these as numbers.
_NUMERIC = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
_OPEN_KEYWORDS = frozenset(
    {"additionalProperties", "patternProperties", "unevaluatedProperties", "allOf", "anyOf"}
    | {"oneOf", "$ref", "$dynamicRef", "if", "not"}
)

Detail = dict[str, object]
Path = tuple[str | int, ...]  # where in the parameter: entry index, then members
Problem = tuple[Path, str]  # a field and what is wrong with it


class _Validator(Protocol):
    def iter_errors(self, instance: object) -> Iterator[schema_errors.ValidationError]: ...


@dataclass(frozen=True, slots=True)
class DetailsType:
    """One declared type: its compiled schema and the fields a request may lower."""

    name: str
    validator: _Validator
    may_lower: tuple[tuple[str, ...], ...] = ()


# ---------------------------------------------------------------- types (at start)


def compile_type(name: str, schema: str, may_lower: Sequence[str] = ()) -> DetailsType:
    """Check and compile a type's JSON Schema once; ConfigError (one line) if it is bad."""
    try:
        document = json.loads(schema)
    except ValueError:
        raise ConfigError(f"authorization details type {name!r}: schema is not JSON") from None
    if not isinstance(document, dict):
        raise ConfigError(f"authorization details type {name!r}: schema must be a JSON object")
    cls = validators.validator_for(document, default=validators.Draft202012Validator)
    try:
        cls.check_schema(document)
    except schema_errors.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise ConfigError(
            f"authorization details type {name!r}: invalid JSON Schema at {where}: "
            + " ".join(exc.message.split())
        ) from None
    for ref in _refs(document):
        if _resolve(document, ref) is None:
            raise ConfigError(
                f"authorization details type {name!r}: $ref {ref!r} does not point into the "
                "schema (only local references such as #/$defs/name are supported)"
            )
    paths = tuple(tuple(p.split(".")) for p in may_lower)
    return DetailsType(name, cls(_closed(document, top=True)), paths)


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(document: object, ref: str) -> object | None:
    """A local JSON Pointer reference (RFC 6901) resolved in `document`, or None."""
    if ref == "#":
        return document
    if not ref.startswith("#/"):
        return None
    node = document
    for raw in urllib.parse.unquote(ref[2:]).split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _closed(schema: dict[str, object], *, top: bool = False) -> dict[str, object]:
    """RFC 9396 §5: an object "containing unknown fields" is refused. An object schema that
    lists `properties` and says nothing else about other members is taken as closed
    (`additionalProperties: false`); the common fields of §2.2 are always known.
    """
    result = dict(schema)
    properties = result.get("properties")
    if isinstance(properties, dict):
        # Only what `properties` and `items` reach from the root: a `$defs` entry may be
        # referenced where other members are allowed, so it is left as written.
        result["properties"] = {
            k: _closed(v) if isinstance(v, dict) else v for k, v in properties.items()
        }
        if not _OPEN_KEYWORDS & result.keys():
            result["additionalProperties"] = False
    items = result.get("items")
    if isinstance(items, dict):
        result["items"] = _closed(items)
    if top:
        known = result.get("properties")
        known = known if isinstance(known, dict) else {}
        result["properties"] = {**dict.fromkeys(sorted(COMMON_FIELDS), True), **known}
    return result


# ---------------------------------------------------------------- parsing


def parse(text: str, types: Mapping[str, DetailsType], *, allowed: frozenset[str]) -> list[Detail]:
    """RFC 9396 §2 and §5: the objects of an `authorization_details` parameter, each of a
    type the server knows and `allowed` lists, satisfying its schema.
    """
    value = _decode(text)
    if not isinstance(value, list):
        raise InvalidAuthorizationDetailsError("authorization_details must be a JSON array")
    if len(value) > MAX_ENTRIES:
        raise InvalidAuthorizationDetailsError(
            f"authorization_details has more than {MAX_ENTRIES} objects"
        )
    for index, entry in enumerate(value):
        _check_entry(entry, index, types, allowed)
    return value


def from_parameter(
    value: str | None, types: Mapping[str, DetailsType], *, allowed: frozenset[str]
) -> str | None:
    """The canonical form of a request's `authorization_details` (authorization, device
    authorization and client_credentials requests); None when absent or an empty array.
    """
    if value is None:
        return None
    details = parse(value, types, allowed=allowed)
    return canonical(details) if details else None


def _decode(text: str) -> object:
    # SEC-75: bounded before decoding, so no size or depth reaches the JSON parser's limits.
    if len(text) > MAX_LENGTH:
        raise InvalidAuthorizationDetailsError(
            f"authorization_details is longer than {MAX_LENGTH} characters"
        )
    if _depth(text) > MAX_DEPTH:
        raise InvalidAuthorizationDetailsError(
            f"authorization_details is nested deeper than {MAX_DEPTH} levels"
        )
    try:
        value = json.loads(
            text, object_pairs_hook=_unique, parse_constant=_no_constant, parse_float=_finite
        )
    except ValueError as exc:  # JSONDecodeError, duplicate members, NaN, 1e999, huge integers
        raise InvalidAuthorizationDetailsError(
            "authorization_details is not valid JSON", detail=str(exc)
        ) from None
    if not _clean(value):
        raise InvalidAuthorizationDetailsError(
            "authorization_details contains an invalid character (unpaired surrogate or NUL)"
        )
    return value


def _depth(text: str) -> int:
    """The deepest nesting of arrays and objects, counted outside JSON strings."""
    deepest = depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _unique(pairs: list[tuple[str, object]]) -> Detail:
    # RFC 8259 §4: member names SHOULD be unique; a repeated one could be read two ways.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("repeated member name")
    return result


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _clean(value: object) -> bool:
    """No unpaired surrogates (not UTF-8) and no NUL (not storable as text) anywhere."""
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return all(_clean(k) and _clean(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_clean(v) for v in value)
    return True


def _check_entry(
    entry: object, index: int, types: Mapping[str, DetailsType], allowed: frozenset[str]
) -> None:
    where: Path = (index,)
    if not isinstance(entry, dict):
        raise _invalid(where, "must be a JSON object")
    kind = entry.get("type")
    if not isinstance(kind, str):
        raise _invalid((*where, "type"), "is required and must be a string")
    declared = types.get(kind)
    if declared is None:
        raise _invalid((*where, "type"), f"{printable(kind)} is not a known type")
    if kind not in allowed:
        raise _invalid((*where, "type"), f"this client may not use type {printable(kind)}")
    for name in COMMON_ARRAYS:
        found = entry.get(name)
        if name in entry and not (
            isinstance(found, list) and all(isinstance(x, str) for x in found)
        ):
            raise _invalid((*where, name), "must be an array of strings")
    if IDENTIFIER in entry and not isinstance(entry[IDENTIFIER], str):
        raise _invalid((*where, IDENTIFIER), "must be a string")
    error = schema_errors.best_match(declared.validator.iter_errors(entry))
    if error is not None:
        raise _schema_problem(where, error)


def _schema_problem(
    where: Path, error: schema_errors.ValidationError
) -> InvalidAuthorizationDetailsError:
    path: Path = (*where, *error.absolute_path)
    keyword = str(error.validator)
    instance = error.instance
    if keyword == "required" and isinstance(instance, dict):
        missing = next((p for p in error.validator_value if p not in instance), "?")
        return _invalid((*path, str(missing)), "is required")
    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = error.schema.get("properties", {})
        patterns = error.schema.get("patternProperties", {})
        extra = next(
            (k for k in instance if k not in known and not any(re.search(p, k) for p in patterns)),
            "?",
        )
        return _invalid((*path, extra), "is not a known field of this type")
    if keyword == "type":
        expected = error.validator_value
        names = expected if isinstance(expected, list) else [expected]
        return _invalid(path, "must be of type " + " or ".join(printable(str(n)) for n in names))
    if keyword in ("enum", "const"):
        return _invalid(path, "is not an allowed value")
    return _invalid(path, f"does not satisfy the schema ({printable(keyword)})")


def _invalid(path: Path, reason: str) -> InvalidAuthorizationDetailsError:
    return InvalidAuthorizationDetailsError(f"{describe(path)}: {reason}")


def describe(path: Path) -> str:
    """`authorization_details[0].instructedAmount.amount`, safe for error_description."""
    text = "authorization_details"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else "." + printable(part)
    return text


def printable(value: str, limit: int = 40) -> str:
    """Client-supplied text shortened and fitted to the RFC 6749 §5.2 charset."""
    return to_error_charset(value[:limit])


# ---------------------------------------------------------------- stored form


def canonical(details: Sequence[Detail]) -> str:
    """The stored form: compact JSON with sorted member names, entries in request order."""
    return json.dumps(list(details), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load(stored: str | None) -> list[Detail] | None:
    """Details stored by authgate (already validated) back to JSON values."""
    if stored is None:
        return None
    value: list[Detail] = json.loads(stored)
    return value


# ---------------------------------------------------------------- comparison (§6, §6.1)


def narrow(
    requested: str | None,
    granted: str | None,
    types: Mapping[str, DetailsType],
    *,
    allowed: frozenset[str],
) -> str | None:
    """RFC 9396 §6: the details a token request gets. Without `authorization_details` the
    token carries everything granted; with it, exactly what was asked, which must be
    covered by the grant (§6.1), else invalid_authorization_details.
    """
    if requested is None:
        return granted
    asked = parse(requested, types, allowed=allowed)
    check_covered(asked, load(granted) or [], types)
    return canonical(asked)


def covers(
    granted: Sequence[Detail], requested: Sequence[Detail], types: Mapping[str, DetailsType]
) -> bool:
    """RFC 9396 §6.1: whether `requested` asks for no more than `granted` holds."""
    return _unmatched(requested, granted, types) is None


def check_covered(
    requested: Sequence[Detail], granted: Sequence[Detail], types: Mapping[str, DetailsType]
) -> None:
    """`covers`, raising invalid_authorization_details naming the first entry and field
    that asks for more than the grant holds.
    """
    index = _unmatched(requested, granted, types)
    if index is None:
        return
    entry = requested[index]
    kind = entry.get("type")
    candidates = [g for g in granted if g.get("type") == kind]
    if not candidates:
        raise _invalid((index, "type"), "no authorization details of this type were granted")
    problems = [_problem(entry, g, types) for g in candidates]
    found = next((p for p in problems if p is not None), None)
    if found is None:
        raise _invalid((index,), "repeats a granted entry that another entry already uses")
    path, reason = found
    raise _invalid((index, *path), reason)


def _unmatched(
    requested: Sequence[Detail], granted: Sequence[Detail], types: Mapping[str, DetailsType]
) -> int | None:
    """The first requested entry that no granted entry can cover, each granted entry
    covering at most one (two requests for one payment of 123.50 would be 247.00): a
    bipartite matching by augmenting paths (Kuhn). None when every entry is covered.
    """
    fits = [[j for j, g in enumerate(granted) if _problem(r, g, types) is None] for r in requested]
    owner: dict[int, int] = {}  # granted index → the requested index it covers

    def place(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or place(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return next((i for i in range(len(requested)) if not place(i, set())), None)


def _problem(
    requested: Detail, granted: Detail, types: Mapping[str, DetailsType]
) -> Problem | None:
    """Why `granted` does not cover `requested` (a field and a reason), or None (§6.1)."""
    if requested.get("type") != granted.get("type"):
        return ("type",), "differs from the granted type"
    shape = _same_members(requested, granted, ())
    if shape is not None:
        return shape
    for name in COMMON_ARRAYS:
        if name in granted:
            # §6.1: a common-field array asks for less when it is a subset.
            got = set(_strings(granted[name]))
            extra = [x for x in _strings(requested[name]) if x not in got]
            if extra:
                return (name,), f"asks for {printable(extra[0])}, which was not granted"
    if requested.get(IDENTIFIER) != granted.get(IDENTIFIER):
        return (IDENTIFIER,), "differs from the granted identifier"
    declared = types.get(str(granted["type"]))
    may_lower = declared.may_lower if declared else ()
    for name in sorted(granted.keys() - COMMON_FIELDS):
        # The type's own fields: equal, unless the type lets a number be lowered.
        found = _value_problem(requested[name], granted[name], (name,), may_lower)
        if found is not None:
            return found
    return None


def _same_members(requested: Detail, granted: Detail, path: Path) -> Problem | None:
    """An object asks for no more only with the members granted: leaving one out could
    lift a limit, adding one could ask for something else.
    """
    missing = sorted(granted.keys() - requested.keys())
    if missing:
        return (*path, missing[0]), "is missing; the granted entry has it"
    extra = sorted(requested.keys() - granted.keys())
    if extra:
        return (*path, extra[0]), "was not granted"
    return None


def _strings(value: object) -> list[str]:
    return [x for x in value if isinstance(x, str)] if isinstance(value, list) else []


def _value_problem(
    requested: object, granted: object, path: Path, may_lower: Sequence[tuple[str, ...]]
) -> Problem | None:
    if isinstance(granted, dict):
        if not isinstance(requested, dict):
            return path, "differs from the granted value"
        shape = _same_members(requested, granted, path)
        if shape is not None:
            return shape
        for name in sorted(granted):
            found = _value_problem(requested[name], granted[name], (*path, name), may_lower)
            if found is not None:
                return found
        return None
    if isinstance(granted, list):
        if not isinstance(requested, list) or len(requested) != len(granted):
            return path, "differs from the granted value"
        for i, (r, g) in enumerate(zip(requested, granted, strict=True)):
            found = _value_problem(r, g, (*path, i), may_lower)
            if found is not None:
                return found
        return None
    fields = tuple(p for p in path if isinstance(p, str))
    if any(fields[: len(p)] == p for p in may_lower):
        lowered = _lowered(requested, granted)
        if lowered is not None:
            return None if lowered else (path, "is more than granted")
    return None if _same(requested, granted) else (path, "differs from the granted value")


def _number(value: object) -> Decimal | None:
    """A JSON number, or a number written as a string ("123.50"), as a Decimal."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(repr(value))
    if isinstance(value, str) and _NUMERIC.fullmatch(value):
        return Decimal(value)
    return None


def _lowered(requested: object, granted: object) -> bool | None:
    """A `may_lower` value: the same, or lowered towards zero but not below it. None when
    the two are not both numbers or both numeric strings (then they must be equal).
    """
    if isinstance(requested, str) is not isinstance(granted, str):
        return None
    r, g = _number(requested), _number(granted)
    if r is None or g is None:
        return None
    return r == g or Decimal(0) <= r <= g


def _same(requested: object, granted: object) -> bool:
    """JSON equality: strings exactly (§12, no normalisation), numbers by value, and
    `true` never equal to `1`.
    """
    if isinstance(requested, bool) or isinstance(granted, bool):
        return requested is granted
    if isinstance(requested, int | float) and isinstance(granted, int | float):
        return requested == granted
    return type(requested) is type(granted) and requested == granted

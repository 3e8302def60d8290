"""RFC 9396: parsing, validation against the declared schemas, canonical form, and the
§6.1 comparison (with hypothesis: reflexive, transitive, never more than the grant holds).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from authgate.config import AuthorizationDetailsType, load
from authgate.core import authorization_details as rar
from authgate.core.authorize import AuthorizationRequest, validate_request
from authgate.core.consent import consent_error, needs_consent
from authgate.core.errors import (
    ConfigError,
    ConsentRequiredError,
    InvalidAuthorizationDetailsError,
    is_error_charset,
)
from authgate.core.params import from_mapping
from authgate.core.prompt import Account, Decision, Progress, Step, decide
from authgate.core.types import Prompt, Subject
from tests.unit.authz_fixtures import C1, NOW, client, request

# INTERFACE.md's payment_initiation type, with the amount allowed to be lowered.
PAYMENT_SCHEMA = json.dumps(
    {
        "type": "object",
        "required": ["instructedAmount"],
        "properties": {
            "instructedAmount": {
                "type": "object",
                "required": ["currency", "amount"],
                "properties": {"currency": {"type": "string"}, "amount": {"type": "string"}},
            },
            "creditorName": {"type": "string"},
            "creditorAccount": {"type": "object", "properties": {"iban": {"type": "string"}}},
            "remittanceInformationUnstructured": {"type": "string"},
        },
    }
)
ACCOUNTS_SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {
            "level": {"enum": ["basic", "full"]},
            "limit": {"type": "number"},
            "flag": {"type": ["boolean", "null"]},
            "tags": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "ref": {"type": "string", "pattern": "^[A-Z]+$"},
        },
    }
)
TYPES = {
    "payment_initiation": rar.compile_type(
        "payment_initiation", PAYMENT_SCHEMA, ["instructedAmount.amount"]
    ),
    "account_information": rar.compile_type("account_information", ACCOUNTS_SCHEMA, ["limit"]),
}
ALL = frozenset(TYPES)
ALICE = Account("s1", Subject("u1"), "alice", NOW)


def payment(amount: str = "123.50", currency: str = "EUR", **extra: Any) -> dict[str, Any]:
    return {
        "type": "payment_initiation",
        "instructedAmount": {"currency": currency, "amount": amount},
        "creditorName": "Merchant A",
        "creditorAccount": {"iban": "DE02100100109307118603"},
        **extra,
    }


def accounts(**fields: Any) -> dict[str, Any]:
    return {"type": "account_information", **fields}


def parse(value: object, allowed: frozenset[str] = ALL) -> list[dict[str, object]]:
    text = value if isinstance(value, str) else json.dumps(value)
    return rar.parse(text, TYPES, allowed=allowed)


def refused(value: object, allowed: frozenset[str] = ALL) -> str:
    with pytest.raises(InvalidAuthorizationDetailsError) as caught:
        parse(value, allowed)
    description = caught.value.description
    assert description is not None and is_error_charset(description)
    return description


def mismatch(requested: list[Any], granted: list[Any]) -> str:
    with pytest.raises(InvalidAuthorizationDetailsError) as caught:
        rar.check_covered(requested, granted, TYPES)
    assert not rar.covers(granted, requested, TYPES)
    return str(caught.value.description)


# ---------------------------------------------------------------- types


def test_a_type_compiles_with_its_may_lower_paths() -> None:
    declared = TYPES["payment_initiation"]
    assert declared.name == "payment_initiation"
    assert declared.may_lower == (("instructedAmount", "amount"),)


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ("{", "schema is not JSON"),
        ("[]", "schema must be a JSON object"),
        ('{"type": "objec"}', "invalid JSON Schema at type: "),
        ('{"properties": {"a": {"pattern": "("}}}', "invalid JSON Schema at properties/a/pattern"),
        ('{"minLength": -1}', "invalid JSON Schema at minLength"),
        ('{"$ref": "https://example.test/s.json"}', "does not point into the schema"),
        ('{"$ref": "#/$defs/missing"}', "does not point into the schema"),
        ('{"allOf": [{"$ref": "#/allOf/7"}]}', "does not point into the schema"),
        ('{"$ref": "#anchor"}', "does not point into the schema"),
    ],
)
def test_a_bad_schema_is_one_config_line_naming_the_type(schema: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        rar.compile_type("payment", schema)
    message = str(caught.value)
    assert message.startswith("authorization details type 'payment': ")
    assert reason in message and "\n" not in message


def test_local_references_resolve() -> None:
    schema = {
        "$defs": {"a~/b": {"type": "string"}, "list": {"anyOf": [{"type": "integer"}]}},
        "properties": {
            "x": {"$ref": "#/$defs/a~0~1b"},
            "y": {"$ref": "#/$defs/list/anyOf/0"},
            "z": {"$ref": "#"},
        },
    }
    declared = rar.compile_type("t", json.dumps(schema))
    assert rar.parse('[{"type":"t","x":"s","y":1}]', {"t": declared}, allowed=frozenset({"t"}))
    with pytest.raises(InvalidAuthorizationDetailsError, match=r"\[0\]\.y: must be of type"):
        rar.parse('[{"type":"t","y":"1"}]', {"t": declared}, allowed=frozenset({"t"}))


def test_object_schemas_listing_properties_are_closed() -> None:
    """RFC 9396 §5: unknown fields are refused, at the top and in nested objects."""
    assert "extra: is not a known field" in refused([payment(extra=1)])
    nested = payment()
    nested["instructedAmount"]["fee"] = "1.00"
    assert refused([nested]).endswith("[0].instructedAmount.fee: is not a known field of this type")
    listed = accounts(tags=["a"])
    assert parse([listed]) == [listed]


def test_schemas_that_say_how_to_treat_other_fields_stay_as_written() -> None:
    open_schema = {"properties": {"a": {"type": "string"}}, "additionalProperties": True}
    composed = {"properties": {"a": {"type": "string"}}, "allOf": [{"required": ["a"]}]}
    bare = {"type": "object"}
    items = {"properties": {"rows": {"items": {"properties": {"n": {"type": "integer"}}}}}}
    types = {
        name: rar.compile_type(name, json.dumps(schema))
        for name, schema in {
            "open": open_schema,
            "all": composed,
            "bare": bare,
            "items": items,
        }.items()
    }
    allowed = frozenset(types)
    for name in ("open", "all", "bare"):
        text = json.dumps([{"type": name, "a": "x", "other": 1, "actions": ["read"]}])
        assert rar.parse(text, types, allowed=allowed)[0]["other"] == 1
    with pytest.raises(InvalidAuthorizationDetailsError, match=r"rows\[1\]\.m: is not a known"):
        rar.parse('[{"type":"items","rows":[{"n":1},{"m":2}]}]', types, allowed=allowed)


def test_declared_additional_properties_with_patterns_name_the_extra_field() -> None:
    schema = {
        "properties": {"a": {"type": "string"}, "type": {}},
        "patternProperties": {"^x-": {"type": "string"}},
        "additionalProperties": False,
    }
    types = {"p": rar.compile_type("p", json.dumps(schema))}
    text = '[{"type":"p","x-ok":"1","bad":2}]'
    with pytest.raises(InvalidAuthorizationDetailsError, match=r"\[0\]\.bad: is not a known"):
        rar.parse(text, types, allowed=frozenset({"p"}))


# ---------------------------------------------------------------- parsing


def test_a_valid_request_parses() -> None:
    details = [payment(), accounts(actions=["read"], locations=["https://api.test"])]
    assert parse(details) == details


@pytest.mark.spec("SEC-70")
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("{", "authorization_details is not valid JSON"),
        ('[{"type":"payment_initiation","type":"x"}]', "is not valid JSON"),
        ('[{"type":"account_information","limit":NaN}]', "is not valid JSON"),
        ('[{"type":"account_information","limit":1e999}]', "is not valid JSON"),
        ('[{"type":"account_information","limit":' + "9" * 5000 + "}]", "is not valid JSON"),
        ('[{"type":"account_information","ref":"\\ud800"}]', "invalid character"),
        ('[{"type":"account_information","\\udc00":1}]', "invalid character"),
        ('[{"type":"account_information","ref":"a\\u0000"}]', "invalid character"),
        ({"type": "payment_initiation"}, "authorization_details must be a JSON array"),
        ([payment()] * 33, "more than 32 objects"),
        (["payment"], "authorization_details[0]: must be a JSON object"),
        ([{"actions": ["read"]}], "authorization_details[0].type: is required"),
        ([{"type": 7}], "authorization_details[0].type: is required and must be a string"),
        ([{"type": "unknown_type"}], "[0].type: unknown_type is not a known type"),
        ([accounts(), {"type": "ünknown"}], "[1].type: ?nknown is not a known type"),
        ([accounts(actions="read")], "[0].actions: must be an array of strings"),
        ([accounts(locations=[1])], "[0].locations: must be an array of strings"),
        ([accounts(datatypes={})], "[0].datatypes: must be an array of strings"),
        ([accounts(privileges=None)], "[0].privileges: must be an array of strings"),
        ([accounts(identifier=["x"])], "[0].identifier: must be a string"),
        ([{"type": "payment_initiation"}], "[0].instructedAmount: is required"),
        ([payment(amount=123.5)], "[0].instructedAmount.amount: must be of type string"),
        ([{**payment(), "instructedAmount": {"amount": "1"}}], ".currency: is required"),
        ([accounts(level="admin")], "[0].level: is not an allowed value"),
        ([accounts(flag="yes")], "[0].flag: must be of type boolean or null"),
        ([accounts(ref="lower")], "[0].ref: does not satisfy the schema (pattern)"),
        ([accounts(tags=["ok", ""])], "[0].tags[1]: does not satisfy the schema (minLength)"),
    ],
)
def test_invalid_details_name_the_entry_and_field(value: object, reason: str) -> None:
    assert reason in refused(value)


@pytest.mark.spec("SEC-71")
def test_a_type_the_client_may_not_use_is_refused() -> None:
    description = refused([payment()], allowed=frozenset({"account_information"}))
    assert description == (
        "authorization_details[0].type: this client may not use type payment_initiation"
    )


@pytest.mark.spec("SEC-75")
def test_bounded_before_decoding() -> None:
    assert "longer than 8192 characters" in refused("[" + " " * 8192 + "]")
    deep = "[" * 4000 + "]" * 4000  # within the length bound, far past the depth bound
    assert "nested deeper than 10 levels" in refused(deep)
    assert "nested deeper" in refused('[{"type":"account_information","x":' + "[" * 9 + "]" * 9)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps([accounts(ref="[" * 20 + '\\"{{{{{{{{{{{{')])
    assert "[0].ref: does not satisfy the schema (pattern)" in refused(text)


def test_from_parameter_gives_the_canonical_form() -> None:
    assert rar.from_parameter(None, TYPES, allowed=ALL) is None
    assert rar.from_parameter("[]", TYPES, allowed=ALL) is None
    text = '[ {"type": "account_information", "actions": ["read"], "tags": ["À"]} ]'
    canonical = rar.from_parameter(text, TYPES, allowed=ALL)
    assert canonical == '[{"actions":["read"],"tags":["À"],"type":"account_information"}]'
    assert rar.load(canonical) == json.loads(text)
    assert rar.load(None) is None


# ---------------------------------------------------------------- comparison (§6.1)


def test_the_same_details_are_covered() -> None:
    granted = [payment(), accounts(actions=["read", "write"], identifier="acc-1")]
    rar.check_covered(granted, granted, TYPES)
    rar.check_covered([], granted, TYPES)
    assert rar.covers(granted, list(reversed(granted)), TYPES)


def test_common_field_arrays_may_be_subsets() -> None:
    granted = [accounts(actions=["read", "write"], locations=["https://a.test", "https://b.test"])]
    narrower = [accounts(actions=["read"], locations=["https://b.test"])]
    assert rar.covers(granted, narrower, TYPES)
    assert rar.covers(granted, [accounts(actions=[], locations=[])], TYPES)
    wider = [accounts(actions=["read", "delete"], locations=["https://a.test"])]
    assert mismatch(wider, granted) == (
        "authorization_details[0].actions: asks for delete, which was not granted"
    )


def test_fields_may_not_be_left_out_or_added() -> None:
    granted = [accounts(actions=["read"], level="basic")]
    assert mismatch([accounts(level="basic")], granted) == (
        "authorization_details[0].actions: is missing; the granted entry has it"
    )
    assert mismatch([accounts(actions=["read"], level="basic", limit=1)], granted) == (
        "authorization_details[0].limit: was not granted"
    )


def test_identifier_must_match() -> None:
    granted = [accounts(identifier="acc-1")]
    assert mismatch([accounts(identifier="acc-2")], granted) == (
        "authorization_details[0].identifier: differs from the granted identifier"
    )


def test_type_specific_fields_must_be_equal() -> None:
    granted = [payment()]
    changed = payment()
    changed["creditorAccount"] = {"iban": "DE89370400440532013000"}
    assert mismatch([changed], granted) == (
        "authorization_details[0].creditorAccount.iban: differs from the granted value"
    )
    assert "creditorName: differs" in mismatch([payment(creditorName="Mallory")], granted)


@pytest.mark.spec("SEC-74")
def test_strings_are_compared_exactly() -> None:
    assert mismatch([payment(currency="eur")], [payment()]) == (
        "authorization_details[0].instructedAmount.currency: differs from the granted value"
    )
    assert mismatch([payment(creditorName="Merchant A ")], [payment()]).endswith(
        "differs from the granted value"
    )


@pytest.mark.parametrize("amount", ["123.50", "123.5", "100.00", "0.01", "0"])
def test_may_lower_fields_may_be_lowered(amount: str) -> None:
    assert rar.covers([payment()], [payment(amount=amount)], TYPES)


@pytest.mark.parametrize("amount", ["200.00", "123.51", "-1.00", "1e3", "123.50 ", "abc"])
def test_may_lower_fields_may_not_be_raised_or_rewritten(amount: str) -> None:
    description = mismatch([payment(amount=amount)], [payment()])
    assert description.startswith("authorization_details[0].instructedAmount.amount: ")


def test_may_lower_applies_to_json_numbers_and_only_below_its_path() -> None:
    granted = [accounts(limit=100, level="basic")]
    assert rar.covers(granted, [accounts(limit=99.5, level="basic")], TYPES)
    assert rar.covers(granted, [accounts(limit=100.0, level="basic")], TYPES)
    assert "limit: is more than granted" in mismatch([accounts(limit=101, level="basic")], granted)
    assert "limit: differs" in mismatch([accounts(limit="100", level="basic")], granted)
    negative = [accounts(limit=-5)]
    assert rar.covers(negative, negative, TYPES)
    assert "limit: is more than granted" in mismatch([accounts(limit=-6)], negative)


def test_values_compare_as_json() -> None:
    cases = [
        (accounts(flag=True), accounts(flag=1)),
        (accounts(flag=1), accounts(flag=True)),
        (accounts(flag=None), accounts(flag=False)),
        (accounts(tags=["a", "b"]), accounts(tags=["a"])),
        (accounts(tags=["a", "b"]), accounts(tags=["b", "a"])),
        (accounts(tags=["a"]), accounts(tags="a")),
        (accounts(nested={"a": 1}), accounts(nested=1)),
        (accounts(nested={"a": 1}), accounts(nested={"b": 1})),
        (accounts(ref="1"), accounts(ref=1)),
    ]
    for granted, requested in cases:
        assert not rar.covers([granted], [requested], TYPES), (granted, requested)
    assert rar.covers([accounts(flag=None, n=2)], [accounts(flag=None, n=2.0)], TYPES)
    same = [accounts(tags=["a", "b"], limit=True, nested={"a": [1, {"b": None}]})]
    assert rar.covers(same, json.loads(json.dumps(same)), TYPES)
    assert not rar.covers([accounts(limit=True)], [accounts(limit=1)], TYPES)


def test_a_type_not_granted_is_named() -> None:
    assert mismatch([accounts()], [payment()]) == (
        "authorization_details[0].type: no authorization details of this type were granted"
    )


def test_each_granted_entry_covers_one_requested_entry() -> None:
    """Two tokens' worth of one payment would be twice the amount granted."""
    assert mismatch([payment(), payment()], [payment()]) == (
        "authorization_details[1]: repeats a granted entry that another entry already uses"
    )
    assert rar.covers([payment(), payment()], [payment(), payment()], TYPES)


def test_the_matching_rearranges_to_cover_every_entry() -> None:
    granted = [accounts(actions=["read", "write"]), accounts(actions=["read"])]
    requested = [accounts(actions=["read"]), accounts(actions=["read", "write"])]
    assert rar.covers(granted, requested, TYPES)
    assert not rar.covers(granted, [*requested, accounts(actions=["read"])], TYPES)


def test_a_type_no_longer_declared_compares_exactly() -> None:
    gone = {"type": "retired", "limit": 5}
    assert rar.covers([gone], [gone], TYPES)
    assert not rar.covers([gone], [{"type": "retired", "limit": 4}], TYPES)


def test_narrow() -> None:
    granted = rar.canonical([payment()])
    assert rar.narrow(None, granted, TYPES, allowed=ALL) == granted
    assert rar.narrow(None, None, TYPES, allowed=ALL) is None
    lower = json.dumps([payment(amount="100.00")])
    assert rar.narrow(lower, granted, TYPES, allowed=ALL) == rar.canonical([payment("100.00")])
    assert rar.narrow("[]", granted, TYPES, allowed=ALL) == "[]"
    with pytest.raises(InvalidAuthorizationDetailsError, match="amount: is more than granted"):
        rar.narrow(json.dumps([payment(amount="200.00")]), granted, TYPES, allowed=ALL)
    with pytest.raises(InvalidAuthorizationDetailsError, match="no authorization details of"):
        rar.narrow(json.dumps([payment()]), None, TYPES, allowed=ALL)
    with pytest.raises(InvalidAuthorizationDetailsError, match="may not use type"):
        rar.narrow(json.dumps([payment()]), granted, TYPES, allowed=frozenset())


# ---------------------------------------------------------------- properties (hypothesis)

ACTIONS = ["read", "write", "delete"]
CURRENCIES = ["EUR", "eur", "USD"]
amounts = st.decimals(min_value=0, max_value=1000, places=2).map(lambda d: f"{d:.2f}")
account_entries = st.builds(
    lambda actions, ident: accounts(actions=actions, **({"identifier": ident} if ident else {})),
    st.lists(st.sampled_from(ACTIONS), unique=True),
    st.sampled_from([None, "acc-1", "acc-2"]),
)
payment_entries = st.builds(
    lambda amount, currency, name: payment(amount, currency, creditorName=name),
    amounts,
    st.sampled_from(CURRENCIES),
    st.sampled_from(["Merchant A", "Merchant B"]),
)
detail_lists = st.lists(st.one_of(account_entries, payment_entries), max_size=4)


def _mutate(details: list[dict[str, Any]], data: st.DataObject, *, widen: bool) -> list[Any]:
    """Apply a few random changes: narrowing ones always, widening ones when asked."""
    result = json.loads(json.dumps(details))
    kinds = ["drop", "lower", "remove_action", "shuffle"]
    kinds += ["duplicate", "raise", "add_action", "currency", "identifier"] if widen else []
    for _ in range(data.draw(st.integers(0, 3))):
        if not result:
            break
        i = data.draw(st.integers(0, len(result) - 1))
        entry = result[i]
        kind = data.draw(st.sampled_from(kinds))
        if kind == "drop":
            del result[i]
        elif kind == "duplicate":
            result.append(json.loads(json.dumps(entry)))
        elif kind == "shuffle":
            result = data.draw(st.permutations(result))
        elif entry["type"] == "payment_initiation" and kind in ("lower", "raise", "currency"):
            money = entry["instructedAmount"]
            if kind == "currency":
                money["currency"] = data.draw(st.sampled_from(CURRENCIES))
            else:
                bound = Decimal(money["amount"])
                low, high = (0, bound) if kind == "lower" else (bound, bound + 1000)
                new = data.draw(st.decimals(min_value=low, max_value=high, places=2))
                money["amount"] = f"{new:.2f}"
        elif (
            entry["type"] == "account_information" and kind == "remove_action" and entry["actions"]
        ):
            entry["actions"].remove(data.draw(st.sampled_from(entry["actions"])))
        elif entry["type"] == "account_information" and kind == "add_action":
            entry["actions"] = sorted({*entry["actions"], data.draw(st.sampled_from(ACTIONS))})
        elif entry["type"] == "account_information" and kind == "identifier":
            entry["identifier"] = data.draw(st.sampled_from(["acc-1", "acc-2", "acc-3"]))
    return result


@settings(deadline=None)
@given(detail_lists)
def test_covers_is_reflexive(details: list[dict[str, Any]]) -> None:
    assert rar.covers(details, details, TYPES)


@settings(deadline=None)
@given(detail_lists, st.data())
def test_narrowing_is_always_covered(granted: list[dict[str, Any]], data: st.DataObject) -> None:
    assert rar.covers(granted, _mutate(granted, data, widen=False), TYPES)


@settings(max_examples=300, deadline=None)
@given(detail_lists, st.data())
def test_covers_is_transitive(a: list[dict[str, Any]], data: st.DataObject) -> None:
    b = _mutate(a, data, widen=True)
    c = _mutate(b, data, widen=True)
    if rar.covers(a, b, TYPES) and rar.covers(b, c, TYPES):
        assert rar.covers(a, c, TYPES)


def _totals(details: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    money: Counter[tuple[str, str]] = Counter()
    for d in details:
        if d["type"] == "payment_initiation":
            m = d["instructedAmount"]
            money[(m["currency"], d["creditorName"])] += Decimal(m["amount"])  # type: ignore[assignment]
    return money


@settings(max_examples=300, deadline=None)
@given(detail_lists, st.data())
def test_never_grants_more_than_the_grant_holds(
    granted: list[dict[str, Any]], data: st.DataObject
) -> None:
    requested = _mutate(granted, data, widen=True)
    if not rar.covers(granted, requested, TYPES):
        return
    # No more entries of any type, no more money per currency and payee, no new actions
    # or identifiers: each judged independently of how `covers` decides.
    assert not Counter(d["type"] for d in requested) - Counter(d["type"] for d in granted)
    got, asked = _totals(granted), _totals(requested)
    assert all(asked[k] <= got[k] for k in asked)
    scopes = {(d.get("identifier"), a) for d in granted if "actions" in d for a in d["actions"]}
    assert {
        (d.get("identifier"), a) for d in requested if "actions" in d for a in d["actions"]
    } <= scopes


# ---------------------------------------------------------------- where requests carry them


def test_the_authorization_request_keeps_the_canonical_details() -> None:
    c = client(authorization_details_types=frozenset({"payment_initiation"}))
    params = {
        "response_type": "code",
        "scope": "openid",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "authorization_details": json.dumps([payment()]),
    }
    validated = validate_request(from_mapping(params), c, "https://c1.test/cb", TYPES)
    assert validated.authorization_details == rar.canonical([payment()])
    assert AuthorizationRequest.from_json(validated.to_json()) == validated
    without = validate_request(
        from_mapping({**params, "authorization_details": ""}), c, "https://c1.test/cb"
    )
    assert without.authorization_details is None
    with pytest.raises(InvalidAuthorizationDetailsError, match="may not use type"):
        validate_request(from_mapping(params), C1, "https://c1.test/cb", TYPES)


def test_stored_requests_from_before_rar_still_load() -> None:
    data = json.loads(request().to_json())
    del data["authorization_details"]
    assert AuthorizationRequest.from_json(json.dumps(data)) == request()


def test_details_always_need_consent() -> None:
    """Remembered consent covers scopes only (RFC 9396 §3: each payment is shown)."""
    scope = frozenset({"openid"})
    assert needs_consent(scope, C1, prompt=frozenset(), remembered=scope, details=True)
    assert not needs_consent(scope, C1, prompt=frozenset(), remembered=scope)
    assert isinstance(consent_error(scope, scope, details=True), ConsentRequiredError)
    details = rar.canonical([payment()])
    with_details = request(authorization_details=details)
    remembered = {"u1": scope}
    step = decide(
        with_details, C1, accounts=[ALICE], progress=Progress(), consents=remembered, now=NOW
    )
    assert step == Decision(Step.CONSENT, ALICE, scope)
    done = dataclasses.replace(Progress(), consented=True)
    assert decide(with_details, C1, accounts=[ALICE], progress=done, consents={}, now=NOW).step is (
        Step.DONE
    )
    silent = request(authorization_details=details, prompt=frozenset({Prompt.NONE}))
    with pytest.raises(ConsentRequiredError, match="authorization_details"):
        decide(silent, C1, accounts=[ALICE], progress=Progress(), consents=remembered, now=NOW)


# ---------------------------------------------------------------- settings


INTERFACE_TOML = """
[authorization_details_types.payment_initiation]
schema = '''{"type":"object","required":["instructedAmount"],
  "properties":{"instructedAmount":{"type":"object",
    "required":["currency","amount"],
    "properties":{"currency":{"type":"string"},"amount":{"type":"string"}}}}}'''
"""


def test_interface_md_example_compiles_at_load(tmp_path: Path) -> None:
    path = tmp_path / "authgate.toml"
    path.write_text(INTERFACE_TOML)
    settings = load({"AUTHGATE_CONFIG": str(path)})
    types = settings.details_types
    assert list(types) == ["payment_initiation"]
    allowed = frozenset(types)
    only_amount = [
        {"type": "payment_initiation", "instructedAmount": payment()["instructedAmount"]}
    ]
    assert rar.parse(json.dumps(only_amount), types, allowed=allowed) == only_amount
    # The example lists only instructedAmount: other fields are unknown (RFC 9396 §5).
    with pytest.raises(InvalidAuthorizationDetailsError, match=r"\[0\]\.creditorName: is not"):
        rar.parse(json.dumps([payment()]), types, allowed=allowed)
    # Compiled once: replacing other settings keeps the same compiled types.
    assert (
        settings.replace(access_token_ttl=5).details_types["payment_initiation"]
        is (types["payment_initiation"])
    )


def test_a_bad_schema_is_one_line_at_load(tmp_path: Path) -> None:
    path = tmp_path / "authgate.toml"
    path.write_text('[authorization_details_types.p]\nschema = \'{"required": "x"}\'\n')
    with pytest.raises(ConfigError) as caught:
        load({"AUTHGATE_CONFIG": str(path)})
    assert str(caught.value).startswith(
        "AUTHGATE_AUTHORIZATION_DETAILS_TYPES (authorization_details_types): "
        "authorization details type 'p': invalid JSON Schema at required: "
    )
    with pytest.raises(ConfigError, match="type 'p'"):
        AuthorizationDetailsType(name="p", schema='{"type": 1}')

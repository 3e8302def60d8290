"""Records parsed once per distinct row (store/sql/rows.py ByRowValues): the row is read on
every request, so a change made by any process shows in the very next record."""

from __future__ import annotations

from authgate.store.sql.prepared import PreparedRow
from authgate.store.sql.rows import ByRowValues, Row


def test_an_unchanged_row_is_parsed_once_and_a_changed_one_again() -> None:
    parsed: list[dict[str, object]] = []

    def parse(r: Row) -> tuple[object, ...]:
        parsed.append(dict(r._mapping))
        return tuple(r._mapping.values())

    records = ByRowValues(parse)
    first = records(PreparedRow(uri="urn:a", alg="ES256"))
    assert records(PreparedRow(uri="urn:a", alg="ES256")) is first
    assert len(parsed) == 1
    changed = records(PreparedRow(uri="urn:a", alg="RS256"))
    assert changed == ("urn:a", "RS256")
    assert len(parsed) == 2


def test_the_records_kept_are_bounded() -> None:
    records = ByRowValues(lambda r: r._mapping["n"])
    for n in range(ByRowValues.MAX + 5):
        assert records(PreparedRow(n=n)) == n
    assert len(records._found) <= ByRowValues.MAX

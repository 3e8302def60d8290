"""Hot-path statements compiled once and run on the driver directly.

SQLAlchemy builds, caches and executes a Core statement in about half a millisecond of
Python; the driver call itself takes a tenth of that. The statements of the hot paths
(token issuance, introspection, revocation, refresh, code and device grants) are written
once with SQLAlchemy Core — the same tables, types and dialects as everything else — and
`Prepared` compiles each for the dialect in use the first time it runs, keeping the SQL
text, the parameter order and the type conversions (e.g. Timestamp). Executing one is then
a driver call plus those conversions: sqlite3's `execute` on the event loop's thread, or
asyncpg's prepared statement cache inside the same transaction SQLAlchemy opened.

Results mimic the small part of SQLAlchemy's Result the mixins use: `first()`, `one()`,
iteration, `rowcount`, and rows with `_mapping`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import TextClause

if TYPE_CHECKING:
    from authgate.store.sql.pg_batch import Batch

Processor = Callable[[Any], Any] | None
_MEMO_MAX = 1024


@dataclass(frozen=True, slots=True)
class Compiled:
    """One statement compiled for one dialect."""

    sql: str
    binds: tuple[tuple[str, Processor], ...]
    columns: tuple[tuple[str, Processor], ...]
    returns_rows: bool
    literals: Mapping[str, Any]  # values of the statement's own literals (anonymous binds)
    writes: bool = False  # INSERT, UPDATE or DELETE
    locks: bool = False  # SELECT … FOR UPDATE / FOR SHARE
    # raw row → its PreparedRow, for statements whose rows repeat (`Prepared(memo_rows=True)`);
    # a memoised row is shared: nobody may change it
    memo: dict[tuple[Any, ...], PreparedRow] | None = None

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, proc in self.binds:
            value = values[name] if name in values else self.literals[name]
            out.append(proc(value) if proc else value)
        return out

    def row(self, raw: Sequence[Any]) -> PreparedRow:
        memo = self.memo
        if memo is None:
            return self._convert(raw)
        key = tuple(raw)
        found = memo.get(key)
        if found is None:
            if len(memo) >= _MEMO_MAX:
                memo.clear()
            found = memo[key] = self._convert(raw)
        return found

    def _convert(self, raw: Sequence[Any]) -> PreparedRow:
        return PreparedRow(
            {
                name: proc(value) if proc else value
                for (name, proc), value in zip(self.columns, raw, strict=True)
            }
        )


class Prepared:
    """A Core statement (with named `bindparam`s) compiled once per dialect. `batch` says
    how PostgreSQL may send it for many requests at once (store/sql/pg_batch.py).
    """

    def __init__(
        self,
        statement: Executable,
        *,
        batch: Callable[[Any], Batch] | None = None,
        memo_rows: bool = False,
    ) -> None:
        self.statement = statement
        self.memo_rows = memo_rows
        self.batch = batch(statement) if batch is not None else None
        self._compiled: dict[str, Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compile(dialect)
            self._compiled[dialect.name] = found
        return found

    def _compile(self, dialect: Dialect) -> Compiled:
        compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        assert isinstance(compiled, SQLCompiler)  # noqa: S101 - Core statements only
        bind_procs = compiled._bind_processors
        order = compiled.positiontup or []
        binds = tuple((name, _single(bind_procs.get(name))) for name in order)
        columns = tuple(
            (entry.keyname, entry.type._cached_result_processor(dialect, None))
            for entry in compiled._result_columns
        )
        literals = {k: v for k, v in compiled.params.items() if v is not None}
        writes, locks = statement_kind(self.statement)
        # a transaction-level advisory lock must be taken inside the transaction too
        locks = locks or "advisory_xact_lock" in compiled.string
        memo: dict[tuple[Any, ...], PreparedRow] | None = {} if self.memo_rows else None
        return Compiled(
            compiled.string, binds, columns, bool(columns), literals, writes, locks, memo
        )


def statement_kind(statement: Executable) -> tuple[bool, bool]:
    """Whether a Core statement writes (INSERT, UPDATE, DELETE) and whether it locks rows."""
    return bool(getattr(statement, "is_dml", False)), (
        getattr(statement, "_for_update_arg", None) is not None
    )


def _single(processor: object) -> Processor:
    """A bind processor (SQLAlchemy keeps sequences only for tuple-valued types, unused here)."""
    if processor is None or callable(processor):
        return processor
    raise TypeError("tuple-valued bind parameters are not supported in prepared statements")


class PreparedRow(dict[str, Any]):
    """A result row: a dict, readable through `_mapping` like SQLAlchemy's Row."""

    @property
    def _mapping(self) -> PreparedRow:
        return self


class TupleRow(tuple[Any, ...]):
    """A row of a statement that is not `Prepared` (PostgreSQL): like SQLAlchemy's Row, a
    tuple (it unpacks) readable by column name through `_mapping` or `row["name"]`.
    """

    _names: tuple[str, ...]

    def __new__(cls, names: tuple[str, ...], values: Sequence[Any]) -> TupleRow:
        row = super().__new__(cls, values)
        row._names = names
        return row

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._names, self, strict=True))

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._mapping[key]
        return super().__getitem__(key)


@dataclass(slots=True)
class PreparedResult:
    rows: list[Any]  # PreparedRow, or TupleRow
    rowcount: int

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def scalar(self) -> Any:
        row = self.first()
        if row is None:
            return None
        return next(iter(row.values())) if isinstance(row, dict) else row[0]

    def scalar_one(self) -> Any:
        self.one()
        return self.scalar()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


def run_sqlite(driver: Any, compiled: Compiled, values: Mapping[str, Any]) -> PreparedResult:
    """Execute on a sqlite3 connection (already inside the transaction)."""
    cursor = driver.execute(compiled.sql, compiled.parameters(values))
    if compiled.returns_rows:
        return PreparedResult([compiled.row(r) for r in cursor.fetchall()], cursor.rowcount)
    return PreparedResult([], cursor.rowcount)


async def run_asyncpg(driver: Any, compiled: Compiled, args: Sequence[Any]) -> PreparedResult:
    """Execute on an asyncpg connection with positional arguments."""
    if compiled.returns_rows:
        records = await driver.fetch(compiled.sql, *args)
        return PreparedResult([compiled.row(tuple(r)) for r in records], len(records))
    status: str = await driver.execute(compiled.sql, *args)
    return PreparedResult([], _affected(status))


def _affected(status: str) -> int:
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else -1


async def run_adhoc(
    driver: Any, statement: Executable, dialect: Dialect, parameters: Mapping[str, Any] | None
) -> tuple[PreparedResult, bool, bool]:
    """A statement that is not `Prepared`, compiled for this one execution (the paths that
    run them are not hot: admin, pages, the janitor) and run on asyncpg. Returns the result
    and whether the statement writes and whether it locks rows.
    """
    compiled = statement.compile(  # type: ignore[attr-defined]
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    assert isinstance(compiled, SQLCompiler)  # noqa: S101 - Core statements only
    values = compiled.construct_params(parameters)
    procs = compiled._bind_processors
    args = []
    for name in compiled.positiontup or []:
        proc = _single(procs.get(name))
        args.append(proc(values[name]) if proc else values[name])
    writes, locks = statement_kind(statement)
    columns = compiled._result_columns
    if not (columns or isinstance(statement, TextClause)):
        status: str = await driver.execute(compiled.string, *args)
        return PreparedResult([], _affected(status)), writes, locks
    records = await driver.fetch(compiled.string, *args)
    if columns:
        names = tuple(entry.keyname for entry in columns)
        results = [entry.type._cached_result_processor(dialect, None) for entry in columns]
        rows = [
            TupleRow(names, [p(v) if p else v for p, v in zip(results, r, strict=True)])
            for r in records
        ]
    else:
        rows = [TupleRow(tuple(r.keys()), tuple(r)) for r in records]
    return PreparedResult(rows, len(rows)), writes, locks

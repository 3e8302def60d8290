"""PostgreSQL: the same hot statement of many concurrent requests, sent as one (issue 9).

A round trip to PostgreSQL costs the server and the database far more than the statement's
work: about 20 µs of asyncpg and system calls here, 60–90 µs of the backend's CPU there. In
a transaction that commits statement by statement (read-only, or single-write: see
Store.transaction), each statement is a transaction of its own, so the same statement of
other such transactions can go with it, which SQLite's group commit does for its COMMITs:

- `ByKey`: a lookup by one key. The keys wanted during one event-loop iteration are looked up
  with one statement over `unnest(keys) WITH ORDINALITY`, and each request gets the rows of
  its key (all requests of a client share one lookup of that client).
- `InsertMany`: a plain INSERT, which changes exactly the one row it inserts. The rows of one
  iteration are inserted with asyncpg's `executemany`: one round trip, one commit, all or
  none. If that fails (a constraint: the client was deleted in between), each row is
  inserted again alone, so that only the request whose row is refused fails.

A request's statement waits for the end of the loop iteration in which it was asked: alone
it waits for nothing else. Its transaction's other statements are unchanged: a transaction
that holds a connection of its own runs everything there (it could otherwise wait for a
batch while holding a connection the batch waits for).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import CompoundSelect

from authgate.store.sql.pg_pool import DRIVER_ERRORS, PgPool, driver_error
from authgate.store.sql.prepared import (
    Compiled,
    Prepared,
    PreparedResult,
    PreparedRow,
    run_asyncpg,
)

_ORDINAL = "batch_n"


def _keys(bind: BindParameter[Any]) -> Any:
    """`unnest(:keys) WITH ORDINALITY AS batch_keys(key, batch_n)` for keys of `bind`'s type."""
    return (
        sa.func.unnest(sa.bindparam("keys", type_=postgresql.ARRAY(bind.type)))
        .table_valued("key", with_ordinality=_ORDINAL)
        .render_derived()
        .alias("batch_keys")
    )


def _with_keys(statement: Any, param: str, keys: Any) -> Any:
    """`statement` with its parameter `param` replaced by the column of keys."""

    def replace(element: Any, **_: Any) -> Any:
        if isinstance(element, BindParameter) and element.key == param:
            return keys.c.key
        return None

    return visitors.replacement_traverse(statement, {}, replace)


def _parameters(statement: Any) -> dict[str, BindParameter[Any]]:
    binds = {b.key: b for b in visitors.iterate(statement) if isinstance(b, BindParameter)}
    return {k: b for k, b in binds.items() if b.value is None}  # literals are no parameter


class ByKey:
    """A SELECT (or a UNION ALL of them) whose one parameter is a key; `many` looks up an
    array of keys at once, each row with its key's ordinal.
    """

    def __init__(self, statement: Any) -> None:
        binds = _parameters(statement)
        if len(binds) != 1:
            raise TypeError("a ByKey lookup has exactly one parameter, its key")
        ((self.param, bind),) = binds.items()
        keys = _keys(bind)
        many = _with_keys(statement, self.param, keys)
        ordinal = keys.c[_ORDINAL]
        if isinstance(many, CompoundSelect):
            many = sa.union_all(*(s.add_columns(ordinal) for s in many.selects))  # type: ignore[attr-defined]
        else:
            many = many.add_columns(ordinal)
        self.many = Prepared(many)


class UpdateByKey:
    """An UPDATE of the row with one key (under conditions): the rows of one loop turn are
    updated by one `UPDATE … FROM unnest(keys) … RETURNING key`, with the other parameters
    (the time, who) of the latest request. A request whose key comes back changed its row;
    of two that name the same row in one turn, the first.
    """

    def __init__(self, statement: Any, *, key: str) -> None:
        if not isinstance(statement, sa.Update) or statement._returning:
            raise TypeError("UpdateByKey takes an UPDATE without RETURNING")
        binds = _parameters(statement)
        if key not in binds:
            raise TypeError(f"the UPDATE has no parameter {key!r}")
        self.param = key
        keys = _keys(binds[key])
        many = _with_keys(statement, key, keys)
        self.many = Prepared(many.returning(keys.c.key.label("batch_key")))


class InsertMany:
    """An INSERT of one row. A plain one changes exactly the row it inserts: the rows of one
    loop turn go as one `executemany`. One with a conflict rule and `RETURNING key` (a row
    may be refused) gives `many`, the same INSERT from `unnest_rows(table)`: each request
    learns whether its row went in from the keys the batch returns.
    """

    def __init__(self, statement: Any, *, key: str | None = None, many: Any = None) -> None:
        if not isinstance(statement, sa.Insert):
            raise TypeError("InsertMany takes an INSERT")
        if (many is None) != (statement._post_values_clause is None):
            raise TypeError("an INSERT with a conflict rule is batched by its `many` form")
        self.key = key
        self.many = Prepared(many) if many is not None else None


def unnest_rows(table: sa.Table) -> Any:
    """`SELECT unnest(:many_a), unnest(:many_b), …`: one row per element of the column
    arrays, the source of an `InsertMany.many` INSERT.
    """
    return sa.select(
        *(
            sa.func.unnest(sa.bindparam(f"many_{c.name}", type_=postgresql.ARRAY(c.type)))
            for c in table.c
        )
    )


Batch = ByKey | InsertMany | UpdateByKey


@dataclass(slots=True)
class _Member:
    values: Mapping[str, Any]
    future: asyncio.Future[PreparedResult]


class PgBatcher:
    """The batches of one process, one per statement, sent at the end of each loop turn."""

    def __init__(self, pool: PgPool, dialect: Dialect) -> None:
        self._pool = pool
        self._dialect = dialect
        self._pending: dict[Prepared, list[_Member]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, statement: Prepared, values: Mapping[str, Any]) -> PreparedResult:
        loop = asyncio.get_running_loop()
        if not self._pending:
            loop.call_soon(self._send_all)
        member = _Member(values, loop.create_future())
        self._pending.setdefault(statement, []).append(member)
        return await member.future

    def _send_all(self) -> None:
        pending, self._pending = self._pending, {}
        for statement, members in pending.items():
            task = asyncio.get_running_loop().create_task(self._send(statement, members))
            self._tasks.add(task)  # kept until done (the loop holds tasks weakly)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, statement: Prepared, members: list[_Member]) -> None:
        members = [m for m in members if not m.future.done()]  # cancelled meanwhile
        if not members:
            return
        try:
            conn = await self._pool.acquire()
        except BaseException as exc:
            for m in members:
                _fail(m, exc)
            if not isinstance(exc, Exception):
                raise
            return
        broken = False
        try:
            broken = await self._on(conn, statement, members)
        finally:
            self._pool.release(conn, broken=broken)

    async def _on(
        self, conn: asyncpg.Connection, statement: Prepared, members: list[_Member]
    ) -> bool:
        """Run the batch on `conn`; whether the connection broke."""
        compiled = statement.compiled(self._dialect)
        batch = statement.batch
        try:
            if len(members) == 1:
                args = compiled.parameters(members[0].values)
                _settle(members[0], await run_asyncpg(conn, compiled, args))
            elif isinstance(batch, ByKey):
                await self._lookup(conn, batch, members)
            elif isinstance(batch, InsertMany):
                await self._insert(conn, batch, compiled, members)
            elif isinstance(batch, UpdateByKey):
                await self._update(conn, batch, members)
            return False
        except DRIVER_ERRORS as exc:
            error = driver_error(exc, conn, compiled.sql)
            if (
                not error.connection_invalidated
                and isinstance(batch, InsertMany)
                and len(members) > 1
            ):
                return await self._one_by_one(conn, compiled, members)
            for m in members:  # each request raises an error of its own
                _fail(m, driver_error(exc, conn, compiled.sql))
            return error.connection_invalidated
        except BaseException as exc:  # cancelled with the server: nobody is answered
            for m in members:
                _fail(m, exc)
            raise

    async def _lookup(self, conn: asyncpg.Connection, batch: ByKey, members: list[_Member]) -> None:
        keys: dict[Any, list[_Member]] = {}
        for m in members:
            keys.setdefault(m.values[batch.param], []).append(m)
        ordered = list(keys)
        many = batch.many.compiled(self._dialect)
        found = await run_asyncpg(conn, many, many.parameters({"keys": ordered}))
        rows: list[list[Any]] = [[] for _ in ordered]
        for row in found.rows:
            rows[row.pop(_ORDINAL) - 1].append(row)
        for key, key_rows in zip(ordered, rows, strict=True):
            for m in keys[key]:
                _settle(m, PreparedResult(list(key_rows), len(key_rows)))

    async def _update(
        self, conn: asyncpg.Connection, batch: UpdateByKey, members: list[_Member]
    ) -> None:
        keys: dict[Any, list[_Member]] = {}
        for m in members:
            keys.setdefault(m.values[batch.param], []).append(m)
        many = batch.many.compiled(self._dialect)
        values = {**members[-1].values, "keys": list(keys)}
        changed = {
            row["batch_key"]
            for row in (await run_asyncpg(conn, many, many.parameters(values))).rows
        }
        for key, named in keys.items():
            for n, m in enumerate(named):
                count = 1 if n == 0 and key in changed else 0
                _settle(m, PreparedResult([], count))

    async def _insert(
        self,
        conn: asyncpg.Connection,
        batch: InsertMany,
        compiled: Compiled,
        members: list[_Member],
    ) -> None:
        if batch.many is None:
            await conn.executemany(compiled.sql, [compiled.parameters(m.values) for m in members])
            for m in members:
                _settle(m, PreparedResult([], 1))
            return
        many = batch.many.compiled(self._dialect)
        values: dict[str, Any] = dict(members[-1].values)  # shared ones (`now`): the latest
        for name, _ in many.binds:
            if name.startswith("many_"):
                values[name] = [m.values[name[5:]] for m in members]
        found = await run_asyncpg(conn, many, many.parameters(values))
        key = batch.key or ""
        inserted = {row[key] for row in found.rows}
        for m in members:
            row = [PreparedRow({key: m.values[key]})] if m.values[key] in inserted else []
            _settle(m, PreparedResult(row, len(row)))

    async def _one_by_one(
        self, conn: asyncpg.Connection, compiled: Compiled, members: Sequence[_Member]
    ) -> bool:
        for m in members:
            try:
                result = await run_asyncpg(conn, compiled, compiled.parameters(m.values))
            except DRIVER_ERRORS as exc:
                _fail(m, driver_error(exc, conn, compiled.sql))
                if conn.is_closed():
                    for rest in members[members.index(m) + 1 :]:
                        _fail(rest, driver_error(exc, conn, compiled.sql))
                    return True
            else:
                _settle(m, result)
        return False


def _settle(member: _Member, result: PreparedResult) -> None:
    if not member.future.done():
        member.future.set_result(result)


def _fail(member: _Member, error: BaseException) -> None:
    if not member.future.done():
        member.future.set_exception(error)

"""Result rows as named tuples: what lists, pickers and pages render by the hundred.

A SQLAlchemy Row answers `row.name` through its `__getattr__` (about 0.5 µs); a named tuple through a slot
(about 0.05 µs), and a list page's template reads several hundred of them. The tuples keep the rows' order,
indexing and field names, so the templates and callers are the same either way.

Statements built once and kept for the process (`kept`: a list's page and count for each shape, the session
lookup, the live counts, a select's choices) go further: `rows` compiles each once per database and runs it on
the driver's own connection (aiosqlite in place or in one trip: webapp.sqlite_trips.fetch; or asyncpg), as the
benchmark's floor does (bench/floor_app.py).
SQLAlchemy's execution layer (its compiled cache lookup, execution context, events and result objects) was about
half of a list page statement's time over the driver's own (0.86 against 0.39 ms for 50 heroes, 2026-12-07). Only
where the statement runs on the connection SQLAlchemy would run it on, in the same transaction or none: a reader's
connection (in autocommit), or a writer's in the transaction SQLAlchemy began (on SQLite within its time in place;
on PostgreSQL from the statement after the one that began it): a change's own statements and reads. Unsaved
changes of the session are not flushed first, as `read` does not flush them. Elsewhere, and for statements built
per request, SQLAlchemy runs them as before."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any, NoReturn, TypeAlias, TypeVar, cast

from sqlalchemy import Dialect, Executable, Insert, Table, bindparam, insert
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import QueuePool
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import sqlite_trips
from webapp.data.ids import valid_id

# A named tuple of a statement's columns (its class is made per column list, so it has no static type).
PlainRow: TypeAlias = Any
Kept = TypeVar("Kept", bound=Executable)

# The execution option that marks a statement as built once and kept (see `kept`).
KEPT = "hero_kept"


@cache
def _row_type(fields: tuple[str, ...]) -> Any:
    # One class per column list (a handful in all), not one per result.
    return namedtuple("PlainRow", fields)


def plain_rows(result: Result[Any]) -> list[PlainRow]:
    """Every row of `result`, as named tuples of its columns."""
    make = _row_type(tuple(result.keys()))._make
    return [make(row) for row in result.all()]


# Where a session keeps the connection `_connection` last had from it.
_HELD = "hero_connection"


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection, as `session.connection()` gives it, without a greenlet hop to ask again while the
    connection it gave is still the session's and its transaction still usable: one ends closed when the session
    commits, rolls back or closes, and the next is asked for; after a failed flush the session asks, and refuses
    as SQLAlchemy refuses (until rolled back). About 11 us a statement (2026-12-07), more than a small read in
    place takes."""
    held: AsyncConnection | None = session.info.get(_HELD)
    transaction = session.sync_session.get_transaction()
    if held is None or held.closed or held.invalidated or transaction is None or not transaction.is_active:
        held = session.info[_HELD] = await session.connection()
    return held


def closes_in_place(session: AsyncSession) -> bool:
    """Whether closing `session` asks the database nothing, so it may close without a greenlet or a task: it holds
    no connection, or holds the one it gave `rows` (its only one: the app's sessions have one bind), valid, in no
    transaction, and going back to a pool with room for it. On a reader (webapp.db.READ_OPTION) no transaction is
    the rule: SQLite reads without BEGIN, and the rollback that SQLAlchemy's close and the pool's return would send
    is skipped (webapp.db's do_rollback); asyncpg in autocommit has no transaction of its own to roll back. A
    connection SQLAlchemy gave to its ORM alone is not known here: such a session closes the usual way."""
    if session.sync_session.get_transaction() is None:
        return True
    held: AsyncConnection | None = session.info.get(_HELD)
    if held is None or held.closed or held.invalidated or (sync := held.sync_connection) is None:
        return False
    pool = sync.engine.pool
    # A pool already holding its size closes a connection given back to it (one taken past its size), and closing
    # one is the driver's work.
    if not isinstance(pool, QueuePool) or pool.checkedin() >= pool.size():
        return False
    adapted: Any = sync.connection.dbapi_connection
    if adapted is None:
        return False
    driver = adapted.driver_connection
    if held.dialect.driver == "aiosqlite":
        return not driver.in_transaction
    return held.dialect.driver == "asyncpg" and adapted.autocommit and not driver.is_in_transaction()


async def read(session: AsyncSession, statement: Executable, parameters: dict[str, Any] | None = None) -> Result[Any]:
    """`statement`'s result, run on the session's connection: a statement of plain columns needs none of the ORM's
    execution layer (no entities to load; about 5% of a list page). Nothing is flushed first, so it is for reads
    that follow no unsaved change: the list pages, their counts and lookups."""
    return await (await _connection(session)).execute(statement, parameters)


# The parameter a kept statement reading one record by id takes its id in (`by_id`).
RECORD_ID = "record_id"


async def by_id(session: AsyncSession, statement: Executable, record_id: int) -> PlainRow | None:
    """The row of `statement` (kept, its id the RECORD_ID parameter) for this record, or None (also for an id no
    record can have). Unsaved changes in the session are flushed first, as an ORM read would: a page shows a
    record right after saving it. On a reader it runs on the driver (`rows`)."""
    if not valid_id(record_id):
        return None
    if session.new or session.dirty or session.deleted:
        await session.flush()
    found = await rows(session, statement, {RECORD_ID: record_id})
    return found[0] if found else None


def kept(statement: Kept) -> Kept:
    """`statement`, marked as built once and kept for the process: `rows` compiles it once per database."""
    return statement.execution_options(**{KEPT: True})


def kept_insert(table: Table) -> Insert:
    """A kept INSERT of one row into `table` (`run`): every column but an autoincrementing id, each the parameter
    of its name. Compiled once, it fills in no defaults: the row gives every column."""
    columns = [column.name for column in table.columns if column is not table.autoincrement_column]
    return kept(insert(table).values({name: bindparam(name) for name in columns}))


@dataclass(frozen=True)
class _Compiled:
    """A kept statement as its database's driver takes it."""

    sql: str
    names: tuple[str, ...]  # the parameters' names, in the order the SQL takes them
    required: frozenset[str]  # those with no value of their own: each run must give them
    values: Mapping[str, Any]  # the values given when it was built (a literal's, say)
    binders: Mapping[str, Callable[[Any], Any]]  # what turns a value into the driver's, where one is needed
    make: Callable[[Sequence[Any]], PlainRow]
    processors: tuple[Callable[[Any], Any] | None, ...] | None  # what turns a column's value into Python's

    def arguments(self, parameters: Mapping[str, Any] | None) -> tuple[Any, ...]:
        if self.required and not self.required <= (parameters or {}).keys():
            missing = sorted(self.required - (parameters or {}).keys())
            raise ValueError(f"a kept statement run without its parameters {missing}")
        given = self.values if not parameters else {**self.values, **parameters}
        binders = self.binders
        return tuple(binders[name](given[name]) if name in binders else given[name] for name in self.names)

    def made(self, rows: Sequence[Sequence[Any]]) -> list[PlainRow]:
        make, processors = self.make, self.processors
        if processors is None:
            return [make(row) for row in rows]
        return [
            make([value if process is None else process(value) for process, value in zip(processors, row, strict=True)])
            for row in rows
        ]


# Kept statements (a few hundred at most, see keyset.Shapes) by identity, held here so the identity stays theirs.
_COMPILED: dict[tuple[int, str], tuple[Executable, _Compiled | None]] = {}


def _compiled(statement: Executable, dialect: Dialect) -> _Compiled | None:
    key = (id(statement), dialect.name)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = (statement, _compile(statement, dialect))
    return found[1]


def _compile(statement: Executable, dialect: Dialect) -> _Compiled | None:
    """None for what only SQLAlchemy can run: a statement whose parameters it expands when it runs (IN lists), or
    a column whose conversion depends on the type the database reports (asyncpg's numbers)."""
    compiled: Any = cast(Any, statement).compile(dialect=dialect)
    if not compiled.positional or compiled.post_compile_params or compiled.literal_execute_params:
        return None
    binds = compiled.binds
    binders = {}
    for name in set(compiled.positiontup):
        binder = binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if binder is not None:
            binders[name] = binder
    columns = compiled._result_columns  # (key, name, objects, type) for each column, in order
    try:
        processors = tuple(column[3].dialect_impl(dialect).result_processor(dialect, None) for column in columns)
    except TypeError:  # it needs the type code the database gives with each result
        return None
    names = tuple(compiled.positiontup)
    return _Compiled(
        sql=compiled.string,
        names=names,
        required=frozenset(name for name in names if binds[name].required),
        values=compiled.params,
        binders=binders,
        make=_row_type(tuple(column[0] for column in columns))._make,
        processors=None if all(process is None for process in processors) else processors,
    )


async def rows(
    session: AsyncSession, statement: Executable, parameters: dict[str, Any] | None = None
) -> list[PlainRow]:
    """Every row of `statement` as named tuples: on the driver's connection for a kept statement on a reader's
    connection, else as `read` runs it (with the same contract: nothing is flushed first)."""
    connection = await _connection(session)
    if statement.get_execution_options().get(KEPT):
        found = await _on_driver(connection, statement, parameters)
        if found is not None:
            return found
    return plain_rows(await connection.execute(statement, parameters))


async def run(session: AsyncSession, statement: Executable, parameters: dict[str, Any] | None = None) -> list[PlainRow]:
    """A kept write (INSERT, UPDATE), and the rows it returns (none without RETURNING): on the driver in a writer's
    transaction (on SQLite while its time in place lasts; on PostgreSQL once begun), else as `read` runs it.
    Nothing is flushed first: for plain statements on tables, which the ORM's unit of work knows nothing of."""
    connection = await _connection(session)
    found = await _on_driver(connection, statement, parameters, writes=True)
    if found is not None:
        return found
    result = await connection.execute(statement, parameters)
    return plain_rows(result) if result.returns_rows else []


async def _on_driver(
    connection: AsyncConnection, statement: Executable, parameters: dict[str, Any] | None, *, writes: bool = False
) -> list[PlainRow] | None:
    """The rows, or None where SQLAlchemy must run the statement (see the module's docstring; a write only in a
    writer's transaction)."""
    sync = connection.sync_connection
    dialect = connection.dialect
    sqlite = dialect.driver == "aiosqlite"
    if sync is None or sync.invalidated or not (sqlite or dialect.driver == "asyncpg"):
        return None
    if (compiled := _compiled(statement, dialect)) is None:
        return None
    sql, arguments = compiled.sql, compiled.arguments(parameters)
    adapted: Any = sync.connection.dbapi_connection
    # The engine's listeners hear of it as of any statement (the request log's database time, webapp.logs), with
    # an object of their own for what they keep about it.
    dispatch, context = sync.dispatch, SimpleNamespace()
    try:
        driver = adapted.driver_connection
        # A reader's connection (webapp.db.READ_OPTION: no transaction, autocommit on PostgreSQL), or a writer's
        # within the transaction SQLAlchemy began on it: on SQLite BEGIN IMMEDIATE (begun with the connection),
        # while the transaction may run in place; on PostgreSQL once its first statement, sent by SQLAlchemy,
        # has begun it (asyncpg's own record of it), so what runs here belongs to it.
        writing = driver.in_transaction if sqlite else not adapted.autocommit
        if writing:
            if not (sqlite_trips.writes_in_place(driver) if sqlite else driver.is_in_transaction()):
                return None
        elif writes:
            return None
        dispatch.before_cursor_execute(sync, None, sql, arguments, context, False)
        if not sqlite:
            found = await driver.fetch(sql, *arguments)
        elif writing:
            found = sqlite_trips.in_transaction(driver, sql, arguments)
        else:
            found = await sqlite_trips.fetch(driver, sql, arguments)
    except Exception as error:
        _raise_as_sqlalchemy_would(sync, adapted, error, sql, arguments)
    dispatch.after_cursor_execute(sync, None, sql, arguments, context, False)
    return compiled.made(found)


def _raise_as_sqlalchemy_would(sync: Any, adapted: Any, error: Exception, sql: str, arguments: Any) -> NoReturn:
    """`error` as SQLAlchemy raises it from a statement it runs: the driver's error made its DBAPI error (the
    adapter's own translation), then wrapped, with the connection invalidated if it says the database is gone, so
    the pool does not hand that connection out again and the outage is answered as any other (webapp.outages)."""
    try:
        adapted._handle_exception(error)  # raises the DBAPI error for it
    except Exception as dbapi_error:
        sync._handle_dbapi_exception(dbapi_error, sql, arguments, None, None)
    raise error  # not reached: both above raise

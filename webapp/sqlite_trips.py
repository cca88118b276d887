"""SQLite through aiosqlite in one trip per statement.

aiosqlite runs each call on its connection's own thread, and SQLAlchemy's adapter makes four calls per statement:
open a cursor, execute, fetch the rows, close the cursor. Each call is a trip to that thread and back through the
event loop, and the loop runs every other ready request in between. Measured on a list page: 16 trips for its 4
statements, about a tenth of its CPU. Worse, a write transaction holds SQLite's one write lock through all of its
trips, so under load its statements wait behind other requests' work with the lock held, and every other writer
waits behind that.

Here a statement is one trip: the thread opens a cursor, executes, fetches and closes, and hands back the rows with
the cursor's description, row count and last row id. Everything else (server-side cursors, which stream an export
chunk by chunk; commits, rollbacks, errors) is SQLAlchemy's aiosqlite adapter as it is. It is passed to the engine as
its DBAPI module (`create_async_engine(module=...)`, SQLAlchemy's documented way to supply a driver module).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

# What one trip brings back: the cursor's description, its rows, row count and last row id.
Outcome = tuple[Any, list[Any], int, int | None]
Work = Callable[[sqlite3.Connection, str, Any], Outcome]


def _execute(connection: sqlite3.Connection, sql: str, parameters: Any) -> Outcome:
    """On aiosqlite's thread: the whole statement."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _executemany(connection: sqlite3.Connection, sql: str, parameters: Iterable[Any]) -> Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(sql, parameters)
        return None, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _TripCursor:
    """What SQLAlchemy's adapter drives as an aiosqlite cursor: execute is the one trip; the rest reads its outcome."""

    arraysize = 1

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def execute(self, sql: str, parameters: Any = None) -> None:
        outcome = await self._trip(_execute, sql, parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = outcome

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> None:
        outcome = await self._trip(_executemany, sql, parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = outcome

    async def _trip(self, work: Work, sql: str, parameters: Any) -> Outcome:
        # aiosqlite's own way to run a function on its thread (SQLAlchemy's adapter reaches into it likewise, for
        # isolation_level).
        connection = self._connection

        def run() -> Outcome:
            return work(connection._conn, sql, parameters)

        outcome: Outcome = await connection._execute(run)  # type: ignore[no-untyped-call]
        return outcome

    async def fetchall(self) -> Sequence[Any]:
        rows, self._rows = self._rows, []
        return rows

    def close(self) -> None:
        self._rows = []


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    # close() is plain (nothing to send to the thread: the trip closed the real cursor already).
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return _TripCursor(connection)

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor  # nothing to open: a trip opens its own


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _Cursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite as SQLAlchemy adapts it, with connections whose (client-side) cursors make one trip a statement."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> Any:
        adapted = super().connect(*arg, **kw)
        adapted.__class__ = _Connection  # the same slots and state; only the cursor class differs
        return adapted

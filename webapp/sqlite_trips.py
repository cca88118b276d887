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

The writer's connection goes further (`OneTripDBAPI(inline_for=...)`). Even at one trip a statement, a transaction
of seven statements waited seven times for the event loop, behind every other request's rendering, with the write
lock held: writes queued behind it at 20 ms each, 50 a second at most. Once its transaction has begun (BEGIN
IMMEDIATE, which may wait for another process's lock, is still a trip then, and in a request waits no longer than
its deadline leaves time to answer), the writer's statements run right where
they are called, on the event loop's thread, for `inline_for` seconds from the BEGIN: a record's save is a few
small statements on a lock already held, a fraction of a millisecond each, and the transaction holds the lock for
its own work only. A transaction still going past that (a bulk change, an import) makes trips again, so the loop
is never held longer than that bound and a statement; so is the commit within that time. The connection is opened with
check_same_thread off for this; SQLite's own locking (serialized mode) and the adapter's one-statement-at-a-time
mutex keep the two threads from ever using it at once.

A reader's statements built once and kept (webapp.data.plain.rows: a page's list, count and session lookup) run in
place as well (`fetch`), each for a couple of milliseconds at most: one that runs longer is stopped by SQLite's
progress handler and made again as a trip, and one that would wait for a lock is made as a trip at once. In WAL
mode a read takes no lock another connection's write holds, so in place it waits for nothing but the disk.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)

from webapp import outages

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


# A wait for another connection's lock that must end by the clock is made of waits this long at most. SQLite counts
# its busy timeout in the sleeps it asks for, not in the time that passes, and on a loaded machine each sleep runs
# long: a wait of 3.2 s came to 4.2 s at a load of 12, past the request deadline it was meant to end well inside.
WAIT_STEP = 0.25


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return error.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


@contextmanager
def _busy_timeout(connection: sqlite3.Connection, milliseconds: int) -> Iterator[int]:
    """The connection's busy timeout set to `milliseconds` for the block; yields the one it had."""
    (waits,) = connection.execute("PRAGMA busy_timeout").fetchone()
    connection.execute(f"PRAGMA busy_timeout = {milliseconds}")
    try:
        yield int(waits)
    finally:
        connection.execute(f"PRAGMA busy_timeout = {int(waits)}")


def _without_waiting(connection: sqlite3.Connection, work: Work, sql: str, parameters: Any) -> Outcome | None:
    """`work` done at once, or None if it would have to wait for another connection's lock."""
    with _busy_timeout(connection, 0):
        return _unless_busy(connection, work, sql, parameters)


def _unless_busy(connection: sqlite3.Connection, work: Work, sql: str, parameters: Any) -> Outcome | None:
    """`work`, or None where it found another connection's lock (on a connection that does not wait for one)."""
    try:
        return work(connection, sql, parameters)
    except sqlite3.OperationalError as error:
        if _is_busy(error):
            return None
        raise


# The attribute of a reader's aiosqlite connection that holds the busy timeout (ms) its reads in place took away
# (they must not wait: a wait would hold up the event loop), for its next trip to give back; None or absent while
# the connection has its own. A page's reads in place follow one another, so the timeout is changed when a trip
# comes between them, not around each read (three PRAGMA statements a read: measured 2026-12-07, the first SQLite
# call of a request costs some 20 us of cold caches, and a list page made nine of them).
TAKEN_WAITS = "_hero_taken_waits"


def _not_waiting(connection: aiosqlite.Connection) -> sqlite3.Connection:
    """The reader's SQLite connection, with a busy timeout of 0 (see TAKEN_WAITS)."""
    raw: sqlite3.Connection = connection._conn
    if getattr(connection, TAKEN_WAITS, None) is None:
        (waits,) = raw.execute("PRAGMA busy_timeout").fetchone()
        raw.execute("PRAGMA busy_timeout = 0")
        setattr(connection, TAKEN_WAITS, int(waits))
    return raw


def _waiting_again(connection: aiosqlite.Connection) -> sqlite3.Connection:
    """On the connection's thread, before a trip's statement: its own busy timeout back, if reads took it."""
    raw: sqlite3.Connection = connection._conn
    waits = getattr(connection, TAKEN_WAITS, None)
    if waits is not None:
        raw.execute(f"PRAGMA busy_timeout = {waits}")
        setattr(connection, TAKEN_WAITS, None)
    return raw


def _waiting_at_most(seconds: float | None, work: Work) -> Work:
    """`work` waiting for another connection's lock for its busy timeout, and by the clock no longer than `seconds`
    (None: for the busy timeout alone)."""
    if seconds is None:
        return work

    def bounded(connection: sqlite3.Connection, sql: str, parameters: Any) -> Outcome:
        started = time.monotonic()
        with _busy_timeout(connection, 0) as waits:
            ends = started + min(seconds, waits / 1000)
            while True:
                step = min(WAIT_STEP, ends - time.monotonic())
                connection.execute(f"PRAGMA busy_timeout = {max(0, int(step * 1000))}")
                try:
                    return work(connection, sql, parameters)
                except sqlite3.OperationalError as error:
                    if not _is_busy(error) or time.monotonic() >= ends:
                        raise

    return bounded


class Inline:
    """A writer connection's statements run in place: for `seconds` after its transaction began."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.began = 0.0

    def allows(self, connection: sqlite3.Connection) -> bool:
        return connection.in_transaction and time.perf_counter() - self.began < self.seconds


# The attribute of an aiosqlite connection that holds its Inline (set by OneTripDBAPI.connect for the writer).
INLINE = "_hero_inline"


def writes_in_place(connection: aiosqlite.Connection) -> bool:
    """Whether this is the writer's connection within its transaction's time in place, where its statements run
    in place (`_TripCursor._run`): `in_transaction` may run one there too."""
    inline: Inline | None = getattr(connection, INLINE, None)
    return inline is not None and inline.allows(connection._conn)


def in_transaction(connection: aiosqlite.Connection, sql: str, parameters: Sequence[Any]) -> list[Any]:
    """A statement's rows in the writer's transaction, in place (where `writes_in_place` says so: ask first)."""
    return _execute(connection._conn, sql, parameters)[1]


class _TripCursor:
    """What SQLAlchemy's adapter drives as an aiosqlite cursor: execute is the one trip (or, for the writer within
    its transaction, no trip at all); the rest reads its outcome."""

    arraysize = 1

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._inline: Inline | None = getattr(connection, INLINE, None)
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def execute(self, sql: str, parameters: Any = None) -> None:
        outcome = await self._run(_execute, sql, parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = outcome

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> None:
        outcome = await self._run(_executemany, sql, parameters)
        self.description, self._rows, self.rowcount, self.lastrowid = outcome

    async def _run(self, work: Work, sql: str, parameters: Any) -> Outcome:
        inline = self._inline
        if inline is None:
            return await self._trip(work, sql, parameters)
        connection = self._connection._conn
        if inline.allows(connection):
            return work(connection, sql, parameters)
        if connection.in_transaction:  # a long transaction, past its time in place
            return await self._trip(work, sql, parameters)
        # The statement that begins a transaction (BEGIN IMMEDIATE): in place if the write lock is free, else a
        # trip, where it waits for the lock without holding up the event loop: up to the busy timeout, and in a
        # request only while its refusal can still be answered within the deadline. Past that the deadline would
        # cancel the request, its answer would come late, and the trip would wait on in the driver's thread.
        outcome = _without_waiting(connection, work, sql, parameters)
        if outcome is None:
            outcome = await self._trip(_waiting_at_most(outages.time_left(), work), sql, parameters)
        if connection.in_transaction:
            inline.began = time.perf_counter()
        return outcome

    async def _trip(self, work: Work, sql: str, parameters: Any) -> Outcome:
        # aiosqlite's own way to run a function on its thread (SQLAlchemy's adapter reaches into it likewise, for
        # isolation_level).
        connection = self._connection

        def run() -> Outcome:
            return work(_waiting_again(connection), sql, parameters)

        outcome: Outcome = await connection._execute(run)  # type: ignore[no-untyped-call]
        return outcome

    async def fetchall(self) -> Sequence[Any]:
        rows, self._rows = self._rows, []
        return rows

    def close(self) -> None:
        self._rows = []


# The attribute of an aiosqlite connection that holds how long its reads may run in place (set by
# OneTripDBAPI.connect for readers).
READS_IN_PLACE = "_hero_reads_in_place"
# SQLite's virtual machine instructions between two looks at the clock while a read runs in place.
CLOCK_EVERY = 1_000
# A statement stopped this many times in a row for running too long in place goes by trip for SLOW_FOR seconds
# before it is tried in place again. Not at the first: the bound is the clock's, and a moment the process was not
# running (another process's turn on the CPU) counts in it.
STOPS_IN_A_ROW = 2
SLOW_FOR = 10.0
# Kept statements (a few hundred at most): how many times each was stopped in a row, and until when each goes by trip.
_stops: dict[str, int] = {}
_slow: dict[str, float] = {}


async def fetch(connection: aiosqlite.Connection, sql: str, parameters: Sequence[Any]) -> list[Any]:
    """A read's rows without SQLAlchemy (webapp.data.plain.rows): on a reader's connection, in place, on the event
    loop's thread, as long as it takes no longer than the reader's bound (a trip to aiosqlite's thread and back
    costs about 30 µs of the CPU, more than most of a page's reads take to run: measured 2026-12-07); else, and
    on other connections, in one trip to the connection's thread."""
    bound: float | None = getattr(connection, READS_IN_PLACE, None)
    if bound is not None and (not _slow or _slow.get(sql, 0.0) <= time.monotonic()):
        found = _read_in_place(_not_waiting(connection), sql, parameters, bound)
        if found is not None:
            if _stops:
                _stops.pop(sql, None)
            return found
    outcome = await _TripCursor(connection)._trip(_execute, sql, parameters)
    return outcome[1]


def _read_in_place(
    connection: sqlite3.Connection, sql: str, parameters: Sequence[Any], bound: float
) -> list[Any] | None:
    """The rows (on a reader's connection with no busy timeout: `_not_waiting`); or None where the read would
    wait for another connection's lock (a wait belongs in a trip, where it holds up no one else), or runs past
    `bound` seconds: SQLite's progress handler stops it there (and a statement stopped STOPS_IN_A_ROW times goes
    by trip for a while: a search at a million heroes). The handler looks at the clock between steps of SQLite's
    machine, so the event loop is held for about `bound`: a single step (a count over a large table, say) may run
    past it."""
    try:
        outcome = _unless_busy(connection, _bounded(bound), sql, parameters)
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode != sqlite3.SQLITE_INTERRUPT:
            raise
        _stops[sql] = stops = _stops.get(sql, 0) + 1
        if stops >= STOPS_IN_A_ROW:
            del _stops[sql]
            _slow[sql] = time.monotonic() + SLOW_FOR
        return None
    return None if outcome is None else outcome[1]


def _bounded(bound: float) -> Work:
    """The whole statement, stopped by SQLite's progress handler once it has run `bound` seconds. Set around the
    statement alone: a stop would break off any other statement made under it (the busy timeout's PRAGMAs)."""

    def work(connection: sqlite3.Connection, sql: str, parameters: Any) -> Outcome:
        ends = time.perf_counter() + bound
        connection.set_progress_handler(lambda: time.perf_counter() > ends, CLOCK_EVERY)
        try:
            return _execute(connection, sql, parameters)
        finally:
            connection.set_progress_handler(None, 0)

    return work


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    # close() is plain (nothing to send to the thread: the trip closed the real cursor already).
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return _TripCursor(connection)

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor  # nothing to open: a trip opens its own


class _ServerSideCursor(AsyncAdapt_aiosqlite_ss_cursor):
    """A streamed result's cursor (an export's): aiosqlite's own, whose trips are its own, so the busy timeout
    reads in place took away is given back before it is opened."""

    __slots__ = ()

    def _make_new_cursor(self, connection: Any) -> Any:
        _waiting_again(connection)
        return super()._make_new_cursor(connection)


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _Cursor
    _ss_cursor_cls = _ServerSideCursor

    def commit(self) -> None:
        inline: Inline | None = getattr(self._connection, INLINE, None)
        if inline is None or not inline.allows(self._connection._conn):
            super().commit()
            return
        # In place too: in WAL mode a commit appends to the log without waiting for readers (the write lock is
        # held already), so the lock is given up without another turn of the event loop.
        try:
            self._connection._conn.commit()
        except Exception as error:
            self._handle_exception(error)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite as SQLAlchemy adapts it, with connections whose (client-side) cursors make one trip a statement;
    with `inline_for` (the writer), none within the first that many seconds of a transaction; with
    `reads_in_place` (readers), `fetch`'s reads in place while they take no longer than that many seconds."""

    def __init__(self, *, inline_for: float | None = None, reads_in_place: float | None = None) -> None:
        super().__init__(aiosqlite, sqlite3)
        self.inline_for = inline_for
        self.reads_in_place = reads_in_place

    def connect(self, *arg: Any, **kw: Any) -> Any:
        if self.inline_for is not None or self.reads_in_place is not None:
            kw["check_same_thread"] = False  # statements in place run on the event loop's thread
        adapted = super().connect(*arg, **kw)
        adapted.__class__ = _Connection  # the same slots and state; only the cursor class differs
        if self.inline_for is not None:
            setattr(adapted._connection, INLINE, Inline(self.inline_for))
        if self.reads_in_place is not None:
            setattr(adapted._connection, READS_IN_PLACE, self.reads_in_place)
        return adapted

"""SQLite statements in one trip each to aiosqlite's thread (webapp.sqlite_trips), with everything SQLAlchemy reads
back from a cursor still right: rows, row counts, last row ids, many-row inserts, constraint errors, and a write
lock another process holds (the outage pages rely on the driver's error codes)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import bindparam, text
from sqlalchemy import column as sa_column
from sqlalchemy import insert as sa_insert
from sqlalchemy import table as sa_table
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import outages, sqlite_trips
from webapp.config import Settings
from webapp.data import plain
from webapp.db import WRITE_OPTION, create_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}", sqlite_busy_timeout_ms=200)
    made = create_engine(settings, serving=True)
    async with made.begin() as connection:
        await connection.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"))
    yield made
    await made.dispose()


# Times in place no pause of a loaded machine comes near (a moment this process is not running counts in them), for
# the tests of what runs in place at all; the tests of the bounds set their own.
UNBOUNDED = 60.0


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each function sent to an aiosqlite thread meanwhile (with no statement sent by trip for a
    while for an earlier test's stops: that record is the process's)."""
    monkeypatch.setattr(sqlite_trips, "_stops", {})
    monkeypatch.setattr(sqlite_trips, "_slow", {})
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_a_statement_is_one_trip_and_its_results_are_whole(engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # the pool's first connection made outside the count
        trips.clear()
        inserted = await connection.execute(text("INSERT INTO item (name) VALUES ('a')"))
        assert len(trips) == 1
        assert inserted.rowcount == 1
        assert inserted.lastrowid == 1
        many = await connection.execute(text("INSERT INTO item (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}])
        assert many.rowcount == 2
        trips.clear()
        rows = (await connection.execute(text("SELECT id, name FROM item ORDER BY id"))).all()
        assert len(trips) == 1
        assert [tuple(row) for row in rows] == [(1, "a"), (2, "b"), (3, "c")]
        returned = await connection.execute(text("UPDATE item SET name = name || '!' WHERE id > 1 RETURNING id, name"))
        assert sorted(tuple(row) for row in returned.all()) == [(2, "b!"), (3, "c!")]
        assert (await connection.execute(text("DELETE FROM item WHERE id = 1"))).rowcount == 1
        described = await connection.execute(text("SELECT name AS label FROM item WHERE id = 2"))
        assert list(described.keys()) == ["label"]
        assert described.scalar_one() == "b!"


async def test_constraint_errors_reach_sqlalchemy_as_before(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO item (name) VALUES ('same')"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO item (name) VALUES ('same')"))
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM item"))).scalar_one() == 1


async def test_a_lock_held_elsewhere_is_an_outage_with_its_sqlite_code(engine: AsyncEngine, tmp_path: Path) -> None:
    outside = sqlite3.connect(tmp_path / "trips.db", isolation_level=None)
    outside.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError) as raised:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
        assert outages.cause(raised.value) == "SQLite: locked by another writer"
    finally:
        outside.execute("ROLLBACK")
        outside.close()


@asynccontextmanager
async def ticking(every: float) -> AsyncIterator[list[int]]:
    """How many times (the list's one item) the event loop woke a task sleeping `every` seconds meanwhile: it
    stays near the time passed over `every` only while nothing holds the loop up."""
    ticks = [0]

    async def tick() -> None:
        while True:
            await asyncio.sleep(every)
            ticks[0] += 1

    ticker = asyncio.create_task(tick())
    try:
        yield ticks
    finally:
        ticker.cancel()


@asynccontextmanager
async def writing(path: Path, inline_seconds: float) -> AsyncIterator[AsyncEngine]:
    """The app's writer engine on `path` (its transactions BEGIN IMMEDIATE, as webapp.db's sessions do)."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{path}", sqlite_busy_timeout_ms=2000, sqlite_inline_seconds=inline_seconds
    )
    made = create_engine(settings, serving=True, writer=True)
    try:
        yield made.execution_options(**{WRITE_OPTION: True})
    finally:
        await made.dispose()


@pytest.fixture
async def writer(tmp_path: Path, engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    async with writing(tmp_path / "trips.db", UNBOUNDED) as made:
        yield made


async def test_a_writers_transaction_runs_in_place_when_the_lock_is_free(writer: AsyncEngine, trips: list[str]) -> None:
    async with writer.connect() as connection:
        await connection.execute(text("SELECT 1"))
        await connection.commit()
        trips.clear()
        await connection.execute(text("INSERT INTO item (name) VALUES ('in place')"))  # after BEGIN IMMEDIATE
        await connection.execute(text("UPDATE item SET name = 'in place!'"))
        assert (await connection.execute(text("SELECT name FROM item"))).scalar_one() == "in place!"
        await connection.commit()
    assert trips == []  # not one trip to the driver's thread: the lock is held for the transaction's own work
    async with writer.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM item"))).scalar_one() == 1


async def test_a_writers_transaction_past_its_time_in_place_makes_trips(
    tmp_path: Path, engine: AsyncEngine, trips: list[str]
) -> None:
    async with writing(tmp_path / "trips.db", 0.05) as writer, writer.connect() as connection:
        await connection.execute(text("SELECT 1"))
        await connection.commit()
        trips.clear()
        await connection.execute(text("INSERT INTO item (name) VALUES ('in place')"))  # after BEGIN IMMEDIATE
        await asyncio.sleep(0.1)  # a bulk change's time, say
        await connection.execute(text("UPDATE item SET name = 'by trip'"))
        assert (await connection.execute(text("SELECT name FROM item"))).scalar_one() == "by trip"
        await connection.commit()
        # The UPDATE, the SELECT and the commit went to the driver's thread, where they held up no other request.
        assert trips[-3:] == ["run", "run", "commit"]
        assert (await connection.execute(text("SELECT count(*) FROM item"))).scalar_one() == 1


@asynccontextmanager
async def locked_for_a_while(outside: sqlite3.Connection, begin: str) -> AsyncIterator[list[int]]:
    """`outside` takes a lock (`begin`) and gives it back half a second later, then is closed; meanwhile, the
    ticks of the event loop every 10 ms (`ticking`)."""
    outside.execute(begin)

    async def release_later() -> None:
        await asyncio.sleep(0.5)
        outside.execute("ROLLBACK")

    releaser = asyncio.create_task(release_later())
    try:
        async with ticking(0.01) as ticks:
            yield ticks
    finally:
        await releaser
        outside.close()


async def test_a_writer_waits_for_a_lock_held_elsewhere_without_holding_up_the_event_loop(
    writer: AsyncEngine, tmp_path: Path
) -> None:
    outside = sqlite3.connect(tmp_path / "trips.db", isolation_level=None, check_same_thread=False)
    async with locked_for_a_while(outside, "BEGIN IMMEDIATE") as ticks:
        started = time.perf_counter()
        async with writer.connect() as connection:
            # BEGIN IMMEDIATE first, which waits for the lock in the driver's thread
            await connection.execute(text("INSERT INTO item (name) VALUES ('after the wait')"))
            waited = time.perf_counter() - started
            await connection.commit()
    assert waited >= 0.4
    assert ticks[0] >= 20  # the loop ran on (every 10 ms) while the write waited


# --- a reader's kept reads, in place --------------------------------------------------------------------------

COUNT_TO = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT count(*) FROM n"


async def _driver(connection: Any) -> aiosqlite.Connection:
    raw = await connection.get_raw_connection()
    return raw.driver_connection  # type: ignore[no-any-return]


async def test_a_readers_read_runs_in_place_without_a_trip(
    tmp_path: Path, engine: AsyncEngine, trips: list[str]
) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}", sqlite_read_in_place_seconds=UNBOUNDED
    )
    reader = create_engine(settings, serving=True)
    try:
        async with reader.connect() as connection:
            await connection.execute(text("INSERT INTO item (name) VALUES ('a'), ('b')"))
            await connection.commit()
            driver = await _driver(connection)
            trips.clear()
            rows = await sqlite_trips.fetch(driver, "SELECT id, name FROM item ORDER BY id", ())
            assert rows == [(1, "a"), (2, "b")]
            assert await sqlite_trips.fetch(driver, COUNT_TO, (1000,)) == [(1000,)]
            assert trips == []
    finally:
        await reader.dispose()


async def test_reads_in_place_send_sqlite_their_statements_alone(
    tmp_path: Path, engine: AsyncEngine, trips: list[str]
) -> None:
    """The busy timeout is set aside once for a run of reads in place, not around each read (it was three PRAGMA
    statements a read, each a call into SQLite as costly as a small read)."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}", sqlite_read_in_place_seconds=UNBOUNDED
    )
    reader = create_engine(settings, serving=True)
    try:
        async with reader.connect() as connection:
            driver = await _driver(connection)
            await sqlite_trips.fetch(driver, "SELECT count(*) FROM item", ())  # the first sets it aside
            sent: list[str] = []
            driver._conn.set_trace_callback(sent.append)
            trips.clear()
            for _ in range(3):
                assert await sqlite_trips.fetch(driver, "SELECT count(*) FROM item", ()) == [(0,)]
            driver._conn.set_trace_callback(None)
            assert (sent, trips) == (["SELECT count(*) FROM item"] * 3, [])
    finally:
        await reader.dispose()


async def test_a_read_past_its_bound_is_stopped_and_made_again_as_a_trip(
    engine: AsyncEngine, trips: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Long enough to be stopped in place many times over (2 ms), short enough for a test: a few hundred ms.
    sql, size = COUNT_TO + " -- stopped", 2_000_000
    in_place: list[float] = []  # how long each attempt in place held the event loop
    attempt = sqlite_trips._read_in_place

    def timed(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return attempt(*args)
        finally:
            in_place.append(time.perf_counter() - started)

    monkeypatch.setattr(sqlite_trips, "_read_in_place", timed)

    async with engine.connect() as connection, ticking(0.005) as ticks:
        driver = await _driver(connection)
        trips.clear()
        started = time.perf_counter()
        assert await sqlite_trips.fetch(driver, sql, (size,)) == [(size,)]  # whole: not stopped in its trip
        took, ticked = time.perf_counter() - started, ticks[0]
        assert (len(in_place), len(trips)) == (1, 1)
        assert await sqlite_trips.fetch(driver, sql, (size,)) == [(size,)]
        assert (len(in_place), len(trips)) == (2, 2)  # tried in place again: one stop may be the clock's
        assert await sqlite_trips.fetch(driver, sql, (size,)) == [(size,)]
        assert (len(in_place), len(trips)) == (2, 3)  # straight to a trip: it ran long twice in a row
        # The connection waits for locks as before: its busy timeout was set aside for the reads in place only.
        async with driver.execute("PRAGMA busy_timeout") as cursor:
            assert await cursor.fetchone() == (200,)
    # The event loop went on while it ran: held in place for a small part of the read only.
    assert max(in_place) < took / 5, (in_place, took)
    assert ticked >= 3, ticked
    # A statement that ran in time stays in place.
    trips.clear()
    async with engine.connect() as connection:
        assert await sqlite_trips.fetch(await _driver(connection), COUNT_TO, (10,)) == [(10,)]
    assert trips == []


async def test_a_read_in_place_never_waits_for_a_lock_and_its_trip_does(tmp_path: Path, trips: list[str]) -> None:
    # In WAL mode (the app's) readers take no lock; a database in another journal mode (or another process's
    # exclusive lock) can still make a read wait. In place it must not: the wait is the trip's to make, with the
    # connection's own busy timeout, which the reads in place before it had set aside.
    path = tmp_path / "locked.db"
    outside = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    outside.execute("CREATE TABLE item (id INTEGER PRIMARY KEY)")
    count = "SELECT count(*) FROM item"
    async with aiosqlite.connect(path, isolation_level=None, timeout=2.0, check_same_thread=False) as reader:
        setattr(reader, sqlite_trips.READS_IN_PLACE, UNBOUNDED)
        assert await sqlite_trips.fetch(reader, count, ()) == [(0,)]
        assert trips == []  # in place
        async with locked_for_a_while(outside, "BEGIN EXCLUSIVE") as ticks:
            started = time.perf_counter()
            assert await sqlite_trips.fetch(reader, count, ()) == [(0,)]
            waited = time.perf_counter() - started
        assert waited >= 0.4  # the trip waited for the lock to go
        assert ticks[0] >= 20  # and the loop ran on meanwhile: nothing waited in place
        assert len(trips) == 1
        assert await sqlite_trips.fetch(reader, count, ()) == [(0,)]
        assert len(trips) == 1  # in place again


async def test_a_streamed_read_after_reads_in_place_waits_for_locks_as_before(tmp_path: Path) -> None:
    """An export streams its rows through aiosqlite's own cursor, not a trip of ours: it gets the connection's busy
    timeout back too."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}",
        sqlite_read_in_place_seconds=UNBOUNDED,
        sqlite_busy_timeout_ms=1234,
    )
    reader = create_engine(settings, serving=True)
    try:
        async with reader.connect() as connection:
            driver = await _driver(connection)
            assert await sqlite_trips.fetch(driver, "SELECT 1", ()) == [(1,)]
            assert await sqlite_trips.fetch(driver, "PRAGMA busy_timeout", ()) == [(0,)]  # set aside in place
            streamed = await connection.stream(text("PRAGMA busy_timeout"))
            assert [tuple(row) async for row in streamed] == [(1234,)]
    finally:
        await reader.dispose()


async def test_a_kept_write_past_the_transactions_time_in_place_goes_by_trip(
    tmp_path: Path, engine: AsyncEngine, trips: list[str]
) -> None:
    """plain.run's writes run on the driver in place only while the writer's transaction may run in place; past
    that, through SQLAlchemy by trip, in the same transaction."""
    table = sa_table("item", sa_column("id"), sa_column("name"))
    insert_item = plain.kept(sa_insert(table).values(name=bindparam("name")))
    async with writing(tmp_path / "trips.db", 0.05) as writer:
        async with writer.connect() as connection:
            await connection.execute(text("SELECT 1"))  # the pool's one connection made outside the count
            await connection.commit()
        trips.clear()
        async with AsyncSession(writer) as session:
            await plain.run(session, insert_item, {"name": "in place"})  # after BEGIN IMMEDIATE, in place too
            assert trips == []
            await asyncio.sleep(0.1)
            await plain.run(session, insert_item, {"name": "by trip"})
            assert trips == ["run"]
            await session.rollback()
        async with writer.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM item"))).scalar_one() == 0

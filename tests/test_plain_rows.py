"""Rows as named tuples (webapp.data.plain): the lists, pickers and pages read the same values, by name and by
position, as off SQLAlchemy's rows, on both databases; and kept statements read on the driver's connection show
the same pages as through SQLAlchemy."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy.ext.asyncio.session
from litestar import Litestar
from sqlalchemy import func, text
from sqlalchemy.exc import DBAPIError, IntegrityError, PendingRollbackError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.support import HEROES, HTMX, SUBJECTS, TEAMS, Client, id_of, link, make_hero, make_team
from tests.test_records_edit import edit_form
from tests.test_work_shape import listening, statements
from webapp import accounts, outages, registry
from webapp.data import lists, plain, reads
from webapp.data.plain import plain_rows
from webapp.db import WriteSession, session_factories
from webapp.models import Hero, Submission, Team, UserSession
from webapp.submissions import FIELD


async def test_rows_keep_their_columns_names_order_and_nulls(db: AsyncSession) -> None:
    team = await make_team(db, "Avengers")
    await make_hero(db, "Ant", team=team, age=30)
    await make_hero(db, "Bee")
    statement = (
        select(Hero.id, Hero.name, Hero.age, col(Team.name).label("team_name"))
        .outerjoin(Team, col(Hero.team_id) == col(Team.id))
        .order_by(col(Hero.name))
    )
    expected = list((await db.exec(statement)).all())
    rows = plain_rows(await db.exec(statement))
    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    assert [(row.name, row.age, row.team_name) for row in rows] == [("Ant", 30, "Avengers"), ("Bee", None, None)]
    assert rows[0][1] == "Ant"
    assert rows[0]._fields == ("id", "name", "age", "team_name")


# --- kept statements, read on the driver's connection ---------------------------------------------------------

# Pages whose statements are kept ones (webapp.data.plain.kept): lists of every shape, their next pages, counts,
# searches, a select's choices, and the session lookup on every one.
KEPT_PAGES = [
    "/heroes",
    "/heroes?size=25&sort=-age",
    "/heroes?team=Team+01&min_age=20",
    "/heroes?q=Item+0",
    "/heroes?q=ite&sort=team",
    "/teams?sort=headquarters",
    "/teams?has_heroes=no",
]


def _steady(page: str) -> str:
    """A page without what differs on every render (one-time form ids, the CSRF token)."""
    return re.sub(r'("_once": "|name="_once" value="|X-CSRF-Token": ")[^"]*"', r"\1", page)


async def _pages(client: Client) -> list[str]:
    shown = [(await client.get(url)).text for url in KEPT_PAGES]
    following = link(shown[0], "next")
    assert following is not None
    shown.append((await client.get(following)).text)
    shown.append((await client.get(HEROES.url(1, "/edit"))).text)
    return [_steady(page) for page in shown]


async def test_kept_statements_read_on_the_driver_show_what_sqlalchemy_reads(
    client: Client, app: Litestar, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same pages, byte for byte, whether the kept statements run on the driver's connection or through
    SQLAlchemy: the same rows, columns, types (the session's times) and order."""
    teams = await TEAMS.make_many(db, 3, prefix="Team")
    for number, hero in enumerate(await HEROES.make_many(db, 60)):
        hero.age, hero.team_id = (None if number % 7 == 0 else 18 + number, teams[number % 3].id)
    await db.commit()
    on_driver = await _pages(client)
    assert "60 heroes" in on_driver[0]
    declined: list[object] = []

    async def through_sqlalchemy(_connection: object, statement: object, _parameters: object) -> None:
        declined.append(statement)  # None: SQLAlchemy runs it, as it does a statement within a transaction

    monkeypatch.setattr(plain, "_on_driver", through_sqlalchemy)
    app.state.choices = reads.Choices()  # read again, not the choices the first pass kept
    assert await _pages(client) == on_driver
    assert declined


@contextmanager
def _executed(engines: Iterable[AsyncEngine]) -> Iterator[list[object]]:
    """The statements SQLAlchemy's execution layer runs meanwhile (its before_execute event)."""
    seen: list[object] = []

    def record(_connection: object, statement: object, *_args: object) -> None:
        seen.append(statement)

    with listening(engines, "before_execute", record):
        yield seen


async def test_a_list_page_reads_without_sqlalchemys_execution_layer(
    client: Client, app: Litestar, db: AsyncSession
) -> None:
    """A list page's statements (the session lookup, the page with its count) skip SQLAlchemy's execution: its
    execute events never fire for them, while the engine's cursor listeners (the request log's database time)
    still hear both."""
    await HEROES.make_many(db, 3)
    await TEAMS.make(db)  # the team filter's choices, read by the first page and kept (reads.Choices)
    await client.get("/heroes")  # warm: each kept statement compiled once
    with statements(app) as heard, _executed(app.state.engines) as executed:
        response = await client.get("/heroes")
    assert response.status_code == 200
    assert "3 heroes" in response.text
    assert len(heard) == 2
    assert executed == []


def reading(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Reader sessions as the app's (webapp.db), on the test's engine."""
    reader, _writer = session_factories(engine)
    return reader


async def test_kept_statements_give_sqlalchemys_values_and_types(
    client: Client, engine: AsyncEngine, db: AsyncSession
) -> None:
    """Row by row, value by value and type by type (a session's times, a user's flag), what the driver gives for
    each kind of kept statement is what SQLAlchemy gives for it."""
    team = await make_team(db, "Avengers")
    await make_hero(db, "Ant", team=team, age=30)
    session_id = (await db.exec(select(UserSession.id))).first()
    assert session_id is not None  # the client's, signed in
    kept_statements = [
        (accounts._FIND_SESSION, {"session_id": session_id}),
        (lists._live_count_statement("hero"), None),
        (reads._choices_statement(registry.BY_NAME["hero"].targets["team_id"], 100), None),
    ]
    async with reading(engine)() as session:
        for statement, parameters in kept_statements:
            on_driver = await plain.rows(session, statement, parameters)
            through_sqlalchemy = plain_rows(await plain.read(session, statement, parameters))
            assert on_driver
            assert on_driver[0]._fields == through_sqlalchemy[0]._fields
            assert [[(value, type(value)) for value in row] for row in on_driver] == [
                [(value, type(value)) for value in row] for row in through_sqlalchemy
            ]


async def test_a_kept_statement_without_its_parameters_is_refused(engine: AsyncEngine) -> None:
    """SQLAlchemy refuses a statement run without a value for one of its parameters; so does the driver's path,
    rather than reading with NULL in its place."""
    async with reading(engine)() as session:
        with pytest.raises(ValueError, match="session_id"):
            await plain.rows(session, accounts._FIND_SESSION, {})


async def test_a_lost_connection_on_the_driver_is_sqlalchemys_error_and_is_not_used_again(engine: AsyncEngine) -> None:
    """The driver's error comes out as SQLAlchemy's (what webapp.outages answers with a 503), and the connection
    is invalidated, so the pool does not hand it out again."""
    async with reading(engine)() as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        await raw.driver_connection.close()  # the database's end of the line goes away
        with pytest.raises(DBAPIError) as raised:
            await plain.rows(session, lists._live_count_statement("hero"))
        assert raised.value.connection_invalidated
        assert outages.cause(raised.value) is not None
    async with reading(engine)() as session:
        assert (await plain.rows(session, lists._live_count_statement("hero")))[0][0] >= 0


async def test_a_writers_kept_reads_belong_to_its_transaction(engine: AsyncEngine) -> None:
    """A write session's reads run in its transaction: a kept statement run first in one goes through SQLAlchemy
    (which on PostgreSQL begins the transaction with it), not on the driver beside it."""
    _reader, writer = session_factories(engine)
    with _executed([engine]) as executed:
        async with writer() as session:
            await plain.rows(session, lists._live_count_statement("hero"))
            driver = (await (await session.connection()).get_raw_connection()).driver_connection
            in_transaction = driver.in_transaction if engine.dialect.name == "sqlite" else driver.is_in_transaction()
    assert len(executed) == 1
    assert in_transaction


async def test_a_sessions_reads_ask_it_for_its_connection_again_only_once_it_has_let_it_go(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads one after another take the connection the session gave the first (no greenlet hop to ask again);
    once a commit has given it back to the pool, the next read runs on the connection the session holds then."""
    asked: list[object] = []
    connection = AsyncSession.connection

    async def counted(self: AsyncSession, *args: object, **kwargs: object) -> object:
        asked.append(self)
        return await connection(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(AsyncSession, "connection", counted)
    count = lists._live_count_statement("hero")
    _reader, writer = session_factories(engine)
    async with writer() as session:
        for _ in range(3):
            await plain.rows(session, count)
        first = await connection(session)
        assert len(asked) == 1
        await session.commit()
        assert first.closed
        await plain.rows(session, count)
        assert len(asked) == 2
        assert not (await connection(session)).closed


async def test_a_saves_statements_run_on_the_driver_in_its_transaction(
    client: Client, app: Litestar, db: AsyncSession, database_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An inline save's own statements (its one-time id, the record read and changed, its new team's check, its
    history entry, the row shown after) are kept ones, run on the driver in the writer's transaction: on SQLite
    every one (SQLAlchemy began the transaction with the connection), on PostgreSQL all but the first, which
    SQLAlchemy sends to begin it. The engine's cursor listeners hear every one, and with no ORM object in the
    session the commit has no unit of work to flush."""
    subject = next(subject for subject in SUBJECTS if subject.resource is registry.BY_NAME["hero"])
    hero = id_of(await subject.make(db))
    team_id = id_of(await make_team(db, "Preventers"))
    form = await edit_form(client, subject, hero, htmx=True)
    flushed: list[object] = []
    flush = WriteSession.flush

    async def counted(self: WriteSession, *args: object, **kwargs: object) -> None:
        flushed.append(self)
        await flush(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(WriteSession, "flush", counted)
    changed = {"secret_name": "Changed", "team_id": str(team_id)}
    with statements(app) as heard, _executed(app.state.engines) as executed:
        response = await client.post(subject.url(hero), data=form | changed, headers=HTMX)
    assert response.status_code == 200
    assert flushed == []
    assert any(statement.startswith("SELECT team.id") for statement in heard)
    writes = ["INSERT INTO submission", "UPDATE hero SET", "INSERT INTO audit_entry", "UPDATE submission SET"]
    assert [start for start in writes if any(statement.startswith(start) for statement in heard)] == writes
    through_sqlalchemy = [str(statement).split("(")[0].strip() for statement in executed]
    if database_kind == "sqlite":
        assert through_sqlalchemy == []
        assert [statement for statement in heard if statement.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
    else:
        assert through_sqlalchemy == ["INSERT INTO submission"]
    stored = await subject.stored(db, hero)
    assert (stored.secret_name, stored.team_id) == ("Changed", team_id)


async def test_a_save_whose_history_entry_fails_leaves_nothing_written(
    client: Client, db: AsyncSession, database_kind: str
) -> None:
    """The save's statements on the driver are in its transaction: when the history entry is refused, the
    record's change and the one-time id go with it."""
    subject = next(subject for subject in SUBJECTS if subject.resource is registry.BY_NAME["hero"])
    hero = id_of(await subject.make(db))
    before = await subject.values(db, hero)
    form = await edit_form(client, subject, hero, htmx=True)
    refusal = {
        "sqlite": [
            "CREATE TRIGGER refuse_history BEFORE INSERT ON audit_entry BEGIN SELECT RAISE(FAIL, 'no history'); END"
        ],
        "postgresql": [
            "CREATE FUNCTION refuse_history() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'no history'; END $$",
            "CREATE TRIGGER refuse_history BEFORE INSERT ON audit_entry FOR EACH ROW EXECUTE FUNCTION refuse_history()",
        ],
    }[database_kind]
    for statement in refusal:
        await db.exec(text(statement))
    await db.commit()
    try:
        response = await client.post(subject.url(hero), data=form | {"secret_name": "Changed"}, headers=HTMX)
    finally:
        # The test database outlives the test (PostgreSQL's is the worker's): the refusal goes with it.
        on_table = " ON audit_entry" if database_kind == "postgresql" else ""
        await db.exec(text(f"DROP TRIGGER refuse_history{on_table}"))
        if database_kind == "postgresql":
            await db.exec(text("DROP FUNCTION refuse_history()"))
        await db.commit()
    assert response.status_code >= 400
    db.expire_all()
    assert await subject.values(db, hero) == before
    assert (await subject.stored(db, hero)).version == 1
    assert (await db.exec(select(Submission).where(col(Submission.id) == form[FIELD]))).first() is None


async def test_a_read_after_a_failed_flush_is_refused_until_the_session_rolls_back(engine: AsyncEngine) -> None:
    """The connection a session's reads reuse is not reused past a failed flush: the read asks the session again,
    which refuses as SQLAlchemy does, and after the rollback reads on a connection of its own."""
    _reader, writer = session_factories(engine)
    count = lists._live_count_statement("hero")
    async with writer() as session:
        await plain.rows(session, count)
        session.add(Team(name="Same", headquarters="Here"))
        session.add(Team(name="Same", headquarters="There"))
        with pytest.raises(IntegrityError):
            await session.flush()
        with pytest.raises(PendingRollbackError):
            await plain.rows(session, count)
        await session.rollback()
        assert (await plain.rows(session, count))[0][0] == 0


async def _waited(awaitable: Awaitable[object]) -> bool:
    """Runs `awaitable` to its end; whether it gave the event loop a turn on the way (a task, any wait)."""
    steps = awaitable.__await__()
    waited = False
    while True:
        try:
            future = steps.send(None)
        except StopIteration:
            return waited
        waited = True
        await future


@pytest.mark.parametrize("closing", ["async with", "close()"])
async def test_a_readers_session_closes_on_the_spot_and_gives_its_connection_back(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, closing: str
) -> None:
    """A reading request's session, after its reads on the driver and through the ORM, closes without a turn of
    the event loop or a greenlet hop (its end of `async with` as the session lookup's, and close() as a request
    that lets its connection go): nothing is left to ask the database. Its connection is back in the pool, and
    the next session reads on it."""
    pool = engine.sync_engine.pool
    spawned: list[object] = []
    spawn = sqlalchemy.ext.asyncio.session.greenlet_spawn

    async def counted(function: Callable[..., object], *args: object, **kwargs: object) -> object:
        spawned.append(function)
        return await spawn(function, *args, **kwargs)

    session = await reading(engine)().__aenter__()
    await plain.rows(session, lists._live_count_statement("hero"))
    assert (await session.exec(select(func.count()).select_from(Hero))).one() >= 0
    assert pool.checkedout() == 1
    monkeypatch.setattr(sqlalchemy.ext.asyncio.session, "greenlet_spawn", counted)
    ending = session.__aexit__(None, None, None) if closing == "async with" else session.close()
    assert not await _waited(ending)
    assert spawned == []
    assert pool.checkedout() == 0
    async with reading(engine)() as again:
        assert (await plain.rows(again, lists._live_count_statement("hero")))[0][0] >= 0


@pytest.mark.parametrize("held", ["invalidated", "by the ORM alone"])
async def test_a_readers_session_that_may_have_to_ask_the_database_closes_as_sqlalchemy_closes(
    engine: AsyncEngine, held: str
) -> None:
    """A session whose connection is not known to need nothing (invalidated, or taken by the ORM without a read
    on the driver) closes the usual way, and the pool has its connection back all the same."""
    pool = engine.sync_engine.pool
    async with reading(engine)() as session:
        if held == "invalidated":
            await plain.rows(session, lists._live_count_statement("hero"))
            await (await session.connection()).invalidate()
        else:
            assert (await session.exec(select(func.count()).select_from(Hero))).one() >= 0
        assert not plain.closes_in_place(session)
    assert pool.checkedout() == 0
    async with reading(engine)() as again:
        assert (await plain.rows(again, lists._live_count_statement("hero")))[0][0] >= 0


def _closed(driver: Any) -> bool:
    if hasattr(driver, "is_closed"):  # asyncpg
        return bool(driver.is_closed())
    try:
        driver.in_transaction  # noqa: B018 - aiosqlite refuses it once closed
    except ValueError:
        return True
    return False


async def test_a_readers_connection_past_the_pools_size_is_closed_when_given_back(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """A pool already holding its size closes a connection given back to it (one taken past its size): closing
    one is the driver's work, so that session closes the usual way, and the connection is closed, not dropped
    unclosed with an error in the log."""
    pool = engine.sync_engine.pool
    sessions = [reading(engine)() for _ in range(pool.size() + 1)]
    for session in sessions:
        await plain.rows(session, lists._live_count_statement("hero"))
    past_the_size = (await (await sessions[-1].connection()).get_raw_connection()).driver_connection
    with caplog.at_level(logging.ERROR, logger="sqlalchemy.pool"):
        for session in sessions:
            await session.__aexit__(None, None, None)
    assert [record.getMessage() for record in caplog.records if record.name.startswith("sqlalchemy")] == []
    assert _closed(past_the_size)
    assert pool.checkedout() == 0
    assert pool.checkedin() == pool.size()

"""Engine, schema and session provider: one async engine per app, made in the lifespan."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from litestar import Litestar, Request
from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import logs, models, outages  # models: registers the tables on SQLModel.metadata
from webapp.config import PROJECT_DIR, Settings
from webapp.data import plain
from webapp.middleware import SAFE_METHODS
from webapp.passwords import Passwords
from webapp.sqlite_trips import OneTripDBAPI
from webapp.turns import Turns

# Connections taken with this option open their transaction with BEGIN IMMEDIATE on SQLite.
WRITE_OPTION = "sqlite_begin_immediate"
# Connections taken with this option only read: each statement runs on its own (autocommit), so a request's
# reads cost no BEGIN and no ROLLBACK round trips. Each statement still sees one consistent snapshot.
READ_OPTION = "read_only"
# Each SQLite connection's page cache, in KiB (SQLite's default is 2 MiB). A search at a million heroes walks a
# few thousand rows in name order, each on its own page: with 2 MiB they are read again from the file on every
# request (4.0 ms a walk, 8 ms a capped count, measured on 2026-12-07); with 32 MiB, from the cache (2.4 and
# 5.4 ms). That holds between writes: in WAL mode a connection empties its cache when it next reads after
# another connection's commit, so under steady writes the gain shrinks. A cache fills only as pages are read:
# a small database costs no more, a large one up to 32 MiB per open connection.
SQLITE_CACHE_KIB = 32 * 1024


def create_engine(settings: Settings, *, serving: bool = False, writer: bool = False) -> AsyncEngine:
    """An engine on the configured database. `serving`: with the limits that keep a request's answer within the
    request deadline (a short wait for a pooled connection, a statement timeout); without, for the command line
    and migrations, which may take long. `writer` (SQLite): the engine of the one connection that writes."""
    engine = (
        _create_sqlite_engine(settings, serving=serving, writer=writer)
        if settings.is_sqlite
        else _create_postgres_engine(settings, serving=serving)
    )
    if serving:
        # The request log's database time (webapp.logs).
        event.listen(engine.sync_engine, "before_cursor_execute", logs.statement_started)
        event.listen(engine.sync_engine, "after_cursor_execute", logs.statement_ended)
    return engine


# Seconds since a PostgreSQL connection was given back within which the pool takes it again without a ping.
RECENTLY_CHECKED = 1.0


def _create_postgres_engine(settings: Settings, *, serving: bool) -> AsyncEngine:
    server_settings = {
        # asyncpg prepares every statement, and after five runs PostgreSQL may plan one generically, blind
        # to its values: a search's pattern ('%zzzq%' or '%a%') or a page's cursor decides between an index
        # and a scan, and a generic plan for a search walked a million heroes. Plan with the values always.
        "plan_cache_mode": "force_custom_plan",
    }
    if serving:
        # The server ends a statement the client has stopped waiting for (asyncpg's command_timeout gives up
        # client-side, and its cancel request may not arrive), so it holds no locks past the deadline.
        server_settings["statement_timeout"] = str(int(settings.pg_command_timeout * 1000))
    engine = create_async_engine(
        settings.database_url,
        pool_pre_ping=True,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout if serving else 30,
        connect_args={
            "timeout": settings.pg_connect_timeout,
            "command_timeout": settings.pg_command_timeout if serving else None,
            "server_settings": server_settings,
        },
    )
    # When each connection was last given back to the pool, by its asyncpg connection (weakly: a connection the
    # pool closes leaves), for the ping below.
    given_back: WeakKeyDictionary[Any, float] = WeakKeyDictionary()

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:  # None: invalidated, and closed
            given_back[dbapi_connection.driver_connection] = time.monotonic()

    def ping(dbapi_connection: Any) -> bool:
        """The pool's check of a connection before a request takes it: one empty statement, one round trip, but
        none for a connection given back less than RECENTLY_CHECKED seconds ago and not known to be closed (a
        server that restarts closes its connections, and asyncpg marks them closed when the loop reads that).
        Under load every connection comes back within milliseconds, and the ping was one of a page's three round
        trips. A connection lost that recently without the driver knowing yet fails the request's first statement
        instead: a disconnect, which invalidates the whole pool as a failed ping does, so the next requests
        reconnect.
        SQLAlchemy's asyncpg adapter wraps its ping in BEGIN and ROLLBACK for PgBouncer's transaction mode (a
        connection it checks out is not yet in autocommit), two more round trips; the app connects to PostgreSQL
        itself (and its prepared statements would not pass PgBouncer's transaction mode either). A failure is
        raised as the adapter raises it, so the pool tells a lost connection from any other error."""
        driver = dbapi_connection.driver_connection
        returned = given_back.get(driver)
        if returned is not None and time.monotonic() - returned < RECENTLY_CHECKED and not driver.is_closed():
            return True
        try:
            await_only(driver.fetchrow(";"))
        except Exception as error:
            dbapi_connection._handle_exception(error)
        return True

    engine.sync_engine.dialect.do_ping = ping  # type: ignore[method-assign]
    return engine


UNICODE_LOWER = "unicode_lower"


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _create_sqlite_engine(settings: Settings, *, serving: bool, writer: bool) -> AsyncEngine:
    database = make_url(settings.database_url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite takes one writer at a time. A process's writers share one connection and queue for it in the pool
    # (for pool_timeout at most), so parked writers never take the connections readers use: in WAL mode reads
    # go on beside the one write in progress.
    sizes = (
        {"pool_size": 1, "max_overflow": 0}
        if writer
        else {"pool_size": settings.pool_size, "max_overflow": settings.max_overflow}
    )
    engine = create_async_engine(
        settings.database_url,
        # The writer's statements run in place once its transaction has begun, for a few milliseconds at most
        # (webapp.sqlite_trips): a save holds the write lock for its own work, not for the event loop's queue.
        module=(
            OneTripDBAPI(inline_for=settings.sqlite_inline_seconds)
            if writer
            else OneTripDBAPI(reads_in_place=settings.sqlite_read_in_place_seconds or None)
        ),
        pool_timeout=settings.pool_timeout if serving else 30,
        connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
        **sizes,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the driver so the "begin" hook below decides how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()
        # SQLite's LIKE and lower() fold ASCII letters only; searches for other letters fold with this.
        dbapi_connection.create_function(UNICODE_LOWER, 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred BEGIN that later writes fails with "database is locked" when another writer got there
        # first; IMMEDIATE takes the write lock up front so read-then-write transactions queue instead.
        options = connection.get_execution_options()
        if options.get(READ_OPTION, False):
            return  # autocommit: see READ_OPTION
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION, False) else "BEGIN")

    # Every call to the driver is a hop to aiosqlite's thread; a rollback with no transaction open (a read-only
    # session's end, or the pool's reset after the session's own rollback) would be one for nothing.
    rollback = engine.sync_engine.dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        if dbapi_connection.driver_connection.in_transaction:
            rollback(dbapi_connection)

    engine.sync_engine.dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    return engine


MIGRATIONS_DIR = PROJECT_DIR / "migrations"
# The revision that describes the schema the app made with create_all before it had migrations.
BASELINE = "0001"


def described_by_models(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """For Alembic's comparisons on `dialect`: what the models describe. SQLite's full-text index (a virtual
    table and its shadow tables) is made by DDL statements, and trigram indexes exist on PostgreSQL only."""

    def include(_object: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        if type_ == "table" and name is not None and name.startswith("hero_search"):
            return False
        return not (type_ == "index" and (name or "").endswith("_trgm") and dialect != "postgresql")

    return include


def _upgrade(connection: Connection) -> None:
    config = _alembic_config()
    config.attributes["connection"] = connection
    inspector = inspect(connection)
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite rebuilds a table to alter it, and dropping the old copy of a parent table would fire ON DELETE
        # SET NULL on every child row. Foreign keys are off while migrating (the pragma only takes effect
        # outside a transaction, hence the driver-level cursor) and checked afterwards.
        _driver_execute(connection, "PRAGMA foreign_keys=OFF")
    try:
        if "hero" in inspector.get_table_names() and not inspector.has_table("alembic_version"):
            # Tables without migration records were made by create_all: before migrations came in (the
            # baseline, no version column yet), or by the tests from the current models (the newest schema).
            current = "version" in {column["name"] for column in inspector.get_columns("hero")}
            command.stamp(config, "head" if current else BASELINE)
        command.upgrade(config, "head")
    finally:
        if sqlite:
            _driver_execute(connection, "PRAGMA foreign_keys=ON")
    if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
        raise RuntimeError("the migration left rows that break a foreign key")
    if sqlite:
        _triggers_in_place(connection)
    connection.commit()


SEARCH_TRIGGERS = {"hero_search_insert", "hero_search_delete", "hero_search_update"}


def _triggers_in_place(connection: Connection) -> None:
    """SQLite: a migration that alters a table in batch mode rebuilds it (copy, drop, rename), and dropping the old
    table drops its triggers: those that keep the full-text index and the live and change counts in step. Put back
    any that are missing, and rebuild what they keep from the tables, so no future migration can leave search or
    counts silently stale."""
    present = {row[0] for row in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    if not present >= SEARCH_TRIGGERS:
        for name in sorted(present & SEARCH_TRIGGERS):
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
        for statement in models.HERO_SEARCH_DDL[1:]:  # the triggers (the first statement makes the table)
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql("INSERT INTO hero_search(hero_search) VALUES ('rebuild')")
    kept = [
        *(
            (
                models.live_count_ddl(table, "sqlite"),
                (
                    f"DELETE FROM live_count WHERE record_type = '{table}'",  # noqa: S608 - ours
                    models.LIVE_COUNT_ROW.format(table=table),
                ),
            )
            for table in models.LIVE_COUNTED
        ),
        # Changes made while the triggers were missing went uncounted: one more change makes any choices a
        # worker kept with the old count be read again.
        *(
            (
                models.change_count_ddl(table, "sqlite"),
                (models.change_counted(table, "0"),),
            )
            for table in models.CHANGE_COUNTED
        ),
    ]
    for statements, refresh in kept:
        names = {statement.split()[2] for statement in statements}  # CREATE TRIGGER <name> ...
        if present >= names:
            continue
        for name in sorted(present & names):
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
        for statement in [*statements, *refresh]:
            connection.exec_driver_sql(statement)


def _driver_execute(connection: Connection, sql: str) -> None:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@cache
def newest_revision() -> str | None:
    """The newest migration's revision (read from the migration scripts once)."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


async def schema_revision(session: AsyncSession) -> str | None:
    """The revision the database's schema is at (None: no migration records)."""
    try:
        found = await session.exec(text("SELECT version_num FROM alembic_version"))  # type: ignore[call-overload]
    except ProgrammingError:  # PostgreSQL: no such table
        return None
    except OperationalError as error:  # SQLite says "no such table" this way; an outage is another matter
        if "no such table" in str(error):
            return None
        raise
    row = found.first()
    return str(row[0]) if row is not None else None


async def upgrade_schema(engine: AsyncEngine) -> None:
    """Create or upgrade the schema to the newest migration (what serve, demo and the CLI run first)."""
    async with engine.connect() as connection:
        await connection.run_sync(_upgrade)


async def create_tables(engine: AsyncEngine) -> None:
    """The models' tables straight from the metadata: for tests, which start empty and many times over.
    A test checks that the migrations arrive at the same schema."""
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)


class WriteSession(AsyncSession):
    """A write transaction's session. In a request, its commits are marked in the request's Commits
    (webapp.outages): the deadline does not cut a commit in flight, and a failure after one was sent is not
    answered "not saved"."""

    async def commit(self) -> None:
        commits: outages.Commits | None = self.info.get(outages.COMMITS)
        if commits is None or not self.in_transaction():
            await super().commit()
            return
        if self.new or self.dirty or self.deleted:
            # The ORM's statements first: a failure among them means nothing was sent to be saved. (A change made
            # of plain statements has sent them all already: no unit of work to flush, and no trip to ask.)
            await self.flush()
        commits.sent = commits.in_flight = True
        try:
            await super().commit()
        finally:
            commits.in_flight = False


class ReadSession(AsyncSession):
    """A reader's session. When closing it asks the database nothing (plain.closes_in_place: the rule for a
    reader, whose statements run outside any transaction), it closes on the spot. AsyncSession's close would hop
    to a greenlet, and its `async with` runs the close in a task of its own, shielded so that a cancellation
    cannot cut it short: a task and two turns of the event loop for work that never waits, about 35 us of each
    reading request (2026-12-07). A close that may have to wait goes AsyncSession's way."""

    async def close(self) -> None:
        if not self._closed_in_place():
            await super().close()

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        if not self._closed_in_place():
            await super().__aexit__(type_, value, traceback)

    def _closed_in_place(self) -> bool:
        if not plain.closes_in_place(self):
            return False
        self.sync_session.close()
        return True


def session_factories(
    engine: AsyncEngine, writing: AsyncEngine | None = None
) -> tuple[async_sessionmaker[ReadSession], async_sessionmaker[WriteSession]]:
    """A reader and a writer factory, over the same engine and pool or writers on an engine of their own
    (`writing`): readers read statement by statement (SQLite without BEGIN, PostgreSQL in autocommit), writers
    open a transaction (on SQLite, BEGIN IMMEDIATE)."""
    read_only: dict[str, Any] = {READ_OPTION: True}
    if engine.dialect.name != "sqlite":
        read_only["isolation_level"] = "AUTOCOMMIT"
    reader = async_sessionmaker(engine.execution_options(**read_only), class_=ReadSession, expire_on_commit=False)
    writer = async_sessionmaker(
        (writing or engine).execution_options(**{WRITE_OPTION: True}), class_=WriteSession, expire_on_commit=False
    )
    return reader, writer


def make_lifespan(settings: Settings) -> Any:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings, serving=True)
        writing = create_engine(settings, serving=True, writer=True) if settings.is_sqlite else None
        app.state.engine = engine
        app.state.engines = (engine,) if writing is None else (engine, writing)
        app.state.reader, app.state.writer = session_factories(engine, writing)
        app.state.passwords = Passwords(settings.argon2_parameters)
        # How many CSV exports this process streams at once (each holds a connection while its client reads).
        app.state.export_slots = asyncio.Semaphore(settings.export_slots)
        # How many reads this process works on at once (webapp.turns).
        app.state.read_turns = Turns(settings.read_turns)
        try:
            yield
        finally:
            await outages.wind_down(settings.request_deadline)
            await engine.dispose()
            if writing is not None:
                await writing.dispose()

    return lifespan


# Where a reading request's database session waits in the scope's state (see auth.SessionMiddleware).
REQUEST_SESSION = "db_session"


async def release_request_session(scope: Any) -> None:
    """Give a reading request's connection back to the pool before the request takes another (a write of its
    own, a stream on a connection of its own); its session takes one again if it reads after this."""
    shared = scope.get("state", {}).get(REQUEST_SESSION)
    if shared is not None:
        await shared.close()


async def provide_session(request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    """One session per request: a reading request's is the one its session lookup used (the middleware closes
    it); unsafe methods get a write transaction. Handlers commit explicitly."""
    if request.method in SAFE_METHODS and (shared := request.scope.get("state", {}).get(REQUEST_SESSION)):
        yield shared
        return
    factory = request.app.state.reader if request.method in SAFE_METHODS else request.app.state.writer
    async with factory() as session:
        if (commits := outages.commits_of(request.scope)) is not None:
            session.info[outages.COMMITS] = commits
        yield session

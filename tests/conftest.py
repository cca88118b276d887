"""Every test that asks for `settings` (directly or through `client`/`db`) runs on SQLite and on PostgreSQL, but
for those marked `one_database` (browser checks of presentation only), which run on SQLite.

Each test starts from an empty database and a clock of its own. What costs time but holds no state is made once
per worker: the schema (SQLite: a template file copied for each test; PostgreSQL: made once in the run's own
database, its tables emptied for each test) and the app itself for tests on the default settings (the app keeps
no state between tests: its engine lives in the lifespan each test client starts and stops). A test that needs
other settings gets an app of its own.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import profiles
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.databases import (
    create_postgres_database,
    drop_postgres_database,
    postgres_admin_url,
    run_async,
)

# HTMX, Clock and sign_in are imported from here by test files that predate tests/support.py.
from tests.support import HTMX as HTMX
from tests.support import Clock, make_user, sign_in
from webapp.app import create_app
from webapp.config import Settings, utcnow
from webapp.data import reads
from webapp.db import create_engine, create_tables, session_factories
from webapp.models import Role, User

_postgres: dict[str, str | None] = {}


def _admin_url() -> str | None:
    if "admin" not in _postgres:
        _postgres["admin"] = postgres_admin_url()
    return _postgres["admin"]


def database_kinds() -> list[str]:
    return ["sqlite", "postgresql"] if _admin_url() else ["sqlite"]


def pytest_report_header() -> str:
    if _admin_url():
        return "databases: SQLite and PostgreSQL"
    return "databases: SQLite only - no PostgreSQL reachable (set TEST_DATABASE_URL to run the PostgreSQL half)"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_kind" in metafunc.fixturenames:
        kinds = database_kinds()
        if metafunc.definition.get_closest_marker("one_database"):
            kinds = kinds[:1]  # SQLite, which every run has
        metafunc.parametrize("database_kind", kinds, scope="session")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Browser tests last: Playwright's sync API keeps an event loop running on the main thread for the rest
    # of the session, and async tests cannot start their own loop beside it.
    items.sort(key=lambda item: "/e2e/" in str(item.path))


async def _make_schema(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        await create_tables(engine)
    finally:
        await engine.dispose()  # SQLite: the last connection closing folds the WAL into the file


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """The run's own PostgreSQL database with the schema made (created lazily, dropped at the end)."""
    admin = _admin_url()
    if admin is None:
        yield None
        return
    url = create_postgres_database(admin)
    try:
        run_async(_make_schema(url))
        yield url
    finally:
        drop_postgres_database(admin, url)


@pytest.fixture(scope="session")
def sqlite_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(an empty database with the schema made, the file each test gets a fresh copy of)."""
    directory = tmp_path_factory.mktemp("sqlite")
    template = directory / "template.db"
    run_async(_make_schema(f"sqlite+aiosqlite:///{template}"))
    return template, directory / "test.db"


def _fresh_copy(template: Path, database: Path) -> None:
    for leftover in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(template, database)


@pytest.fixture
def database_url(database_kind: str, request: pytest.FixtureRequest) -> str:
    if database_kind == "postgresql":
        url: str | None = request.getfixturevalue("postgres_url")
        assert url is not None
        return url
    template, database = request.getfixturevalue("sqlite_files")
    _fresh_copy(template, database)
    return f"sqlite+aiosqlite:///{database}"


@pytest.fixture(scope="session")
def worker_clock() -> Clock:
    return Clock()


@pytest.fixture
def clock(worker_clock: Clock) -> Clock:
    """The app's clock, set to now at the start of each test."""
    worker_clock.now = utcnow()
    return worker_clock


# The default settings and the app built on them, one of each per database (URLs are fixed per worker).
_defaults: dict[str, Settings] = {}
_apps: dict[str, Litestar] = {}


# A Fernet key for second-factor secrets, as SECOND_FACTOR_KEY would give one (tests only).
SECOND_FACTOR_KEY = "ZBWLonlVGAd_GCGY9Im3YMMr5qRDn0QV03k7yPpf3P8="
# The host name the test clients send.
TEST_HOST = "testserver.local"


# The database limits the app had before it bounded every answer by a request deadline: the tests run on a shared,
# often loaded machine, where opening a dozen connections at once can take longer than a production limit. The
# bounded limits are tested where they are the subject (tests/test_outages.py), with settings of their own.
UNHURRIED: dict[str, Any] = {
    "request_deadline": 60.0,
    "pg_connect_timeout": 10.0,
    "pg_command_timeout": 30.0,
    "sqlite_busy_timeout_ms": 15_000,
    "pool_timeout": 30.0,
}


@pytest.fixture
def settings(database_url: str, clock: Clock) -> Settings:
    # Cheap argon2: a sign-in test costs a fraction of a millisecond instead of a full hash (twice).
    if database_url not in _defaults:
        _defaults[database_url] = Settings(
            database_url=database_url,
            clock=clock,
            argon2_parameters=profiles.CHEAPEST,
            allowed_hosts=(TEST_HOST,),
            second_factor_keys=(SECOND_FACTOR_KEY,),
            **UNHURRIED,
        )
    return _defaults[database_url]


_emptying: dict[str, str] = {}


async def empty_postgres(engine: AsyncEngine) -> None:
    """Empty every table and restart every id sequence, as TRUNCATE ... RESTART IDENTITY would, in one statement
    (on tables this small DELETE takes a tenth of TRUNCATE's time). Two passes, since deleting rows fires
    triggers that count them in another table."""
    url = engine.url.render_as_string(hide_password=False)
    async with engine.begin() as connection:
        if url not in _emptying:
            found = await connection.exec_driver_sql(
                "SELECT quote_ident(sequence_name) FROM information_schema.sequences WHERE sequence_schema = 'public'"
            )
            restarts = " ".join(f"ALTER SEQUENCE {name} RESTART;" for (name,) in found.all())
            deletes = " ".join(f'DELETE FROM "{table.name}";' for table in reversed(SQLModel.metadata.sorted_tables))
            # The command-line tests upgrade the schema of this database (as every command does first), which
            # stamps it with the newest migration; the tests' schema is made from the models, unstamped.
            unstamp = "DROP TABLE IF EXISTS alembic_version;"
            _emptying[url] = f"DO $$ BEGIN {deletes} {deletes} {restarts} {unstamp} END $$"
        await connection.exec_driver_sql(_emptying[url])


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """A test-side engine (separate from the app's) on an empty database."""
    test_engine = create_engine(settings)
    if not settings.is_sqlite:
        await empty_postgres(test_engine)
    yield test_engine
    await test_engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session for arranging data and for re-reading the database after a request."""
    _reader, writer = session_factories(engine)
    async with writer() as session:
        yield session


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine) -> Litestar:
    if settings is not _defaults.get(settings.database_url):
        return create_app(settings)  # other settings than the default: an app of its own
    if settings.database_url not in _apps:
        _apps[settings.database_url] = create_app(settings)
    shared = _apps[settings.database_url]
    # Each test starts from an emptied database under the same app: its change counts start again too, which
    # no database does under a running app (a restore needs the app stopped), so the choices it kept go.
    shared.state.choices = reads.Choices()
    return shared


@pytest.fixture
async def http(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client that is not signed in."""
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
async def editor(db: AsyncSession) -> User:
    return await make_user(db, username="eddie", role=Role.editor)


@pytest.fixture
async def client(
    http: AsyncTestClient[Litestar], db: AsyncSession, editor: User, clock: Clock
) -> AsyncTestClient[Litestar]:
    """A client signed in as an editor (who may do everything but manage users)."""
    await sign_in(http, db, editor, clock)
    return http

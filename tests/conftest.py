"""Every test that asks for `settings` (directly or through `client`/`db`) runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import profiles
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.databases import create_postgres_database, drop_postgres_database, postgres_admin_url, reset_tables
from tests.factories import make_user
from webapp import accounts
from webapp.app import create_app
from webapp.config import Settings, utcnow
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
        metafunc.parametrize("database_kind", database_kinds(), scope="session")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Browser tests last: Playwright's sync API keeps an event loop running on the main thread for the rest
    # of the session, and async tests cannot start their own loop beside it.
    items.sort(key=lambda item: "/e2e/" in str(item.path))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """The run's own PostgreSQL database (created lazily, dropped at the end)."""
    admin = _admin_url()
    if admin is None:
        yield None
        return
    url = create_postgres_database(admin)
    try:
        yield url
    finally:
        drop_postgres_database(admin, url)


@pytest.fixture
def database_url(database_kind: str, postgres_url: str | None, tmp_path: Path) -> str:
    if database_kind == "postgresql":
        assert postgres_url is not None
        return postgres_url
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


class Clock:
    """The app's clock in tests: real time at the start, moved on only by `advance`."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


# A Fernet key for second-factor secrets, as SECOND_FACTOR_KEY would give one (tests only).
SECOND_FACTOR_KEY = "ZBWLonlVGAd_GCGY9Im3YMMr5qRDn0QV03k7yPpf3P8="
# The host name the test clients send.
TEST_HOST = "testserver.local"


@pytest.fixture
def settings(database_url: str, clock: Clock) -> Settings:
    # Cheap argon2: a sign-in test costs a fraction of a millisecond instead of a full hash (twice).
    return Settings(
        database_url=database_url,
        clock=clock,
        argon2_parameters=profiles.CHEAPEST,
        allowed_hosts=(TEST_HOST,),
        second_factor_keys=(SECOND_FACTOR_KEY,),
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """A test-side engine (separate from the app's) with an empty schema."""
    test_engine = create_engine(settings)
    await create_tables(test_engine)
    if not settings.is_sqlite:
        await reset_tables(test_engine)
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
    return create_app(settings)


@pytest.fixture
async def http(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client that is not signed in."""
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


async def sign_in(client: httpx.AsyncClient, db: AsyncSession, user: User, clock: Clock) -> str:
    """Sign `client` in as `user` (a session made directly; the sign-in form has tests of its own).

    Like htmx, the client then sends the session's CSRF token as a header on every request. Returns the token.
    """
    token, row = await accounts.start_session(db, user=user, now=clock())
    await db.commit()
    client.cookies.set("session", token)
    client.headers["X-CSRF-Token"] = row.csrf_token
    return row.csrf_token


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


HTMX: dict[str, Any] = {"HX-Request": "true"}

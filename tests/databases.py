"""Test databases: a fresh SQLite file per test, and one PostgreSQL database per run (made and dropped here).

PostgreSQL comes from TEST_DATABASE_URL (an asyncpg URL to a server where we may create databases), or
from the local default server if one answers. REQUIRE_POSTGRES=1 (set by CI) turns "no PostgreSQL" into a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion in a worker thread, so it works even where a loop is already running
    (Playwright's sync API keeps one running on the main thread)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str | None:
    """The server to make the run's database on, or None when no PostgreSQL is available."""
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES
    try:
        run_async(_ping(url))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        if os.environ.get("REQUIRE_POSTGRES") == "1" or os.environ.get("TEST_DATABASE_URL"):
            raise RuntimeError(f"PostgreSQL is required but not reachable at {_safe(url)}: {exc}") from exc
        return None
    return url


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _ping(url: str) -> None:
    connection = await asyncpg.connect(_dsn(url), timeout=3)
    await connection.close()


def _admin_execute(admin_url: str, sql: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on the server's maintenance database."""

    async def execute() -> None:
        connection = await asyncpg.connect(_dsn(admin_url), timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    run_async(execute())


def create_postgres_database(admin_url: str) -> str:
    """Create a uniquely named database and return its asyncpg URL."""
    name = f"hero_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _admin_execute(admin_url, f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, database_url: str) -> None:
    """Drop only the database this run created."""
    name = make_url(database_url).database
    if not (name and name.startswith("hero_test_")):
        raise ValueError(f"refusing to drop a database this run did not create: {name}")
    _admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def reset_tables(engine: AsyncEngine, *, keep: frozenset[str] = frozenset()) -> None:
    """Empty every table but those named in `keep` (PostgreSQL tests share one database per run)."""
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables if table.name not in keep)
    async with engine.begin() as connection:
        await connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")

"""Concurrent writes neither fail nor vanish, on SQLite (WAL + BEGIN IMMEDIATE) and PostgreSQL (row locks): creates
all land, and of many saves on top of one version exactly one is acknowledged and stored, the rest told so (409).

The shared `client` fixture runs each request to completion before the next starts (Litestar's test transport
blocks on a portal), so these tests drive the app through httpx's ASGITransport on the test's own event loop,
and check that the requests really overlapped.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.concurrent import concurrent_client
from tests.support import (
    Clock,
    all_heroes,
    all_teams,
    audit_entries,
    fetch_hero,
    form_fields,
    id_of,
    make_hero,
    make_team,
)
from webapp.config import Settings
from webapp.data import reads
from webapp.db import create_engine, create_tables, session_factories
from webapp.registry import TEAMS

CONCURRENCY = 32


async def test_concurrent_hero_creates_all_answer_303_and_all_are_stored(
    app: Litestar, db: AsyncSession, clock: Clock
) -> None:
    names = [f"Hero {n:02d}" for n in range(CONCURRENCY)]
    async with concurrent_client(app, db, clock) as concurrent:
        responses = await asyncio.gather(
            *(concurrent.http.post("/heroes", data={"name": n, "secret_name": f"Secret of {n}"}) for n in names)
        )
    assert [r.status_code for r in responses] == [303] * CONCURRENCY
    assert concurrent.overlap.peak > 1
    assert sorted(hero.name for hero in await all_heroes(db)) == names


async def test_concurrent_saves_of_one_version_store_exactly_the_one_acknowledged(
    app: Litestar, db: AsyncSession, clock: Clock
) -> None:
    """Every editor opened the hero at version 1 and saves a different name at once: a read-then-write would
    acknowledge them all and keep whichever came last; the version check acknowledges one and keeps that one."""
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    names = [f"Deadpond {n:02d}" for n in range(CONCURRENCY)]
    async with concurrent_client(app, db, clock) as concurrent:
        opened = await asyncio.gather(*(concurrent.http.get(f"/heroes/{hero_id}/edit") for _ in names))
        forms = [form_fields(page.text, "hero-form") for page in opened]
        assert {form["version"] for form in forms} == {"1"}
        concurrent.overlap.peak = 0  # the saves must overlap, not just the page loads
        responses = await asyncio.gather(
            *(
                concurrent.http.post(f"/heroes/{hero_id}", data=form | {"name": name})
                for form, name in zip(forms, names, strict=True)
            )
        )
    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [303] + [409] * (CONCURRENCY - 1)
    assert concurrent.overlap.peak > 1
    (acknowledged,) = [name for name, status in zip(names, statuses, strict=True) if status == 303]
    stored = await fetch_hero(db, hero_id)
    assert stored is not None
    assert (stored.name, stored.version) == (acknowledged, 2)
    # Each refused editor gets the form again on top of the stored version, so saving again can apply theirs.
    refused = [r for r in responses if r.status_code == 409]
    assert {form_fields(r.text, "hero-form")["version"] for r in refused} == {"2"}
    updates = [(e.action, e.changes) for e in await audit_entries(db) if e.record_type == "hero"]
    assert updates == [("update", {"name": ["Deadpond", acknowledged]})]
    assert len(await all_heroes(db)) == 1


async def test_concurrent_creates_of_one_team_name_store_one_and_answer_409_to_the_rest(
    app: Litestar, db: AsyncSession, clock: Clock
) -> None:
    async with concurrent_client(app, db, clock) as concurrent:
        responses = await asyncio.gather(
            *(
                concurrent.http.post("/teams", data={"name": "Preventers", "headquarters": f"Tower {n}"})
                for n in range(CONCURRENCY)
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [303] + [409] * (CONCURRENCY - 1)
    assert concurrent.overlap.peak > 1
    assert [team.name for team in await all_teams(db)] == ["Preventers"]


# --- SQLite connection settings (these build their own SQLite database, so they run once) -----------------


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    sqlite_engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}"))
    await create_tables(sqlite_engine)
    yield sqlite_engine
    await sqlite_engine.dispose()


async def pragma(engine: AsyncEngine, name: str) -> object:
    async with engine.connect() as connection:
        return (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()


async def test_sqlite_connections_use_wal(sqlite_engine: AsyncEngine) -> None:
    assert str(await pragma(sqlite_engine, "journal_mode")).lower() == "wal"


async def test_sqlite_connections_wait_for_the_write_lock(sqlite_engine: AsyncEngine) -> None:
    busy_timeout = await pragma(sqlite_engine, "busy_timeout")
    assert isinstance(busy_timeout, int)
    assert busy_timeout > 0


async def test_sqlite_connections_enforce_foreign_keys(sqlite_engine: AsyncEngine) -> None:
    assert await pragma(sqlite_engine, "foreign_keys") == 1


async def test_sqlite_connections_keep_a_large_page_cache(sqlite_engine: AsyncEngine) -> None:
    # Negative: a size in KiB. Reads at a million heroes touch thousands of pages (webapp.db.SQLITE_CACHE_KIB).
    assert await pragma(sqlite_engine, "cache_size") == -32 * 1024


def other_writer_is_locked_out(engine: AsyncEngine) -> bool:
    """Whether a second connection, not willing to wait, is refused the write lock right now."""
    database = engine.url.database
    assert database is not None
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    finally:
        other.close()
    return False


async def test_sqlite_write_session_takes_the_write_lock_at_its_first_read(sqlite_engine: AsyncEngine) -> None:
    _reader, writer = session_factories(sqlite_engine)
    async with writer() as session:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        assert other_writer_is_locked_out(sqlite_engine)


async def test_sqlite_read_session_leaves_the_write_lock_free(sqlite_engine: AsyncEngine) -> None:
    reader, _writer = session_factories(sqlite_engine)
    async with reader() as session:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        assert not other_writer_is_locked_out(sqlite_engine)


async def test_a_team_a_save_checked_cannot_go_to_the_trash_until_the_save_commits(
    engine: AsyncEngine, db: AsyncSession, database_kind: str
) -> None:
    """A hero's save checks its team is live (reads.is_live, as the form's check does) and holds it so: the team's
    move to the trash waits until the save commits (PostgreSQL: a share lock on the team's row; SQLite: the save's
    write lock), so no saved hero points at a team in the trash."""
    team_id = id_of(await make_team(db, name="Held"))
    await db.commit()
    _reader, writer = session_factories(engine)
    async with writer() as session:
        assert await reads.is_live(session, TEAMS, record_id=team_id, lock=True)
        refused = await _trash_refusal(engine, database_kind, team_id)
        assert refused is not None
        assert "locked" in refused if database_kind == "sqlite" else "lock timeout" in refused
        await session.commit()
    assert await _trash_refusal(engine, database_kind, team_id) is None
    assert [team.deleted_at is not None for team in await all_teams(db)] == [True]


async def _trash_refusal(engine: AsyncEngine, database_kind: str, team_id: int) -> str | None:
    """Why another connection, waiting 0.2 s at most, was refused moving the team to the trash right now (None:
    it was moved)."""
    trash = f"UPDATE team SET deleted_at = CURRENT_TIMESTAMP WHERE id = {team_id}"
    if database_kind == "sqlite":
        database = engine.url.database
        assert database is not None
        other = sqlite3.connect(database, timeout=0.2, isolation_level=None)
        try:
            other.execute(trash)
        except sqlite3.OperationalError as exc:
            return str(exc)
        finally:
            other.close()
        return None
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            await connection.exec_driver_sql(trash)
    except DBAPIError as exc:
        return str(exc)
    return None

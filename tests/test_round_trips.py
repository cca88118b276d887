"""A page's trips to the database: on PostgreSQL the round trips of its statements alone, on SQLite none to
aiosqlite's thread (its reads run in place, webapp.sqlite_trips.fetch)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import aiosqlite
import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.support import HEROES, Client, id_of, make_team
from webapp import db as db_module
from webapp import sqlite_trips
from webapp.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A read in place is stopped by the clock (2 ms by default), and a moment this process is not running counts in
    # it: on a loaded machine a pause in the middle of a read sends it by trip. The bound's own behaviour is
    # tested in tests/test_sqlite_trips.py; here only whether a page's reads go by trip at all.
    return replace(settings, sqlite_read_in_place_seconds=5.0)


@pytest.fixture(autouse=True)
def nothing_gone_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """No statement sent by trip for a while for an earlier test's stops (the record is the process's)."""
    monkeypatch.setattr(sqlite_trips, "_stops", {})
    monkeypatch.setattr(sqlite_trips, "_slow", {})


@pytest.mark.parametrize("idle", [False, True], ids=["busy", "idle"])
@pytest.mark.parametrize("page", ["list", "detail", "edit"])
async def test_a_page_goes_to_the_database_only_for_its_statements(
    client: Client, db: AsyncSession, database_kind: str, monkeypatch: pytest.MonkeyPatch, page: str, idle: bool
) -> None:
    """On PostgreSQL two round trips: the session lookup and the page's rows (a list's page, one hero as the list
    shows it, or as an edit form starts from it), on a connection given back moments ago; three on one given back
    longer ago than webapp.db.RECENTLY_CHECKED (none, for "idle"), the first the pool's check of the connection
    (one empty statement, not wrapped in BEGIN and ROLLBACK). On SQLite those reads run in place: no trip to
    aiosqlite's thread at all."""
    if idle:
        monkeypatch.setattr(db_module, "RECENTLY_CHECKED", 0.0)
    else:  # so that a pause of this process between the two requests does not count
        monkeypatch.setattr(db_module, "RECENTLY_CHECKED", 60.0)
    heroes = await HEROES.make_many(db, 3)
    await make_team(db, name="Preventers")  # the team filter's choices, read once and then kept
    path = {
        "list": HEROES.path,
        "detail": HEROES.url(id_of(heroes[1])),
        "edit": HEROES.url(id_of(heroes[1])) + "/edit",
    }[page]
    sent: list[str] = []
    if database_kind == "postgresql":
        for name in ("fetch", "fetchrow", "fetchval", "execute", "executemany", "prepare"):
            monkeypatch.setattr(asyncpg.Connection, name, _counted(getattr(asyncpg.Connection, name), name, sent))
        expected = ["fetchrow", "fetch", "fetch"] if idle else ["fetch", "fetch"]
    else:
        monkeypatch.setattr(aiosqlite.Connection, "_execute", _counted(aiosqlite.Connection._execute, "trip", sent))
        expected = []
    assert (await client.get(path)).status_code == 200  # warm: connections made, choices read and kept
    sent.clear()
    response = await client.get(path)
    assert response.status_code == 200
    assert [call.split()[0] for call in sent] == expected, sent
    assert heroes[1].name in response.text


def _counted(method: Callable[..., Any], name: str, sent: list[str]) -> Callable[..., Any]:
    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(f"{name} {str(args[0])[:60] if args else ''}")
        return await method(self, *args, **kwargs)

    return counted

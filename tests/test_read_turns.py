"""Reads take turns (webapp.turns): a worker works on READS_IN_PROGRESS reads at once, the rest wait in the order
they came and are then served, not refused; /healthz never waits for a turn."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.concurrent import ConcurrentClient, concurrent_client
from tests.support import HEROES, Clock, id_of
from webapp.app import create_app
from webapp.config import Settings
from webapp.turns import Turns

# Seconds a read waits for a pooled connection: long enough for the test to hand the connection back in time.
POOL_TIMEOUT = 2.0


def with_turns(settings: Settings, turns: int, **overrides: Any) -> Litestar:
    return create_app(Settings(**{**settings.__dict__, "reads_in_progress": turns, **overrides}))


async def pages_in_order(concurrent: ConcurrentClient, count: int) -> list[asyncio.Future[httpx.Response]]:
    """`count` list pages asked for one after another, each in the app before the next is asked for."""
    already = concurrent.overlap.running
    pages: list[asyncio.Future[httpx.Response]] = []
    for _ in range(count):
        pages.append(asyncio.ensure_future(concurrent.http.get("/heroes")))
        while concurrent.overlap.running < already + len(pages):  # noqa: ASYNC110 - a counter, with no event to wait on
            await asyncio.sleep(0)
    return pages


async def test_reads_past_the_turns_wait_for_a_turn_not_for_the_database(
    settings: Settings, db: AsyncSession, clock: Clock
) -> None:
    await HEROES.make_many(db, 3)
    # Two turns and one connection for reads, which the test holds: the two reads with a turn wait for it and give up
    # after the pool's timeout (503). The three after them wait for a turn meanwhile, not for the connection (with
    # no turns they would all have waited for it, and given up together); the test lets it go, and they are served.
    app = with_turns(settings, 2, pool_size=1, max_overflow=0, pool_timeout=POOL_TIMEOUT)
    async with concurrent_client(app, db, clock) as concurrent:
        async with app.state.engine.connect():
            reads = await pages_in_order(concurrent, 5)
            while sum(read.done() for read in reads) < 2:  # noqa: ASYNC110 - the same
                await asyncio.sleep(0.01)
        pages = await asyncio.gather(*reads)
    assert [page.status_code for page in pages] == [503, 503, 200, 200, 200]


async def test_a_worker_reads_as_many_at_once_as_its_database_needs(
    settings: Settings, db: AsyncSession, clock: Clock, database_kind: str
) -> None:
    """Without READS_IN_PROGRESS: two reads at once on SQLite (they read in place, working while they hold a turn),
    four on PostgreSQL (a read holds its turn while it waits for the server). One connection for reads, which the
    test holds: the reads with a turn wait for it and give up together after the pool's timeout (503), the one
    after them waits for a turn meanwhile, and is served once the test lets the connection go."""
    turns = {"sqlite": 2, "postgresql": 4}[database_kind]
    assert settings.reads_in_progress is None
    await HEROES.make_many(db, 3)
    app = create_app(replace(settings, pool_size=1, max_overflow=0, pool_timeout=POOL_TIMEOUT))
    async with concurrent_client(app, db, clock) as concurrent:
        async with app.state.engine.connect():
            reads = await pages_in_order(concurrent, turns + 1)
            while not any(read.done() for read in reads):  # noqa: ASYNC110 - the same
                await asyncio.sleep(0.01)
            # The reads with a turn began waiting together and gave up together; a read that had waited for a
            # turn would wait for the connection a whole POOL_TIMEOUT more.
            await asyncio.sleep(POOL_TIMEOUT / 4)
            assert sum(read.done() for read in reads) == turns
        pages = await asyncio.gather(*reads)
    assert [page.status_code for page in pages] == [503] * turns + [200]


async def test_while_a_write_is_in_progress_reads_take_two_turns(
    settings: Settings, db: AsyncSession, clock: Clock
) -> None:
    """Writes come first: with four turns, a write in progress leaves reads two. One connection for reads and
    session lookups, which the test holds: the write waits for it (for its session), as do the two reads let in
    beside it, and all three give up together after the pool's timeout (503); only then are the next reads let in,
    and they are served once the test lets the connection go. Without the write, four would have been let in and
    given up together."""
    await HEROES.make_many(db, 3)
    app = with_turns(settings, 4, pool_size=1, max_overflow=0, pool_timeout=POOL_TIMEOUT)
    async with concurrent_client(app, db, clock) as concurrent:
        async with app.state.engine.connect():
            write = asyncio.ensure_future(concurrent.http.post(HEROES.path, data={"name": "Late Hero"}))
            turns = app.state.read_turns
            while turns.writing < 1:  # noqa: ASYNC110 - a counter, with no event to wait on
                await asyncio.sleep(0)
            reads = await pages_in_order(concurrent, 5)
            while not write.done():  # noqa: ASYNC110 - the same
                await asyncio.sleep(0.01)
            await asyncio.sleep(POOL_TIMEOUT / 4)
            assert sum(read.done() for read in reads) == 2
        pages = await asyncio.gather(*reads)
    assert write.result().status_code == 503
    assert [page.status_code for page in pages] == [503, 503, 200, 200, 200]
    assert (turns.reading, turns.writing) == (0, 0)  # every turn given back, the write counted out
    assert "Late Hero" not in [hero.name for hero in await HEROES.all(db)]


def test_read_turns_come_from_the_environment_or_the_database() -> None:
    sqlite, postgres = "sqlite+aiosqlite:///heroes.db", "postgresql+asyncpg://localhost/heroes"
    assert Settings.from_env({"DATABASE_URL": sqlite}).read_turns == 2
    assert Settings.from_env({"DATABASE_URL": postgres}).read_turns == 4
    assert Settings.from_env({"DATABASE_URL": postgres, "READS_IN_PROGRESS": "3"}).read_turns == 3
    assert Settings.from_env({"DATABASE_URL": sqlite, "READS_IN_PROGRESS": "7"}).read_turns == 7
    for wrong in ("0", "-1", "two"):
        with pytest.raises(ValueError, match="READS_IN_PROGRESS must be a whole number above 0"):
            Settings.from_env({"DATABASE_URL": postgres, "READS_IN_PROGRESS": wrong})


async def test_reads_past_the_turns_are_served_in_the_order_they_came(
    settings: Settings, db: AsyncSession, clock: Clock
) -> None:
    ids = [id_of(hero) for hero in await HEROES.make_many(db, 8)]
    app = with_turns(settings, 1)
    answered: list[int] = []

    async def read(hero_id: int) -> int:
        page = await concurrent.http.get(HEROES.url(hero_id))
        answered.append(hero_id)
        return page.status_code

    async with concurrent_client(app, db, clock) as concurrent:
        reads = []
        for hero_id in ids:
            reads.append(asyncio.ensure_future(read(hero_id)))
            while concurrent.overlap.running < len(reads):  # noqa: ASYNC110 - a counter, with no event to wait on
                await asyncio.sleep(0)
        statuses = await asyncio.gather(*reads)
    assert statuses == [200] * len(ids)
    assert answered == ids


async def test_healthz_is_answered_while_reads_hold_every_turn(
    settings: Settings, db: AsyncSession, clock: Clock
) -> None:
    await HEROES.make_many(db, 3)
    # One connection for reads, which the test holds: the reads with a turn wait for it, the next for a turn.
    app = with_turns(settings, 2, pool_size=1, max_overflow=0, pool_timeout=10.0)
    async with concurrent_client(app, db, clock) as concurrent:
        async with app.state.engine.connect():
            reads = [asyncio.ensure_future(concurrent.http.get("/heroes")) for _ in range(3)]
            while concurrent.overlap.running < len(reads):  # noqa: ASYNC110 - a counter, with no event to wait on
                await asyncio.sleep(0.01)
            probe = asyncio.ensure_future(concurrent.http.get("/healthz"))
            done, _pending = await asyncio.wait({probe, *reads}, return_when=asyncio.FIRST_COMPLETED)
            assert done == {probe}
            assert (probe.result().status_code, probe.result().text) == (200, "ok")
        pages = await asyncio.gather(*reads)
    assert [page.status_code for page in pages] == [200] * 3


async def test_a_read_that_stops_waiting_for_its_turn_gives_it_to_the_next() -> None:
    """A read cancelled (its deadline passed) while waiting for a turn leaves the queue; one cancelled in the same
    moment it was let in gives its turn to the next; either way no turn is lost or made twice."""
    turns = Turns(1)
    await turns.take()
    first, second, third = (asyncio.ensure_future(turns.take()) for _ in range(3))
    await asyncio.sleep(0)
    first.cancel()  # while waiting
    await asyncio.sleep(0)
    turns.give_back()  # lets the second in ...
    second.cancel()  # ... and it is cancelled before it runs: the turn goes on to the third
    await asyncio.sleep(0)
    assert first.cancelled()
    assert second.cancelled()
    await asyncio.wait_for(third, 1)  # let in
    assert turns.reading == 1
    turns.give_back()
    await asyncio.wait_for(turns.take(), 1)  # a turn free again, taken at once

"""A save whose commit is still in flight when the request deadline passes: the database may well apply it after
the answer has gone, so the 503 must not say "not saved", and the commit must not be cut short. The answer says the
change may have been saved; a form with a one-time id comes back with that id and is safe to send again (it leads
where the first one went instead of saving twice), one without is to be looked at first. On both databases.

Before this, the answer said "Your change was not saved; nothing was lost" and the form came back with a fresh
one-time id: on SQLite the COMMIT, already in the driver's thread, went through all the same, and Save pressed
again made the change a second time.

The commit is made slow in the database where that can be done: on PostgreSQL a deferred trigger on the test's own
database sleeps at COMMIT. SQLite has nothing that runs at COMMIT (no deferred triggers, and a WAL commit waits
for no lock), so there a sleep is queued in the connection's thread just ahead of the COMMIT.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import pytest
from argon2 import profiles
from litestar import Litestar
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import stored_users, user_id
from tests.concurrent import concurrent_client
from tests.conftest import SECOND_FACTOR_KEY, TEST_HOST, UNHURRIED
from tests.support import HEROES, HTMX, Clock, form_fields, make_user, sign_in
from webapp.config import Settings
from webapp.errors import REPEAT_MESSAGE
from webapp.models import Role
from webapp.submissions import FIELD as ONCE

T = TypeVar("T")
DEADLINE = 1.0
# How long the commit takes: well past the deadline, well inside the statement timeout (which would undo it).
SLOW_COMMIT = 2.5
SLACK = 1.5
MAYBE_SAVED = (
    "The database did not answer in time, so your change may have been saved. Saving again is safe: a change "
    "already saved is not made twice. Try again in 5 seconds."
)
# A form without a one-time id (the Users screen): sent again, it would not be known for a repeat.
MAYBE_SAVED_LOOK_FIRST = (
    "The database did not answer in time, so your change may have been saved. Reload the page to see whether it "
    "was before trying again. Try again in 5 seconds."
)


@pytest.fixture
def settings(database_url: str, clock: Clock) -> Settings:
    """The tests' usual settings but for a short request deadline (the statement timeout stays long)."""
    return Settings(
        database_url=database_url,
        clock=clock,
        argon2_parameters=profiles.CHEAPEST,
        allowed_hosts=(TEST_HOST,),
        second_factor_keys=(SECOND_FACTOR_KEY,),
        # SQLite runs a write transaction's statements and commit in place for its first moments (webapp.sqlite_trips),
        # where no deadline can come between; a longer one (a bulk change, an import) commits by a trip, as here.
        **UNHURRIED | {"request_deadline": DEADLINE, "sqlite_inline_seconds": 0.0},
    )


@asynccontextmanager
async def slow_postgres_commits(engine: AsyncEngine, table: str) -> AsyncIterator[None]:
    """Every transaction that writes a row of `table` takes SLOW_COMMIT seconds to commit: a deferred constraint
    trigger runs at COMMIT and sleeps. Made on the test's database and removed again (other tests use it next)."""
    async with engine.begin() as connection:
        await connection.exec_driver_sql(
            "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN PERFORM pg_sleep({SLOW_COMMIT}); RETURN NULL; END $$"
        )
        await connection.exec_driver_sql(
            f'CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT OR UPDATE ON "{table}" DEFERRABLE INITIALLY '
            "DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()"
        )
    try:
        yield
    finally:
        async with engine.begin() as connection:
            # A connection of the app's left in a transaction on the table (a commit cut short) must fail the test
            # here rather than hang it.
            await connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            await connection.exec_driver_sql(f'DROP TRIGGER slow_commit ON "{table}"')
            await connection.exec_driver_sql("DROP FUNCTION slow_commit()")


@contextmanager
def slow_sqlite_commits(app: Litestar, table: str) -> Iterator[None]:
    """A transaction of the app's that writes a row of `table` takes SLOW_COMMIT seconds to commit: just before
    its COMMIT, a statement that sleeps is queued on the connection's thread (aiosqlite runs one statement at a
    time there), so the COMMIT waits behind it where, as a real slow COMMIT, it cannot be called back."""
    writes = re.compile(rf'^(INSERT INTO|UPDATE) "?{table}"? ')
    writing: set[int] = set()
    sleeping: set[asyncio.Future[Any]] = set()  # held, so the queued sleep is not collected mid-way

    async def queue_sleep(driver: Any) -> None:
        await driver.create_function("sleep", 1, time.sleep)
        queued = asyncio.ensure_future(driver.execute("SELECT sleep(?)", (SLOW_COMMIT,)))
        sleeping.add(queued)
        await asyncio.sleep(0)  # the sleep's first step puts it in the thread's queue, ahead of the COMMIT

    def before_execute(conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if writes.match(statement):
            writing.add(id(conn))

    def before_commit(conn: Any) -> None:
        # In the request's greenlet, where the driver's run_async may wait on the event loop.
        if id(conn) in writing:
            writing.discard(id(conn))
            conn.connection.dbapi_connection.run_async(queue_sleep)

    engines = [engine.sync_engine for engine in app.state.engines]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", before_execute)
        event.listen(engine, "commit", before_commit)
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", before_execute)
            event.remove(engine, "commit", before_commit)


@asynccontextmanager
async def slow_commits(app: Litestar, engine: AsyncEngine, table: str) -> AsyncIterator[None]:
    if engine.dialect.name == "sqlite":
        with slow_sqlite_commits(app, table):
            yield
    else:
        async with slow_postgres_commits(engine, table):
            yield


async def eventually(read: Callable[[], Awaitable[T]], expected: T, within: float) -> T:
    """What `read` gives once it gives `expected`, or after `within` seconds (the slow commit goes on after the
    answer has gone)."""
    ends = time.perf_counter() + within
    while (found := await read()) != expected and time.perf_counter() < ends:  # noqa: ASYNC110 - a database poll
        await asyncio.sleep(0.1)
    return found


async def stored_names(db: AsyncSession) -> list[str]:
    return [hero.name for hero in await HEROES.all(db)]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
async def test_a_commit_in_flight_at_the_deadline_is_answered_maybe_saved_and_a_resend_saves_it_once(
    app: Litestar, engine: AsyncEngine, db: AsyncSession, clock: Clock, htmx: bool
) -> None:
    headers = HTMX if htmx else {}
    async with concurrent_client(app, db, clock) as client:
        served = await client.http.get("/heroes/new", headers=headers)
        typed = form_fields(served.text, HEROES.form_id) | HEROES.valid("Slow Saver")
        assert typed[ONCE]
        async with slow_commits(app, engine, "hero"):
            started = time.perf_counter()
            response = await client.http.post("/heroes/", data=typed, headers=headers)
            took = time.perf_counter() - started
            assert (response.status_code, response.headers["retry-after"]) == (503, "5"), response.text
            assert took < DEADLINE + SLACK
            assert MAYBE_SAVED in response.text
            kept = form_fields(response.text, HEROES.form_id)
            assert {name: kept[name] for name in typed} == typed  # the one-time id too
            # The commit was not cut short: it goes on after the answer, and the hero is saved.
            stored = await eventually(lambda: stored_names(db), ["Slow Saver"], within=SLOW_COMMIT + 5)
            assert stored == ["Slow Saver"]

        again = await client.http.post("/heroes/", data=kept, headers=headers)
        if htmx:
            assert (again.status_code, again.headers["hx-reswap"]) == (200, "none")
            assert REPEAT_MESSAGE in again.text
        else:
            assert again.status_code == 303
            hero_id = (await HEROES.all(db))[0].id
            assert again.headers["location"] == HEROES.url(hero_id)
        assert await stored_names(db) == ["Slow Saver"]


async def test_a_commit_in_flight_at_the_deadline_without_a_one_time_id_says_to_look_before_saving_again(
    app: Litestar, engine: AsyncEngine, db: AsyncSession, clock: Clock
) -> None:
    vera_id = user_id(await make_user(db, username="vera", role=Role.viewer))
    async with concurrent_client(app, db, clock) as client:
        await sign_in(client.http, db, await make_user(db, username="ada", role=Role.admin), clock)
        async with slow_commits(app, engine, "user"):
            response = await client.http.post(f"/users/{vera_id}", data={"role": "editor", "is_active": "on"})
            assert (response.status_code, response.headers["retry-after"]) == (503, "5")
            assert MAYBE_SAVED_LOOK_FIRST in response.text

            async def vera_role() -> str:
                return (await stored_users(db))["vera"].role

            assert await eventually(vera_role, "editor", within=SLOW_COMMIT + 5) == "editor"

"""The count line of an unfiltered list reads a count the database keeps (models.LiveCount, kept by triggers):
it must equal the live records after every kind of change, on both databases; on PostgreSQL, spread over slots,
it must not make concurrent creates wait for each other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from sqlalchemy import Executable, Insert, delete, func, insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from tests.conftest import empty_postgres
from tests.markup import parse
from tests.support import HEROES, Client, Clock, Subject, each_resource, form_fields, id_of, make_team, signed_in_as
from webapp.config import Settings, utcnow
from webapp.db import create_engine, upgrade_schema
from webapp.models import LIVE_COUNT_SLOTS, Hero, LiveCount, Role


def _kept(table: str) -> SelectOfScalar[int]:
    """The count the triggers keep: the sum of the table's slots."""
    return select(func.coalesce(func.sum(LiveCount.live), 0)).where(LiveCount.record_type == table)


async def _kept_and_actual(db: AsyncSession, subject: Subject) -> tuple[int, int]:
    model = subject.resource.model
    kept = (await db.exec(_kept(str(model.__tablename__)))).one()
    actual = (await db.exec(select(func.count()).select_from(model).where(col(model.deleted_at).is_(None)))).one()
    await db.commit()
    return kept, actual


async def _post(client: Client, url: str, form: dict[str, str]) -> None:
    response = await client.post(url, data=form, follow_redirects=False)
    assert response.status_code == 303, response.text


@each_resource
async def test_the_kept_count_follows_every_change(client: Client, db: AsyncSession, subject: Subject) -> None:
    counts = []
    for name in ("One", "Two"):
        await _post(client, subject.path, subject.valid(name))
    counts.append(await _kept_and_actual(db, subject))
    records = await subject.make_many(db, 4)
    counts.append(await _kept_and_actual(db, subject))
    first, second, third, fourth = (id_of(record) for record in records)
    await _post(client, subject.url(first, "/delete"), {"version": "1"})
    counts.append(await _kept_and_actual(db, subject))
    await _post(client, subject.url(first, "/restore"), {"version": "2"})
    counts.append(await _kept_and_actual(db, subject))
    selected = f"{second}:1,{third}:1"
    await _post(client, f"{subject.path}/bulk/apply", {"action": "delete", "selected": selected, "list": ""})
    counts.append(await _kept_and_actual(db, subject))
    await _post(client, subject.url(fourth, "/delete"), {"version": "1"})
    counts.append(await _kept_and_actual(db, subject))
    assert [kept for kept, _actual in counts] == [2, 6, 5, 6, 4, 3]
    assert all(kept == actual for kept, actual in counts)


@each_resource
async def test_purging_and_emptying_the_trash_leave_the_count(
    http: Client, db: AsyncSession, clock: Clock, subject: Subject
) -> None:
    admin = await signed_in_as(http, db, clock, Role.admin)
    records = await subject.make_many(db, 3)
    for record in records[:2]:
        await _post(admin, subject.url(id_of(record), "/delete"), {"version": "1"})
    await _post(admin, subject.url(id_of(records[0]), "/purge"), {"version": "2"})
    assert await _kept_and_actual(db, subject) == (1, 1)
    through = form_fields((await admin.get("/trash/empty")).text, "empty-trash-form")
    await _post(admin, "/trash/empty", through)
    assert await _kept_and_actual(db, subject) == (1, 1)


async def test_an_import_counts_the_heroes_it_creates(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers")
    upload = {"file": ("h.csv", b"Name,Secret name,Team\r\nA,B,Preventers\r\nC,D,\r\n")}
    page = await client.post("/heroes/import", files=upload)
    assert page.status_code == 200, page.text
    await _post(client, "/heroes/import/apply", form_fields(page.text, "import-apply"))
    kept = (await db.exec(_kept("hero"))).one()
    assert kept == 2 == len(parse((await client.get("/heroes")).text).by_id("hero-rows").find_all("tr"))
    assert (await db.exec(select(func.count()).select_from(Hero))).one() == 2


@asynccontextmanager
async def _rebuilt_without(tmp_path: Path, prefix: str, operations: tuple[str, ...]) -> AsyncIterator[AsyncEngine]:
    """A SQLite database at the newest schema whose triggers `prefix` + each of `operations` are gone, as a
    table rebuild in a migration leaves them."""
    engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'rebuilt.db'}"))
    try:
        await upgrade_schema(engine)
        async with engine.begin() as connection:
            for operation in operations:
                await connection.exec_driver_sql(f"DROP TRIGGER {prefix}{operation}")
        yield engine
    finally:
        await engine.dispose()


async def test_an_upgrade_puts_back_live_count_triggers_a_table_rebuild_dropped(tmp_path: Path) -> None:
    """SQLite rebuilds a table to alter it (Alembic's batch mode), which drops the table's triggers: the upgrade
    recreates them and recounts. (PostgreSQL alters tables in place; its triggers stay.)"""
    async with _rebuilt_without(tmp_path, "hero_live_", ("insert", "delete", "trash")) as engine:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("INSERT INTO hero (name, secret_name) VALUES ('Uncounted', 'X')")
        await upgrade_schema(engine)
        async with engine.begin() as connection:
            await connection.exec_driver_sql("INSERT INTO hero (name, secret_name) VALUES ('Counted', 'Y')")
            kept = (await connection.exec_driver_sql("SELECT live FROM live_count WHERE record_type = 'hero'")).scalar()
        assert kept == 2


async def test_an_upgrade_puts_back_change_count_triggers_a_table_rebuild_dropped(tmp_path: Path) -> None:
    """The same for the teams' change count (reads.Choices): put back, and moved on, since changes made without
    the triggers went uncounted."""
    changes = "SELECT changes FROM change_count WHERE record_type = 'team'"
    async with _rebuilt_without(tmp_path, "team_changed_", ("insert", "update", "delete")) as engine:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("INSERT INTO team (name, headquarters) VALUES ('Uncounted', 'X')")
            before = (await connection.exec_driver_sql(changes)).scalar()
        await upgrade_schema(engine)
        async with engine.begin() as connection:
            repaired = (await connection.exec_driver_sql(changes)).scalar()
            await connection.exec_driver_sql("UPDATE team SET name = 'Counted'")
            after = (await connection.exec_driver_sql(changes)).scalar()
        assert (before, repaired, after) == (None, 1, 2)  # no count row until the first counted change


async def test_emptying_a_table_at_once_sets_its_live_count_to_zero(db: AsyncSession, settings: Settings) -> None:
    """PostgreSQL's TRUNCATE fires no row triggers (a trigger of its own resets the count); SQLite has no TRUNCATE,
    and its quick way of emptying a table is off while the table has triggers."""
    await HEROES.make_many(db, 3)
    emptying = "DELETE FROM hero" if settings.is_sqlite else "TRUNCATE hero CASCADE"
    await db.exec(text(emptying))  # type: ignore[call-overload]
    await db.commit()
    await HEROES.make_many(db, 1)
    assert await _kept_and_actual(db, HEROES) == (1, 1)


async def _two_slots(engine: AsyncEngine, stack: AsyncExitStack) -> tuple[AsyncConnection, AsyncConnection]:
    """Two open connections whose backend pids fall in different count slots (connections kept open meanwhile,
    so that each new one is a new backend)."""
    pids: dict[int, AsyncConnection] = {}
    for _ in range(50):  # new backends' pids mostly differ by small steps: two tries nearly always do
        if len(pids) == 2:
            break
        connection = await stack.enter_async_context(engine.connect())
        pid = (await connection.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
        pids.setdefault(pid % LIVE_COUNT_SLOTS, connection)
        await connection.commit()
    assert len(pids) == 2, pids
    first, second = pids.values()
    return first, second


def _hero(name: str) -> Insert:
    return insert(Hero).values(name=name, secret_name=f"{name}'s secret")


async def test_concurrent_creates_on_postgresql_do_not_wait_for_each_other(postgres_url: str) -> None:
    """A count row stays locked until the transaction that changed it ends: with one row per table, a second
    create waited (here: gave up after lock_timeout) until the first committed."""
    engine = create_engine(Settings(database_url=postgres_url))
    try:
        await empty_postgres(engine)
        async with AsyncExitStack() as stack:
            first, second = await _two_slots(engine, stack)
            await first.execute(_hero("First"))
            await second.exec_driver_sql("SET LOCAL lock_timeout = '1s'")
            await second.execute(_hero("Second"))
            await second.commit()
            await first.commit()
        async with engine.connect() as connection:
            assert (await connection.execute(_kept("hero"))).scalar_one() == 2
    finally:
        await engine.dispose()


async def test_the_count_spread_over_slots_sums_to_the_live_heroes(postgres_url: str) -> None:
    """Inserts, trash, restore, deletes and a TRUNCATE from connections in different slots: a slot's own value
    may be anything (even below zero), their sum is the number of live heroes."""
    engine = create_engine(Settings(database_url=postgres_url))
    try:
        await empty_postgres(engine)
        async with AsyncExitStack() as stack:
            first, second = await _two_slots(engine, stack)
            connections = {"first": first, "second": second}

            async def run(where: str, statement: Executable) -> None:
                await connections[where].execute(statement)
                await connections[where].commit()

            async def kept_and_actual() -> tuple[int, int]:
                live = select(func.count()).select_from(Hero).where(col(Hero.deleted_at).is_(None))
                counted = ((await first.execute(live)).scalar_one(), (await first.execute(_kept("hero"))).scalar_one())
                await first.commit()
                return counted

            await run("first", insert(Hero).values([{"name": f"H{n}", "secret_name": "S"} for n in range(5)]))
            await run("second", update(Hero).where(col(Hero.name).in_(["H0", "H1", "H2"])).values(deleted_at=utcnow()))
            assert await kept_and_actual() == (2, 2)
            await run("first", update(Hero).where(col(Hero.name) == "H0").values(deleted_at=None))
            await run("second", delete(Hero).where(col(Hero.name).in_(["H0", "H3"])))
            await run("second", _hero("H5"))
            assert await kept_and_actual() == (2, 2)
            slots = (
                await first.execute(select(LiveCount.slot, LiveCount.live).where(LiveCount.record_type == "hero"))
            ).all()
            assert len(slots) >= 2, slots  # the test is about several slots
            await run("second", text("TRUNCATE hero CASCADE"))
            assert await kept_and_actual() == (0, 0)
            await run("first", _hero("After"))
            assert await kept_and_actual() == (1, 1)
    finally:
        await engine.dispose()

"""The count line of an unfiltered list reads a count the database keeps (models.LiveCount, kept by triggers):
it must equal the live records after every kind of change, on both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import HEROES, Client, Clock, Subject, each_resource, form_fields, id_of, make_team, signed_in_as
from webapp.config import Settings
from webapp.db import create_engine, upgrade_schema
from webapp.models import Hero, LiveCount, Role


async def _kept_and_actual(db: AsyncSession, subject: Subject) -> tuple[int, int]:
    model = subject.resource.model
    kept = (await db.exec(select(LiveCount.live).where(LiveCount.record_type == model.__tablename__))).first() or 0
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
    kept = (await db.exec(select(LiveCount.live).where(LiveCount.record_type == "hero"))).first()
    assert kept == 2 == len(parse((await client.get("/heroes")).text).by_id("hero-rows").find_all("tr"))
    assert (await db.exec(select(func.count()).select_from(Hero))).one() == 2


async def test_an_upgrade_puts_back_live_count_triggers_a_table_rebuild_dropped(tmp_path: Path) -> None:
    """SQLite rebuilds a table to alter it (Alembic's batch mode), which drops the table's triggers: the upgrade
    recreates them and recounts. (PostgreSQL alters tables in place; its triggers stay.)"""
    engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'rebuilt.db'}"))
    try:
        await upgrade_schema(engine)
        async with engine.begin() as connection:
            for operation in ("insert", "delete", "trash"):
                await connection.exec_driver_sql(f"DROP TRIGGER hero_live_{operation}")
            await connection.exec_driver_sql("INSERT INTO hero (name, secret_name) VALUES ('Uncounted', 'X')")
        await upgrade_schema(engine)
        async with engine.begin() as connection:
            await connection.exec_driver_sql("INSERT INTO hero (name, secret_name) VALUES ('Counted', 'Y')")
            kept = (await connection.exec_driver_sql("SELECT live FROM live_count WHERE record_type = 'hero'")).scalar()
        assert kept == 2
    finally:
        await engine.dispose()


async def test_emptying_a_table_at_once_sets_its_live_count_to_zero(db: AsyncSession, settings: Settings) -> None:
    """PostgreSQL's TRUNCATE fires no row triggers (a trigger of its own resets the count); SQLite has no TRUNCATE,
    and its quick way of emptying a table is off while the table has triggers."""
    await HEROES.make_many(db, 3)
    emptying = "DELETE FROM hero" if settings.is_sqlite else "TRUNCATE hero CASCADE"
    await db.exec(text(emptying))  # type: ignore[call-overload]
    await db.commit()
    await HEROES.make_many(db, 1)
    assert await _kept_and_actual(db, HEROES) == (1, 1)

"""Rows as named tuples (webapp.data.plain): the lists, pickers and pages read the same values, by name and by
position, as off SQLAlchemy's rows, on both databases."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.support import make_hero, make_team
from webapp.data.plain import plain_row, plain_rows
from webapp.models import Hero, Team


async def test_rows_keep_their_columns_names_order_and_nulls(db: AsyncSession) -> None:
    team = await make_team(db, "Avengers")
    await make_hero(db, "Ant", team=team, age=30)
    await make_hero(db, "Bee")
    statement = (
        select(Hero.id, Hero.name, Hero.age, col(Team.name).label("team_name"))
        .outerjoin(Team, col(Hero.team_id) == col(Team.id))
        .order_by(col(Hero.name))
    )
    expected = list((await db.exec(statement)).all())
    rows = plain_rows(await db.exec(statement))
    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    assert [(row.name, row.age, row.team_name) for row in rows] == [("Ant", 30, "Avengers"), ("Bee", None, None)]
    assert rows[0][1] == "Ant"
    assert rows[0]._fields == ("id", "name", "age", "team_name")


async def test_one_row_or_none(db: AsyncSession) -> None:
    hero = await make_hero(db, "Ant")
    assert plain_row(await db.exec(select(Hero.id, Hero.name).where(Hero.id == hero.id))).name == "Ant"
    assert plain_row(await db.exec(select(Hero.id, Hero.name).where(Hero.id == -1))) is None
    assert plain_rows(await db.exec(select(Hero.id, Hero.name).where(Hero.id == -1))) == []

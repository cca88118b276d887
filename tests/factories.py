"""Arrange data straight in the database (tests act through HTTP and assert by re-reading)."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.models import Hero, Team


async def make_team(db: AsyncSession, name: str = "Preventers", headquarters: str = "Sharp Tower") -> Team:
    team = Team(name=name, headquarters=headquarters)
    db.add(team)
    await db.commit()
    return team


async def make_hero(
    db: AsyncSession,
    name: str = "Deadpond",
    secret_name: str = "Dive Wilson",
    age: int | None = None,
    team: Team | None = None,
) -> Hero:
    hero = Hero(name=name, secret_name=secret_name, age=age, team_id=team.id if team else None)
    db.add(hero)
    await db.commit()
    return hero


async def fetch_hero(db: AsyncSession, hero_id: int) -> Hero | None:
    """Re-read a hero from the database, bypassing the session's identity map."""
    db.expire_all()
    return (await db.exec(select(Hero).where(Hero.id == hero_id))).first()


async def fetch_team(db: AsyncSession, team_id: int) -> Team | None:
    db.expire_all()
    return (await db.exec(select(Team).where(Team.id == team_id))).first()


async def all_heroes(db: AsyncSession) -> list[Hero]:
    db.expire_all()
    return list((await db.exec(select(Hero).order_by(col(Hero.id)))).all())


async def all_teams(db: AsyncSession) -> list[Team]:
    db.expire_all()
    return list((await db.exec(select(Team).order_by(col(Team.id)))).all())

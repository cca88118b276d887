"""Every database query the screens use: keyword-only functions, testable without HTTP.

Lists select only the columns they show (rows, not entities): several times cheaper than loading
ORM entities with their relationships.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import func
from sqlalchemy.engine import Row
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.models import Hero, Team

# Ids are INTEGER columns: anything outside this range cannot exist, and PostgreSQL would reject it.
MAX_ID = 2**31 - 1

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.number * self.size, self.total)

    def window(self, radius: int = 2) -> list[int | None]:
        """Page numbers to link: first, last and a window around the current one; None marks a gap."""
        wanted = {1, self.pages, *range(self.number - radius, self.number + radius + 1)}
        numbers = sorted(n for n in wanted if 1 <= n <= self.pages)
        shown: list[int | None] = []
        for n in numbers:
            if shown and n - (shown[-1] or 0) > 1:
                shown.append(None)
            shown.append(n)
        return shown


def valid_id(value: int) -> bool:
    return 1 <= value <= MAX_ID


def _clamp_page(page: int, size: int, total: int) -> int:
    return min(max(page, 1), max(1, ceil(total / size)))


def _hero_columns() -> tuple[Any, ...]:
    return (Hero.id, Hero.name, Hero.secret_name, Hero.age, Hero.team_id, col(Team.name).label("team_name"))


# --- heroes -----------------------------------------------------------------------------------------------


async def count_heroes(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(Hero))).one()


async def list_heroes(session: AsyncSession, *, page: int, size: int) -> Page[Row[Any]]:
    total = await count_heroes(session)
    number = _clamp_page(page, size, total)
    statement = (
        select(*_hero_columns())
        .outerjoin(Team, col(Hero.team_id) == Team.id)
        .order_by(col(Hero.name), col(Hero.id))
        .limit(size)
        .offset((number - 1) * size)
    )
    rows = list((await session.exec(statement)).all())
    return Page(items=rows, number=number, size=size, total=total)


async def hero_row(session: AsyncSession, *, hero_id: int) -> Row[Any] | None:
    """One hero as the list shows it (with its team's name)."""
    if not valid_id(hero_id):
        return None
    statement = select(*_hero_columns()).outerjoin(Team, col(Hero.team_id) == Team.id).where(Hero.id == hero_id)
    return cast("Row[Any] | None", (await session.exec(statement)).first())


async def get_hero(session: AsyncSession, *, hero_id: int, for_update: bool = False) -> Hero | None:
    """The hero entity for a form; for_update locks the row (PostgreSQL) so read-modify-write cannot interleave."""
    if not valid_id(hero_id):
        return None
    return await session.get(Hero, hero_id, with_for_update=for_update)


async def team_exists(session: AsyncSession, *, team_id: int) -> bool:
    if not valid_id(team_id):
        return False
    return (await session.exec(select(Team.id).where(Team.id == team_id))).first() is not None


# --- teams ------------------------------------------------------------------------------------------------


def _team_columns() -> tuple[Any, ...]:
    hero_count = select(func.count()).select_from(Hero).where(Hero.team_id == Team.id).correlate(Team).scalar_subquery()
    return (Team.id, Team.name, Team.headquarters, hero_count.label("hero_count"))


async def count_teams(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(Team))).one()


async def list_teams(session: AsyncSession, *, page: int, size: int) -> Page[Row[Any]]:
    total = await count_teams(session)
    number = _clamp_page(page, size, total)
    statement = select(*_team_columns()).order_by(col(Team.name), col(Team.id)).limit(size).offset((number - 1) * size)
    rows = list((await session.exec(statement)).all())
    return Page(items=rows, number=number, size=size, total=total)


async def team_row(session: AsyncSession, *, team_id: int) -> Row[Any] | None:
    """One team as the list shows it (with its hero count)."""
    if not valid_id(team_id):
        return None
    return cast("Row[Any] | None", (await session.exec(select(*_team_columns()).where(Team.id == team_id))).first())


async def get_team(session: AsyncSession, *, team_id: int, for_update: bool = False) -> Team | None:
    if not valid_id(team_id):
        return None
    return await session.get(Team, team_id, with_for_update=for_update)


TEAM_HEROES_SHOWN = 100


async def team_heroes(session: AsyncSession, *, team_id: int, limit: int = TEAM_HEROES_SHOWN) -> list[Row[Any]]:
    """The first `limit` heroes of a team by name (the page says how many there are in all)."""
    statement = (
        select(Hero.id, Hero.name, Hero.secret_name, Hero.age)
        .where(Hero.team_id == team_id)
        .order_by(col(Hero.name), col(Hero.id))
        .limit(limit)
    )
    return cast("list[Row[Any]]", list((await session.exec(statement)).all()))


async def team_choices(session: AsyncSession) -> list[Row[Any]]:
    """Teams for the hero form's select, by name."""
    statement = select(Team.id, Team.name).order_by(col(Team.name), col(Team.id))
    return cast("list[Row[Any]]", list((await session.exec(statement)).all()))

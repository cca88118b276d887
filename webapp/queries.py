"""Every database query the screens use: keyword-only functions, testable without HTTP.

Lists select only the columns they show (rows, not entities): several times cheaper than loading
ORM entities with their relationships.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, func
from sqlalchemy.engine import Row
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.models import AuditEntry, Hero, Team, User

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
    return (
        Hero.id,
        Hero.name,
        Hero.secret_name,
        Hero.age,
        Hero.team_id,
        Hero.version,
        col(Team.name).label("team_name"),
    )


# Rows in the trash are left out of every list, count, page and choice; only the trash and history see them.
def _live_hero() -> ColumnElement[bool]:
    return col(Hero.deleted_at).is_(None)


def _live_team() -> ColumnElement[bool]:
    return col(Team.deleted_at).is_(None)


# --- heroes -----------------------------------------------------------------------------------------------


async def count_heroes(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(Hero).where(_live_hero()))).one()


async def list_heroes(session: AsyncSession, *, page: int, size: int) -> Page[Row[Any]]:
    total = await count_heroes(session)
    number = _clamp_page(page, size, total)
    statement = (
        select(*_hero_columns())
        .outerjoin(Team, col(Hero.team_id) == Team.id)
        .where(_live_hero())
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
    statement = (
        select(*_hero_columns()).outerjoin(Team, col(Hero.team_id) == Team.id).where(Hero.id == hero_id, _live_hero())
    )
    return cast("Row[Any] | None", (await session.exec(statement)).first())


async def get_hero(session: AsyncSession, *, hero_id: int) -> Hero | None:
    """The hero entity (also when it is in the trash: callers say so rather than "not found")."""
    if not valid_id(hero_id):
        return None
    return await session.get(Hero, hero_id)


async def team_exists(session: AsyncSession, *, team_id: int, lock: bool = False) -> bool:
    """Whether a live team has this id. `lock` holds a share lock (PostgreSQL) until commit, so the team cannot
    go to the trash between this check and the hero that joins it being saved."""
    if not valid_id(team_id):
        return False
    statement = select(Team.id).where(Team.id == team_id, _live_team())
    if lock:
        statement = statement.with_for_update(read=True)
    return (await session.exec(statement)).first() is not None


# --- teams ------------------------------------------------------------------------------------------------


def _team_columns() -> tuple[Any, ...]:
    hero_count = (
        select(func.count())
        .select_from(Hero)
        .where(Hero.team_id == Team.id, _live_hero())
        .correlate(Team)
        .scalar_subquery()
    )
    return (Team.id, Team.name, Team.headquarters, Team.version, hero_count.label("hero_count"))


async def count_teams(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(Team).where(_live_team()))).one()


async def list_teams(session: AsyncSession, *, page: int, size: int) -> Page[Row[Any]]:
    total = await count_teams(session)
    number = _clamp_page(page, size, total)
    statement = (
        select(*_team_columns())
        .where(_live_team())
        .order_by(col(Team.name), col(Team.id))
        .limit(size)
        .offset((number - 1) * size)
    )
    rows = list((await session.exec(statement)).all())
    return Page(items=rows, number=number, size=size, total=total)


async def team_row(session: AsyncSession, *, team_id: int) -> Row[Any] | None:
    """One team as the list shows it (with its hero count)."""
    if not valid_id(team_id):
        return None
    statement = select(*_team_columns()).where(Team.id == team_id, _live_team())
    return cast("Row[Any] | None", (await session.exec(statement)).first())


async def get_team(session: AsyncSession, *, team_id: int) -> Team | None:
    """The team entity (also when it is in the trash: callers say so rather than "not found")."""
    if not valid_id(team_id):
        return None
    return await session.get(Team, team_id)


TEAM_HEROES_SHOWN = 100


async def team_heroes(session: AsyncSession, *, team_id: int, limit: int = TEAM_HEROES_SHOWN) -> list[Row[Any]]:
    """The first `limit` heroes of a team by name (the page says how many there are in all)."""
    statement = (
        select(Hero.id, Hero.name, Hero.secret_name, Hero.age)
        .where(Hero.team_id == team_id, _live_hero())
        .order_by(col(Hero.name), col(Hero.id))
        .limit(limit)
    )
    return cast("list[Row[Any]]", list((await session.exec(statement)).all()))


async def team_choices(session: AsyncSession) -> list[Row[Any]]:
    """Teams for the hero form's select, by name."""
    statement = select(Team.id, Team.name).where(_live_team()).order_by(col(Team.name), col(Team.id))
    return cast("list[Row[Any]]", list((await session.exec(statement)).all()))


# --- history and trash ----------------------------------------------------------------------------------------

HISTORY_PAGE = 50


@dataclass(frozen=True)
class Entries:
    """A page of history, newest first; `older` is the id to continue from (keyset: no OFFSET on a log)."""

    items: list[AuditEntry]
    older: int | None


async def _entries(session: AsyncSession, statement: Any, *, before: int | None, limit: int) -> Entries:
    if before is not None:
        statement = statement.where(col(AuditEntry.id) < before)
    rows = list((await session.exec(statement.order_by(col(AuditEntry.id).desc()).limit(limit + 1))).all())
    older = rows[limit - 1].id if len(rows) > limit else None
    return Entries(items=rows[:limit], older=older)


async def record_history(
    session: AsyncSession, *, record_type: str, record_id: int, before: int | None = None, limit: int = HISTORY_PAGE
) -> Entries:
    statement = select(AuditEntry).where(AuditEntry.record_type == record_type, AuditEntry.record_id == record_id)
    return await _entries(session, statement, before=before, limit=limit)


async def activity(
    session: AsyncSession,
    *,
    record_types: tuple[str, ...],
    user_id: int | None = None,
    before: int | None = None,
    limit: int = HISTORY_PAGE,
) -> Entries:
    """Recent entries across the app, of the given record types, optionally by one user."""
    statement = select(AuditEntry).where(col(AuditEntry.record_type).in_(record_types))
    if user_id is not None:
        statement = statement.where(AuditEntry.user_id == user_id)
    return await _entries(session, statement, before=before, limit=limit)


async def history_entry(session: AsyncSession, *, entry_id: int) -> AuditEntry | None:
    if not valid_id(entry_id):
        return None
    return await session.get(AuditEntry, entry_id)


async def team_names(session: AsyncSession, *, entries: list[AuditEntry]) -> dict[int, tuple[str, bool]]:
    """{team id: (name, is live)} for every team an entry's changes mention, so history shows names not ids."""
    ids = {
        value
        for entry in entries
        for value in ((entry.changes or {}).get("team_id") or [])
        if isinstance(value, int) and valid_id(value)
    }
    if not ids:
        return {}
    statement = select(Team.id, Team.name, Team.deleted_at).where(col(Team.id).in_(ids))
    rows: list[Any] = list((await session.exec(statement)).all())
    return {row.id: (row.name, row.deleted_at is None) for row in rows}


async def user_choices(session: AsyncSession) -> list[Row[Any]]:
    statement = select(User.id, User.username).order_by(col(User.username))
    return cast("list[Row[Any]]", list((await session.exec(statement)).all()))


TRASH_SHOWN = 100


async def trashed(
    session: AsyncSession, *, model: type[Hero] | type[Team], page: int = 1, size: int = TRASH_SHOWN
) -> Page[Row[Any]]:
    """A page of the heroes or teams in the trash, most recently deleted first (size 0: just the count)."""
    in_trash = col(model.deleted_at).is_not(None)
    total = (await session.exec(select(func.count()).select_from(model).where(in_trash))).one()
    if size == 0:
        return Page(items=[], number=1, size=1, total=total)
    number = _clamp_page(page, size, total)
    columns: tuple[Any, ...] = (model.id, model.name, model.version, model.deleted_at, model.deleted_by)
    statement = (
        select(*columns)
        .where(in_trash)
        .order_by(col(model.deleted_at).desc(), col(model.id).desc())
        .limit(size)
        .offset((number - 1) * size)
    )
    rows = list((await session.exec(statement)).all())
    return Page(items=rows, number=number, size=size, total=total)

"""The search plans: substring search that stays fast at a million rows on both databases.

PostgreSQL has trigram GIN indexes (pg_trgm) on hero names, secret names, team names and headquarters;
SQLite has an FTS5 trigram table over heroes' names and secret names (models.HERO_SEARCH_DDL). Both serve
three characters or more; shorter text scans. How a hero search is phrased depends on how it is used (the
list's count decides, see webapp.data.lists): count all matches, fetch a page of few matches by the search's
indexes, or walk the sort's index testing each hero when matches are many.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    any_,
    column,
    exists,
    func,
    literal_column,
    or_,
    table,
    union_all,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.listing import SEARCH_COUNT_CAP
from webapp.models import Hero, Team

# FTS5's trigram index needs at least three characters; shorter searches scan.
TRIGRAM = 3
# Up to this many matches a search page fetches them all by the search's indexes and sorts them; past it, it
# walks the sort's index and tests each hero, which stops after one page because matches are frequent. The
# search's count stops there too, so the count that the list shows also decides the plan.
SEARCH_FEW = SEARCH_COUNT_CAP

Plan = Literal["count", "fetch", "walk"]


def dialect(session: AsyncSession) -> str:
    bind = session.bind
    assert bind is not None
    return bind.dialect.name


def pattern(text_: str) -> str:
    """A LIKE pattern matching `text_` anywhere, its wildcards taken literally."""
    return "%" + text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def like(session: AsyncSession, column: Any, pattern_: str, text_: str) -> ColumnElement[bool]:
    """`column` matches the LIKE `pattern_` made from `text_`, ignoring case (ILIKE). SQLite's LIKE folds ASCII
    letters only: for text with other letters both sides are lowered by Python's rules (a function the engine
    registers), as PostgreSQL's ILIKE matches them; ASCII text keeps the plain LIKE, which is cheaper."""
    if dialect(session) != "sqlite":
        return cast("ColumnElement[bool]", col(column).ilike(pattern_, escape="\\"))
    if text_.isascii():  # SQLite's own LIKE ignores ASCII case; ilike() would lower() both sides on every row
        return cast("ColumnElement[bool]", col(column).like(pattern_, escape="\\"))
    return cast("ColumnElement[bool]", func.unicode_lower(column).like(pattern_.lower(), escape="\\"))


def contains(session: AsyncSession, column: Any, text_: str) -> ColumnElement[bool]:
    return like(session, column, pattern(text_), text_)


def starts_with(session: AsyncSession, column: Any, text_: str) -> ColumnElement[bool]:
    return like(session, column, pattern(text_)[1:], text_)


def live_team() -> ColumnElement[bool]:
    return col(Team.deleted_at).is_(None)


def live_hero() -> ColumnElement[bool]:
    return col(Hero.deleted_at).is_(None)


def hero_search(session: AsyncSession, q: str, *, plan: Plan = "count") -> ColumnElement[bool]:
    """Substring search on a hero's name, secret name and team name, phrased for how it is used (`plan`):
    "count" all matches, "fetch" a page of few matches (found by the search's indexes, then sorted), or "walk"
    the sort's index testing each hero, which stops after one page when matches are frequent (no index may
    serve the test then, or the planner would use it)."""
    team_match = (contains(session, Team.name, q), live_team())
    team_ids = select(Team.id).where(*team_match)
    in_names = or_(contains(session, Hero.name, q), contains(session, Hero.secret_name, q))
    if dialect(session) == "sqlite":
        if plan == "walk":
            # Each hero on the sort's index is tested as it comes (LIKE, no lookup to build first): matches are
            # frequent, so a page is found after a few hundred rows. `+ 0` keeps SQLite from looking the team's
            # heroes up by an index instead (its documented idiom).
            return or_(in_names, (col(Hero.team_id) + 0).in_(team_ids))
        # The ids whose names match, from the full-text index (or, for text too short for it, from one pass
        # over the table rather than a walk through an index, which reads the table in random order).
        name_ids = select(_FTS.c.rowid).where(_fts_match(q)) if len(q) >= TRIGRAM else select(Hero.id).where(in_names)
        return or_(col(Hero.id).in_(name_ids), col(Hero.team_id).in_(team_ids))
    if plan == "fetch":
        # PostgreSQL, few matches: their ids from the indexes (names by trigram, heroes of matching teams by
        # team_id), then sorted.
        named = select(Hero.id).where(in_names, live_hero())
        in_team = select(Hero.id).where(col(Hero.team_id).in_(team_ids), live_hero())
        return col(Hero.id).in_(union_all(named, in_team))
    # PostgreSQL: the matching teams' ids as one array, computed once, so that a count can OR three index scans
    # together (a plain IN subquery inside an OR would make it read every hero), and a walk tests each hero.
    team_array = select(func.array_agg(Team.id)).where(*team_match).scalar_subquery()
    # Cast, so that it reads as ANY (array value), not ANY (subquery), which would compare with each row.
    return or_(in_names, col(Hero.team_id) == any_(sa_cast(team_array, ARRAY(Integer))))


def sqlite_hero_count(session: AsyncSession, q: str, filters: list[ColumnElement[bool]], cap: int) -> Select[Any]:
    """SQLite: a statement counting the live heroes meeting `filters` that `q` finds, up to `cap` + 1. Phrased so
    that it stops at the cap (measured on 2026-12-07, a million heroes):

    - Three characters or more: in two disjoint parts, heroes whose names hold `q`, walked from the full-text
      index, then heroes of matching teams whose names do not. The plain condition (`id IN (ids from the index)
      OR team_id IN (...)`) makes SQLite gather every id the index finds before counting the first: 22,000 for a
      surname, 14 ms, against 2 ms.
    - Shorter (the index needs three): one pass over the table in its own order, testing each hero. The unary
      `+` keeps SQLite off the live heroes' index, through which it would read the table in random order (1 s
      for a whole pass, against 0.15 s in order). "Xu" took 113 ms as an id list, 13 ms so.
    """
    if len(q) < TRIGRAM:
        deleted_at = cast("ColumnElement[Any]", col(Hero.deleted_at))
        live_in_order = UnaryExpression(deleted_at, operator=operators.custom_op("+")).is_(None)
        matching = select(Hero.id).where(live_in_order, hero_search(session, q, plan="walk"), *filters)
        return select(func.count()).select_from(matching.limit(cap + 1).subquery())
    conditions = (live_hero(), *filters)
    found = _fts_match(q)
    named = select(Hero.id).join(_FTS, _FTS.c.rowid == Hero.id).where(found, *conditions).limit(cap + 1)
    team_ids = select(Team.id).where(contains(session, Team.name, q), live_team())
    unnamed = ~exists().where(found, _FTS.c.rowid == Hero.id)
    in_team = select(Hero.id).where(col(Hero.team_id).in_(team_ids), unnamed, *conditions).limit(cap + 1)
    count = select(func.count()).select_from(named.subquery()).scalar_subquery()
    return select(count + select(func.count()).select_from(in_team.subquery()).scalar_subquery())


# SQLite's full-text table over heroes' names (models.HERO_SEARCH_DDL): its rowid is the hero's id.
_FTS = table("hero_search", column("rowid", Integer))


def _fts_match(q: str) -> ColumnElement[bool]:
    """The full-text table's rows holding `q`, quoted as one phrase so FTS5 operators in it are plain text."""
    phrase = '"' + q.replace('"', '""') + '"'
    return cast("ColumnElement[bool]", literal_column("hero_search").op("MATCH")(phrase))


def team_search(session: AsyncSession, q: str) -> ColumnElement[bool]:
    """Substring search on a team's name and headquarters (trigram indexes on PostgreSQL; SQLite scans the
    teams, a hundredth of the heroes)."""
    return or_(contains(session, Team.name, q), contains(session, Team.headquarters, q))

"""The search plans: substring search that stays fast at a million rows on both databases.

PostgreSQL has trigram GIN indexes (pg_trgm) on hero names, secret names, team names and headquarters;
SQLite has an FTS5 trigram table over heroes' names and secret names (models.HERO_SEARCH_DDL). Both serve
three characters or more; shorter text scans. How a hero search is phrased depends on how it is used (the
list's count decides, see webapp.data.lists): count all matches, fetch a page of few matches by the search's
indexes, or walk the sort's index testing each hero when matches are many.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    any_,
    bindparam,
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


def like(session: AsyncSession, column: Any, value: Any, text_: str) -> ColumnElement[bool]:
    """`column` matches the LIKE pattern made from `text_`, ignoring case (ILIKE): `value` is that pattern as
    like_value gives it, or a bound parameter that will hold it. SQLite's LIKE folds ASCII letters only: for text
    with other letters both sides are lowered by Python's rules (a function the engine registers), as
    PostgreSQL's ILIKE matches them; ASCII text keeps the plain LIKE, which is cheaper."""
    if dialect(session) != "sqlite":
        return cast("ColumnElement[bool]", col(column).ilike(value, escape="\\"))
    if text_.isascii():  # SQLite's own LIKE ignores ASCII case; ilike() would lower() both sides on every row
        return cast("ColumnElement[bool]", col(column).like(value, escape="\\"))
    return cast("ColumnElement[bool]", func.unicode_lower(column).like(value, escape="\\"))


def like_value(session: AsyncSession, pattern_: str, text_: str) -> str:
    """What `like` compares with for `pattern_` made from `text_` (lowered where SQLite lowers both sides)."""
    return pattern_.lower() if dialect(session) == "sqlite" and not text_.isascii() else pattern_


def contains(session: AsyncSession, column: Any, text_: str) -> ColumnElement[bool]:
    return like(session, column, like_value(session, pattern(text_), text_), text_)


def starts_with(session: AsyncSession, column: Any, text_: str) -> ColumnElement[bool]:
    return like(session, column, like_value(session, pattern(text_)[1:], text_), text_)


def live_team() -> ColumnElement[bool]:
    return col(Team.deleted_at).is_(None)


def live_hero() -> ColumnElement[bool]:
    return col(Hero.deleted_at).is_(None)


def teams_named(session: AsyncSession, q: str) -> Select[Any]:
    """The ids of the live teams whose names hold `q`: a hero search on SQLite looks them up once, and its
    statements take them as a value (`in_teams`). Looked up inside each statement they were a pass over the
    teams per statement, 0.8 ms each at 10,000 teams (2026-12-07).

    PostgreSQL looks them up inside each statement (3.7 ms at 10,000 teams, where its planner rightly prefers
    a scan to the trigram index): given as a value, their number known, the planner took a count capped at
    2,000 for a scan that stops early, and tested 90,000 heroes (66 ms) where the trigram indexes take 17."""
    return select(Team.id).where(contains(session, Team.name, q), live_team())


@dataclass(frozen=True)
class Searched:
    """A hero search as its statements use it: the text `q`, and (SQLite) `team_ids`, the teams whose names hold
    it (teams_named; None on PostgreSQL, whose statements find them). `bound`: its values are parameters that
    `values` gives when the statements run, so that they are built once per `shape` (keyset.SHAPES); building a
    search's statements and their cache keys was a sixth of a search page at 10,000 heroes (2026-12-07)."""

    q: str
    team_ids: list[int] | None
    bound: bool = False

    def shape(self) -> Hashable:
        """What the statements depend on besides the values: how the text is matched."""
        return (self.q.isascii(), len(self.q) >= TRIGRAM, self.team_ids is None)

    def values(self, session: AsyncSession) -> dict[str, Any]:
        values = {SEARCH_LIKE: like_value(session, pattern(self.q), self.q), SEARCH_PHRASE: _phrase(self.q)}
        if self.team_ids is not None:
            values[SEARCH_TEAMS] = json.dumps(self.team_ids)
        return values

    def value(self, session: AsyncSession, name: str) -> Any:
        """The value `name` as a statement takes it: a parameter (given by `values` when it runs), or bound to
        this search's value."""
        return bindparam(name) if self.bound else bindparam(name, self.values(session)[name])

    def contains(self, session: AsyncSession, column: Any) -> ColumnElement[bool]:
        return like(session, column, self.value(session, SEARCH_LIKE), self.q)


# The names of a hero search's values in its statements (Searched.values).
SEARCH_LIKE, SEARCH_PHRASE, SEARCH_TEAMS = "search_like", "search_phrase", "search_team_ids"


def in_teams(session: AsyncSession, column: Any, searched: Searched) -> ColumnElement[bool]:
    """`column` holds the id of a live team whose name holds the search's text: one of its `team_ids` (SQLite:
    looked up once, given as one JSON value however many they are), or (PostgreSQL) one of those the statement
    finds, as one array computed once."""
    if searched.team_ids is not None:
        ids = func.json_each(searched.value(session, SEARCH_TEAMS)).table_valued("value")
        return cast("ColumnElement[bool]", column.in_(select(ids.c.value)))
    team_array = select(func.array_agg(Team.id)).where(searched.contains(session, Team.name), live_team())
    # Cast, so that it reads as ANY (array value), not ANY (subquery), which would compare with each row.
    return cast("ColumnElement[bool]", column == any_(sa_cast(team_array.scalar_subquery(), ARRAY(Integer))))


def hero_search(session: AsyncSession, searched: Searched, *, plan: Plan = "count") -> ColumnElement[bool]:
    """Substring search on a hero's name, secret name and team name, phrased for how it is used (`plan`):
    "count" all matches, "fetch" a page of few matches (found by the search's indexes, then sorted), or "walk"
    the sort's index testing each hero, which stops after one page when matches are frequent (no index may serve
    the test then, or the planner would use it)."""
    in_names = or_(searched.contains(session, Hero.name), searched.contains(session, Hero.secret_name))
    if dialect(session) == "sqlite":
        if plan == "walk":
            # Each hero on the sort's index is tested as it comes (LIKE, no lookup to build first): matches are
            # frequent, so a page is found after a few hundred rows. `+ 0` keeps SQLite from looking the team's
            # heroes up by an index instead (its documented idiom).
            return or_(in_names, in_teams(session, col(Hero.team_id) + 0, searched))
        # The ids whose names match, from the full-text index (or, for text too short for it, from one pass
        # over the table rather than a walk through an index, which reads the table in random order).
        trigram = len(searched.q) >= TRIGRAM
        name_ids = (
            select(_FTS.c.rowid).where(_fts_match(session, searched)) if trigram else select(Hero.id).where(in_names)
        )
        return or_(col(Hero.id).in_(name_ids), in_teams(session, col(Hero.team_id), searched))
    if plan == "fetch":
        # PostgreSQL, few matches: their ids from the indexes (names by trigram, heroes of matching teams by
        # team_id), then sorted.
        named = select(Hero.id).where(in_names, live_hero())
        in_team = select(Hero.id).where(in_teams(session, col(Hero.team_id), searched), live_hero())
        return col(Hero.id).in_(union_all(named, in_team))
    # PostgreSQL: the matching teams' ids as one array, so that a count can OR three index scans together (a
    # plain IN subquery inside an OR would make it read every hero), and a walk tests each hero.
    return or_(in_names, in_teams(session, col(Hero.team_id), searched))


def sqlite_hero_count(
    session: AsyncSession, searched: Searched, filters: list[ColumnElement[bool]], cap: int
) -> Select[Any]:
    """SQLite: a statement counting the live heroes meeting `filters` that the search finds, up to `cap` + 1.
    Phrased so that it stops at the cap (measured on 2026-12-07, a million heroes):

    - Three characters or more: in two disjoint parts, heroes whose names hold the text, walked from the
      full-text index, then heroes of matching teams whose names do not. The plain condition (`id IN (ids from
      the index) OR team_id IN (...)`) makes SQLite gather every id the index finds before counting the first:
      22,000 for a surname, 14 ms, against 2 ms.
    - Shorter (the index needs three): one pass over the table in its own order, testing each hero. The unary
      `+` keeps SQLite off the live heroes' index, through which it would read the table in random order (1 s
      for a whole pass, against 0.15 s in order). "Xu" took 113 ms as an id list, 13 ms so.
    """
    if len(searched.q) < TRIGRAM:
        deleted_at = cast("ColumnElement[Any]", col(Hero.deleted_at))
        live_in_order = UnaryExpression(deleted_at, operator=operators.custom_op("+")).is_(None)
        matching = select(Hero.id).where(live_in_order, hero_search(session, searched, plan="walk"), *filters)
        return select(func.count()).select_from(matching.limit(cap + 1).subquery())
    conditions = (live_hero(), *filters)
    found = _fts_match(session, searched)
    named = select(Hero.id).join(_FTS, _FTS.c.rowid == Hero.id).where(found, *conditions).limit(cap + 1)
    unnamed = ~exists().where(found, _FTS.c.rowid == Hero.id)
    in_team = select(Hero.id).where(in_teams(session, col(Hero.team_id), searched), unnamed, *conditions)
    in_team = in_team.limit(cap + 1)
    count = select(func.count()).select_from(named.subquery()).scalar_subquery()
    return select(count + select(func.count()).select_from(in_team.subquery()).scalar_subquery())


# SQLite's full-text table over heroes' names (models.HERO_SEARCH_DDL): its rowid is the hero's id.
_FTS = table("hero_search", column("rowid", Integer))


def _phrase(q: str) -> str:
    """`q` quoted as one FTS5 phrase, so FTS5 operators in it are plain text."""
    return '"' + q.replace('"', '""') + '"'


def _fts_match(session: AsyncSession, searched: Searched) -> ColumnElement[bool]:
    """The full-text table's rows holding the search's text."""
    match = literal_column("hero_search").op("MATCH")(searched.value(session, SEARCH_PHRASE))
    return cast("ColumnElement[bool]", match)


def team_search(session: AsyncSession, q: str) -> ColumnElement[bool]:
    """Substring search on a team's name and headquarters (trigram indexes on PostgreSQL; SQLite scans the
    teams, a hundredth of the heroes)."""
    return or_(contains(session, Team.name, q), contains(session, Team.headquarters, q))

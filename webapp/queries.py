"""Every database query the screens use: keyword-only functions, testable without HTTP.

Lists select only the columns they show (rows, not entities): several times cheaper than loading
ORM entities with their relationships.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, Literal, TypeVar, cast

from sqlalchemy import ColumnElement, Integer, Select, and_, any_, exists, func, not_, or_, text, tuple_, union_all
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.listing import COUNT_CAP, NO_TEAM, Cursor, ListState
from webapp.models import AuditEntry, Hero, Team, User

# PostgreSQL takes at most 32,767 parameters per statement: long id lists go in slices.
IN_CHUNK = 10_000
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


@dataclass(frozen=True)
class Window(Generic[T]):
    """One page of a keyset-paginated list: its rows, the cursors to the pages either side (None where there
    is none), and how many rows match, exact up to COUNT_CAP."""

    items: list[T]
    next: Cursor | None
    previous: Cursor | None
    count: int

    @classmethod
    def empty(cls) -> Window[Any]:
        return cls(items=[], next=None, previous=None, count=0)


# A hero list's team filter: a team's id, "none" for heroes without a team, None for any.
TeamFilter = int | Literal["none"] | None
# FTS5's trigram index needs at least three characters; shorter searches scan.
TRIGRAM = 3


def _dialect(session: AsyncSession) -> str:
    bind = session.bind
    assert bind is not None
    return bind.dialect.name


async def _capped_count(session: AsyncSession, matching: Select[Any]) -> int:
    """How many rows `matching` selects, counting at most COUNT_CAP + 1 of them (bounded work at any size)."""
    return (await session.exec(select(func.count()).select_from(matching.limit(COUNT_CAP + 1).subquery()))).one()


async def _window(
    session: AsyncSession,
    statement: Select[Any],
    state: ListState,
    *,
    key: Any,
    is_null: ColumnElement[bool] | None,
    row_id: Any,
    count: int,
    values: Select[Any] | None = None,
) -> Window[Row[Any]]:
    """The page of `statement` that `state` asks for, sorted by `key` then id, by seeking from its cursor.

    The ascending order is: rows with a value by (value, id), then rows without one by id; descending is the
    exact reverse. Each part is one indexed range scan, so a page deep in the list costs what the first does.
    """
    cursor = state.after or state.before
    # Walking "forward" means in the ascending order; a descending list, or a page before a cursor, walks back.
    forward = state.descending == (state.before is not None)
    rows = await _seek(
        session,
        statement,
        key=key,
        is_null=is_null,
        row_id=row_id,
        cursor=cursor,
        forward=forward,
        limit=state.size + 1,
        values=values,
    )
    more = len(rows) > state.size
    rows = rows[: state.size]
    if state.before is not None:
        rows.reverse()
    # Past the end (rows deleted meanwhile, or an old link) there is nothing to link from: First page is offered.
    first, last = (_cursor_of(rows[0], state), _cursor_of(rows[-1], state)) if rows else (None, None)
    going_back = state.before is not None
    return Window(
        items=rows,
        next=last if (more or going_back) else None,
        previous=first if ((more and going_back) or state.after is not None) else None,
        count=count,
    )


def _cursor_of(row: Row[Any], state: ListState) -> Cursor:
    return Cursor(getattr(row, state.column.attr), row.id)


async def _seek(
    session: AsyncSession,
    statement: Select[Any],
    *,
    key: Any,
    is_null: ColumnElement[bool] | None,
    row_id: Any,
    cursor: Cursor | None,
    forward: bool,
    limit: int,
    values: Select[Any] | None = None,
) -> list[Row[Any]]:
    """Up to `limit` rows strictly past `cursor`, walking the ascending order forward or backward.
    `values`, if given, is the statement for the rows that have a sort value (`statement` for the others)."""
    parts = ["values", "nulls"] if is_null is not None else ["values"]
    if not forward:
        parts.reverse()
    start = None if cursor is None else ("nulls" if cursor.value is None else "values")
    rows: list[Row[Any]] = []
    for part in parts:
        if start is not None and part != start and parts.index(part) < parts.index(start):
            continue
        at_cursor = cursor is not None and part == start
        order: tuple[Any, ...]
        if part == "values":
            where = [not_(is_null)] if is_null is not None else []
            order = (key, row_id)
            if at_cursor:
                assert cursor is not None
                here, there = tuple_(key, row_id), tuple_(cursor.value, cursor.id)
                # The plain bound on the key is implied, but lets SQLite start its index scan at the cursor
                # when key and id come from different tables (the team sort).
                bound = key >= cursor.value if forward else key <= cursor.value
                where += [bound, here > there if forward else here < there]
        else:
            assert is_null is not None
            where, order = [is_null], (row_id,)
            if at_cursor:
                assert cursor is not None
                where.append(row_id > cursor.id if forward else row_id < cursor.id)
        ordering = [column.asc() if forward else column.desc() for column in order]
        source = values if part == "values" and values is not None else statement
        page = source.where(and_(*where)) if where else source
        rows += list((await session.exec(cast(Any, page.order_by(*ordering).limit(limit - len(rows))))).all())
        if len(rows) >= limit:
            break
    return rows


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


async def count_heroes(session: AsyncSession, *, state: ListState, team: TeamFilter = None) -> int:
    """The heroes a list shows, counted exactly up to COUNT_CAP (the list says "more than" past it)."""
    return await _capped_count(session, select(Hero.id).where(*hero_conditions(session, state, team)))


def _hero_sort(state: ListState) -> tuple[Any, ColumnElement[bool] | None]:
    """The sort key and, for a nullable one, the test for rows without a value (they come after the others)."""
    keys: dict[str, tuple[Any, ColumnElement[bool] | None]] = {
        "name": (col(Hero.name), None),
        "secret_name": (col(Hero.secret_name), None),
        "age": (col(Hero.age), col(Hero.age).is_(None)),
        "team": (col(Team.name), col(Hero.team_id).is_(None)),
    }
    return keys[state.sort]


async def list_heroes(session: AsyncSession, *, state: ListState, team: TeamFilter = None) -> Window[Row[Any]]:
    count = await _capped_count(session, select(Hero.id).where(*hero_conditions(session, state, team)))
    conditions = hero_conditions(session, state, team, ordered=True, many=count > SEARCH_FEW)
    key, is_null = _hero_sort(state)
    # A live hero's team is always live (the trash detaches heroes), so the join may use the live-names index.
    on_team = and_(col(Hero.team_id) == col(Team.id), _live_team())
    shown = select(*_hero_columns()).outerjoin(Team, on_team).where(*conditions)
    # Heroes with a team, in team-name order: an inner join lets the database walk the teams by name (their
    # index) and each team's heroes by id, instead of sorting every hero.
    with_team = select(*_hero_columns()).join(Team, on_team).where(*conditions) if state.sort == "team" else None
    return await _window(
        session, shown, state, key=key, is_null=is_null, row_id=col(Hero.id), count=count, values=with_team
    )


def ordered_heroes(session: AsyncSession, *, state: ListState, team: TeamFilter = None) -> Select[Any]:
    """Every hero the list's search and filters select, in the list's order (what an export writes):
    the same rows and order as paging through the list from its first page to its last."""
    key, is_null = _hero_sort(state)
    order = [key, col(Hero.id)] if is_null is None else [is_null, key, col(Hero.id)]
    statement: Select[Any] = select(*_hero_columns()).outerjoin(Team, col(Hero.team_id) == Team.id)
    statement = statement.where(*hero_conditions(session, state, team))
    return statement.order_by(*(column.desc() if state.descending else column.asc() for column in order))


def hero_conditions(
    session: AsyncSession, state: ListState, team: TeamFilter, *, ordered: bool = False, many: bool = False
) -> list[ColumnElement[bool]]:
    """What makes a hero part of the list: live, and matching its search and filters.

    `ordered`: for a sorted page on SQLite, a broad filter on another column than the sort's is kept off its
    index (`column + 0`, SQLite's documented way), because SQLite's planner would otherwise read every match
    through that index and sort them all (200 ms for an age range at a million heroes) instead of walking the
    sort's index and stopping after one page. PostgreSQL's planner weighs this with its statistics.
    `many`: the search matches more than SEARCH_FEW heroes (the count says so), see `_hero_search`.
    """

    def filtered(column: Any, sort: str) -> Any:
        return column + 0 if ordered and state.sort != sort and _dialect(session) == "sqlite" else column

    conditions = [_live_hero()]
    if state.q:
        plan = ("walk" if many else "fetch") if ordered else "count"
        conditions.append(_hero_search(session, state.q, plan=plan))
    if team == "none":
        conditions.append(filtered(col(Hero.team_id), "team").is_(None))
    elif team is not None:
        conditions.append(col(Hero.team_id) == team)
    if state.min_age is not None:
        conditions.append(filtered(col(Hero.age), "age") >= state.min_age)
    if state.max_age is not None:
        conditions.append(filtered(col(Hero.age), "age") <= state.max_age)
    return conditions


def _like(session: AsyncSession, column: Any, pattern: str, text_: str) -> ColumnElement[bool]:
    """`column` matches the LIKE `pattern` made from `text_`, ignoring case (ILIKE). SQLite's LIKE folds ASCII
    letters only: for text with other letters both sides are lowered by Python's rules (a function the engine
    registers), as PostgreSQL's ILIKE matches them; ASCII text keeps the plain LIKE, which is cheaper."""
    if _dialect(session) != "sqlite":
        return cast("ColumnElement[bool]", col(column).ilike(pattern, escape="\\"))
    if text_.isascii():  # SQLite's own LIKE ignores ASCII case; ilike() would lower() both sides on every row
        return cast("ColumnElement[bool]", col(column).like(pattern, escape="\\"))
    return cast("ColumnElement[bool]", func.unicode_lower(column).like(pattern.lower(), escape="\\"))


def _contains(session: AsyncSession, column: Any, text_: str) -> ColumnElement[bool]:
    return _like(session, column, _pattern(text_), text_)


def _pattern(text_: str) -> str:
    """A LIKE pattern matching `text_` anywhere, its wildcards taken literally."""
    return "%" + text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# Up to this many matches a search page fetches them all by the search's indexes and sorts them; past it, it
# walks the sort's index and tests each hero, which stops after one page because matches are frequent.
SEARCH_FEW = 2_000


def _hero_search(session: AsyncSession, q: str, *, plan: str = "count") -> ColumnElement[bool]:
    """Substring search on name, secret name and team name (see the README: trigram indexes on PostgreSQL,
    an FTS5 trigram index on SQLite, for three characters or more; shorter text scans).

    The same test, phrased for how it is used (`plan`): "count" all matches, "fetch" a page of few matches
    (found by the search's indexes, then sorted), or "walk" the sort's index testing each hero, which stops
    after one page when matches are frequent (no index may serve the test then, or the planner would use it)."""
    team_match = (_contains(session, Team.name, q), _live_team())
    team_ids = select(Team.id).where(*team_match)
    in_names = or_(_contains(session, Hero.name, q), _contains(session, Hero.secret_name, q))
    if _dialect(session) == "sqlite":
        if plan == "walk":
            # Each hero on the sort's index is tested as it comes (LIKE, no lookup to build first): matches are
            # frequent, so a page is found after a few hundred rows. `+ 0` keeps SQLite from looking the team's
            # heroes up by an index instead (its documented idiom).
            return or_(in_names, (col(Hero.team_id) + 0).in_(team_ids))
        # The ids whose names match, from the full-text index (or, for text too short for it, from one pass
        # over the table rather than a walk through an index, which reads the table in random order).
        name_ids = _fts_ids(q) if len(q) >= TRIGRAM else select(Hero.id).where(in_names)
        return or_(col(Hero.id).in_(name_ids), col(Hero.team_id).in_(team_ids))
    if plan == "fetch":
        # PostgreSQL, few matches: their ids from the indexes (names by trigram, heroes of matching teams by
        # team_id), then sorted.
        named = select(Hero.id).where(in_names, _live_hero())
        in_team = select(Hero.id).where(col(Hero.team_id).in_(team_ids), _live_hero())
        return col(Hero.id).in_(union_all(named, in_team))
    # PostgreSQL: the matching teams' ids as one array, computed once, so that a count can OR three index scans
    # together (a plain IN subquery inside an OR would make it read every hero), and a walk tests each hero.
    team_array = select(func.array_agg(Team.id)).where(*team_match).scalar_subquery()
    # Cast, so that it reads as ANY (array value), not ANY (subquery), which would compare with each row.
    return or_(in_names, col(Hero.team_id) == any_(sa_cast(team_array, ARRAY(Integer))))


def _fts_ids(q: str) -> Any:
    """SQLite: the ids of heroes whose name or secret name holds `q` (three characters or more), from the
    FTS5 trigram index. Quoted as one phrase, so FTS5 operators in `q` are plain text."""
    phrase = '"' + q.replace('"', '""') + '"'
    return text("SELECT rowid FROM hero_search WHERE hero_search MATCH :phrase").bindparams(phrase=phrase)


class UnknownTeam(Exception):
    """A hero list filtered by a team name that no live team has."""


async def team_filter(session: AsyncSession, *, typed: str) -> TeamFilter:
    """The team filter a list's typed value means: blank any team, "No team" none, else exactly that team."""
    if not typed:
        return None
    if typed.casefold() == NO_TEAM.casefold():
        return "none"
    team_id = await team_by_name(session, name=typed)
    if team_id is None:
        raise UnknownTeam(typed)
    return team_id


async def live_team_ids(session: AsyncSession, *, names: list[str], lock: bool = False) -> dict[str, int]:
    """{name: id} of the live teams with these names; `lock` share-locks them until commit (PostgreSQL), as
    team_exists does, so none goes to the trash before heroes joining it are saved."""
    teams: dict[str, int] = {}
    for start in range(0, len(names), IN_CHUNK):
        columns: tuple[Any, ...] = (Team.id, Team.name)
        lookup = select(*columns).where(col(Team.name).in_(names[start : start + IN_CHUNK]), _live_team())
        if lock:
            lookup = lookup.with_for_update(read=True)
        rows: list[Any] = list((await session.exec(lookup)).all())
        teams |= {row.name: row.id for row in rows}
    return teams


async def heroes_by_id(session: AsyncSession, *, ids: list[int], lock: bool = False) -> list[Row[Any]]:
    """These heroes' fields, version and trash state (also in the trash), in id order; `lock` locks them for
    update until commit (PostgreSQL), in id order like every bulk write, so concurrent ones queue."""
    columns: tuple[Any, ...] = (
        Hero.id,
        Hero.name,
        Hero.secret_name,
        Hero.age,
        Hero.team_id,
        Hero.version,
        Hero.deleted_at,
    )
    rows: list[Row[Any]] = []
    for start in range(0, len(ids), IN_CHUNK):
        statement = select(*columns).where(col(Hero.id).in_(ids[start : start + IN_CHUNK])).order_by(col(Hero.id))
        if lock:
            statement = statement.with_for_update()
        rows += list((await session.exec(statement)).all())
    return rows


async def team_by_name(session: AsyncSession, *, name: str) -> int | None:
    """The live team with exactly this name (names are unique among live teams)."""
    return (await session.exec(select(Team.id).where(Team.name == name, _live_team()))).first()


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


async def count_teams(session: AsyncSession, *, state: ListState) -> int:
    """The teams a list shows, counted exactly up to COUNT_CAP."""
    return await _capped_count(session, select(Team.id).where(*team_conditions(session, state)))


def team_conditions(session: AsyncSession, state: ListState) -> list[ColumnElement[bool]]:
    """What makes a team part of the list: live, and matching its search and filter."""
    conditions = [_live_team()]
    if state.q:
        conditions.append(or_(_contains(session, Team.name, state.q), _contains(session, Team.headquarters, state.q)))
    if state.has_heroes:
        members = exists().where(col(Hero.team_id) == col(Team.id), _live_hero())
        conditions.append(members if state.has_heroes == "yes" else not_(members))
    return conditions


async def list_teams(session: AsyncSession, *, state: ListState) -> Window[Row[Any]]:
    conditions = team_conditions(session, state)
    count = await _capped_count(session, select(Team.id).where(*conditions))
    key = col(Team.name) if state.sort == "name" else col(Team.headquarters)
    statement = select(*_team_columns()).where(*conditions)
    return await _window(session, statement, state, key=key, is_null=None, row_id=col(Team.id), count=count)


def ordered_teams(session: AsyncSession, *, state: ListState) -> Select[Any]:
    """Every team the list's search and filters select, in the list's order (what an export writes)."""
    key = col(Team.name) if state.sort == "name" else col(Team.headquarters)
    order = (key, col(Team.id))
    statement: Select[Any] = select(*_team_columns()).where(*team_conditions(session, state))
    return statement.order_by(*(column.desc() if state.descending else column.asc() for column in order))


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


TEAM_OPTIONS_SHOWN = 20


async def team_options(session: AsyncSession, *, typed: str, limit: int = TEAM_OPTIONS_SHOWN) -> list[str]:
    """Names of live teams for a searchable picker: those starting with `typed` first, then those containing it."""
    starts = _like(session, Team.name, _pattern(typed)[1:], typed)
    statement = (
        select(Team.name)
        .where(_live_team(), _contains(session, Team.name, typed))
        .order_by(starts.desc(), col(Team.name))
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


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

"""Each resource's list: the columns its rows show (rows, not ORM entities: several times cheaper), what its
filters and search select, and its sorts, on the paging engine (webapp.data.keyset) and the search plans
(webapp.data.search). Rows in the trash are left out of every list, count, page and choice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping
from functools import cache, partial
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, exists, func, not_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from webapp.data import keyset, search
from webapp.data.plain import RECORD_ID, PlainRow, by_id, kept, read, rows
from webapp.data.search import dialect, live_hero, live_team
from webapp.listing import COUNT_CAP, ListState
from webapp.models import Hero, LiveCount, Team
from webapp.resource import none_label

# A list's filters once looked up (a team's name as its id); see ListQuery.resolve.
Resolved = Mapping[str, Any]
# In a hero list's Resolved, for a search on SQLite: the ids of the teams whose names hold its text
# (search.teams_named).
SEARCH_TEAMS = "search_teams"


class UnknownName(Exception):
    """A filter naming a record that no live record has (a hero list filtered by a team nobody is called)."""

    def __init__(self, field: str, referenced: str, typed: str) -> None:
        super().__init__(typed)
        self.field, self.referenced, self.typed = field, referenced, typed

    @property
    def message(self) -> str:
        return unknown_name(self.referenced, self.typed)


def unknown_name(referenced: str, typed: str) -> str:
    """What a field or filter says of a name no live record has (suggestions appear as you type)."""
    return f"No {referenced} is named “{typed}”. Type a {referenced}’s exact name, or “{none_label(referenced)}”."


class ListQuery(Protocol):
    """A resource's list. `resolve` looks up what its filters name (raising UnknownName), once per request."""

    async def resolve(self, session: AsyncSession, state: ListState) -> Resolved: ...

    def conditions(
        self, session: AsyncSession, state: ListState, resolved: Resolved, *, ordered: bool = False, many: bool = False
    ) -> list[ColumnElement[bool]]: ...

    async def count(self, session: AsyncSession, state: ListState, resolved: Resolved) -> int: ...

    async def page(self, session: AsyncSession, state: ListState, resolved: Resolved) -> keyset.Window: ...

    def ordered(self, session: AsyncSession, state: ListState, resolved: Resolved) -> Select[Any]: ...

    async def row(self, session: AsyncSession, record_id: int) -> PlainRow | None: ...


@cache
def _live_count_statement(table: str) -> SelectOfScalar[int]:
    # Built once per table: a statement that never changes needs no building, and its cache key is kept on it.
    return kept(select(func.coalesce(func.sum(LiveCount.live), 0)).where(LiveCount.record_type == table))


def _given(name: str, value: Any, bound: bool) -> Any:
    """A filter's value in a statement: itself, or (`bound`) a parameter of that name, given when it runs, so the
    statement is the same for every value and is built once (keyset.SHAPES)."""
    return bindparam(name, type_=Integer()) if bound else value


async def live_count(session: AsyncSession, table: str) -> int:
    """How many live rows `table` holds: the sum of the few rows the triggers keep (models.LiveCount), where an
    unfiltered list's count would otherwise read ten thousand index entries on every request."""
    return int((await rows(session, _live_count_statement(table)))[0][0])


def _carried_count(model: Any, state: ListState) -> tuple[Any, ...]:
    """The column carrying an unfiltered list's count in each of its rows (keyset.COUNTED); none for a filtered
    list, whose count is its own statement."""
    if state.filtered:
        return ()
    return (_live_count_statement(str(model.__tablename__)).scalar_subquery().label(keyset.COUNTED),)


async def _count_or_later(
    list_query: ListQuery, session: AsyncSession, state: ListState, resolved: Resolved
) -> int | Callable[[], Awaitable[int]]:
    """A filtered list's count, counted first. An unfiltered list's statements carry it (keyset.COUNTED): what
    counts it for a page with no row to carry it (past the end)."""
    if state.filtered:
        return await list_query.count(session, state, resolved)
    return partial(list_query.count, session, state, resolved)


class HeroList:
    """Heroes with their team's name; filtered by team (by its exact name, or "No team") and age range;
    searched by name, secret name and team name."""

    @staticmethod
    def columns() -> tuple[Any, ...]:
        return (
            Hero.id,
            Hero.name,
            Hero.secret_name,
            Hero.age,
            Hero.team_id,
            Hero.version,
            col(Team.name).label("team_name"),
        )

    async def resolve(self, session: AsyncSession, state: ListState) -> Resolved:
        """The team filter's typed name (blank: any team, "No team": none, else exactly that live team), and for
        a search the teams whose names hold its text (search.teams_named)."""
        resolved: dict[str, Any] = {"team": await self._filtered_team(session, state), SEARCH_TEAMS: None}
        if state.q and dialect(session) == "sqlite":
            resolved[SEARCH_TEAMS] = list((await read(session, search.teams_named(session, state.q))).scalars())
        return resolved

    @staticmethod
    async def _filtered_team(session: AsyncSession, state: ListState) -> int | str | None:
        typed = str(state.filter("team") or "")
        if not typed:
            return None
        if typed.casefold() == none_label("team").casefold():
            return "none"
        statement = select(Team.id).where(Team.name == typed, live_team())
        team_id = (await session.exec(statement)).first()
        if team_id is None:
            raise UnknownName("team", "team", typed)
        return team_id

    def conditions(
        self,
        session: AsyncSession,
        state: ListState,
        resolved: Resolved,
        *,
        ordered: bool = False,
        many: bool = False,
        bound: bool = False,
        filters_only: bool = False,
    ) -> list[ColumnElement[bool]]:
        """What makes a hero part of the list: live, and matching its search and filters (`bound`: their values
        as parameters, given by `_parameters`).

        `ordered`: for a sorted page on SQLite, a broad filter on another column than the sort's is kept off its
        index (`column + 0`, SQLite's documented way), because SQLite's planner would otherwise read every match
        through that index and sort them all (200 ms for an age range at a million heroes) instead of walking
        the sort's index and stopping after one page. PostgreSQL's planner weighs this with its statistics.
        `many`: the search matches more than SEARCH_FEW heroes (the count says so): walk, don't fetch.
        `filters_only`: the filters alone, without the search and the live test (for a count that adds them its
        own way, search.sqlite_hero_count).
        """
        sqlite = dialect(session) == "sqlite"

        def filtered(column: Any, sort: str) -> Any:
            return column + 0 if ordered and state.sort != sort and sqlite else column

        conditions = [] if filters_only else [live_hero()]
        if state.q and not filters_only:
            plan: search.Plan = ("walk" if many else "fetch") if ordered else "count"
            conditions.append(search.hero_search(session, self._searched(state, resolved, bound), plan=plan))
        team = resolved.get("team")
        if team == "none":
            conditions.append(filtered(col(Hero.team_id), "team").is_(None))
        elif team is not None:
            conditions.append(col(Hero.team_id) == _given("team", team, bound))
        if (low := state.filter("min_age")) is not None:
            conditions.append(filtered(col(Hero.age), "age") >= _given("min_age", low, bound))
        if (high := state.filter("max_age")) is not None:
            conditions.append(filtered(col(Hero.age), "age") <= _given("max_age", high, bound))
        return conditions

    def _shape(self, session: AsyncSession, state: ListState, resolved: Resolved) -> Hashable:
        """What the list's statements depend on besides its filters' and search's values."""
        team = resolved.get("team")
        ages = (state.filter("min_age") is not None, state.filter("max_age") is not None)
        searched = self._searched(state, resolved, bound=True).shape() if state.q else None
        return ("hero", dialect(session), state.sort, team if team in (None, "none") else "id", ages, searched)

    @staticmethod
    def _searched(state: ListState, resolved: Resolved, bound: bool) -> search.Searched:
        return search.Searched(state.q, resolved.get(SEARCH_TEAMS), bound=bound)

    def _parameters(self, session: AsyncSession, state: ListState, resolved: Resolved) -> dict[str, Any]:
        """The values of the bound parameters of the list's statements: its filters' and its search's."""
        values = {"team": resolved.get("team"), "min_age": state.filter("min_age"), "max_age": state.filter("max_age")}
        if state.q:
            values |= self._searched(state, resolved, bound=True).values(session)
        return values

    async def count(self, session: AsyncSession, state: ListState, resolved: Resolved) -> int:
        """The heroes a list shows, counted exactly up to its cap (the list says "more than" past it)."""
        if not state.filtered:
            return min(await live_count(session, str(Hero.__tablename__)), COUNT_CAP + 1)
        cap = state.count_cap

        def build() -> Select[Any]:
            if state.q and dialect(session) == "sqlite":
                filters = self.conditions(session, state, resolved, bound=True, filters_only=True)
                return search.sqlite_hero_count(session, self._searched(state, resolved, bound=True), filters, cap)
            return keyset.counting(select(Hero.id).where(*self.conditions(session, state, resolved, bound=True)), cap)

        statement = keyset.SHAPES.statement(("count", self._shape(session, state, resolved)), lambda: kept(build()))
        counted = (await rows(session, statement, self._parameters(session, state, resolved)))[0][0]
        return min(int(counted), cap + 1)

    @staticmethod
    def _sort(state: ListState, with_team: Select[Any] | None = None) -> keyset.SortKey:
        keys: dict[str, tuple[Any, ColumnElement[bool] | None]] = {
            "name": (col(Hero.name), None),
            "secret_name": (col(Hero.secret_name), None),
            "age": (col(Hero.age), col(Hero.age).is_(None)),
            "team": (col(Team.name), col(Hero.team_id).is_(None)),
        }
        key, is_null = keys[state.sort]
        return keyset.SortKey(key=key, row_id=col(Hero.id), is_null=is_null, values=with_team)

    async def page(self, session: AsyncSession, state: ListState, resolved: Resolved) -> keyset.Window:
        count = await _count_or_later(self, session, state, resolved)
        # A search's count decides how its page is found.
        many = bool(state.q) and isinstance(count, int) and count > search.SEARCH_FEW

        def build() -> tuple[Select[Any], keyset.SortKey]:
            columns = (*self.columns(), *_carried_count(Hero, state))
            conditions = self.conditions(session, state, resolved, ordered=True, many=many, bound=True)
            # A live hero's team is always live (the trash detaches heroes), so the join may use the live-names
            # index.
            on_team = and_(col(Hero.team_id) == col(Team.id), live_team())
            shown = select(*columns).outerjoin(Team, on_team).where(*conditions)
            # Heroes with a team, in team-name order: an inner join lets the database walk the teams by name
            # (their index) and each team's heroes by id, instead of sorting every hero.
            with_team = select(*columns).join(Team, on_team).where(*conditions) if state.sort == "team" else None
            return shown, self._sort(state, with_team)

        parts = keyset.SHAPES.parts((self._shape(session, state, resolved), many), build)
        parameters = self._parameters(session, state, resolved)
        return await keyset.window(session, state, parts, count=count, parameters=parameters)

    def ordered(self, session: AsyncSession, state: ListState, resolved: Resolved) -> Select[Any]:
        statement: Select[Any] = select(*self.columns()).outerjoin(Team, col(Hero.team_id) == Team.id)
        return keyset.ordered(statement.where(*self.conditions(session, state, resolved)), state, self._sort(state))

    @staticmethod
    @cache
    def _row_statement() -> Select[Any]:
        statement: Select[Any] = select(*HeroList.columns()).outerjoin(Team, col(Hero.team_id) == Team.id)
        return kept(statement.where(col(Hero.id) == bindparam(RECORD_ID), live_hero()))

    async def row(self, session: AsyncSession, record_id: int) -> PlainRow | None:
        """One live hero as the list shows it (with its team's name)."""
        return await by_id(session, self._row_statement(), record_id)


class TeamList:
    """Teams with how many live heroes each has; filtered by whether they have heroes; searched by name and
    headquarters."""

    @staticmethod
    def columns() -> tuple[Any, ...]:
        hero_count = (
            select(func.count())
            .select_from(Hero)
            .where(Hero.team_id == Team.id, live_hero())
            .correlate(Team)
            .scalar_subquery()
        )
        return (Team.id, Team.name, Team.headquarters, Team.version, hero_count.label("hero_count"))

    async def resolve(self, session: AsyncSession, state: ListState) -> Resolved:
        return {}

    def conditions(
        self, session: AsyncSession, state: ListState, resolved: Resolved, *, ordered: bool = False, many: bool = False
    ) -> list[ColumnElement[bool]]:
        conditions = [live_team()]
        if state.q:
            conditions.append(search.team_search(session, state.q))
        if has_heroes := state.filter("has_heroes"):
            members = exists().where(col(Hero.team_id) == col(Team.id), live_hero())
            conditions.append(members if has_heroes == "yes" else not_(members))
        return conditions

    async def count(self, session: AsyncSession, state: ListState, resolved: Resolved) -> int:
        if not state.filtered:
            return min(await live_count(session, str(Team.__tablename__)), COUNT_CAP + 1)
        matching = select(Team.id).where(*self.conditions(session, state, resolved))
        return await keyset.capped_count(session, matching, state.count_cap)

    @staticmethod
    def _sort(state: ListState) -> keyset.SortKey:
        key = col(Team.name) if state.sort == "name" else col(Team.headquarters)
        return keyset.SortKey(key=key, row_id=col(Team.id))

    async def page(self, session: AsyncSession, state: ListState, resolved: Resolved) -> keyset.Window:
        count = await _count_or_later(self, session, state, resolved)

        def build() -> tuple[Select[Any], keyset.SortKey]:
            columns = (*self.columns(), *_carried_count(Team, state))
            return select(*columns).where(*self.conditions(session, state, resolved)), self._sort(state)

        parts: keyset.Parts
        if state.q:  # a search's statements depend on its words: built each time
            parts = partial(keyset.seek_statement, *build())
        else:  # they depend on the sort and the has-heroes filter only (it has no value to bind)
            parts = keyset.SHAPES.parts(("team", state.sort, state.filter("has_heroes")), build)
        return await keyset.window(session, state, parts, count=count)

    def ordered(self, session: AsyncSession, state: ListState, resolved: Resolved) -> Select[Any]:
        statement: Select[Any] = select(*self.columns()).where(*self.conditions(session, state, resolved))
        return keyset.ordered(statement, state, self._sort(state))

    @staticmethod
    @cache
    def _row_statement() -> Select[Any]:
        statement: Select[Any] = select(*TeamList.columns())
        return kept(statement.where(col(Team.id) == bindparam(RECORD_ID), live_team()))

    async def row(self, session: AsyncSession, record_id: int) -> PlainRow | None:
        """One live team as the list shows it (with its hero count)."""
        return await by_id(session, self._row_statement(), record_id)

"""The paging engine: keyset pages (no OFFSET) and counts that stop at a cap, so a list costs the same on its
first page and its last, at ten thousand rows or a million."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, func, not_, tuple_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.data.plain import PlainRow, kept, read, rows
from webapp.listing import Cursor, ListState


@dataclass(frozen=True)
class Window:
    """One page of a keyset-paginated list: its rows, the cursors to the pages either side (None where there
    is none), and how many rows match, exact up to the list's count cap (ListState.count_cap)."""

    items: list[PlainRow]
    next: Cursor | None
    previous: Cursor | None
    count: int

    @classmethod
    def empty(cls) -> Window:
        return cls(items=[], next=None, previous=None, count=0)


@dataclass(frozen=True)
class SortKey:
    """How a list sorts: `key` then id. `is_null` tests rows without a value (they come after the others);
    `values`, when given, is the statement for the rows that have a value (the team sort joins the teams)."""

    key: Any
    row_id: Any
    is_null: ColumnElement[bool] | None = None
    values: Select[Any] | None = None


async def capped_count(session: AsyncSession, matching: Select[Any], cap: int) -> int:
    """How many rows `matching` selects, counting at most `cap` + 1 of them (bounded work at any size)."""
    return int((await read(session, counting(matching, cap))).scalar_one())


def counting(matching: Select[Any], cap: int) -> Select[Any]:
    return select(func.count()).select_from(matching.limit(cap + 1).subquery())


# The column in which an unfiltered list's statements carry its count in each row: its live count (a scalar
# subquery of the live counts) read in the page's own statement is one trip to the database fewer than apart,
# 7% of the time of a heroes page (2026-12-07).
COUNTED = "list_count"


# The names of a seek's bound values: the cursor's sort value and id, and how many rows the part may return.
CURSOR_VALUE, CURSOR_ID, PAGE_LIMIT = "cursor_value", "cursor_id", "page_limit"

# A part of the ascending order ("values": rows with a value; "nulls": those without), walked forward or back,
# from the start or from a cursor: what the statement of one step of a seek depends on besides the list's own.
Part = tuple[str, bool, bool]
# The statement of one part: built each time (`seek_statement`), or once per list shape (a list without search).
Parts = Callable[[Part], Select[Any]]


async def window(
    session: AsyncSession,
    state: ListState,
    parts: Parts,
    *,
    count: int | Callable[[], Awaitable[int]],
    parameters: Mapping[str, Any] | None = None,
) -> Window:
    """The page of the list that `state` asks for, by seeking from its cursor: `parts` gives the statement of
    each part of the sort's order (see seek_statement), and `parameters` the values of the list's own bound
    parameters (its filters). `count` is how many rows match, or, when the statements carry it in each row
    (COUNTED), what counts them for a page without rows.

    The ascending order is: rows with a value by (value, id), then rows without one by id; descending is the
    exact reverse. Each part is one indexed range scan, so a page deep in the list costs what the first does.
    """
    cursor = state.after or state.before
    # Walking "forward" means in the ascending order; a descending list, or a page before a cursor, walks back.
    forward = state.descending == (state.before is not None)
    limit = state.size + 1
    order = ["values", "nulls"] if state.column.nullable else ["values"]
    if not forward:
        order.reverse()
    start = None if cursor is None else ("nulls" if cursor.value is None else "values")
    values = dict(parameters or {})
    if cursor is not None:
        values |= {CURSOR_VALUE: cursor.value, CURSOR_ID: cursor.id}
    found: list[PlainRow] = []
    for part in order:
        if start is not None and part != start and order.index(part) < order.index(start):
            continue
        statement = parts((part, forward, cursor is not None and part == start))
        found += await rows(session, statement, values | {PAGE_LIMIT: limit - len(found)})
        if len(found) >= limit:
            break
    if not isinstance(count, int):
        count = min(int(getattr(found[0], COUNTED)), state.count_cap + 1) if found else await count()
    more = len(found) > state.size
    shown = found[: state.size]
    if state.before is not None:
        shown.reverse()
    # Past the end (rows deleted meanwhile, or an old link) there is nothing to link from: First page is offered.
    first, last = (_cursor_of(shown[0], state), _cursor_of(shown[-1], state)) if shown else (None, None)
    going_back = state.before is not None
    return Window(
        items=shown,
        next=last if (more or going_back) else None,
        previous=first if ((more and going_back) or state.after is not None) else None,
        count=count,
    )


def _cursor_of(row: PlainRow, state: ListState) -> Cursor:
    return Cursor(getattr(row, state.column.attr), row.id)


class Shapes:
    """Statements built once per list shape: what a list's statements depend on besides its values (its sort,
    which filters it has, the database), their values left as bound parameters. Building a statement and its
    cache key was a tenth of a list page's work; the shapes are few (sorts x filters present x parts), so this
    holds at most some hundreds of statements per process, and no data."""

    def __init__(self) -> None:
        self._built: dict[Hashable, Any] = {}

    def statement(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """What `build` makes for `key`, made on first use; `build` must depend on nothing but `key`."""
        found = self._built.get(key, self)
        if found is self:
            found = self._built[key] = build()
        return found

    def parts(self, shape: Hashable, build: Callable[[], tuple[Select[Any], SortKey]]) -> Parts:
        """The seek statements of a list of this shape (`build` gives its statement and sort)."""
        statement, sort = self.statement(("list", shape), build)
        return lambda part: self.statement(("part", shape, part), lambda: kept(seek_statement(statement, sort, part)))


SHAPES = Shapes()


def seek_statement(statement: Select[Any], sort: SortKey, part: Part) -> Select[Any]:
    """One step of a seek: up to PAGE_LIMIT rows of `part` of `statement`'s ascending order, walked forward or
    backward, strictly past the cursor (CURSOR_VALUE, CURSOR_ID) when it starts at one. Its values are bound
    parameters, so a list whose statement is the same every time builds this once (see webapp.data.lists)."""
    name, forward, at_cursor = part
    order: tuple[Any, ...]
    if name == "values":
        where = [not_(sort.is_null)] if sort.is_null is not None else []
        order = (sort.key, sort.row_id)
        if at_cursor:
            value = bindparam(CURSOR_VALUE, type_=sort.key.type)
            cursor_id = bindparam(CURSOR_ID, type_=Integer())
            here, there = tuple_(sort.key, sort.row_id), tuple_(value, cursor_id)
            # The plain bound on the key is implied, but lets SQLite start its index scan at the cursor
            # when key and id come from different tables (the team sort).
            bound = sort.key >= value if forward else sort.key <= value
            where += [bound, here > there if forward else here < there]
    else:
        assert sort.is_null is not None
        where, order = [sort.is_null], (sort.row_id,)
        if at_cursor:
            cursor_id = bindparam(CURSOR_ID, type_=Integer())
            where.append(sort.row_id > cursor_id if forward else sort.row_id < cursor_id)
    ordering = [column.asc() if forward else column.desc() for column in order]
    source = sort.values if name == "values" and sort.values is not None else statement
    page = source.where(and_(*where)) if where else source
    return page.order_by(*ordering).limit(bindparam(PAGE_LIMIT, type_=Integer()))


def ordered(statement: Select[Any], state: ListState, sort: SortKey) -> Select[Any]:
    """Every row of `statement` in the list's order (what an export writes): the same rows and order as paging
    through the list from its first page to its last."""
    order = [sort.key, sort.row_id] if sort.is_null is None else [sort.is_null, sort.key, sort.row_id]
    return statement.order_by(*(column.desc() if state.descending else column.asc() for column in order))

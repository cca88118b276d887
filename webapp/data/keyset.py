"""The paging engine: keyset pages (no OFFSET) and counts that stop at a cap, so a list costs the same on its
first page and its last, at ten thousand rows or a million."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, tuple_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.data.plain import PlainRow, plain_rows, read
from webapp.listing import COUNT_CAP, Cursor, ListState


@dataclass(frozen=True)
class Window:
    """One page of a keyset-paginated list: its rows, the cursors to the pages either side (None where there
    is none), and how many rows match, exact up to COUNT_CAP."""

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


async def capped_count(session: AsyncSession, matching: Select[Any]) -> int:
    """How many rows `matching` selects, counting at most COUNT_CAP + 1 of them (bounded work at any size)."""
    return int(
        (await read(session, select(func.count()).select_from(matching.limit(COUNT_CAP + 1).subquery()))).scalar_one()
    )


async def window(
    session: AsyncSession, statement: Select[Any], state: ListState, sort: SortKey, *, count: int
) -> Window:
    """The page of `statement` that `state` asks for, sorted by `sort`, by seeking from its cursor.

    The ascending order is: rows with a value by (value, id), then rows without one by id; descending is the
    exact reverse. Each part is one indexed range scan, so a page deep in the list costs what the first does.
    """
    cursor = state.after or state.before
    # Walking "forward" means in the ascending order; a descending list, or a page before a cursor, walks back.
    forward = state.descending == (state.before is not None)
    rows = await _seek(session, statement, sort, cursor=cursor, forward=forward, limit=state.size + 1)
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


def _cursor_of(row: PlainRow, state: ListState) -> Cursor:
    return Cursor(getattr(row, state.column.attr), row.id)


async def _seek(
    session: AsyncSession, statement: Select[Any], sort: SortKey, *, cursor: Cursor | None, forward: bool, limit: int
) -> list[PlainRow]:
    """Up to `limit` rows strictly past `cursor`, walking the ascending order forward or backward."""
    parts = ["values", "nulls"] if sort.is_null is not None else ["values"]
    if not forward:
        parts.reverse()
    start = None if cursor is None else ("nulls" if cursor.value is None else "values")
    rows: list[PlainRow] = []
    for part in parts:
        if start is not None and part != start and parts.index(part) < parts.index(start):
            continue
        at_cursor = cursor is not None and part == start
        order: tuple[Any, ...]
        if part == "values":
            where = [not_(sort.is_null)] if sort.is_null is not None else []
            order = (sort.key, sort.row_id)
            if at_cursor:
                assert cursor is not None
                here, there = tuple_(sort.key, sort.row_id), tuple_(cursor.value, cursor.id)
                # The plain bound on the key is implied, but lets SQLite start its index scan at the cursor
                # when key and id come from different tables (the team sort).
                bound = sort.key >= cursor.value if forward else sort.key <= cursor.value
                where += [bound, here > there if forward else here < there]
        else:
            assert sort.is_null is not None
            where, order = [sort.is_null], (sort.row_id,)
            if at_cursor:
                assert cursor is not None
                where.append(sort.row_id > cursor.id if forward else sort.row_id < cursor.id)
        ordering = [column.asc() if forward else column.desc() for column in order]
        source = sort.values if part == "values" and sort.values is not None else statement
        page = source.where(and_(*where)) if where else source
        rows += plain_rows(await read(session, page.order_by(*ordering).limit(limit - len(rows))))
        if len(rows) >= limit:
            break
    return rows


def ordered(statement: Select[Any], state: ListState, sort: SortKey) -> Select[Any]:
    """Every row of `statement` in the list's order (what an export writes): the same rows and order as paging
    through the list from its first page to its last."""
    order = [sort.key, sort.row_id] if sort.is_null is None else [sort.is_null, sort.key, sort.row_id]
    return statement.order_by(*(column.desc() if state.descending else column.asc() for column in order))

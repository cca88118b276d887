"""Result rows as named tuples: what lists, pickers and pages render by the hundred.

A SQLAlchemy Row answers `row.name` through its `__getattr__` (about 0.5 µs); a named tuple through a slot
(about 0.05 µs), and a list page's template reads several hundred of them. The tuples keep the rows' order,
indexing and field names, so the templates and callers are the same either way."""

from __future__ import annotations

from collections import namedtuple
from functools import cache
from typing import Any, TypeAlias

from sqlalchemy import Executable
from sqlalchemy.engine import Result
from sqlmodel.ext.asyncio.session import AsyncSession

# A named tuple of a statement's columns (its class is made per column list, so it has no static type).
PlainRow: TypeAlias = Any


@cache
def _row_type(fields: tuple[str, ...]) -> Any:
    # One class per column list (a handful in all), not one per result.
    return namedtuple("PlainRow", fields)


def plain_rows(result: Result[Any]) -> list[PlainRow]:
    """Every row of `result`, as named tuples of its columns."""
    make = _row_type(tuple(result.keys()))._make
    return [make(row) for row in result.all()]


def plain_row(result: Result[Any]) -> PlainRow | None:
    """The first row of `result` as a named tuple, or None."""
    row = result.first()
    return None if row is None else _row_type(tuple(result.keys()))._make(row)


async def read(session: AsyncSession, statement: Executable, parameters: dict[str, Any] | None = None) -> Result[Any]:
    """`statement`'s result, run on the session's connection: a statement of plain columns needs none of the ORM's
    execution layer (no entities to load; about 5% of a list page). Nothing is flushed first, so it is for reads
    that follow no unsaved change: the list pages, the session check, the pickers."""
    return await (await session.connection()).execute(statement, parameters)

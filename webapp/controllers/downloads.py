"""Streamed CSV downloads (a list's export, Activity's): a connection of their own for as long as the client
reads, within a limited number of export slots."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Any

from litestar import Request
from litestar.response import Stream
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine

from webapp import csvio
from webapp.data import reads
from webapp.errors import Refused
from webapp.limits import stream_closed_on_stall

# Rows fetched (and written) at a time.
EXPORT_CHUNK = 1_000
# Seconds a client refused for busy exports is asked to wait.
EXPORT_RETRY_AFTER = 10


def csv_stream(
    request: Request[Any, Any, Any],
    statement: Select[Any],
    *,
    header: Iterable[str],
    cells: Callable[[Any], tuple[object, ...]],
    filename: str,
) -> Stream:
    """The rows of `statement` as a CSV file (`cells` makes each one's cells), read as the client takes them.
    The request's session must have given its connection back: the stream opens its own."""
    engine: AsyncEngine = request.app.state.engine
    slots: asyncio.Semaphore = request.app.state.export_slots
    # Each export holds a database connection for as long as its client takes to read the file: a few slow or
    # stalled downloads must not take the whole pool from everyone else's pages.
    if slots.locked():
        raise Refused(
            429,
            "Exports are busy",
            "Other exports are running on this server. Try again in a moment.",
            headers={"Retry-After": str(EXPORT_RETRY_AFTER)},
        )

    async def chunks() -> AsyncGenerator[str, None]:
        writer = csvio.Writer()
        yield csvio.BOM + writer.rows([tuple(header)])
        # One statement, so the file is one consistent snapshot. The slot is taken here, where the body is sent,
        # so a response that is never sent holds none.
        async with slots:
            async for part in reads.in_parts(engine, statement, size=EXPORT_CHUNK):
                yield writer.rows(cells(row) for row in part)

    return Stream(
        stream_closed_on_stall(request.scope, chunks()),
        media_type="text/csv",  # Litestar adds "; charset=utf-8" to text types
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

"""A request holds at most one database connection at a time: a burst of page loads whose session is due for its
once-a-minute touch (a write) must not take the pool and wait on each other until the pool gives up."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from litestar import Litestar
from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.concurrent import concurrent_client
from tests.support import HEROES, Clock
from webapp.app import create_app
from webapp.auth import TOUCH_EVERY
from webapp.config import Settings

# More requests at once than the pool has connections (one kept, and ten more when busy or none: DB_MAX_OVERFLOW).
BURST = 32


@pytest.mark.parametrize("overflow", [10, 0])
async def test_a_burst_of_reads_whose_session_is_touched_all_answer(
    settings: Settings, db: AsyncSession, clock: Clock, overflow: int
) -> None:
    await HEROES.make_many(db, 3)
    app: Litestar = create_app(Settings(**{**settings.__dict__, "pool_size": 1, "max_overflow": overflow}))
    out = {"now": 0, "peak": 0}

    def checked_out(*_args: object) -> None:
        out["now"] += 1
        out["peak"] = max(out["peak"], out["now"])

    def checked_in(*_args: object) -> None:
        out["now"] -= 1

    async with concurrent_client(app, db, clock) as concurrent:
        event.listen(app.state.engine.sync_engine, "checkout", checked_out)
        event.listen(app.state.engine.sync_engine, "checkin", checked_in)
        clock.advance(TOUCH_EVERY + timedelta(seconds=1))
        responses = await asyncio.wait_for(
            asyncio.gather(*(concurrent.http.get("/heroes") for _ in range(BURST))), timeout=20
        )
    assert [response.status_code for response in responses] == [200] * BURST
    assert concurrent.overlap.peak > 1
    assert out["peak"] <= 1 + overflow  # the pool's one, and no more than the overflow allows

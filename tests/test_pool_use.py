"""A request holds at most one database connection at a time: a burst of page loads whose session is due for its
once-a-minute touch (a write) must not take the pool and wait on each other until the pool gives up."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from litestar import Litestar
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.concurrent import concurrent_client
from tests.support import HEROES, Clock
from webapp.app import create_app
from webapp.auth import TOUCH_EVERY
from webapp.config import Settings

# More requests at once than the pool has connections (one kept, ten more when busy).
BURST = 32


async def test_a_burst_of_reads_whose_session_is_touched_all_answer(
    settings: Settings, db: AsyncSession, clock: Clock
) -> None:
    await HEROES.make_many(db, 3)
    app: Litestar = create_app(Settings(**{**settings.__dict__, "pool_size": 1}))
    async with concurrent_client(app, db, clock) as concurrent:
        clock.advance(TOUCH_EVERY + timedelta(seconds=1))
        responses = await asyncio.wait_for(
            asyncio.gather(*(concurrent.http.get("/heroes") for _ in range(BURST))), timeout=20
        )
    assert [response.status_code for response in responses] == [200] * BURST
    assert concurrent.overlap.peak > 1

"""Two admins, the only two active, demote each other at the same moment: exactly one change is saved, the other is
refused as taking away the last active admin, and an active admin remains, on both databases.

PostgreSQL runs the two transactions side by side, so each would count the other as still active unless every
active admin's row is locked before the count (webapp.accounts.lock_active_admins). To make that race happen every
time rather than now and then, each transaction is held just before it writes the user's row until the other one
has got there too: without the locks both get there, having counted; with them the second waits for the first's
locks and never does, so the first goes on after HOLD seconds. SQLite's writers take turns (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import stored_users, user_id
from tests.concurrent import Overlap
from tests.conftest import TEST_HOST, Clock
from tests.support import field_error, make_user, sign_in
from webapp.models import Role

LAST_ADMIN = "This is the last active admin: make someone else an admin first."
# Long enough for the other request to reach its write on a loaded machine when nothing holds it back.
HOLD = 1.0
WRITES_USER = re.compile(r'^UPDATE "?user"? ', re.IGNORECASE)


class Meeting:
    """Holds each transaction that is about to write a user's row until `parties` of them are held at once, or for
    HOLD seconds. Records how many were held together."""

    def __init__(self, parties: int) -> None:
        self.parties, self.held, self.most_held = parties, 0, 0
        self.everyone = asyncio.Event()

    async def wait(self) -> None:
        self.held += 1
        self.most_held = max(self.most_held, self.held)
        if self.held == self.parties:
            self.everyone.set()
        with suppress(TimeoutError):
            await asyncio.wait_for(self.everyone.wait(), HOLD)
        self.held -= 1

    def before_write(self, conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        """A SQLAlchemy before_cursor_execute hook; it runs in the request's greenlet, where the driver's
        run_async may wait on the event loop."""
        if WRITES_USER.match(statement):
            conn.connection.dbapi_connection.run_async(lambda _driver: self.wait())


@asynccontextmanager
async def admins_signed_in(
    app: Litestar, overlap: Overlap, db: AsyncSession, clock: Clock
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """A client signed in as each of the two admins, ada and bea, on the test's event loop (the app's lifespan
    entered and left in this task)."""
    transport = httpx.ASGITransport(app=overlap)
    async with app.lifespan(), AsyncExitStack() as stack:
        clients = {}
        for name in ("ada", "bea"):
            client = httpx.AsyncClient(transport=transport, base_url=f"http://{TEST_HOST}")
            clients[name] = await stack.enter_async_context(client)
            await sign_in(client, db, await make_user(db, username=name, role=Role.admin), clock)
        yield clients


# Who demotes bea and who demotes ada. Without the locks on PostgreSQL, the two admins demoting each other deadlock
# (each one's Activity entry refers to their own account, which the other has locked) and one of them gets a 500;
# one admin demoting both, from two tabs, gets both saved and leaves no active admin at all.
ACTING = {"each-other": ("ada", "bea"), "two-tabs": ("ada", "ada")}


@pytest.mark.parametrize("acting", list(ACTING))
async def test_two_admins_demoted_at_once_leave_one_active_admin(
    app: Litestar, db: AsyncSession, clock: Clock, acting: str
) -> None:
    overlap = Overlap(app)
    async with admins_signed_in(app, overlap, db, clock) as clients:
        users = await stored_users(db)
        targets = [user_id(users["bea"]), user_id(users["ada"])]
        meeting = Meeting(parties=2)
        for engine in app.state.engines:
            event.listen(engine.sync_engine, "before_cursor_execute", meeting.before_write)
        demote = {"role": "editor", "is_active": "on"}
        overlap.peak = 0
        responses = await asyncio.gather(
            *(
                clients[actor].post(f"/users/{target}", data=demote)
                for actor, target in zip(ACTING[acting], targets, strict=True)
            )
        )

    assert overlap.peak == 2
    assert sorted(response.status_code for response in responses) == [303, 409]
    (refused,) = [response for response in responses if response.status_code == 409]
    assert field_error(refused.text, "user-role") == LAST_ADMIN
    # The refused one never got as far as writing, nor did it get there while the saved one was held.
    assert meeting.most_held == 1
    stored = await stored_users(db)
    active_admins = [name for name, user in stored.items() if user.role == Role.admin.value and user.is_active]
    assert len(active_admins) == 1

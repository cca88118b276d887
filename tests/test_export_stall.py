"""Finding 8 of the outside audit: a client that stops reading a CSV export gives up its slot, so stalled
downloads cannot keep every other export at 429."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import TEST_HOST, Clock
from tests.support import HEROES, asgi_get, make_user
from webapp import accounts
from webapp.app import create_app
from webapp.config import Settings
from webapp.models import Role

# Long enough that the file does not fit in the first part sent, short enough to wait for in a test.
SEND_TIMEOUT = 0.2
NEVER_ENDING = 10.0


async def stalled_export(app: Litestar, session_token: str, path: str) -> int:
    """An export whose client takes the headers and one part of the body, then stops reading (but never closes
    the connection). Returns how many parts it took."""
    taken = 0
    stalled = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()  # the client never sends anything more, nor goes away
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal taken
        if message["type"] == "http.response.body":
            if taken >= 1:
                stalled.set()
                await asyncio.Event().wait()  # a full socket buffer: this send never completes
            taken += 1

    cookie = f"session={session_token}".encode()
    scope = asgi_get(path, [(b"host", TEST_HOST.encode()), (b"cookie", cookie)], (TEST_HOST, 80))
    await app(scope, receive, send)  # type: ignore[arg-type]
    return taken


async def test_stalled_exports_free_their_slots_and_other_exports_go_ahead(
    settings: Settings, engine: AsyncEngine, db: AsyncSession, clock: Clock
) -> None:
    await HEROES.make_many(db, 3_000)  # three chunks of rows
    editor = await make_user(db, username="eddie", role=Role.editor)
    token, _row = await accounts.start_session(db, user=editor, now=clock())
    await db.commit()
    app = create_app(replace(settings, export_send_timeout=SEND_TIMEOUT))
    # On the test's own event loop, like the stalled clients.
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url=f"http://{TEST_HOST}") as client:
        stalled = [
            asyncio.ensure_future(asyncio.wait_for(stalled_export(app, token, "/heroes/export.csv"), NEVER_ENDING))
            for _ in range(settings.export_slots)
        ]
        # Both stalled downloads are abandoned after the send timeout (without it they would wait for ever).
        taken = await asyncio.gather(*stalled)
        assert taken == [1] * settings.export_slots
        assert not app.state.export_slots.locked()
        client.cookies.set("session", token)
        response = await client.get("/teams/export.csv")
        assert response.status_code == 200

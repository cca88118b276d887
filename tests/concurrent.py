"""Real concurrency in-process: the app on the test's own event loop (the Litestar test client runs one
request at a time), with a count of how many requests were inside it at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Litestar
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import Clock, sign_in
from tests.support import make_user
from webapp.models import Role


@dataclass
class Overlap:
    """ASGI wrapper that records how many requests were in the app at once."""

    app: Litestar
    running: int = 0
    peak: int = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await self.app(scope, receive, send)
        finally:
            self.running -= 1


@dataclass
class ConcurrentClient:
    http: httpx.AsyncClient
    overlap: Overlap


@asynccontextmanager
async def concurrent_client(
    app: Litestar, db: AsyncSession, clock: Clock, username: str = "racer"
) -> AsyncIterator[ConcurrentClient]:
    """The app on the test's event loop (entered and left in one task, as the lifespan's task group requires),
    signed in as an editor."""
    overlap = Overlap(app)
    transport = httpx.ASGITransport(app=overlap)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        await sign_in(http, db, await make_user(db, username=username, role=Role.editor), clock)
        yield ConcurrentClient(http, overlap)

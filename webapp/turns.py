"""Reads take turns: a worker works on a few pages at once, and the rest wait their turn in the order they came.

A worker is one event loop. Every request in progress puts its next step (a query's rows back, a template to
render) on the loop's ready queue, and each turn of the loop runs every step queued before it began: with thirty
pages in progress, a turn is thirty steps long, and whatever needs a turn (the next read, /healthz) waits for all
of them. Pages waiting for a turn here are off the ready queue, so the loop's turns stay a few steps short, and
the pages are served in the order they arrived.

Probes do not wait: their answer is the point. Writes do not either: on SQLite they queue for the one writer
connection already, and a write waiting there (or for another process's lock) for seconds would hold a turn
that reads need. A turn ends when its answer begins, so a CSV export streaming to a slow client holds none.
"""

from __future__ import annotations

import asyncio

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from webapp.logs import PROBES
from webapp.middleware import SAFE_METHODS


class ReadTurns:
    """At most `settings.read_turns` reads at once (the app's `read_turns`), admitted in arrival order."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") not in SAFE_METHODS or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        turns: asyncio.Semaphore = scope["app"].state.read_turns
        await turns.acquire()  # first come, first served (asyncio's semaphore wakes its waiters in order)
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                turns.release()

        async def answering(message: Message) -> None:
            if message["type"] == "http.response.start":
                give_back()
            await send(message)

        try:
            await self.app(scope, receive, answering)
        finally:
            give_back()

"""Reads take turns: a worker works on a few pages at once, and the rest wait their turn in the order they came.

A worker is one event loop. Every request in progress puts its next step (a query's rows back, a template to
render) on the loop's ready queue, and each turn of the loop runs every step queued before it began: with thirty
pages in progress, a turn is thirty steps long, and whatever needs a turn (the next read, /healthz) waits for all
of them. Pages waiting for a turn here are off the ready queue, so the loop's turns stay a few steps short, and
the pages are served in the order they arrived.

Probes do not wait: their answer is the point. Writes do not either: on SQLite they queue for the one writer
connection already, and a write waiting there (or for another process's lock) for seconds would hold a turn
that reads need. A turn ends when its answer begins, so a CSV export streaming to a slow client holds none.

Writes come first: while one is in progress, reads are let in up to WHILE_WRITING at once, not up to the
worker's number (Settings.read_turns: more on PostgreSQL, where a read holds its turn while it waits for the
server). Each step of a write waits for the loop's turn like any other, and with a write's several round trips,
every read step beside it made it later: in 60 s soaks of 30 editors on PostgreSQL, four turns for every request
made writes' p99 400 ms against 210-225 at two, and the editors' rate 189-199 requests/s against 252-259.
"""

from __future__ import annotations

import asyncio
from collections import deque

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from webapp.logs import PROBES
from webapp.middleware import SAFE_METHODS

# Reads at once while a write is in progress (at most the worker's own number).
WHILE_WRITING = 2


class Turns:
    """Reads at once: up to `most`, or `while_writing` while a write is in progress; the rest admitted in the
    order they came as reads end or writes end."""

    def __init__(self, most: int, while_writing: int = WHILE_WRITING) -> None:
        if most < 1:
            raise ValueError(f"reads at once must be at least 1, not {most}")
        self.most = most
        self.while_writing = min(most, while_writing)
        self.reading = 0
        self.writing = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    def _room(self) -> bool:
        return self.reading < (self.while_writing if self.writing else self.most)

    async def take(self) -> None:
        if not self._waiting and self._room():
            self.reading += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.give_back()  # let in and cancelled in the same moment: the turn goes to the next
            elif waiter in self._waiting:  # (one cancelled while waiting may have been passed over already)
                self._waiting.remove(waiter)
            raise

    def give_back(self) -> None:
        self.reading -= 1
        self._let_in()

    def write_began(self) -> None:
        self.writing += 1

    def write_ended(self) -> None:
        self.writing -= 1
        self._let_in()

    def _let_in(self) -> None:
        while self._waiting and self._room():
            waiter = self._waiting.popleft()
            if not waiter.done():  # (a cancelled one is passed over)
                self.reading += 1
                waiter.set_result(None)


class ReadTurns:
    """Reads take turns (the app's `read_turns`, a Turns); writes are counted while they are in progress."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        turns: Turns = scope["app"].state.read_turns
        reading = scope.get("method") in SAFE_METHODS
        if reading:
            await turns.take()
        else:
            turns.write_began()
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                if reading:
                    turns.give_back()
                else:
                    turns.write_ended()

        async def answering(message: Message) -> None:
            if message["type"] == "http.response.start":
                give_back()
            await send(message)

        try:
            await self.app(scope, receive, answering)
        finally:
            give_back()

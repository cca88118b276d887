"""The database away, locked or full: which failures those are, and the request deadline that bounds every answer.

A database that does not answer is not a bug of ours: the request is answered 503 with Retry-After and a page
that says the change was not saved (webapp.errors), with one log line naming the cause, and no traceback.
Everything else that fails stays a 500 with its traceback.
"""

from __future__ import annotations

import asyncio
import errno
import sqlite3
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from asyncpg import exceptions as pg  # type: ignore[import-untyped]
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import exc as sa

# SQLite result codes (the low byte of an extended code) that mean the database could not do the work now:
# busy or locked by another connection, an I/O error, the disk full, the file not openable, read-only media.
_SQLITE_CODES = {
    sqlite3.SQLITE_BUSY: "locked by another writer",
    sqlite3.SQLITE_LOCKED: "locked by another writer",
    sqlite3.SQLITE_IOERR: "disk I/O error",
    sqlite3.SQLITE_FULL: "disk full",
    sqlite3.SQLITE_CANTOPEN: "cannot open the database file",
    sqlite3.SQLITE_READONLY: "the database file is read-only",
}
# PostgreSQL errors that say the server is away or refusing work for now, not that our statement is wrong:
# connection failures (class 08), operator intervention (57: shutting down, starting up, statement_timeout's
# query_canceled), insufficient resources (53: disk full, out of memory, too many connections).
_POSTGRES_AWAY = (pg.PostgresConnectionError, pg.OperatorInterventionError, pg.InsufficientResourcesError)
_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
    errno.ENOSPC,
}
# Causes that mean "busy" rather than "away": the page says so, since pressing Save again soon is likely to work.
BUSY = ("locked by another writer", "no database connection free")


# In a route's `opt`: work that may rightly take longer than the request deadline (an import of a large file, a bulk
# change of thousands of records) gets this many times it. Each statement still has its timeout, so a database
# that hangs is noticed as soon as on any other route.
LONG_WORK = "long_work"
LONG_WORK_FACTOR = 6
# In a route's `opt`: the route never waits for anything (the liveness probe), so it has no deadline to keep. It runs
# in place, without the task the deadline watches work in: starting that task costs a turn of the event loop, and on
# a busy loop every turn is every other request's next step.
NEVER_WAITS = "never_waits"


# The share of the request deadline kept for the answer itself: a wait for the database that the database ends
# (SQLite's lock wait, see time_left) ends this much before the deadline, so its refusal (a page with the form
# rendered on a busy loop, then sent) still arrives within the deadline. A tenth (0.5 s of 5) was not always enough
# on a starved machine; a fifth ends such waits where the database's own limits end (Settings.from_env).
ANSWER_SHARE = 0.2
# When (time.monotonic) this request's waits for the database must be over (Deadline sets it; None outside one).
_waits_end: ContextVar[float | None] = ContextVar("waits_end", default=None)


def time_left() -> float | None:
    """Seconds this request may still wait for the database and be answered within its deadline (0 when that time
    is up); None outside a request (the command line waits as long as its settings say)."""
    ends = _waits_end.get()
    return None if ends is None else max(0.0, ends - time.monotonic())


class DeadlinePassed(Exception):
    """The request's database work did not finish within the request deadline."""


# Where a request's Commits wait in its scope's state.
COMMITS = "commits"


@dataclass
class Commits:
    """The commits of a request's handler (webapp.db.WriteSession marks them): once one has been sent, the change
    may be in the database whatever comes after, so a failure can no longer be answered "not saved"; while one is
    in flight, the deadline leaves it be, since the database may be applying it."""

    sent: bool = False
    in_flight: bool = False


def commits_of(scope: Scope) -> Commits | None:
    commits: Commits | None = scope.get("state", {}).get(COMMITS)
    return commits


def commit_sent(scope: Scope) -> bool:
    """Whether this request's handler sent a commit: its change may have been saved."""
    commits = commits_of(scope)
    return commits is not None and commits.sent


def cause(exc: BaseException) -> str | None:
    """Why the database could not serve this request, in a few words for the log; None when `exc` is not an
    outage (a bug, to be logged with its traceback)."""
    for error in _chain(exc):
        if isinstance(error, DeadlinePassed):
            return str(error)
        if isinstance(error, sa.TimeoutError):
            return "no database connection free in time"
        if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
            return "the database connection was lost"
        if isinstance(error, sqlite3.Error) and (meaning := _SQLITE_CODES.get(error.sqlite_errorcode & 0xFF)):
            return f"SQLite: {meaning}"
        if isinstance(error, _POSTGRES_AWAY):
            return f"PostgreSQL: {type(error).__name__}"
        if isinstance(error, pg.InterfaceError) and "connection" in str(error):
            return "PostgreSQL: the connection was closed"
        if isinstance(error, TimeoutError):
            return "the database did not answer in time"
        if isinstance(error, ConnectionError) or (isinstance(error, OSError) and error.errno in _NETWORK_ERRNOS):
            return f"cannot reach the database ({type(error).__name__})"
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, what caused it (SQLAlchemy wraps the driver's error, which may wrap the socket's), and inside
    exception groups."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        if isinstance(error, BaseExceptionGroup):
            pending.extend(error.exceptions)
        pending.extend(e for e in (error.__cause__, error.__context__, getattr(error, "orig", None)) if e is not None)


def is_busy(reason: str) -> bool:
    return any(word in reason for word in BUSY)


class Deadline:
    """Answers every request within `settings.request_deadline` seconds of its start: if the app has not begun
    its response by then (a database that hangs, a lock that does not come), the work is cancelled in the
    background and DeadlinePassed is raised here, which the app's handlers answer with a 503 at once, without
    waiting for the cancelled work to wind down. A response that has begun (an export's stream) is not cut. A wait
    that the database can end by itself (SQLite's wait for another process's write lock, webapp.sqlite_trips) ends
    a little before the deadline instead (time_left), so its refusal is made and sent within the deadline, not
    after it, and no trip is left waiting in the driver's thread after its request was cancelled.

    A commit in flight is not cancelled: the database may be applying it (a COMMIT sent cannot be called back),
    and cutting the connection under it would only leave its outcome unknown to us as well. It finishes in the
    background, bounded by the statement timeout, and the answer says the change may have been saved (see
    webapp.errors); waiting for it instead would break the deadline whenever the database hangs mid-commit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        deadline: float = scope["app"].state.settings.request_deadline
        handler = scope.get("route_handler")
        if handler is not None and handler.opt.get(NEVER_WAITS):
            await self.app(scope, receive, send)
            return
        if handler is not None and handler.opt.get(LONG_WORK):
            deadline *= LONG_WORK_FACTOR
        loop = asyncio.get_running_loop()
        # Done when the answer begins, the work ends, or the deadline comes: whichever is first. One future and
        # one timer: an Event waited on in a task of its own, and asyncio.wait over both, cost a tenth of a
        # list page (measured 2026-12-07).
        decided: asyncio.Future[None] = loop.create_future()
        started = abandoned = False
        commits = Commits()
        scope.setdefault("state", {})[COMMITS] = commits

        def decide(_: object = None) -> None:
            if not decided.done():
                decided.set_result(None)

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if abandoned:
                return  # the request was answered already; the cancelled work has nothing more to say
            if message["type"] == "http.response.start":
                started = True
                decide()
            await send(message)

        # The work's task takes a copy of this context: its waits know when they must end.
        waits_end = _waits_end.set(time.monotonic() + deadline * (1 - ANSWER_SHARE))
        work = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        _waits_end.reset(waits_end)
        work.add_done_callback(decide)
        timer = loop.call_later(deadline, decide)
        try:
            await decided
        except asyncio.CancelledError:
            work.cancel()
            raise
        finally:
            timer.cancel()
        if work.done() or started:
            await work  # its result, or its exception for the handlers
            return
        abandoned = True
        if not commits.in_flight:
            work.cancel()
        _winding_down.add(work)
        work.add_done_callback(_wound_down)
        during = ", its commit still in flight" if commits.in_flight else ""
        raise DeadlinePassed(f"no answer within the {deadline:g} s request deadline{during}")


# Cancelled requests still unwinding (rolling back, returning their connection): held so they are not collected
# mid-way, and their outcome read so asyncio does not log it as never retrieved.
_winding_down: set[asyncio.Future[None]] = set()


async def wind_down(within: float) -> None:
    """At shutdown, before the engines close: wait for cancelled requests to give their connections back (a
    connection closed under one of them would leave it waiting for ever, and the process with it)."""
    if _winding_down:
        await asyncio.wait(set(_winding_down), timeout=within)


def _wound_down(work: asyncio.Future[None]) -> None:
    _winding_down.discard(work)
    if not work.cancelled():
        work.exception()

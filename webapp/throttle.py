"""Counting failures (and other things worth limiting) per key, shared by every worker through the database.

One row per key: a count and the start of its window, which opens at the first attempt after the last window
ended. An attempt is counted by one conditional UPDATE ("add one if the window has ended or the count is below
the limit"), so the check and the count are a single step: however many requests arrive at once, the database
lets exactly `limit` of them through (PostgreSQL makes a concurrent UPDATE of the row wait and re-check its
condition; SQLite's writers take turns). Counting before the slow work (a password check) is what makes that
hold: a request that was not counted never gets to guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.models import Throttle

KEY_MAX = 200


@dataclass(frozen=True)
class Limit:
    """At most `limit` attempts per key within `window` of the first one."""

    prefix: str
    limit: int
    window: timedelta

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"[:KEY_MAX]


# Failed sign-ins: per account (whatever the address) and per client address (whatever the account). A wrong
# current password (changing one's password) counts as a failed sign-in of that account and address.
ACCOUNT = Limit("account", 5, timedelta(minutes=15))
ADDRESS = Limit("address", 20, timedelta(minutes=5))
# Wrong second-factor codes of one account.
SECOND_FACTOR = Limit("second-factor", 5, timedelta(minutes=15))
# Refused requests written to the audit log, per session and per address: past these, refusals are still
# refused but no longer recorded, so a flood cannot bury the sign-in events.
LOGGED_PER_SESSION = Limit("log-session", 10, timedelta(minutes=5))
LOGGED_PER_ADDRESS = Limit("log-address", 30, timedelta(minutes=5))


@dataclass(frozen=True)
class Verdict:
    retry_after: int | None
    """None: counted on every key. Else nothing was counted, and this many seconds free the first full key."""
    last: bool = False
    """Counted, and that filled a key: the next attempt will be refused."""

    @property
    def allowed(self) -> bool:
        return self.retry_after is None


async def take(session: AsyncSession, counters: list[tuple[Limit, str]], *, now: datetime) -> Verdict:
    """Count one attempt on each (limit, name), all or none, in a transaction of its own (committed when allowed,
    rolled back when not). Keys are taken in a fixed order, so two requests never wait on each other in a cycle."""
    last = False
    for limit, name in sorted(counters, key=lambda counter: counter[0].key(counter[1])):
        key = limit.key(name)
        await _ensure(session, key, now)
        ended = now - limit.window
        restarts = col(Throttle.window_start) <= ended
        counted: CursorResult[Any] = await session.exec(
            update(Throttle)
            .where(col(Throttle.key) == key, restarts | (col(Throttle.count) < limit.limit))
            .values(
                count=case((restarts, 1), else_=col(Throttle.count) + 1),
                window_start=case((restarts, now), else_=col(Throttle.window_start)),
            )
            .returning(col(Throttle.count))
        )
        count = counted.scalar_one_or_none()
        if count is None:
            row = await session.get(Throttle, key, populate_existing=True)
            start = row.window_start if row is not None else now
            await session.rollback()
            return Verdict(max(1, math.ceil((start + limit.window - now).total_seconds())))
        last = last or count >= limit.limit
    await session.commit()
    return Verdict(None, last)


async def _ensure(session: AsyncSession, key: str, now: datetime) -> None:
    """The key's row, made if missing (a concurrent insert of the same key is no error: that row is used)."""
    values = {"key": key, "window_start": now, "count": 0}
    dialect = postgresql if (await session.connection()).dialect.name == "postgresql" else sqlite
    await session.exec(dialect.insert(Throttle).values(**values).on_conflict_do_nothing())


async def give_back(session: AsyncSession, limit: Limit, name: str) -> None:
    """Uncount one attempt (it turned out to succeed, and only failures count). The caller commits."""
    key = limit.key(name)
    await session.exec(
        update(Throttle).where(col(Throttle.key) == key, col(Throttle.count) > 0).values(count=col(Throttle.count) - 1)
    )


async def clear(session: AsyncSession, limit: Limit, name: str) -> None:
    """Forget a key's attempts (a successful sign-in forgets the account's failures). The caller commits."""
    await session.exec(delete(Throttle).where(col(Throttle.key) == limit.key(name)))


async def count(session: AsyncSession, limit: Limit, name: str, *, now: datetime) -> int:
    """Attempts counted in the key's current window (0 once it has ended)."""
    row = await session.get(Throttle, limit.key(name), populate_existing=True)
    if row is None or row.window_start <= now - limit.window:
        return 0
    return row.count

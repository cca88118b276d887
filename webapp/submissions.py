"""One-time form ids: a form carries a fresh id, and the change it makes stores that id in its own
transaction. The same form arriving twice (a double click, a browser retrying) finds the id taken and
is answered with where the first one led, instead of making a second record."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.data.plain import kept, kept_insert, run
from webapp.models import Submission

FIELD = "_once"
# Old ids are swept now and then, not on every form: concurrent sweeps would queue on the same rows.
SWEEP_ONE_IN = 100
# A repeat comes seconds after the first; a day covers a laptop closed mid-submit.
KEPT_FOR = timedelta(days=1)
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class AlreadySent(Exception):
    """This form's one-time id was used already, for the same values: `location` is where that led."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def new_token() -> str:
    return secrets.token_urlsafe(18)


def well_formed(token: str) -> bool:
    return bool(TOKEN.match(token))


def form_digest(data: Mapping[str, str]) -> str:
    """What the form said (its one-time id and CSRF token aside): a repeat is the same id with the same values."""
    fields = {name: value for name, value in data.items() if name not in {FIELD, "_csrf"}}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _repeat_of(seen: Submission | None, user_id: int, print_: str) -> str | None:
    """Where the first use led, if this is truly a repeat of it; None if the same id came with other values
    (a form reused after Back and changed): that is a new change, and the version check judges it."""
    if seen is None:
        return None
    if seen.user_id != user_id:
        return ""
    return seen.location if seen.fingerprint == print_ else None


@dataclass(frozen=True)
class Claim:
    """A one-time id taken by this request's transaction (stored with its location when the change is known)."""

    token: str


# Plain statements on the table, built once: the ORM's unit of work for one row, inserted and then changed, was
# two flushes, about a tenth of an inline save (2026-12-07).
_TABLE: Table = Submission.__table__  # type: ignore[attr-defined]
# Kept, so they run on the driver in the writer's transaction (webapp.data.plain.run).
_CLAIM = kept_insert(_TABLE)
_LEAD = kept(update(_TABLE).where(_TABLE.c.id == bindparam("token")).values(location=bindparam("location")))


async def claim(
    session: AsyncSession, *, token: str, data: Mapping[str, str], user_id: int, now: datetime
) -> Claim | str | None:
    """Take the id for this request's change (the Claim), or return where its first use led (a repeat), or None
    when the id was used before for other values (go ahead, without a claim).

    On PostgreSQL a twin arriving at the same moment waits on the primary key until the first commits, then
    fails here and reads the first one's answer; on SQLite writers already take turns.
    """
    print_ = form_digest(data)
    if secrets.randbelow(SWEEP_ONE_IN) == 0:
        await session.exec(delete(Submission).where(col(Submission.created_at) < now - KEPT_FOR))
    # Inserted without looking first: a repeat is rare, and on SQLite each statement of a write transaction
    # holds the one write lock for a round trip. A taken id fails the insert, and only then is it read.
    row = {"id": token, "user_id": user_id, "created_at": now, "location": "", "fingerprint": print_}
    try:
        await run(session, _CLAIM, row)
    except IntegrityError:
        await session.rollback()
        return _repeat_of(await session.get(Submission, token, populate_existing=True), user_id, print_)
    return Claim(token)


async def lead(session: AsyncSession, claimed: Claim, location: str) -> None:
    """Store where the claimed form's change leads, in the change's transaction: a repeat is sent there."""
    await run(session, _LEAD, {"token": claimed.token, "location": location})

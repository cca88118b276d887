"""One-time form ids: a form carries a fresh id, and the change it makes stores that id in its own
transaction. The same form arriving twice (a double click, a browser retrying) finds the id taken and
is answered with where the first one led, instead of making a second record."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.models import Submission

FIELD = "_once"
# A repeat comes seconds after the first; a day covers a laptop closed mid-submit.
KEPT_FOR = timedelta(days=1)
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_token() -> str:
    return secrets.token_urlsafe(18)


def well_formed(token: str) -> bool:
    return bool(TOKEN.match(token))


async def claim(session: AsyncSession, *, token: str, user_id: int, now: datetime) -> Submission | str:
    """Take the id for this request's change, or return where its first use led (a repeat).

    On PostgreSQL a twin arriving at the same moment waits on the primary key until the first commits, then
    fails here and reads the first one's answer; on SQLite writers already take turns.
    """
    seen = await session.get(Submission, token)
    if seen is not None:
        return seen.location if seen.user_id == user_id else ""
    await session.exec(delete(Submission).where(col(Submission.created_at) < now - KEPT_FOR))
    claimed = Submission(id=token, user_id=user_id, created_at=now, location="")
    session.add(claimed)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        seen = await session.get(Submission, token, populate_existing=True)
        return seen.location if seen is not None and seen.user_id == user_id else ""
    return claimed

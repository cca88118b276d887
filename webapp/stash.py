"""Forms kept across an ended session: a record form sent after its session ended (idle too long, say) is kept
for a few minutes, and once the same user signs in again its page opens with what they typed, to check and save.

The browser holds a random token in a cookie; the database holds only its SHA-256, the user it belongs to and
the page it goes back to. Nothing is saved for the user: they press Save themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from litestar import Litestar
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.accounts import digest, new_token
from webapp.models import FormStash
from webapp.submissions import FIELD as ONCE_FIELD

KEEP = timedelta(minutes=15)
# Not kept: the spent CSRF token and the one-time form id (the page gives the form fresh ones).
NOT_KEPT = frozenset({"_csrf", ONCE_FIELD})


async def keep(app: Litestar, *, user_id: int, path: str, values: dict[str, str]) -> str:
    """Keep `values` for `user_id`'s form at `path`; the token that finds them again. Forms kept earlier and
    never taken back are swept here, once their time is up."""
    now = app.state.settings.clock()
    token = new_token()
    kept = {name: value for name, value in values.items() if name not in NOT_KEPT}
    async with app.state.writer() as session:
        await session.exec(delete(FormStash).where(col(FormStash.expires_at) <= now))
        session.add(FormStash(id=digest(token), user_id=user_id, path=path, values=kept, expires_at=now + KEEP))
        await session.commit()
    return token


async def find(session: AsyncSession, *, token: str, user_id: int, path: str, now: datetime) -> dict[str, str] | None:
    """The values kept under `token` for this user's form at `path`, unless their time is up."""
    statement = select(FormStash).where(
        FormStash.id == digest(token),
        FormStash.user_id == user_id,
        FormStash.path == path,
        col(FormStash.expires_at) > now,
    )
    found = (await session.exec(statement)).first()
    return {name: str(value) for name, value in found.values.items()} if found else None

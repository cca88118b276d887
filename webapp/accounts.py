"""Database work for accounts: users, sessions, failed sign-ins and the set-up link. Keyword-only functions.

Session ids and set-up tokens are random secrets given to the browser; the database keeps only their SHA-256,
so a copy of the database does not let anyone take over a session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.data.ids import valid_id
from webapp.models import LoginFailure, Role, SetupToken, User, UserSession


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def normalize_username(username: str) -> str:
    return username.strip().casefold()


# --- users ------------------------------------------------------------------------------------------------


async def get_user(session: AsyncSession, *, user_id: int, for_update: bool = False) -> User | None:
    if not valid_id(user_id):
        return None
    return await session.get(User, user_id, with_for_update=for_update)


async def get_user_by_username(session: AsyncSession, *, username: str) -> User | None:
    statement = select(User).where(User.username == normalize_username(username))
    return (await session.exec(statement)).first()


async def list_users(session: AsyncSession) -> list[User]:
    return list((await session.exec(select(User).order_by(col(User.username)))).all())


async def count_users(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(User))).one()


async def other_active_admins(session: AsyncSession, *, user_id: int) -> int:
    """Active admins besides this user: the last one may not be demoted or deactivated."""
    statement = (
        select(func.count())
        .select_from(User)
        .where(User.role == Role.admin.value, col(User.is_active).is_(True), User.id != user_id)
    )
    return (await session.exec(statement)).one()


# --- sessions ---------------------------------------------------------------------------------------------


async def start_session(session: AsyncSession, *, user: User, now: datetime) -> tuple[str, UserSession]:
    """A new session with a fresh id and CSRF token; returns the token for the cookie. The caller commits."""
    assert user.id is not None
    token = new_token()
    row = UserSession(
        id=digest(token), user_id=user.id, csrf_token=new_token(), role=user.role, created_at=now, last_seen_at=now
    )
    session.add(row)
    return token, row


async def find_session(session: AsyncSession, *, token: str) -> tuple[UserSession, User] | None:
    statement = (
        select(UserSession, User).join(User, col(User.id) == UserSession.user_id).where(UserSession.id == digest(token))
    )
    row = (await session.exec(statement)).first()
    return (row[0], row[1]) if row else None


async def end_session(session: AsyncSession, *, session_id: str) -> None:
    await session.exec(delete(UserSession).where(col(UserSession.id) == session_id))


async def end_user_sessions(session: AsyncSession, *, user_id: int, keep: str | None = None) -> None:
    """End every session of a user (deactivation, new password), except `keep` when given."""
    statement = delete(UserSession).where(col(UserSession.user_id) == user_id)
    if keep is not None:
        statement = statement.where(col(UserSession.id) != keep)
    await session.exec(statement)


async def touch_session(session: AsyncSession, *, session_id: str, now: datetime) -> None:
    row = await session.get(UserSession, session_id)
    if row is not None:
        row.last_seen_at = now
        session.add(row)


# --- failed sign-ins --------------------------------------------------------------------------------------


async def failures_since(
    session: AsyncSession, *, since: datetime, username: str | None = None, client: str | None = None
) -> tuple[int, datetime | None]:
    """How many failures for this account (or client address) after `since`, and the oldest one's time.

    Strictly after: a failure exactly a window ago has left the window, so Retry-After (oldest + window - now)
    is enough waiting.
    """
    statement = select(func.count(), func.min(LoginFailure.at)).where(col(LoginFailure.at) > since)
    if username is not None:
        statement = statement.where(LoginFailure.username == username)
    if client is not None:
        statement = statement.where(LoginFailure.client == client)
    count, oldest = (await session.exec(statement)).one()
    return int(count), oldest


async def record_failure(session: AsyncSession, *, username: str, client: str, now: datetime) -> LoginFailure:
    failure = LoginFailure(username=username[:150], client=client[:64], at=now)
    session.add(failure)
    return failure


async def forget_failures(session: AsyncSession, *, username: str, before: datetime) -> None:
    """Drop this account's failures (after a successful sign-in) and everyone's that are too old to matter."""
    await session.exec(
        delete(LoginFailure).where((col(LoginFailure.username) == username) | (col(LoginFailure.at) < before))
    )


# --- the first admin's set-up link ------------------------------------------------------------------------


async def issue_setup_token(session: AsyncSession, *, now: datetime, valid_for: timedelta) -> str:
    """A new one-time set-up token (older ones stop working). The caller commits."""
    await session.exec(delete(SetupToken))
    token = new_token()
    session.add(SetupToken(id=digest(token), expires_at=now + valid_for))
    return token


async def setup_token_valid(session: AsyncSession, *, token: str, now: datetime, for_update: bool = False) -> bool:
    """for_update locks the token row (PostgreSQL), so two submits at once cannot both use it."""
    row = await session.get(SetupToken, digest(token), with_for_update=for_update)
    return row is not None and row.expires_at > now


async def use_setup_token(session: AsyncSession, *, token: str) -> None:
    await session.exec(delete(SetupToken).where(col(SetupToken.id) == digest(token)))

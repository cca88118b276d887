"""Database work for accounts: users, sessions and the set-up link. Keyword-only functions.

Session ids and set-up tokens are random secrets given to the browser; the database keeps only their SHA-256,
so a copy of the database does not let anyone take over a session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from sqlalchemy import bindparam, delete, exists, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import usernames
from webapp.data.ids import valid_id
from webapp.data.plain import kept, rows
from webapp.data.reads import choices_changed
from webapp.models import AppSecret, RecoveryCode, Role, RolePolicy, SetupToken, Theme, User, UserSession


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def normalize_username(username: str) -> str:
    return usernames.normalize(username)


def new_user(*, username: str, password_hash: str, role: str, now: datetime) -> User:
    """A user to add: the name in its stored spelling, with its look-alike key (unique: a look-alike of an
    existing name fails the insert, however the two requests interleave)."""
    name = normalize_username(username)
    return User(
        username=name,
        username_skeleton=usernames.skeleton_key(name),
        password_hash=password_hash,
        role=role,
        created_at=now,
    )


async def look_alike(session: AsyncSession, *, username: str) -> User | None:
    """An existing user whose name looks like this one (the same confusable skeleton), if any."""
    statement = select(User).where(User.username_skeleton == usernames.skeleton_key(username))
    return (await session.exec(statement)).first()


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


async def any_users(session: AsyncSession) -> bool:
    return bool((await session.exec(select(exists().select_from(User)))).one())


async def other_active_admins(session: AsyncSession, *, user_id: int) -> int:
    """Active admins besides this user: the last one may not be demoted or deactivated."""
    statement = (
        select(func.count())
        .select_from(User)
        .where(User.role == Role.admin.value, col(User.is_active).is_(True), User.id != user_id)
    )
    return (await session.exec(statement)).one()


async def lock_active_admins(session: AsyncSession) -> None:
    """Before a change that may take away an admin (the Users screen, the command line), lock every active admin's
    row, in id order. PostgreSQL: two such changes to two admins at once would each count the other as still
    active and leave none; locked first, the second waits for the first, then counts its change. The id order
    keeps two of them from deadlocking. (SQLite's BEGIN IMMEDIATE runs them one after the other anyway.)"""
    admins = select(User.id).where(User.role == Role.admin.value, col(User.is_active).is_(True))
    await session.exec(admins.order_by(col(User.id)).with_for_update())


# --- sessions ---------------------------------------------------------------------------------------------


async def start_session(
    session: AsyncSession, *, user: Owner, now: datetime, stage: str = "signed_in"
) -> tuple[str, UserSession]:
    """A new session with a fresh id and CSRF token; returns the token for the cookie. The caller commits.
    `stage` other than signed_in: the password was right and a second-factor step is left (see webapp.auth)."""
    assert user.id is not None
    token = new_token()
    row = UserSession(
        id=digest(token),
        user_id=user.id,
        csrf_token=new_token(),
        role=user.role,
        created_at=now,
        last_seen_at=now,
        stage=stage,
    )
    session.add(row)
    return token, row


class Owner(Protocol):
    """Whom a new session is for: a user, or a session lookup's row (which names its user's id and role)."""

    @property
    def id(self) -> int | None: ...

    @property
    def role(self) -> str: ...


class FoundSession(NamedTuple):
    """A session and the facts about its user that every request checks: one row, no ORM entities (this runs
    on every request, and a user's row holds hashes and secrets no request needs)."""

    session_id: str
    csrf_token: str
    session_role: str
    created_at: datetime
    last_seen_at: datetime
    stage: str
    user_id: int
    username: str
    role: str
    is_active: bool
    theme: str
    choices_changed: int
    """Read along (no trip of its own): the change count the choices a worker keeps depend on (reads.Choices)."""

    @property
    def id(self) -> int:
        return self.user_id


# Built once, with the session id as its one parameter: it runs on every request.
_FIND_SESSION = kept(
    select(  # type: ignore[call-overload]
        col(UserSession.id),
        UserSession.csrf_token,
        col(UserSession.role).label("session_role"),
        UserSession.created_at,
        UserSession.last_seen_at,
        UserSession.stage,
        col(User.id).label("user_id"),
        User.username,
        User.role,
        User.is_active,
        User.theme,
        choices_changed(),
    )
    .join(User, col(User.id) == UserSession.user_id)
    .where(col(UserSession.id) == bindparam("session_id"))
)


async def find_session(session: AsyncSession, *, token: str) -> FoundSession | None:
    """The session a cookie's token names, by its primary key."""
    found = await rows(session, _FIND_SESSION, {"session_id": digest(token)})
    return FoundSession._make(found[0]) if found else None


async def set_theme(session: AsyncSession, *, user_id: int, theme: Theme) -> None:
    await session.exec(update(User).where(col(User.id) == user_id).values(theme=theme.value))


async def end_session(session: AsyncSession, *, session_id: str) -> None:
    await session.exec(delete(UserSession).where(col(UserSession.id) == session_id))


async def end_user_sessions(session: AsyncSession, *, user_id: int, keep: str | None = None) -> None:
    """End every session of a user (deactivation, new password), except `keep` when given."""
    statement = delete(UserSession).where(col(UserSession.user_id) == user_id)
    if keep is not None:
        statement = statement.where(col(UserSession.id) != keep)
    await session.exec(statement)


async def touch_session(session: AsyncSession, *, session_id: str, now: datetime) -> None:
    await session.exec(update(UserSession).where(col(UserSession.id) == session_id).values(last_seen_at=now))


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


# --- second factor ----------------------------------------------------------------------------------------


async def second_factor_required(session: AsyncSession, *, role: str) -> bool:
    policy = await session.get(RolePolicy, role)
    return policy is not None and policy.second_factor_required


async def roles_requiring_second_factor(session: AsyncSession) -> set[str]:
    statement = select(RolePolicy.role).where(col(RolePolicy.second_factor_required).is_(True))
    return set((await session.exec(statement)).all())


async def require_second_factor(session: AsyncSession, *, role: str, required: bool) -> None:
    policy = await session.get(RolePolicy, role, with_for_update=True) or RolePolicy(role=role)
    policy.second_factor_required = required
    session.add(policy)


async def accept_step(session: AsyncSession, *, user_id: int, step: int) -> bool:
    """Record a TOTP time step as used, if it is later than the last one used (one conditional UPDATE, so two
    requests with the same code cannot both be accepted). The caller commits."""
    result = await session.exec(
        update(User)
        .where(
            col(User.id) == user_id,
            col(User.totp_secret).is_not(None),
            col(User.totp_last_step).is_(None) | (col(User.totp_last_step) < step),
        )
        .values(totp_last_step=step)
    )
    return bool(result.rowcount)


async def use_recovery_code(session: AsyncSession, *, user_id: int, digest_: str, now: datetime) -> bool:
    """Mark one unused recovery code of this user as used (conditional: a code works once). The caller commits."""
    result = await session.exec(
        update(RecoveryCode)
        .where(
            col(RecoveryCode.user_id) == user_id,
            col(RecoveryCode.digest) == digest_,
            col(RecoveryCode.used_at).is_(None),
        )
        .values(used_at=now)
    )
    return bool(result.rowcount)


async def unused_recovery_codes(session: AsyncSession, *, user_id: int) -> int:
    statement = (
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None))
    )
    return (await session.exec(statement)).one()


async def set_second_factor(session: AsyncSession, *, user: User, secret: str | None, codes: list[str]) -> None:
    """Store the (encrypted) secret and the recovery codes' digests, replacing any earlier ones; None and no
    codes remove the second factor. The caller commits."""
    assert user.id is not None
    user.totp_secret, user.totp_last_step = secret, None
    session.add(user)
    await session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    session.add_all(RecoveryCode(user_id=user.id, digest=code) for code in codes)


async def replace_recovery_codes(session: AsyncSession, *, user_id: int, codes: list[str]) -> None:
    await session.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    session.add_all(RecoveryCode(user_id=user_id, digest=code) for code in codes)


# --- the app's own secrets --------------------------------------------------------------------------------


async def app_secret(session: AsyncSession, *, name: str) -> str:
    """A secret the app made for itself (made on first use; every worker and restart reads the same one)."""
    dialect = postgresql if (await session.connection()).dialect.name == "postgresql" else sqlite
    insert = dialect.insert(AppSecret).values(name=name, value=secrets.token_hex(32)).on_conflict_do_nothing()
    await session.exec(insert)
    await session.commit()
    row = await session.get(AppSecret, name)
    assert row is not None
    return row.value

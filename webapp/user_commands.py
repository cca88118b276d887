"""`python -m webapp users …`: accounts from the command line, against the database in DATABASE_URL.

For whoever runs the server: the first admin in a deployment script, a forgotten password, a locked-out admin.
The same rules as the Users screen (name checks, look-alikes, the last active admin) and the same records in
Activity, with "command line" as the one who acted.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import accounts, audit
from webapp.config import Settings
from webapp.db import create_engine, session_factories, upgrade_schema
from webapp.forms import ROLE_CHOICES, new_user_form, set_password_form
from webapp.models import Role, User
from webapp.passwords import Passwords

T = TypeVar("T")
ACTOR = "command line"
LAST_ADMIN = "is the last active admin: make someone else an admin first."


async def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Bring the schema up to date, then run `work` in one write transaction (it commits what it changes)."""
    engine = create_engine(settings)
    try:
        await upgrade_schema(engine)
        _reader, writer = session_factories(engine)
        async with writer() as session:
            return await work(session)
    finally:
        await engine.dispose()


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return asyncio.run(_in_transaction(settings, work))


async def _record(
    session: AsyncSession, settings: Settings, action: str, user: User, changes: dict[str, list[object]] | None = None
) -> None:
    """The change in Activity (Sign-ins), as the Users screen records it, in the change's transaction."""
    actor = audit.Actor(None, ACTOR, "", settings.clock())
    entry = audit.entry(
        actor, action=action, record_type="account", record_id=user.id, label=user.username, changes=changes
    )
    await audit.write(session, [entry])


def _read_password() -> str | None:
    """One line when piped (scripts); asked twice at a terminal. None when the two typed differ."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != password:
            return None
        return password
    return sys.stdin.readline().rstrip("\r\n")


def _refuse(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


# --- create -----------------------------------------------------------------------------------------------------


def create(args: argparse.Namespace) -> int:
    """`users create NAME --role ROLE`."""
    password = _read_password()
    if password is None:
        return _refuse("The two passwords differ.")
    form = new_user_form(
        {"username": args.username, "role": args.role, "password": password, "password_confirm": password}
    )
    if not form.is_valid:
        for name, message in form.errors.items():
            print(f"{name}: {message}", file=sys.stderr)
        return 1
    username, role = form.values["username"], form.values["role"]
    settings = Settings.from_env()
    password_hash = asyncio.run(Passwords().hash(password))

    async def work(session: AsyncSession) -> str | None:
        if existing := await accounts.look_alike(session, username=username):
            return existing.username
        user = accounts.new_user(username=username, password_hash=password_hash, role=role, now=settings.clock())
        session.add(user)
        try:
            await session.flush()
        except IntegrityError:  # made meanwhile: the unique name or look-alike key
            return username
        await _record(session, settings, "user_created", user, {"role": [None, role]})
        await session.commit()
        return None

    clash = _run(settings, work)
    if clash == username:
        return _refuse(f"A user named {username!r} already exists.")
    if clash is not None:
        return _refuse(f"{username!r} looks like the existing user {clash!r}; choose another.")
    print(f"Created {role} {username!r}.")
    return 0


# --- list -------------------------------------------------------------------------------------------------------


def list_users(_args: argparse.Namespace) -> int:
    """`users list`: one line per user, in columns, for people and for `awk` alike."""

    async def work(session: AsyncSession) -> list[User]:
        return await accounts.list_users(session)

    users = _run(Settings.from_env(), work)
    if not users:
        print("No users yet.")
        return 0
    rows = [("USERNAME", "ROLE", "STATE", "2FA", "LAST SIGN-IN")]
    rows += [
        (
            user.username,
            user.role,
            "active" if user.is_active else "deactivated",
            "yes" if user.totp_secret else "no",
            f"{user.last_login_at:%Y-%m-%d %H:%M} UTC" if user.last_login_at else "never",
        )
        for user in users
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]))
    return 0


# --- changes to one user ----------------------------------------------------------------------------------------


class _NoSuchUser(Exception):
    pass


class _LastAdmin(Exception):
    pass


async def _locked_user(session: AsyncSession, username: str) -> User:
    found = await accounts.get_user_by_username(session, username=username)
    user = await accounts.get_user(session, user_id=found.id or 0, for_update=True) if found else None
    if user is None or user.id is None:
        raise _NoSuchUser
    return user


async def _keep_an_admin(session: AsyncSession, user: User, *, role: str, active: bool) -> None:
    """Refuse a change that would leave no active admin (nobody could manage users from the Users screen)."""
    assert user.id is not None
    losing = user.role == Role.admin.value and user.is_active and (role != Role.admin.value or not active)
    if losing and not await accounts.other_active_admins(session, user_id=user.id):
        raise _LastAdmin


def _change(
    settings: Settings, username: str, work: Callable[[AsyncSession, User], Awaitable[str]], *, admins: bool = False
) -> int:
    """Run `work` on the named user's locked row (with every active admin's row locked first when `admins`: the
    change may take away an admin); print what it says, or why nothing changed."""

    async def locked(session: AsyncSession) -> str:
        if admins:
            await accounts.lock_active_admins(session)
        return await work(session, await _locked_user(session, username))

    try:
        print(_run(settings, locked))
    except _NoSuchUser:
        return _refuse(f"No user named {accounts.normalize_username(username)!r}.")
    except _LastAdmin:
        return _refuse(f"{accounts.normalize_username(username)!r} {LAST_ADMIN}")
    return 0


def set_password(args: argparse.Namespace) -> int:
    """`users set-password NAME`: the password from stdin as for `create`; signs the user out everywhere."""
    settings = Settings.from_env()
    password = _read_password()
    if password is None:
        return _refuse("The two passwords differ.")
    form = set_password_form({"password": password, "password_confirm": password})
    if not form.is_valid:
        return _refuse(f"password: {form.errors['password']}")
    # Hashed before the row is locked: on SQLite that lock is the whole app's write lock.
    password_hash = asyncio.run(Passwords().hash(password))

    async def work(session: AsyncSession, user: User) -> str:
        assert user.id is not None
        user.password_hash = password_hash
        session.add(user)
        await _record(session, settings, "password_set", user)
        await accounts.end_user_sessions(session, user_id=user.id)
        await session.commit()
        return f"Set a new password for {user.username!r} and signed them out everywhere."

    return _change(settings, args.username, work)


def set_role(args: argparse.Namespace) -> int:
    """`users set-role NAME ROLE`."""
    settings = Settings.from_env()

    async def work(session: AsyncSession, user: User) -> str:
        if user.role == args.role:
            return f"{user.username!r} is already {args.role}; nothing changed."
        await _keep_an_admin(session, user, role=args.role, active=user.is_active)
        changes: dict[str, list[object]] = {"role": [user.role, args.role]}
        user.role = args.role
        session.add(user)
        # Their sessions carry the role they were signed in with: the next request rotates them (webapp.auth).
        await _record(session, settings, "user_changed", user, changes)
        await session.commit()
        return f"{user.username!r} is now {args.role}."

    return _change(settings, args.username, work, admins=True)


def deactivate(args: argparse.Namespace) -> int:
    """`users deactivate NAME`: they can no longer sign in, and their sessions end now."""
    settings = Settings.from_env()

    async def work(session: AsyncSession, user: User) -> str:
        assert user.id is not None
        if not user.is_active:
            return f"{user.username!r} is already deactivated; nothing changed."
        await _keep_an_admin(session, user, role=user.role, active=False)
        user.is_active = False
        session.add(user)
        await _record(session, settings, "user_changed", user, {"is_active": [True, False]})
        await accounts.end_user_sessions(session, user_id=user.id)
        await session.commit()
        return f"Deactivated {user.username!r} and signed them out everywhere."

    return _change(settings, args.username, work, admins=True)


def reset_second_factor(args: argparse.Namespace) -> int:
    """`users reset-2fa NAME`: for an admin locked out of their second factor, with access to the server."""
    settings = Settings.from_env()

    async def work(session: AsyncSession, user: User) -> str:
        assert user.id is not None
        if not user.totp_secret:
            return f"{user.username!r} has no second factor; nothing changed."
        await accounts.set_second_factor(session, user=user, secret=None, codes=[])
        await accounts.end_user_sessions(session, user_id=user.id)
        await _record(session, settings, "second_factor_reset", user)
        await session.commit()
        return f"Removed the second factor of {user.username!r} and signed them out everywhere."

    return _change(settings, args.username, work)


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `users` command and its subcommands."""
    users_parser = commands.add_parser("users", help="manage users (same DATABASE_URL as the app)")
    users_commands = users_parser.add_subparsers(dest="users_command", required=True)
    create_parser = users_commands.add_parser("create", help="create a user; the password is read from stdin")
    create_parser.add_argument("username")
    create_parser.add_argument("--role", required=True, choices=ROLE_CHOICES)
    create_parser.set_defaults(handler=create)
    users_commands.add_parser("list", help="list the users, their roles and states").set_defaults(handler=list_users)
    password_parser = users_commands.add_parser(
        "set-password", help="set a user's password (read from stdin) and sign them out everywhere"
    )
    password_parser.add_argument("username")
    password_parser.set_defaults(handler=set_password)
    role_parser = users_commands.add_parser("set-role", help="change a user's role")
    role_parser.add_argument("username")
    role_parser.add_argument("role", choices=ROLE_CHOICES)
    role_parser.set_defaults(handler=set_role)
    deactivate_parser = users_commands.add_parser(
        "deactivate", help="stop a user from signing in and end their sessions"
    )
    deactivate_parser.add_argument("username")
    deactivate_parser.set_defaults(handler=deactivate)
    reset_parser = users_commands.add_parser(
        "reset-2fa", help="remove a user's second factor (for someone locked out) and sign them out"
    )
    reset_parser.add_argument("username")
    reset_parser.set_defaults(handler=reset_second_factor)

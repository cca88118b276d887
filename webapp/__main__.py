"""Command line: `python -m webapp serve|demo`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta

import uvicorn

from webapp import accounts, audit, logs
from webapp.config import LOOPBACK_HOSTS, Settings
from webapp.db import create_engine, session_factories, upgrade_schema
from webapp.demo import seed_demo, seed_generated
from webapp.forms import new_user_form
from webapp.models import Role
from webapp.passwords import Passwords

SETUP_LINK_VALID = timedelta(hours=24)
SHUTDOWN_GRACE = 30  # seconds


async def _prepare(settings: Settings, *, demo: bool) -> bool:
    engine = create_engine(settings)
    try:
        await upgrade_schema(engine)
        return await seed_demo(engine) if demo else False
    finally:
        await engine.dispose()


async def _setup_token(settings: Settings) -> str | None:
    """A one-time link to create the first admin, while the database has no users (no default passwords)."""
    engine = create_engine(settings)
    try:
        _reader, writer = session_factories(engine)
        async with writer() as session:
            if await accounts.count_users(session):
                return None
            token = await accounts.issue_setup_token(session, now=settings.clock(), valid_for=SETUP_LINK_VALID)
            await session.commit()
            return token
    finally:
        await engine.dispose()


def serve(args: argparse.Namespace) -> int:
    if not os.environ.get("ALLOWED_HOSTS"):
        if args.host in WILDCARD_HOSTS:
            print(
                f"Serving on {args.host!r} (every address) needs ALLOWED_HOSTS: the host names clients use to reach "
                "this server, e.g. ALLOWED_HOSTS=admin.example.com.",
                file=sys.stderr,
            )
            return 2
        # The served address, so a request naming any other host (DNS rebinding) is refused. The workers uvicorn
        # starts read the same environment.
        os.environ["ALLOWED_HOSTS"] = ",".join(_served_names(args.host))
    settings = Settings.from_env()
    # The schema is made once here, before the workers start, so they never race to create it.
    asyncio.run(_prepare(settings, demo=False))
    database = "SQLite" if settings.is_sqlite else "PostgreSQL"
    print(f"Serving the hero admin at http://{args.host}:{args.port} ({database})", flush=True)
    if token := asyncio.run(_setup_token(settings)):
        print(
            "No users yet. Create the first admin within 24 hours at this one-time link:\n"
            f"    http://{args.host}:{args.port}/setup/{token}\n"
            "(or: python -m webapp users create NAME --role admin)",
            flush=True,
        )
    uvicorn.run(
        "webapp.asgi:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # X-Forwarded-For is believed only from the proxies listed in FORWARDED_ALLOW_IPS, so a client cannot
        # pick its own address (sign-in throttling counts per address).
        proxy_headers=bool(os.environ.get("FORWARDED_ALLOW_IPS")),
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS") or None,
        server_header=False,
        log_level="info",
        log_config=logs.uvicorn_config(settings.log_format),
        # The app writes its own request log (webapp.logs.RequestLog): no route template, user or database time here.
        access_log=False,
        # On SIGTERM uvicorn stops accepting, closes idle keep-alive connections and lets requests in flight
        # finish; for this long at most (an export's stream to a slow client may take longer), then it closes.
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )
    return 0


WILDCARD_HOSTS = {"0.0.0.0", "::", ""}  # noqa: S104  (recognised, not bound)


def _served_names(host: str) -> list[str]:
    """The Host names a browser sends for this address (an IPv6 literal in brackets; loopback also by name)."""
    name = f"[{host}]" if ":" in host else host
    if name in LOOPBACK_HOSTS:
        return list(LOOPBACK_HOSTS)
    return [name.lower()]


def demo(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.heroes is None and args.teams is None:
        seeded = asyncio.run(_prepare(settings, demo=True))
        print("Added demo heroes and teams." if seeded else "The database already has data; nothing added.")
        return 0
    heroes, teams = args.heroes or 0, args.teams or 0
    started = time.perf_counter()
    seeded = asyncio.run(_generate(settings, heroes=heroes, teams=teams, seed=args.seed))
    if not seeded:
        print("The database already has data; nothing added.")
        return 0
    print(f"Added {heroes:,} heroes and {teams:,} teams (seed {args.seed}) in {time.perf_counter() - started:.1f} s.")
    return 0


async def _generate(settings: Settings, *, heroes: int, teams: int, seed: int) -> bool:
    engine = create_engine(settings)
    try:
        await upgrade_schema(engine)
        return await seed_generated(engine, heroes=heroes, teams=teams, seed=seed, progress=_progress_bar())
    finally:
        await engine.dispose()


def _progress_bar() -> Callable[[str, int, int], None]:
    """Progress on stderr: a bar redrawn in place at a terminal, a line per tenth otherwise (logs, CI)."""
    interactive = sys.stderr.isatty()
    shown: dict[str, int] = {}

    def report(what: str, done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if interactive:
            filled = done * 30 // max(total, 1)
            end = "\n" if done >= total else ""
            print(f"\r{what:>6} [{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,}", end=end, file=sys.stderr)
        elif shown.get(what) != tenth:
            shown[what] = tenth
            print(f"{what}: {done:,}/{total:,}", file=sys.stderr, flush=True)

    return report


def _count(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 100_000_000:
        raise argparse.ArgumentTypeError("expected a count from 0 to 100,000,000")
    return value


def create_user(args: argparse.Namespace) -> int:
    """`users create NAME --role ROLE`: the password comes from stdin (one line when piped, asked twice on a tty)."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != password:
            print("The two passwords differ.", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    form = new_user_form(
        {"username": args.username, "role": args.role, "password": password, "password_confirm": password}
    )
    if not form.is_valid:
        for name, message in form.errors.items():
            print(f"{name}: {message}", file=sys.stderr)
        return 1
    clash = asyncio.run(_create_user(Settings.from_env(), form.values["username"], form.values["role"], password))
    if clash == form.values["username"]:
        print(f"A user named {form.values['username']!r} already exists.", file=sys.stderr)
        return 1
    if clash is not None:
        print(f"{form.values['username']!r} looks like the existing user {clash!r}; choose another.", file=sys.stderr)
        return 1
    print(f"Created {form.values['role']} {form.values['username']!r}.")
    return 0


async def _create_user(settings: Settings, username: str, role: str, password: str) -> str | None:
    """Creates the user; or returns the existing name that this one is (or looks like)."""
    engine = create_engine(settings)
    try:
        await upgrade_schema(engine)
        _reader, writer = session_factories(engine)
        password_hash = await Passwords().hash(password)
        async with writer() as session:
            if existing := await accounts.look_alike(session, username=username):
                return existing.username
            user = accounts.new_user(username=username, password_hash=password_hash, role=role, now=settings.clock())
            session.add(user)
            await session.commit()
            return None
    finally:
        await engine.dispose()


def reset_second_factor(args: argparse.Namespace) -> int:
    """`users reset-2fa NAME`: for an admin locked out of their second factor, with access to the server."""
    found = asyncio.run(_reset_second_factor(Settings.from_env(), args.username))
    if found is None:
        print(f"No user named {args.username!r}.", file=sys.stderr)
        return 1
    if not found:
        print(f"{args.username!r} has no second factor; nothing changed.")
        return 0
    print(f"Removed the second factor of {args.username!r} and signed them out everywhere.")
    return 0


async def _reset_second_factor(settings: Settings, username: str) -> bool | None:
    """None: no such user; False: they had no second factor; True: removed (and on record in Activity)."""
    engine = create_engine(settings)
    try:
        await upgrade_schema(engine)
        _reader, writer = session_factories(engine)
        async with writer() as session:
            user = await accounts.get_user_by_username(session, username=username)
            if user is None or user.id is None:
                return None
            if not user.totp_secret:
                return False
            await accounts.set_second_factor(session, user=user, secret=None, codes=[])
            await accounts.end_user_sessions(session, user_id=user.id)
            actor = audit.Actor(None, "command line", "", settings.clock())
            entry = audit.entry(
                actor, action="second_factor_reset", record_type="account", record_id=user.id, label=user.username
            )
            await audit.write(session, [entry])
            await session.commit()
            return True
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webapp", description="The hero admin.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the app under uvicorn (creates the schema if needed)")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=1)
    serve_parser.set_defaults(handler=serve)
    demo_parser = commands.add_parser(
        "demo",
        help="fill an empty database with demo heroes and teams",
        description="Without counts: a few well-known heroes and teams. With counts: generated ones, the same "
        "every time for the same seed (for measuring at scale).",
    )
    demo_parser.add_argument("--heroes", type=_count, help="how many generated heroes to add")
    demo_parser.add_argument("--teams", type=_count, help="how many generated teams to add")
    demo_parser.add_argument("--seed", type=int, default=1, help="the generator's seed (default 1)")
    demo_parser.set_defaults(handler=demo)
    users_parser = commands.add_parser("users", help="manage users")
    users_commands = users_parser.add_subparsers(dest="users_command", required=True)
    create_parser = users_commands.add_parser("create", help="create a user; the password is read from stdin")
    create_parser.add_argument("username")
    create_parser.add_argument("--role", required=True, choices=[role.value for role in Role])
    create_parser.set_defaults(handler=create_user)
    reset_parser = users_commands.add_parser(
        "reset-2fa", help="remove a user's second factor (for someone locked out) and sign them out"
    )
    reset_parser.add_argument("username")
    reset_parser.set_defaults(handler=reset_second_factor)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())

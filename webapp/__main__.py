"""Command line: `python -m webapp serve|demo|users|check|backup|restore`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import uvicorn

from webapp import accounts, backups, checks, logs, user_commands
from webapp.config import LOOPBACK_HOSTS, Settings
from webapp.db import create_engine, session_factories, upgrade_schema
from webapp.demo import seed_demo, seed_generated

SETUP_LINK_VALID = timedelta(hours=24)
logger = logging.getLogger("webapp")
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
            if await accounts.any_users(session):
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
    address = f"http://{f'[{args.host}]' if ':' in args.host else args.host}:{args.port}"
    workers = args.workers or default_workers(settings)
    print(f"Serving the hero admin at {address} ({database}, {workers} worker{'s' * (workers != 1)})", flush=True)
    if token := asyncio.run(_setup_token(settings)):
        logs.configure(log_format=settings.log_format)
        # The full link only on standard output, once; logs are kept and shipped, so they get a redacted form.
        logger.info("No users yet: the one-time set-up link (%s/setup/%s…) is on standard output", address, token[:4])
        logging.getLogger("uvicorn.error").addFilter(AfterStartup(setup_box(f"{address}/setup/{token}")))
    uvicorn.run(
        "webapp.asgi:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
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


def default_workers(settings: Settings) -> int:
    """SQLite: one. Its writes take turns on one lock; in one process they queue for the writer connection and
    each holds the lock for its own work only, while a second process's writer polls for the lock and sleeps in
    between (measured under 30 editors: write p99 1.4 s with two workers, under 1 s with one, and no more
    requests served). PostgreSQL: one per CPU, since a worker is one Python thread."""
    return 1 if settings.is_sqlite else max(1, os.cpu_count() or 1)


WILDCARD_HOSTS = {"0.0.0.0", "::", ""}  # noqa: S104  (recognised, not bound)


def setup_box(link: str) -> str:
    """The set-up link and the command-line alternative, boxed so it stands out from the log lines around it.
    The command names the Python running now (the project's venv), which has the app installed; `python` on the
    PATH may be a system one without it."""
    command = f"{shlex.quote(sys.executable)} -m webapp users create NAME --role admin"
    hours = int(SETUP_LINK_VALID.total_seconds() // 3600)
    lines = [
        f"No users yet. Create the first admin within {hours} hours at this one-time link:",
        "",
        f"    {link}",
        "",
        "Or create one on this server (the password is read from stdin):",
        f"    {command}",
    ]
    if os.environ.get("DATABASE_URL"):
        lines.append("    (with DATABASE_URL set as for this server)")
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


class AfterStartup(logging.Filter):
    """Prints `text` once, when uvicorn says it is running: after its start-up lines, so they do not push it out
    of view. uvicorn logs that line once, in this process (with several workers, the workers do not log it)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text: str | None = text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.text is not None and str(record.msg).startswith("Uvicorn running on"):
            print(f"\n{self.text}\n", flush=True)
            self.text = None
        return True


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


def check(args: argparse.Namespace) -> int:
    """What is right on stdout, then "ok" (0); or what is wrong on stderr (1)."""
    report = checks.check(timeout=args.timeout)
    for fact in report.facts:
        print(fact)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if report.problems:
        count = len(report.problems)
        print(
            f"{count} problem{'s' if count > 1 else ''}: fix {'them' if count > 1 else 'it'} before serve.",
            file=sys.stderr,
        )
        return 1
    print("ok")
    return 0


def backup(args: argparse.Namespace) -> int:
    return _report(lambda: backups.backup(Settings.from_env(), Path(args.path), overwrite=args.overwrite))


def restore(args: argparse.Namespace) -> int:
    return _report(lambda: backups.restore(Settings.from_env(), Path(args.path), confirmed=args.yes))


def _report(work: Callable[[], str]) -> int:
    """0 and what was done on stdout, or 1 and why nothing was done on stderr."""
    try:
        print(work())
    except backups.Refused as refusal:
        print(refusal, file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webapp", description="The hero admin.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the app under uvicorn (creates the schema if needed)")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument(
        "--workers",
        type=int,
        help="uvicorn worker processes (default: 1 on SQLite, where writes take turns whatever the count; "
        "on PostgreSQL, one per CPU)",
    )
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
    user_commands.add_parser(commands)
    check_parser = commands.add_parser(
        "check",
        help="validate the configuration and reach the database (run it before serve)",
        description="Reads the settings from the environment as serve does, reaches the database and says whether "
        "its schema is at the newest migration. Exit 0 and 'ok', or 1 and what is wrong. Writes nothing.",
    )
    check_parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the database (default 5)")
    check_parser.set_defaults(handler=check)
    backup_parser = commands.add_parser(
        "backup",
        help="copy the SQLite database to PATH, consistent while the app serves",
        description="SQLite's online backup: one consistent snapshot, taken while the app keeps serving. "
        "For PostgreSQL, use pg_dump (the command says how).",
    )
    backup_parser.add_argument("path", metavar="PATH")
    backup_parser.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")
    backup_parser.set_defaults(handler=backup)
    restore_parser = commands.add_parser(
        "restore",
        help="replace the SQLite database with a backup (the app stopped; the current one is kept aside)",
        description="Checks that PATH is a sound database of this app, refuses while the database is in use, keeps "
        "the current database beside it, and upgrades an older backup's schema.",
    )
    restore_parser.add_argument("path", metavar="PATH")
    restore_parser.add_argument("--yes", action="store_true", help="go ahead (without it, only says what it would do)")
    restore_parser.set_defaults(handler=restore)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())

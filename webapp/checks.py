"""`python -m webapp check`: is the configuration sound and the database reachable, before `serve`?

Each setting is read as `Settings.from_env` reads it, and a mistake is named by its variable (a bad number, a
URL for a driver the app does not have, an encryption key that is not one), rather than surfacing later as a
traceback in a worker. Then the database is reached with a short timeout and its schema compared with the
migrations. Nothing is written: a SQLite file that does not exist yet is not created.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError

from webapp import revisions
from webapp.config import Settings, whole_above_zero
from webapp.db import create_engine

DRIVERS = {"sqlite+aiosqlite": "SQLite", "postgresql+asyncpg": "PostgreSQL"}
WHOLE_NUMBERS = ("PAGE_SIZE", "TEAM_SELECT_LIMIT", "DB_POOL_SIZE", "READS_IN_PROGRESS")
NUMBERS_FROM_ZERO = ("DB_MAX_OVERFLOW",)


@dataclass
class Report:
    """What was found: `facts` on what is right, `problems` on what must be fixed before serving."""

    facts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check(environ: dict[str, str] | None = None, *, timeout: float = 5.0) -> Report:
    env = dict(os.environ if environ is None else environ)
    report = Report()
    for name in WHOLE_NUMBERS:
        value = env.get(name)
        if value is not None and not whole_above_zero(value):
            report.problems.append(f"{name}: {value!r} is not a whole number above 0.")
    for name in NUMBERS_FROM_ZERO:
        value = env.get(name)
        if value is not None and not value.strip().isdigit():
            report.problems.append(f"{name}: {value!r} is not a whole number (0 or more).")
    _check_keys(env, report)
    _check_hosts(env, report)
    if report.problems:
        return report  # Settings would fail on these, or the app would refuse what it should serve
    try:
        settings = Settings.from_env(env)
    except ValueError as error:  # a setting this check does not know yet
        report.problems.append(f"Settings: {error}")
        return report
    _check_database(settings, report, timeout)
    return report


def _check_keys(env: dict[str, str], report: Report) -> None:
    keys = [key.strip() for key in env.get("SECOND_FACTOR_KEY", "").split(",") if key.strip()]
    bad = [number for number, key in enumerate(keys, start=1) if not _is_fernet(key)]
    for number in bad:
        report.problems.append(
            f"SECOND_FACTOR_KEY: key {number} of {len(keys)} is not a Fernet key (32 url-safe base64-encoded "
            "bytes; make one with Fernet.generate_key())."
        )
    if not keys:
        report.facts.append("SECOND_FACTOR_KEY: not set, so nobody can set up a second factor.")
    elif not bad:
        report.facts.append(f"SECOND_FACTOR_KEY: {len(keys)} valid key{'s' if len(keys) > 1 else ''}.")


def _is_fernet(key: str) -> bool:
    try:
        Fernet(key)
    except ValueError:
        return False
    return True


def _check_hosts(env: dict[str, str], report: Report) -> None:
    for name in [part.strip() for part in env.get("ALLOWED_HOSTS", "").split(",") if part.strip()]:
        if name != "*" and ("/" in name or (":" in name and not name.startswith("["))):
            report.problems.append(f"ALLOWED_HOSTS: {name!r} is not a host name (no scheme, port or path).")
    for origin in [part.strip() for part in env.get("TRUSTED_ORIGINS", "").split(",") if part.strip()]:
        parts = urlsplit(origin)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path.strip("/"):
            report.problems.append(f"TRUSTED_ORIGINS: {origin!r} is not an origin like https://admin.example.com.")
    for address in [part.strip() for part in env.get("FORWARDED_ALLOW_IPS", "").split(",") if part.strip()]:
        try:
            if address != "*":
                ipaddress.ip_network(address, strict=False)
        except ValueError:
            report.problems.append(f"FORWARDED_ALLOW_IPS: {address!r} is not an IP address or network.")
    production = env.get("APP_ENV", "").lower() == "production"
    if production and env.get("SECURE_COOKIES", "").lower() in {"0", "false", "no", "off"}:
        report.facts.append("SECURE_COOKIES: off in production; cookies would travel over plain HTTP too.")


def _check_database(settings: Settings, report: Report, timeout: float) -> None:
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        report.problems.append("DATABASE_URL: not a database URL (sqlite+aiosqlite:///path or postgresql+asyncpg://…).")
        return
    kind = DRIVERS.get(url.drivername)
    if kind is None:
        report.problems.append(
            f"DATABASE_URL: the driver {url.drivername!r} is not one the app has; use sqlite+aiosqlite:///path "
            "or postgresql+asyncpg://user@host/database."
        )
        return
    shown = url.database if kind == "SQLite" else url.render_as_string(hide_password=True)
    if kind == "SQLite" and url.database and url.database != ":memory:" and not Path(url.database).exists():
        directory = Path(url.database).resolve().parent
        nearest = next(parent for parent in (directory, *directory.parents) if parent.exists())
        if not os.access(nearest, os.W_OK):
            report.problems.append(f"DATABASE_URL: {url.database} does not exist and {nearest} is not writable.")
        else:
            report.facts.append(f"DATABASE_URL: SQLite at {url.database}, not made yet; serve creates it.")
        return
    settings = replace(settings, pg_connect_timeout=timeout, pg_command_timeout=timeout)
    try:
        revision, has_tables, took = asyncio.run(asyncio.wait_for(_schema(settings), timeout))
    except TimeoutError:
        report.problems.append(f"DATABASE_URL: {kind} at {shown} did not answer within {timeout:g} s.")
        return
    except Exception as error:  # whatever the driver raises (refused, bad password, no database): its message
        cause = getattr(error, "orig", None) or error  # the driver's own error, not SQLAlchemy's wrapping
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        report.problems.append(f"DATABASE_URL: cannot reach {kind} at {shown}: {reason}")
        return
    state = revisions.state(revision, has_tables=has_tables)
    report.facts.append(f"DATABASE_URL: {kind} at {shown}, reached in {took * 1000:.0f} ms.")
    (report.facts if state.usable else report.problems).append(f"Schema: {state.text}.")


async def _schema(settings: Settings) -> tuple[str | None, bool, float]:
    """The recorded revision, whether the app's tables exist, and the seconds the first answer took."""
    engine = create_engine(settings)
    try:
        started = time.perf_counter()
        async with engine.connect() as connection:
            took = time.perf_counter() - started
            return (*await connection.run_sync(_read_schema), took)
    finally:
        await engine.dispose()


def _read_schema(connection: Connection) -> tuple[str | None, bool]:
    inspector = inspect(connection)
    has_tables = inspector.has_table("hero")
    if not inspector.has_table("alembic_version"):
        return None, has_tables
    row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return (str(row[0]) if row else None), has_tables

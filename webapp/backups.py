"""`python -m webapp backup PATH` and `restore PATH`: copies of the SQLite database, made while the app serves.

A backup is taken with SQLite's online backup API in one step: one read transaction, so the copy is one consistent
snapshot of every committed transaction, and in WAL mode the app's writers carry on meanwhile. (Copying the file
with `cp` while the app writes can tear a page or miss what is still in the -wal file.) A restore only goes ahead
when nothing has the database open, and keeps the database it replaces beside it.

PostgreSQL has its own tools for this (pg_dump, pg_restore): these commands say so and point at them.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from webapp import revisions
from webapp.config import Settings
from webapp.db import create_engine, upgrade_schema

SQLITE_HEADER = b"SQLite format 3\x00"
# Tables every database of this app has, whatever its revision (the baseline's).
APP_TABLES = frozenset({"hero", "team", "user"})


class Refused(Exception):
    """Nothing was done; the message says why and what to do instead."""


def database_file(settings: Settings, *, command: str) -> Path:
    """The SQLite file DATABASE_URL names; for PostgreSQL, how to use its own tools instead of `command`."""
    url = make_url(settings.database_url)
    if not settings.is_sqlite:
        # libpq's spelling of the same database, without the password (it would end up in shell history).
        dump = URL.create(
            "postgresql", url.username, None, url.host, url.port, url.database, url.query
        ).render_as_string()
        raise Refused(
            f"DATABASE_URL is a PostgreSQL database, which `{command}` does not copy: use PostgreSQL's own tools, "
            "for example\n"
            f"    pg_dump --format=custom --file=heroes.dump --dbname='{dump}'\n"
            f"    pg_restore --clean --if-exists --no-owner --dbname='{dump}' heroes.dump   # with the app stopped\n"
            "(the password from PGPASSWORD or ~/.pgpass). See the README's section on backups."
        )
    if not url.database or url.database == ":memory:":
        raise Refused("DATABASE_URL names an in-memory SQLite database, which has nothing to back up or restore.")
    return Path(url.database).resolve()


def backup(settings: Settings, target: Path, *, overwrite: bool) -> str:
    """Copy the app's database to `target` (a complete file or none: it is written aside and renamed)."""
    source = database_file(settings, command="backup")
    target = target.resolve()
    if not source.is_file():
        raise Refused(f"There is no database at {source} to back up.")
    if target == source:
        raise Refused("The backup would overwrite the database itself; give another path.")
    if target.is_dir():
        raise Refused(f"{target} is a directory; give the path of the backup file to write.")
    if target.exists() and not overwrite:
        raise Refused(f"{target} already exists; pass --overwrite to replace it.")
    if not target.parent.is_dir():
        raise Refused(f"The directory {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        busy = settings.sqlite_busy_timeout_ms / 1000
        with closing(sqlite3.connect(source, timeout=busy)) as live, closing(sqlite3.connect(partial)) as copy:
            live.backup(copy)  # all pages in one step: one read transaction, one snapshot
            # The copy keeps the source's WAL flag; a backup is better as one self-contained file.
            copy.execute("PRAGMA journal_mode=DELETE")
            verdict = copy.execute("PRAGMA integrity_check").fetchone()
            tables = _count(copy, "sqlite_master WHERE type = 'table'")
        if verdict != ("ok",):
            raise Refused(f"The copy failed SQLite's integrity check ({verdict}); {target} was not written.")
        os.replace(partial, target)
        _sync_directory(target.parent)
    finally:
        partial.unlink(missing_ok=True)
    size = target.stat().st_size
    return f"Backed up {source} to {target} ({size:,} bytes, {tables} tables, integrity check ok)."


def restore(settings: Settings, source: Path, *, confirmed: bool) -> str:
    """Replace the app's database with the backup at `source`, after checking it is one, while nothing uses the
    database; the replaced database is kept beside it. An older backup's schema is upgraded on the way in."""
    target = database_file(settings, command="restore")
    source = source.resolve()
    revision = _check_backup(source)
    if source == target:
        raise Refused("That is the database itself.")
    if not confirmed:
        raise Refused(
            f"This replaces the database at {target} with {source} (the current one is kept beside it).\n"
            "Stop the app first, then run the command again with --yes."
        )
    # The copy to restore, upgraded, next to the target (the same file system), before the target is touched: if
    # anything fails up to here, the database is as it was.
    prepared = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    try:
        with closing(_read_only(source)) as backup_file, closing(sqlite3.connect(prepared)) as copy:
            backup_file.backup(copy)
        asyncio.run(_upgrade(settings, prepared))
        kept = _replace(settings, prepared, target)
    finally:
        prepared.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            prepared.with_name(prepared.name + suffix).unlink(missing_ok=True)
    schema = revision if revision == revisions.newest() else f"{revision}, upgraded to {revisions.newest()}"
    outcome = f"Restored {source} into {target} (schema {schema})."
    return outcome + (f"\nThe database it replaced is kept at {kept}." if kept else "")


def _check_backup(path: Path) -> str:
    """The backup's schema revision, once it has passed for a sound database of this app."""
    if not path.is_file():
        raise Refused(f"There is no file at {path}.")
    with path.open("rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise Refused(f"{path} is not a SQLite database.")
    try:
        with closing(_read_only(path)) as backup_file:
            verdict = backup_file.execute("PRAGMA integrity_check").fetchall()
            tables = {row[0] for row in backup_file.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = None
            if "alembic_version" in tables:
                version = backup_file.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise Refused(f"{path} cannot be read as a SQLite database: {error}.") from error
    if verdict != [("ok",)]:
        problems = "; ".join(str(row[0]) for row in verdict[:3])
        raise Refused(f"{path} fails SQLite's integrity check: {problems}.")
    if not tables >= APP_TABLES or version is None:
        raise Refused(f"{path} is not a database of this app (no {', '.join(sorted(APP_TABLES))} and schema record).")
    state = revisions.state(str(version[0]), has_tables=True)
    if not state.usable:
        raise Refused(f"{path} has a schema {state.text}.")
    return str(version[0])


def _read_only(path: Path) -> sqlite3.Connection:
    # immutable: the file is only read, so SQLite neither locks it nor makes -wal or -shm files beside it.
    return sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)


async def _upgrade(settings: Settings, path: Path) -> None:
    engine = create_engine(replace(settings, database_url=f"sqlite+aiosqlite:///{path}"))
    try:
        await upgrade_schema(engine)
    finally:
        await engine.dispose()  # the last connection folds the WAL into the file


def _replace(settings: Settings, prepared: Path, target: Path) -> Path | None:
    """Write `prepared` into `target`, holding an exclusive lock from the in-use check to the end, and keep a copy
    of what `target` held first. Returns where that copy is (None when there was no database)."""
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level None: the BEGIN and COMMIT below are ours. timeout 0: in use means refused, not waited for.
    with closing(sqlite3.connect(target, timeout=0, isolation_level=None)) as live:
        # Exclusive locking mode keeps every lock until the connection closes. Each open connection of a running
        # app holds a shared lock on a WAL database, even idle, so the lock is refused while the app has it open,
        # and once held, nothing else can open it until the restore is done.
        live.execute("PRAGMA locking_mode=EXCLUSIVE")
        try:
            live.execute("BEGIN EXCLUSIVE")
            live.execute("COMMIT")
        except sqlite3.OperationalError as error:
            raise Refused(
                f"The database at {target} is in use (is the app running?); stop it and try again."
            ) from error
        kept = None
        if _count(live, "sqlite_master WHERE type = 'table'"):
            kept = target.with_name(f"{target.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
            with closing(sqlite3.connect(kept)) as side:
                live.backup(side)
                side.execute("PRAGMA journal_mode=DELETE")
        with closing(sqlite3.connect(prepared)) as copy:
            try:
                copy.backup(live)  # one transaction: the target holds the old database or the new one, never half
            except sqlite3.Error as error:
                raise Refused(f"Could not write the backup into {target}: {error}.") from error
        live.execute("PRAGMA journal_mode=WAL")
    return kept


def _count(connection: sqlite3.Connection, rows: str) -> int:
    return int(connection.execute(f"SELECT count(*) FROM {rows}").fetchone()[0])  # noqa: S608 - our own text


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (the file's data is already synced by SQLite's commit)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

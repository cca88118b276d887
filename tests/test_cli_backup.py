"""`backup PATH` and `restore PATH`: real subprocesses on real SQLite files, one writing while another backs up,
and a real `serve` holding the database a restore must not pull away."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

import httpx
import sqlalchemy
from alembic import command

from tests.cli_support import migrate, run_cli, serving, sqlite_url
from tests.test_cli import migrations_config, query
from webapp.db import BASELINE
from webapp.revisions import newest

# Another process writing heroes as fast as it can, one transaction each, saying each id once it is committed.
WRITER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], timeout=15, isolation_level=None)
connection.execute("PRAGMA journal_mode=WAL")
number = 0
while True:
    number += 1
    connection.execute("BEGIN IMMEDIATE")
    (hero,) = connection.execute(
        "INSERT INTO hero (name, secret_name) VALUES (?, ?) RETURNING id", (f"Hero {number}", f"Secret {number}")
    ).fetchone()
    connection.execute("COMMIT")
    print(hero, flush=True)
"""


async def migrated(path: Path) -> str:
    """A database file with the newest schema, as `serve` would leave it."""
    url = sqlite_url(path)
    await migrate(url)
    return url


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read a file as a backup is meant to be read: on its own, nothing else beside it."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
        return connection.execute(sql).fetchall()


class Ledger:
    """The ids the writer has said it committed, in order, and a way to wait for it to get further."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.grew = asyncio.Condition()

    async def add(self, hero: int) -> None:
        async with self.grew:
            self.ids.append(hero)
            self.grew.notify_all()

    async def reach(self, count: int) -> None:
        async with asyncio.timeout(60), self.grew:  # a minute at most, on a loaded machine
            await self.grew.wait_for(lambda: len(self.ids) >= count)


@asynccontextmanager
async def writing(path: Path) -> AsyncIterator[Ledger]:
    """The writer running on `path`, until the block ends."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(path), stdout=asyncio.subprocess.PIPE
    )
    ledger = Ledger()

    async def read() -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            await ledger.add(int(line))

    reader = asyncio.create_task(read())
    try:
        yield ledger
    finally:
        process.kill()
        await process.wait()
        await reader


def files(directory: Path, pattern: str = "*") -> list[Path]:
    return sorted(directory.glob(pattern))


def copy_of(database: Path, target: Path) -> None:
    """A backup file made in this process (SQLite's online backup), for tests of `restore` that need one but are
    not about `backup`; `backup` itself, and restoring what it wrote, are tested on their own subprocesses."""
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, as `backup` writes


# --- backup -----------------------------------------------------------------------------------------------------


async def test_backup_while_another_process_writes_is_consistent_and_holds_every_committed_row(
    tmp_path: Path,
) -> None:
    database = tmp_path / "live.db"
    url = await migrated(database)
    target = tmp_path / "backup.db"
    async with writing(database) as ledger:
        await ledger.reach(300)  # the writer is under way
        before = len(ledger.ids)
        code, out, err = await run_cli("backup", str(target), database_url=url)
        await ledger.reach(len(ledger.ids) + 50)  # and carries on afterwards
        committed = list(ledger.ids)
    assert code == 0, err
    assert out.startswith(f"Backed up {database} to {target} (")
    assert "integrity check ok" in out
    assert rows(target, "PRAGMA integrity_check") == [("ok",)]
    assert rows(target, "PRAGMA journal_mode") == [("delete",)]  # one self-contained file
    ids = [hero for (hero,) in rows(target, "SELECT id FROM hero ORDER BY id")]
    assert isinstance(ids[-1], int)
    # Every hero committed before the backup began is in it, and no gaps: one snapshot, not pages of several.
    assert ids == list(range(1, ids[-1] + 1))
    assert len(ids) >= before
    assert committed[: len(ids)] == ids
    # The live count, kept by triggers in each hero's own transaction, agrees with the rows: one snapshot.
    assert rows(target, "SELECT live FROM live_count WHERE record_type = 'hero'") == [(len(ids),)]
    assert rows(target, "SELECT version_num FROM alembic_version") == [(newest(),)]


async def test_backup_refuses_to_overwrite_a_file_unless_asked(tmp_path: Path) -> None:
    url = await migrated(tmp_path / "live.db")
    target = tmp_path / "backup.db"
    target.write_bytes(b"keep me")
    code, out, err = await run_cli("backup", str(target), database_url=url)
    assert (code, out) == (1, "")
    assert err == f"{target} already exists; pass --overwrite to replace it.\n"
    assert target.read_bytes() == b"keep me"
    code, _out, err = await run_cli("backup", str(target), "--overwrite", database_url=url)
    assert code == 0, err
    assert rows(target, "PRAGMA integrity_check") == [("ok",)]
    assert files(tmp_path, ".backup.db.partial-*") == []


async def test_backup_of_a_missing_database_fails_and_writes_nothing(tmp_path: Path) -> None:
    code, _out, err = await run_cli("backup", str(tmp_path / "b.db"), database_url=sqlite_url(tmp_path / "none.db"))
    assert code == 1
    assert err == f"There is no database at {tmp_path / 'none.db'} to back up.\n"
    assert files(tmp_path) == []


async def test_backup_of_postgresql_says_to_use_pg_dump(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://heroes:s3cret@127.0.0.1:5432/heroes"
    code, _out, err = await run_cli("backup", str(tmp_path / "b.db"), database_url=url)
    assert code == 1
    assert "pg_dump --format=custom --file=heroes.dump --dbname='postgresql://heroes@127.0.0.1:5432/heroes'" in err
    assert "s3cret" not in err
    assert not (tmp_path / "b.db").exists()


# --- restore ----------------------------------------------------------------------------------------------------


async def test_restore_puts_the_backup_back_and_keeps_the_replaced_database(tmp_path: Path) -> None:
    database = tmp_path / "live.db"
    url = await migrated(database)
    query(database, "INSERT INTO hero (name, secret_name) VALUES ('Before', 'Kept')")
    backup = tmp_path / "backup.db"
    assert (await run_cli("backup", str(backup), database_url=url))[0] == 0
    query(database, "INSERT INTO hero (name, secret_name) VALUES ('After', 'Replaced')")
    code, out, err = await run_cli("restore", str(backup), "--yes", database_url=url)
    assert code == 0, err
    assert out.startswith(f"Restored {backup} into {database} (schema {newest()}).\n")
    assert query(database, "SELECT name FROM hero") == [("Before",)]
    assert query(database, "PRAGMA journal_mode") == [("wal",)]
    (kept,) = files(tmp_path, "live.db.before-restore-*")
    assert f"The database it replaced is kept at {kept}." in out
    assert rows(kept, "SELECT name FROM hero ORDER BY id") == [("Before",), ("After",)]
    assert files(tmp_path, ".live.db.restoring-*") == []


async def test_restore_without_yes_says_what_it_would_do_and_changes_nothing(tmp_path: Path) -> None:
    database = tmp_path / "live.db"
    url = await migrated(database)
    backup = tmp_path / "backup.db"
    copy_of(database, backup)
    query(database, "INSERT INTO hero (name, secret_name) VALUES ('Stays', 'Here')")
    code, out, err = await run_cli("restore", str(backup), database_url=url)
    assert (code, out) == (1, "")
    assert f"This replaces the database at {database} with {backup}" in err
    assert "run the command again with --yes" in err
    assert query(database, "SELECT name FROM hero") == [("Stays",)]
    assert files(tmp_path, "live.db.before-restore-*") == []


async def test_restore_refuses_while_the_app_has_the_database_open(tmp_path: Path) -> None:
    database = tmp_path / "live.db"
    url = await migrated(database)
    backup = tmp_path / "backup.db"
    copy_of(database, backup)
    query(database, "INSERT INTO hero (name, secret_name) VALUES ('Live', 'Data')")
    async with serving(url) as served, httpx.AsyncClient() as browser:
        # One page that reads the database, so the app holds connections as it does once it has served anything.
        assert (await browser.get(f"http://127.0.0.1:{served.port}/login")).status_code == 200
        code, out, err = await run_cli("restore", str(backup), "--yes", database_url=url)
        assert (code, out) == (1, "")
        assert err == f"The database at {database} is in use (is the app running?); stop it and try again.\n"
        assert (await browser.get(f"http://127.0.0.1:{served.port}/login")).status_code == 200
    assert query(database, "SELECT name FROM hero") == [("Live",)]
    assert files(tmp_path, "live.db.before-restore-*") == []


async def test_restore_upgrades_an_older_backups_schema(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    engine = sqlalchemy.create_engine(f"sqlite:///{old}")
    try:
        with engine.begin() as connection:
            command.upgrade(migrations_config(connection), BASELINE)
            connection.exec_driver_sql("INSERT INTO hero (id, name, secret_name) VALUES (7, 'Old', 'Timer')")
    finally:
        engine.dispose()
    database = tmp_path / "live.db"
    url = await migrated(database)
    code, out, err = await run_cli("restore", str(old), "--yes", database_url=url)
    assert code == 0, err
    assert f"(schema {BASELINE}, upgraded to {newest()})" in out
    assert query(database, "SELECT version_num FROM alembic_version") == [(newest(),)]
    assert query(database, "SELECT id, name, version FROM hero") == [(7, "Old", 1)]
    assert rows(old, "SELECT version_num FROM alembic_version") == [(BASELINE,)]  # the backup itself untouched


async def test_restore_refuses_files_that_are_not_a_sound_database_of_this_app(tmp_path: Path) -> None:
    database = tmp_path / "live.db"
    url = await migrated(database)
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    other = tmp_path / "other.db"
    query(other, "CREATE TABLE things (id INTEGER PRIMARY KEY)")
    future = tmp_path / "future.db"
    copy_of(database, future)
    with closing(sqlite3.connect(future)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    expected = {
        text: f"{text} is not a SQLite database.",
        other: f"{other} is not a database of this app (no hero, team, user and schema record).",
        future: f"{future} has a schema at '9999', which this version of the app does not know (a newer one?).",
        tmp_path / "missing.db": f"There is no file at {tmp_path / 'missing.db'}.",
    }
    before = database.read_bytes()
    for path, message in expected.items():
        code, _out, err = await run_cli("restore", str(path), "--yes", database_url=url)
        assert (code, err) == (1, message + "\n"), path
    assert database.read_bytes() == before
    assert files(tmp_path, "live.db.before-restore-*") == []

"""`python -m webapp check`: the configuration as `serve` would read it, and the database reached, in a subprocess
against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.cli_support import free_port, migrate, run_cli, sqlite_url
from webapp.config import Settings
from webapp.revisions import newest

KEY = "5Ni332ZdYbY7ej1T1v_fe5mCObN7YyvCavgAmYTFY4w="  # a well-formed Fernet key (made for this test)


async def test_check_passes_on_the_apps_database_and_says_ok(settings: Settings, engine: AsyncEngine) -> None:
    await migrate(settings.database_url)
    code, out, err = await run_cli("check", database_url=settings.database_url, env={"SECOND_FACTOR_KEY": KEY})
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[-1] == "ok"
    assert "SECOND_FACTOR_KEY: 1 valid key." in lines
    kind = "SQLite" if settings.is_sqlite else "PostgreSQL"
    assert any(line.startswith(f"DATABASE_URL: {kind} at ") and "reached in" in line for line in lines)
    assert f"Schema: at {newest()}, the newest migration." in lines


async def test_check_of_an_older_schema_says_serve_upgrades_it(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    await migrate(sqlite_url(database))
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = '0004'")
    code, out, _err = await run_cli("check", database_url=sqlite_url(database))
    assert code == 0
    assert f"Schema: at 0004, older than {newest()}; serve upgrades it." in out.splitlines()


async def test_check_refuses_a_schema_this_version_does_not_know(tmp_path: Path) -> None:
    database = tmp_path / "new.db"
    await migrate(sqlite_url(database))
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    code, out, err = await run_cli("check", database_url=sqlite_url(database))
    assert code == 1
    assert "ok" not in out.splitlines()
    assert err.splitlines() == [
        "Schema: at '9999', which this version of the app does not know (a newer one?).",
        "1 problem: fix it before serve.",
    ]


async def test_check_of_a_sqlite_file_not_made_yet_passes_and_creates_nothing(tmp_path: Path) -> None:
    database = tmp_path / "var" / "heroes.db"
    code, out, err = await run_cli("check", database_url=sqlite_url(database))
    assert (code, err) == (0, "")
    assert f"DATABASE_URL: SQLite at {database}, not made yet; serve creates it." in out.splitlines()
    assert not (tmp_path / "var").exists()


async def test_check_names_an_unreachable_database_quickly(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/heroes"  # nothing listens there
    started = time.monotonic()
    code, out, err = await run_cli("check", "--timeout", "2", database_url=url)
    assert time.monotonic() - started < 30  # the interpreter's start included, on a loaded machine
    assert code == 1
    assert "ok" not in out.splitlines()
    first, last = err.splitlines()
    assert first.startswith(f"DATABASE_URL: cannot reach PostgreSQL at {url}: ")
    assert last == "1 problem: fix it before serve."


async def test_check_names_every_setting_that_is_wrong(tmp_path: Path) -> None:
    env = {
        "PAGE_SIZE": "lots",
        "DB_POOL_SIZE": "0",
        "DB_MAX_OVERFLOW": "-1",
        "READS_IN_PROGRESS": "0",
        "SECOND_FACTOR_KEY": f"{KEY},not-a-key",
        "ALLOWED_HOSTS": "admin.example.com,https://admin.example.com",
        "TRUSTED_ORIGINS": "admin.example.com",
        "FORWARDED_ALLOW_IPS": "10.0.0.0/8,proxy",
    }
    code, _out, err = await run_cli("check", database_url=sqlite_url(tmp_path / "x.db"), env=env)
    assert code == 1
    assert err.splitlines() == [
        "PAGE_SIZE: 'lots' is not a whole number above 0.",
        "DB_POOL_SIZE: '0' is not a whole number above 0.",
        "READS_IN_PROGRESS: '0' is not a whole number above 0.",
        "DB_MAX_OVERFLOW: '-1' is not a whole number (0 or more).",
        "SECOND_FACTOR_KEY: key 2 of 2 is not a Fernet key (32 url-safe base64-encoded bytes; make one with "
        "Fernet.generate_key()).",
        "ALLOWED_HOSTS: 'https://admin.example.com' is not a host name (no scheme, port or path).",
        "TRUSTED_ORIGINS: 'admin.example.com' is not an origin like https://admin.example.com.",
        "FORWARDED_ALLOW_IPS: 'proxy' is not an IP address or network.",
        "8 problems: fix them before serve.",
    ]


async def test_check_refuses_a_database_url_for_a_driver_the_app_lacks(tmp_path: Path) -> None:
    code, _out, err = await run_cli("check", database_url="mysql://root@localhost/heroes")
    assert code == 1
    assert err.splitlines()[0] == (
        "DATABASE_URL: the driver 'mysql' is not one the app has; use sqlite+aiosqlite:///path or "
        "postgresql+asyncpg://user@host/database."
    )

"""The command line: `python -m webapp demo` brings the schema up to date and seeds an empty database once;
`serve --help` documents its options."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from webapp.__main__ import default_workers
from webapp.config import Settings
from webapp.db import BASELINE, MIGRATIONS_DIR

PROJECT_DIR = Path(__file__).resolve().parent.parent


def run_webapp(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    return subprocess.run(
        [sys.executable, "-m", "webapp", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def query(database: Path, sql: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(database)
    try:
        with connection:  # commits a write
            return connection.execute(sql).fetchall()
    finally:
        connection.close()


def counts(database: Path) -> tuple[int, int]:
    ((heroes,),) = query(database, "SELECT count(*) FROM hero")
    ((teams,),) = query(database, "SELECT count(*) FROM team")
    assert isinstance(heroes, int)
    assert isinstance(teams, int)
    return heroes, teams


def migrations_config(connection: sqlalchemy.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def made_before_migrations(database: Path) -> None:
    """A database as the app made it before it had migrations: the baseline schema, and no record of it."""
    engine = sqlalchemy.create_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:
            command.upgrade(migrations_config(connection), BASELINE)
            connection.exec_driver_sql("DROP TABLE alembic_version")
    finally:
        engine.dispose()


def test_demo_creates_the_schema_and_adds_heroes_and_teams(tmp_path: Path) -> None:
    database = tmp_path / "fresh" / "demo.db"
    result = run_webapp("demo", database=database)
    heroes, teams = counts(database)
    assert result.returncode == 0, result.stderr
    assert "Added demo heroes and teams" in result.stdout
    assert heroes > 0
    assert teams > 0


def test_demo_puts_some_heroes_in_teams(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    run_webapp("demo", database=database)
    ((in_teams,),) = query(database, "SELECT count(*) FROM hero JOIN team ON team.id = hero.team_id")
    ((teamless,),) = query(database, "SELECT count(*) FROM hero WHERE team_id IS NULL")
    assert isinstance(in_teams, int)
    assert in_teams > 0
    assert isinstance(teamless, int)
    assert teamless > 0


def test_demo_run_again_adds_nothing_and_says_so(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    run_webapp("demo", database=database)
    before = counts(database)
    result = run_webapp("demo", database=database)
    assert result.returncode == 0, result.stderr
    assert "nothing added" in result.stdout
    assert counts(database) == before


def test_demo_leaves_a_database_with_only_teams_alone(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    run_webapp("demo", database=database)
    query(database, "DELETE FROM hero")
    _heroes, teams = counts(database)
    result = run_webapp("demo", database=database)
    assert "nothing added" in result.stdout
    assert counts(database) == (0, teams)


def test_demo_upgrades_a_database_made_before_migrations_and_keeps_its_data(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    made_before_migrations(database)
    query(database, "INSERT INTO hero (id, name, secret_name) VALUES (3, 'Deadpond', 'Dive Wilson')")
    result = run_webapp("demo", database=database)
    assert result.returncode == 0, result.stderr
    assert "nothing added" in result.stdout
    assert query(database, "SELECT id, name, version, deleted_at FROM hero") == [(3, "Deadpond", 1, None)]
    head = ScriptDirectory.from_config(migrations_config()).get_current_head()
    assert query(database, "SELECT version_num FROM alembic_version") == [(head,)]


def test_serve_help_lists_host_port_and_workers(tmp_path: Path) -> None:
    result = run_webapp("serve", "--help", database=tmp_path / "unused.db")
    assert result.returncode == 0, result.stderr
    for option in ("--host", "--port", "--workers"):
        assert option in result.stdout
    assert not (tmp_path / "unused.db").exists()


def test_serve_runs_one_worker_on_sqlite_and_one_per_cpu_on_postgresql_unless_told() -> None:
    assert default_workers(Settings(database_url="sqlite+aiosqlite:///x.db")) == 1
    postgres = Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1/heroes")
    assert default_workers(postgres) == (os.cpu_count() or 1)


def test_unknown_command_fails_with_usage(tmp_path: Path) -> None:
    result = run_webapp("frobnicate", database=tmp_path / "unused.db")
    assert result.returncode != 0
    assert "usage:" in result.stderr

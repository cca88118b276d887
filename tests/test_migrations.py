"""The migrations build exactly the schema the models describe, and upgrade older databases keeping their data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from tests.conftest import _admin_url
from tests.databases import create_postgres_database, drop_postgres_database
from webapp.config import Settings
from webapp.db import BASELINE, MIGRATIONS_DIR, create_engine, described_by_models, upgrade_schema
from webapp.usernames import skeleton_key


def _newest_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


@pytest.fixture
def empty_database_url(database_kind: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own with no tables at all (the run's shared PostgreSQL database already has them)."""
    if database_kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
        return
    admin = _admin_url()
    assert admin is not None
    url = create_postgres_database(admin)
    try:
        yield url
    finally:
        drop_postgres_database(admin, url)


@pytest.fixture
async def empty_engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=empty_database_url))
    yield engine
    await engine.dispose()


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": described_by_models(connection.dialect.name)}
    )
    return list(compare_metadata(context, SQLModel.metadata))


def _to_baseline(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, BASELINE)


async def test_migrations_build_the_schema_the_models_describe(empty_engine: AsyncEngine) -> None:
    await upgrade_schema(empty_engine)
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_upgrading_twice_changes_nothing(empty_engine: AsyncEngine) -> None:
    await upgrade_schema(empty_engine)
    await upgrade_schema(empty_engine)
    async with empty_engine.connect() as connection:
        stamped = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    assert stamped == [_newest_revision()]


@pytest.mark.parametrize("recorded", [True, False], ids=["migrated", "made-before-migrations"])
async def test_upgrade_keeps_the_data_of_a_database_at_the_baseline(empty_engine: AsyncEngine, recorded: bool) -> None:
    """A database at the schema before versions and the trash (made by the migrations, or by create_all before
    the app had migrations, so without their record) upgrades in place and keeps its heroes and teams."""
    async with empty_engine.begin() as connection:
        await connection.run_sync(_to_baseline)
        if not recorded:
            await connection.execute(text("DROP TABLE alembic_version"))
        await connection.execute(
            text("INSERT INTO team (id, name, headquarters) VALUES (7, 'Preventers', 'Sharp Tower')")
        )
        await connection.execute(
            text("INSERT INTO hero (id, name, secret_name, age, team_id) VALUES (3, 'Deadpond', 'Dive Wilson', 48, 7)")
        )
    await upgrade_schema(empty_engine)
    async with empty_engine.connect() as connection:
        heroes = (await connection.execute(text("SELECT id, name, team_id, version, deleted_at FROM hero"))).all()
        teams = (await connection.execute(text("SELECT id, name, version, deleted_at FROM team"))).all()
        assert [tuple(row) for row in heroes] == [(3, "Deadpond", 7, 1, None)]
        assert [tuple(row) for row in teams] == [(7, "Preventers", 1, None)]
        assert await connection.run_sync(_differences) == []
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert {"audit_entry", "submission", "alembic_version"} <= tables


def _to_0004(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "0004")


async def test_upgrade_to_0006_normalises_usernames_and_keeps_look_alikes_that_existed(
    empty_engine: AsyncEngine,
) -> None:
    """Names stored before NFKC (casefolded only) get the new spelling unless it is taken; of look-alikes that
    already existed, the older keeps the skeleton and the newer keeps its name but holds none."""
    async with empty_engine.begin() as connection:
        await connection.run_sync(_to_0004)
        for user_id, name in ((1, "admin"), (2, "ａｄｍｉｎ"), (3, "ｇｒａｃｅ"), (4, "аdmin")):
            await connection.execute(
                text(
                    'INSERT INTO "user" (id, username, password_hash, role, is_active, created_at) '
                    "VALUES (:id, :name, 'x', 'viewer', true, '2026-01-01 00:00:00')"
                ),
                {"id": user_id, "name": name},
            )
    await upgrade_schema(empty_engine)
    async with empty_engine.connect() as connection:
        rows = (await connection.execute(text('SELECT id, username, username_skeleton FROM "user" ORDER BY id'))).all()
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert [(row[0], row[1], row[2] == skeleton_key(row[1])) for row in rows] == [
        (1, "admin", True),
        (2, "ａｄｍｉｎ", False),  # "admin" is taken: the old spelling stays, and the skeleton is admin's
        (3, "grace", True),
        (4, "аdmin", False),
    ]
    assert [row[2] for row in rows][1] is None
    assert [row[2] for row in rows][3] is None
    assert "login_failure" not in tables
    assert {"throttle", "recovery_code", "role_policy", "app_secret"} <= tables


def _to(revision: str, *, down: bool = False) -> Callable[[Connection], None]:
    def move(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    return move


async def test_0007_adds_the_theme_and_kept_forms_and_goes_back_keeping_users(empty_engine: AsyncEngine) -> None:
    """Users at 0006 get the "system" theme; going back to 0006 drops the theme and the kept forms and keeps the
    users; coming forward again arrives at the models' schema."""
    async with empty_engine.begin() as connection:
        await connection.run_sync(_to("0006"))
        await connection.execute(
            text(
                'INSERT INTO "user" (id, username, password_hash, role, is_active, created_at) '
                "VALUES (1, 'ada', 'x', 'admin', true, '2026-01-01 00:00:00')"
            )
        )
    await upgrade_schema(empty_engine)
    async with empty_engine.begin() as connection:
        assert (await connection.execute(text('SELECT theme FROM "user"'))).scalars().all() == ["system"]
        await connection.execute(text("UPDATE \"user\" SET theme = 'dark'"))
        await connection.run_sync(_to("0006", down=True))
    async with empty_engine.connect() as connection:
        columns = await connection.run_sync(lambda sync: {c["name"] for c in inspect(sync).get_columns("user")})
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert (await connection.execute(text('SELECT username FROM "user"'))).scalars().all() == ["ada"]
    assert "theme" not in columns
    assert "form_stash" not in tables
    await upgrade_schema(empty_engine)
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_differences) == []

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


async def test_0008_spreads_the_live_counts_over_slots_and_goes_back_folding_them(empty_engine: AsyncEngine) -> None:
    """The one count row per table of 0007 becomes slot 0 and the triggers count on; going back to 0007 folds each
    table's slots into one row (slot 0 may be gone: a table's count rows can all have been deleted since) and the
    triggers count on again. The triggers are checked without the upgrade's own repair (webapp.db)."""
    count_rows = "SELECT record_type, live FROM live_count ORDER BY record_type"
    async with empty_engine.begin() as connection:
        await connection.run_sync(_to("0007"))
        await connection.execute(text("INSERT INTO team (id, name, headquarters) VALUES (7, 'Preventers', 'Tower')"))
        await connection.execute(text("INSERT INTO hero (name, secret_name) VALUES ('A', 'a'), ('B', 'b')"))
        await connection.run_sync(_to("0008"))
        await connection.execute(text("INSERT INTO hero (name, secret_name) VALUES ('C', 'c')"))
        sums = "SELECT record_type, sum(live) FROM live_count GROUP BY record_type ORDER BY record_type"
        assert (await connection.execute(text(sums))).all() == [("hero", 3), ("team", 1)]
        # As other connections' triggers leave them on PostgreSQL: slots of any sign, summing to the count (in
        # slots beyond those this connection's triggers write to).
        await connection.execute(text("UPDATE live_count SET live = live - 5 WHERE record_type = 'hero' AND slot = 0"))
        await connection.execute(text("DELETE FROM live_count WHERE record_type = 'team'"))
        await connection.execute(
            text("INSERT INTO live_count (record_type, slot, live) VALUES ('hero', 16, 5), ('team', 17, 1)")
        )
        await connection.run_sync(_to("0007", down=True))
        assert (await connection.execute(text(count_rows))).all() == [("hero", 3), ("team", 1)]
        await connection.execute(text("UPDATE hero SET deleted_at = '2026-01-01 00:00:00' WHERE name = 'A'"))
        assert (await connection.execute(text(count_rows))).all() == [("hero", 2), ("team", 1)]
    await upgrade_schema(empty_engine)
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_0009_counts_the_teams_changes_and_goes_back_without_them(empty_engine: AsyncEngine) -> None:
    """From 0009 every insert, update and delete of teams moves their change count (read without the upgrade's
    own repair of triggers, webapp.db); going back to 0008 drops the count and its triggers, and teams still
    change; coming forward again arrives at the models' schema."""
    changes = "SELECT coalesce(sum(changes), 0) FROM change_count WHERE record_type = 'team'"
    async with empty_engine.begin() as connection:
        await connection.run_sync(_to("0009"))
        assert (await connection.execute(text(changes))).scalar_one() == 0
        await connection.execute(text("INSERT INTO team (id, name, headquarters) VALUES (7, 'Preventers', 'Tower')"))
        await connection.execute(text("UPDATE team SET name = 'Avengers' WHERE id = 7"))
        await connection.execute(text("INSERT INTO hero (name, secret_name, team_id) VALUES ('A', 'a', 7)"))
        after_team_changes = (await connection.execute(text(changes))).scalar_one()
        await connection.execute(text("DELETE FROM team WHERE id = 7"))
        assert (await connection.execute(text(changes))).scalar_one() > after_team_changes >= 2
        await connection.run_sync(_to("0008", down=True))
        await connection.execute(text("INSERT INTO team (id, name, headquarters) VALUES (8, 'Titans', 'Tower')"))
    async with empty_engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert "change_count" not in tables
    await upgrade_schema(empty_engine)
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_0010_widens_the_heroes_name_index_and_goes_back_keeping_heroes(empty_engine: AsyncEngine) -> None:
    """From 0010 the heroes' name index also holds their secret names and teams (what a search walking it tests);
    going back to 0009 narrows it to (name, id) again, with the heroes kept; coming forward again arrives at the
    models' schema."""

    def name_index(sync: Connection) -> list[str | None]:
        (found,) = [index for index in inspect(sync).get_indexes("hero") if index["name"] == "ix_hero_live_name"]
        return list(found["column_names"])

    async with empty_engine.begin() as connection:
        await connection.run_sync(_to("0009"))
        await connection.execute(text("INSERT INTO hero (id, name, secret_name) VALUES (3, 'Deadpond', 'Dive')"))
        assert await connection.run_sync(name_index) == ["name", "id"]
        await connection.run_sync(_to("0010"))
        assert await connection.run_sync(name_index) == ["name", "id", "secret_name", "team_id"]
        await connection.run_sync(_to("0009", down=True))
        assert await connection.run_sync(name_index) == ["name", "id"]
        assert (await connection.execute(text("SELECT name FROM hero WHERE id = 3"))).scalar_one() == "Deadpond"
    await upgrade_schema(empty_engine)
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_differences) == []

"""`python -m webapp demo --heroes N --teams M`: generated data, the same for the same seed, on both databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.support import Client, all_teams, make_team
from tests.test_cli import run_webapp
from webapp.demo import seed_generated
from webapp.models import Hero


def _ignore(_what: str, _done: int, _total: int) -> None:
    return None


async def _heroes(db: AsyncSession) -> list[tuple[object, ...]]:
    db.expire_all()
    rows = (await db.exec(select(Hero.name, Hero.secret_name, Hero.age, Hero.team_id).order_by(col(Hero.id)))).all()
    await db.commit()
    return [tuple(row) for row in rows]


async def test_generated_data_has_the_counts_asked_for_and_names_unique_teams(
    engine: AsyncEngine, db: AsyncSession
) -> None:
    assert await seed_generated(engine, heroes=1_234, teams=25, seed=7, progress=_ignore)
    heroes, teams = await _heroes(db), await all_teams(db)
    assert (len(heroes), len(teams)) == (1_234, 25)
    assert len({team.name for team in teams}) == 25
    team_ids = {hero[3] for hero in heroes}
    assert None in team_ids  # some heroes have no team
    assert team_ids - {None} <= {team.id for team in teams}


async def test_new_teams_can_be_created_after_generated_ones(
    engine: AsyncEngine, db: AsyncSession, client: Client
) -> None:
    """Generated teams have explicit ids: the id sequence must have moved past them (PostgreSQL)."""
    await seed_generated(engine, heroes=10, teams=30, seed=1, progress=_ignore)
    response = await client.post("/teams", data={"name": "Brand New", "headquarters": "Here"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/teams/31"


async def test_generated_data_is_searchable_at_once_with_planner_statistics(
    engine: AsyncEngine, db: AsyncSession, client: Client, database_kind: str
) -> None:
    """The search index holds the generated heroes (SQLite's triggers ran for the bulk insert), and PostgreSQL
    has statistics for them already: without, its planner took a fresh bulk load for a few rows."""
    await seed_generated(engine, heroes=1_500, teams=15, seed=3, progress=_ignore)
    name = (await _heroes(db))[700][0]
    assert isinstance(name, str)
    response = await client.get("/heroes", params={"q": name, "size": "100"})
    assert response.status_code == 200
    assert f">{name}</a>" in response.text
    if database_kind == "postgresql":
        estimate = (await db.exec(text("SELECT reltuples FROM pg_class WHERE relname = 'hero'"))).one()  # type: ignore[call-overload]
        assert estimate[0] == 1_500


async def test_generated_data_is_added_only_to_an_empty_database(engine: AsyncEngine, db: AsyncSession) -> None:
    await make_team(db)
    assert not await seed_generated(engine, heroes=10, teams=10, seed=1, progress=_ignore)
    assert [team.name for team in await all_teams(db)] == ["Preventers"]


def _dump(database: Path) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(database)
    try:
        heroes = connection.execute("SELECT name, secret_name, age, team_id FROM hero ORDER BY id").fetchall()
        teams = connection.execute("SELECT id, name, headquarters FROM team ORDER BY id").fetchall()
        return heroes + teams
    finally:
        connection.close()


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        database = tmp_path / f"{name}.db"
        result = run_webapp("demo", "--heroes", "300", "--teams", "12", "--seed", seed, database=database)
        assert result.returncode == 0, result.stderr
        assert "Added 300 heroes and 12 teams (seed " in result.stdout
        assert "heroes: 300/300" in result.stderr  # the progress, a line per tenth when not at a terminal
        runs[name] = _dump(database)
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


def test_a_bad_count_is_refused_with_a_message(tmp_path: Path) -> None:
    result = run_webapp("demo", "--heroes", "-5", database=tmp_path / "demo.db")
    assert result.returncode == 2
    assert "expected a count from 0 to 100,000,000" in result.stderr


async def test_generated_rows_go_in_as_multi_row_inserts(engine: AsyncEngine, db: AsyncSession) -> None:
    """Not one INSERT per row: on PostgreSQL each statement fires the live counts' trigger, and one per row
    made a hundred thousand heroes take a minute instead of seconds. The counts still come out right."""
    rows_per_insert: list[int] = []

    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.startswith(("INSERT INTO hero", "INSERT INTO team")):
            rows_per_insert.append(statement.count("), (") + 1)  # one VALUES group per row

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        await seed_generated(engine, heroes=2_500, teams=30, seed=5, progress=_ignore)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert rows_per_insert
    assert min(rows_per_insert) >= 30, rows_per_insert
    counts = (await db.exec(text("SELECT record_type, sum(live) FROM live_count GROUP BY record_type"))).all()
    assert dict(counts) == {"hero": 2_500, "team": 30}

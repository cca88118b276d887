"""Bulk delete of teams: the preview says what happens to their heroes; applying it moves the teams to the trash
as a single delete does (heroes left without a team, each change in their history), and a restore brings the
heroes back; "all matching" takes the teams list's own filter. Bulk delete on every resource is in test_bulk.py.
"""

from __future__ import annotations

from typing import Any

from httpx import Response
from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    Client,
    audit_entries,
    database_state,
    fetch_hero,
    fetch_team,
    form_fields,
    id_of,
    make_hero,
    make_team,
)
from webapp.models import Hero, Team


async def preview(client: Client, selection: list[tuple[str, str]], *, criteria: str = "") -> Response:
    """Press "Delete selected" in the team list's bulk form."""
    params: list[tuple[str, Any]] = [("list", criteria), *selection, ("action", "delete")]
    return await client.get("/teams/bulk", params=params)


async def confirm(client: Client, page: Response) -> Response:
    return await client.post("/teams/bulk/apply", data=form_fields(page.text, "bulk-confirm"), follow_redirects=False)


async def landing_toast(client: Client, response: Response) -> str:
    assert response.status_code == 303, response.text
    return parse((await client.get(response.headers["location"])).text).by_id("toasts").text


async def team_state(db: AsyncSession, team_id: int) -> tuple[bool, int]:
    """(in the trash, version), re-read. Ends its read transaction (SQLite writers wait for it)."""
    team = await fetch_team(db, team_id)
    assert team is not None
    await db.commit()
    return team.deleted_at is not None, team.version


async def team_of(db: AsyncSession, hero_id: int) -> int | None:
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    await db.commit()
    return hero.team_id


async def test_team_delete_preview_says_how_many_heroes_are_left_without_a_team(
    client: Client, db: AsyncSession
) -> None:
    avengers, z_force = await make_team(db, name="Avengers"), await make_team(db, name="Z-Force")
    for name in ("Deadpond", "Rusty-Man"):
        await make_hero(db, name=name, team=avengers)
    await make_hero(db, name="Tarantula", team=z_force)
    selection = [("selected", f"{id_of(avengers)}:1"), ("selected", f"{id_of(z_force)}:1")]
    before = await database_state(db)
    page = await preview(client, selection)
    assert page.status_code == 200
    document = parse(page.text)
    assert document.find("h1").text == "Move 2 teams to the trash?"
    assert "3 heroes will be left without a team." in document.by_id("bulk-preview").text
    assert await database_state(db) == before


async def test_team_bulk_delete_detaches_heroes_as_a_single_delete_and_restore_brings_them_back(
    client: Client, db: AsyncSession
) -> None:
    avengers, z_force = await make_team(db, name="Avengers"), await make_team(db, name="Z-Force")
    team_ids = [id_of(avengers), id_of(z_force)]
    hero_ids = [id_of(await make_hero(db, name=name, team=avengers)) for name in ("Deadpond", "Rusty-Man")]
    selection = [("selected", f"{team_id}:1") for team_id in team_ids]
    response = await confirm(client, await preview(client, selection))
    assert response.headers["location"] == "/teams"
    assert await landing_toast(client, response) == "Moved 2 teams to the trash. 2 heroes left without a team."
    assert [await team_state(db, team_id) for team_id in team_ids] == [(True, 2), (True, 2)]
    assert [await team_of(db, hero_id) for hero_id in hero_ids] == [None, None]
    entries = [(e.action, e.record_type, e.record_id, e.changes, e.note) for e in await audit_entries(db)]
    detached, bulk = {"team_id": [team_ids[0], None]}, "Bulk action on 2 teams."
    assert entries == [
        ("delete", "team", team_ids[0], {"heroes": {str(hero_ids[0]): 2, str(hero_ids[1]): 2}}, bulk),
        ("update", "hero", hero_ids[0], detached, "Team Avengers was deleted."),
        ("update", "hero", hero_ids[1], detached, "Team Avengers was deleted."),
        ("delete", "team", team_ids[1], {"heroes": {}}, bulk),
    ]
    restore = await client.post(f"/teams/{team_ids[0]}/restore", data={"version": "2"}, follow_redirects=False)
    assert restore.status_code == 303
    assert [await team_of(db, hero_id) for hero_id in hero_ids] == [team_ids[0], team_ids[0]]


async def test_team_all_matching_acts_on_the_filtered_teams_on_every_page(client: Client, db: AsyncSession) -> None:
    await db.exec(insert(Team), params=[{"name": f"Empty {n:02d}", "headquarters": "Nowhere"} for n in range(30)])
    await db.commit()
    busy = await make_team(db, name="Busy")
    busy_id = id_of(busy)
    await make_hero(db, name="Deadpond", team=busy)
    listing = parse((await client.get("/teams", params={"has_heroes": "no"})).text)
    assert listing.find("label", **{"for": "team-all-matching"}).text == "Select all 30 matching"
    criteria = listing.by_id("team-bulk").find("input", name="list").attrs["value"]
    page = await preview(client, [("all_matching", "1")], criteria=criteria)
    response = await confirm(client, page)
    assert await landing_toast(client, response) == "Moved 30 teams to the trash."
    db.expire_all()
    live = (await db.exec(select(Team.id).where(col(Team.deleted_at).is_(None)))).all()
    await db.commit()
    assert live == [busy_id]
    assert (await db.exec(select(Hero.team_id))).all() == [busy_id]

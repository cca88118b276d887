"""Bulk "Set team" on heroes (what only heroes have: a team to set, or "No team"), and the bulk form's team
filter: the preview counts what would change, applying it is version-aware and recorded in history like single
changes. Bulk delete, the same for every resource, is in test_bulk.py.

Each test acts as a browser does: it asks for the preview with the values the list's bulk form sends, then
posts the preview's confirm form as served.
"""

from __future__ import annotations

from typing import Any

import pytest
from httpx import Response
from sqlalchemy import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    Client,
    audit_entries,
    database_state,
    fetch_hero,
    field_error,
    form_fields,
    id_of,
    make_hero,
    make_team,
    move_to_trash,
)
from webapp.errors import REPEAT_MESSAGE
from webapp.models import Hero


def ticked(*heroes: Hero) -> list[tuple[str, str]]:
    """The row checkboxes of these heroes, ticked: "id:version" as each row renders it."""
    return [("selected", f"{id_of(hero)}:{hero.version}") for hero in heroes]


async def preview(
    client: Client, action: str, selection: list[tuple[str, str]], *, criteria: str = "", team: str = ""
) -> Response:
    """Press "Delete selected" or "Set team" in the list's bulk form."""
    params: list[tuple[str, Any]] = [("list", criteria), *selection, ("team", team), ("action", action)]
    return await client.get("/heroes/bulk", params=params)


async def confirm(client: Client, page: Response) -> Response:
    """Press the preview's Delete / Apply button."""
    return await client.post("/heroes/bulk/apply", data=form_fields(page.text, "bulk-confirm"), follow_redirects=False)


async def landing_toast(client: Client, response: Response) -> str:
    """The status message on the page a redirect leads to."""
    assert response.status_code == 303, response.text
    return parse((await client.get(response.headers["location"])).text).by_id("toasts").text


def outcome(page: Response) -> list[str]:
    return [item.text for item in parse(page.text).by_id("bulk-outcome").find_all("li")]


def heading(page: Response) -> str:
    return parse(page.text).find("h1").text


async def stored(db: AsyncSession, hero_id: int) -> Hero:
    """The hero as stored. Ends its read transaction (SQLite writers wait for it)."""
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    await db.commit()
    return hero


def trash_state(hero: Hero) -> tuple[bool, str | None, int]:
    return hero.deleted_at is not None, hero.deleted_by, hero.version


async def edit_meanwhile(db: AsyncSession, hero: Hero) -> None:
    """Someone else saves the hero: its version moves on."""
    hero.secret_name, hero.version = hero.secret_name + " Jr.", hero.version + 1
    db.add(hero)
    await db.commit()


async def test_set_team_dry_run_counts_changes_unchanged_and_those_that_cannot(
    client: Client, db: AsyncSession
) -> None:
    avengers = await make_team(db, name="Avengers", headquarters="Tower")
    moving = await make_hero(db, name="Deadpond")
    member = await make_hero(db, name="Rusty-Man", team=avengers)
    edited = await make_hero(db, name="Tarantula")
    trashed = await make_hero(db, name="Dormammu")
    selection = ticked(moving, member, edited, trashed)
    await edit_meanwhile(db, edited)
    await move_to_trash(db, trashed)
    before = await database_state(db)
    page = await preview(client, "set_team", selection, team="Avengers")
    assert page.status_code == 200
    assert heading(page) == "Set team Avengers on 1 hero?"
    assert outcome(page) == [
        "1 hero will change to team Avengers.",
        "1 hero is in Avengers already: unchanged.",
        "1 hero changed since you selected it, so it will be left alone: Tarantula.",
        "1 hero is in the trash and will be left alone: Dormammu.",
    ]
    assert await database_state(db) == before


async def test_set_team_applies_to_heroes_as_selected_and_skips_those_changed_since(
    client: Client, db: AsyncSession
) -> None:
    avengers = await make_team(db, name="Avengers", headquarters="Tower")
    team_id = id_of(avengers)
    first, second = [await make_hero(db, name=name) for name in ("Deadpond", "Rusty-Man")]
    member = await make_hero(db, name="Tarantula", team=avengers)
    ids = [id_of(hero) for hero in (first, second, member)]
    page = await preview(client, "set_team", ticked(first, second, member), team="Avengers")
    await edit_meanwhile(db, second)  # after the dry run, before the apply
    response = await confirm(client, page)
    assert await landing_toast(client, response) == (
        "Set team Avengers on 1 hero; 1 was already in it. 1 hero changed since you selected them and was left alone."
    )
    assert [(await stored(db, hero_id)).team_id for hero_id in ids] == [team_id, None, team_id]
    entries = await audit_entries(db)
    assert [(e.action, e.record_id, e.label, e.changes) for e in entries] == [
        ("update", ids[0], "Deadpond", {"team_id": [None, team_id]})
    ]


async def test_set_no_team_takes_heroes_out_of_their_teams(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Avengers", headquarters="Tower")
    heroes = [await make_hero(db, name=name, team=team) for name in ("Deadpond", "Rusty-Man")]
    ids = [id_of(hero) for hero in heroes]
    page = await preview(client, "set_team", ticked(*heroes), team="No team")
    assert heading(page) == "Take 2 heroes out of their teams?"
    assert await landing_toast(client, await confirm(client, page)) == "Took 2 heroes out of their teams."
    assert [(await stored(db, hero_id)).team_id for hero_id in ids] == [None, None]


async def test_bulk_team_change_is_reverted_from_the_heros_history(client: Client, db: AsyncSession) -> None:
    old = await make_team(db, name="Avengers")
    await make_team(db, name="Z-Force")
    hero = await make_hero(db, name="Deadpond", team=old)
    hero_id, old_id = id_of(hero), id_of(old)
    await confirm(client, await preview(client, "set_team", ticked(hero), team="Z-Force"))
    (entry,) = await audit_entries(db)
    revert = await client.post(
        f"/heroes/{hero_id}/history/{entry.id}/revert", data={"version": "2"}, follow_redirects=False
    )
    assert revert.status_code == 303
    assert (await stored(db, hero_id)).team_id == old_id


@pytest.mark.parametrize("typed", ["Nobody", ""])
async def test_set_team_to_no_such_team_is_422_beside_the_field_keeping_the_selection(
    client: Client, db: AsyncSession, typed: str
) -> None:
    selection = ticked(await make_hero(db, name="Deadpond"))
    before = await database_state(db)
    page = await preview(client, "set_team", selection, team=typed)
    assert page.status_code == 422
    message = field_error(page.text, "bulk-team")
    assert message is not None
    assert ("Nobody" if typed else "No team") in message
    retry = form_fields(page.text, "bulk-retry")
    assert (retry["selected"], retry["team"]) == (selection[0][1], typed)
    assert await database_state(db) == before


async def test_set_team_to_a_team_deleted_after_the_preview_changes_nothing(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Avengers")
    hero = await make_hero(db, name="Deadpond")
    page = await preview(client, "set_team", ticked(hero), team="Avengers")
    await move_to_trash(db, team)
    before = await database_state(db)
    response = await confirm(client, page)
    assert response.status_code == 409
    assert "deleted after the preview" in response.text
    assert await database_state(db) == before


async def test_all_matching_acts_on_exactly_the_heroes_the_search_and_filters_select_on_every_page(
    client: Client, db: AsyncSession
) -> None:
    team_id = id_of(await make_team(db, name="Avengers"))
    rows: list[dict[str, Any]] = [{"name": f"Spider {n:02d}", "secret_name": "S", "age": 20} for n in range(30)]
    rows += [{"name": f"Spider old {n}", "secret_name": "S", "age": 90} for n in range(3)]
    rows += [{"name": f"Bat {n}", "secret_name": "B", "age": 20} for n in range(3)]
    await db.exec(insert(Hero), params=rows)
    await db.commit()
    listing = parse((await client.get("/heroes", params={"q": "Spider", "max_age": "50"})).text)
    assert listing.find("label", **{"for": "hero-all-matching"}).text == "Select all 30 matching"
    criteria = listing.by_id("hero-bulk").find("input", name="list").attrs["value"]
    # The page's rows are ticked too ("Select all"): "all matching" decides.
    page_rows = [("selected", box.attrs["value"]) for box in listing.find_all("input", name="selected")]
    page = await preview(client, "set_team", [*page_rows, ("all_matching", "1")], criteria=criteria, team="Avengers")
    assert heading(page) == "Set team Avengers on 30 heroes?"
    response = await confirm(client, page)
    assert response.headers["location"] == "/heroes?q=Spider&max_age=50"
    assert await landing_toast(client, response) == "Set team Avengers on 30 heroes."
    db.expire_all()
    stored_rows = (await db.exec(select(Hero.name, Hero.team_id))).all()
    await db.commit()
    assert sorted(name for name, team in stored_rows if team == team_id) == [f"Spider {n:02d}" for n in range(30)]
    assert len([name for name, team in stored_rows if team is None]) == 6
    assert len(await audit_entries(db)) == 30


async def test_malformed_set_team_form_is_a_400_page(client: Client, db: AsyncSession) -> None:
    """A hero list's filter or a team id no form of ours sends (an unknown action or sort: test_bulk.py)."""
    hero_id = id_of(await make_hero(db))
    before = await database_state(db)
    for field, value in (("list", "min_age=old"), ("team_id", "x")):
        form = {"action": "set_team", "selected": f"{hero_id}:1", "list": "", "team_id": ""} | {field: value}
        response = await client.post("/heroes/bulk/apply", data=form, follow_redirects=False)
        assert response.status_code == 400, (field, value)
    assert await database_state(db) == before


async def test_set_team_confirm_sent_twice_applies_once(client: Client, db: AsyncSession) -> None:
    heroes = [await make_hero(db, name=name) for name in ("Deadpond", "Rusty-Man")]
    ids = [id_of(hero) for hero in heroes]
    team_id = id_of(await make_team(db, name="Avengers"))
    form = form_fields((await preview(client, "set_team", ticked(*heroes), team="Avengers")).text, "bulk-confirm")
    first = await client.post("/heroes/bulk/apply", data=form, follow_redirects=False)
    second = await client.post("/heroes/bulk/apply", data=form, follow_redirects=False)
    assert (first.status_code, second.status_code) == (303, 303)
    assert second.headers["location"] == first.headers["location"]
    assert await landing_toast(client, second) == REPEAT_MESSAGE
    assert [(await stored(db, hero_id)).version for hero_id in ids] == [2, 2]
    assert [(e.action, e.changes) for e in await audit_entries(db)] == [("update", {"team_id": [None, team_id]})] * 2


async def test_unknown_team_filter_in_all_matching_is_422(client: Client, db: AsyncSession) -> None:
    await make_hero(db)
    before = await database_state(db)
    page = await preview(client, "delete", [("all_matching", "1")], criteria="team=Nobody")
    assert page.status_code == 422
    assert "Nobody" in page.text
    assert await database_state(db) == before

"""What only a hero's pages show: its age and team in the list row and on its page (a link to the team, or
"No team"), the team named on the delete confirmation, and a delete that leaves the team and its other heroes.

Every resource's list, detail, delete and address behaviour is in the test_records_*.py files.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import Element, parse
from tests.support import Client, all_heroes, fetch_team, form_fields, id_of, make_hero, make_team


def cell(row: Element, column: str) -> Element:
    return row.find("td", data_label=column)


async def test_hero_list_row_shows_hero_fields(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    hero = await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=48, team=team)
    row = parse((await client.get("/heroes")).text).by_id(f"hero-{hero.id}")
    assert [cell(row, column).text for column in ("Name", "Secret name", "Age", "Team")] == [
        "Deadpond",
        "Dive Wilson",
        "48",
        "Z-Force",
    ]


async def test_hero_list_team_name_links_to_the_team(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    hero = await make_hero(db, team=team)
    row = parse((await client.get("/heroes")).text).by_id(f"hero-{hero.id}")
    assert row.find("a", href=f"/teams/{team.id}").text == "Z-Force"


async def test_hero_list_teamless_hero_shows_no_team(client: Client, db: AsyncSession) -> None:
    hero = await make_hero(db)
    team_cell = cell(parse((await client.get("/heroes")).text).by_id(f"hero-{hero.id}"), "Team")
    assert team_cell.text == "No team"
    assert not team_cell.has("a")


async def test_hero_detail_shows_the_hero(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    hero = await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=48, team=team)
    response = await client.get(f"/heroes/{hero.id}")
    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("h1").text == "Deadpond"
    facts = dict(zip((dt.text for dt in page.find_all("dt")), (dd.text for dd in page.find_all("dd")), strict=True))
    assert facts == {"Secret name": "Dive Wilson", "Age": "48", "Team": "Z-Force"}
    assert page.by_id("hero-detail").find("a", href=f"/teams/{team.id}").text == "Z-Force"


async def test_hero_detail_without_age_or_team_says_so(client: Client, db: AsyncSession) -> None:
    hero = await make_hero(db, age=None, team=None)
    detail = parse((await client.get(f"/heroes/{hero.id}")).text).by_id("hero-detail")
    assert [dd.text for dd in detail.find_all("dd")][1:] == ["Unknown", "No team"]


async def test_confirm_delete_page_names_the_team(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", team=await make_team(db, name="Z-Force")))
    form = parse((await client.get(f"/heroes/{hero_id}/delete")).text).by_id("hero-delete")
    assert "Deadpond of Z-Force" in form.text


async def test_delete_hero_keeps_its_team_and_the_other_heroes(client: Client, db: AsyncSession) -> None:
    team = await make_team(db)
    team_id = id_of(team)
    hero_id = id_of(await make_hero(db, name="Deadpond", team=team))
    other_id = id_of(await make_hero(db, name="Rusty-Man", team=team))
    form = form_fields((await client.get(f"/heroes/{hero_id}/delete")).text, "hero-delete")
    assert (await client.post(f"/heroes/{hero_id}/delete", data=form, follow_redirects=False)).status_code == 303
    # The trashed hero keeps its team, so a restore puts it back where it was.
    heroes = [(hero.id, hero.team_id, hero.deleted_at is None, hero.version) for hero in await all_heroes(db)]
    assert heroes == [(hero_id, team_id, False, 2), (other_id, team_id, True, 1)]
    kept_team = await fetch_team(db, team_id)
    assert kept_team is not None
    assert (kept_team.deleted_at, kept_team.version) == (None, 1)

"""What only teams have: each team's hero count, its page listing its heroes, a name no other live team may have
(409 beside the field), and a delete that leaves its heroes without a team, says so and records each of them.

Every resource's list, detail, create, edit and delete behaviour is in the test_records_*.py files; a team's
restore bringing its heroes back is in test_trash.py.
"""

from __future__ import annotations

import json

import pytest
from httpx import Response
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    HTMX,
    Client,
    all_heroes,
    all_teams,
    audit_entries,
    fetch_team,
    field_error,
    form_fields,
    id_of,
    is_full_page,
    make_hero,
    make_team,
    toast,
)
from webapp.models import Hero, Team

TRASH_NOTE = "It goes to the trash, where it can be restored."
TAKEN = "A team named “Preventers” already exists."


def row_by_column(html: str, row_id: str) -> dict[str, str]:
    """A list row's cells keyed by their column (data-label, which the narrow layout shows beside each cell)."""
    row = parse(html).by_id(row_id)
    return {cell.attrs["data-label"]: cell.text for cell in row.find_all("td") if "data-label" in cell.attrs}


async def team_with_heroes(db: AsyncSession, count: int, name: str = "Preventers") -> Team:
    team = await make_team(db, name=name)
    for number in range(count):
        await make_hero(db, name=f"Hero {number}", secret_name=f"Secret {number}", team=team)
    return team


async def stored(db: AsyncSession, team_id: int | None) -> Team:
    """The team as stored, in the trash or not (the read ended)."""
    team = await fetch_team(db, team_id or 0)
    assert team is not None
    await db.commit()
    return team


async def save(client: Client, team_id: int | None, changes: dict[str, str], htmx: bool = False) -> Response:
    """Open the edit form (page or inline row), change what is given, and send it as the browser would."""
    headers = HTMX if htmx else None
    served = await client.get(f"/teams/{team_id}/edit", headers=headers)
    data = form_fields(served.text, f"team-{team_id}-form" if htmx else "team-form") | changes
    return await client.post(f"/teams/{team_id}", data=data, headers=headers, follow_redirects=False)


async def delete_team(client: Client, team_id: int | None) -> Response:
    """Open the confirmation page and press Delete, as a browser without JavaScript does."""
    form = form_fields((await client.get(f"/teams/{team_id}/delete")).text, "team-delete")
    return await client.post(f"/teams/{team_id}/delete", data=form, follow_redirects=False)


# --- the list and the team's page -----------------------------------------------------------------------------


async def test_team_list_shows_each_teams_hero_count(client: Client, db: AsyncSession) -> None:
    crowded = await team_with_heroes(db, 3)
    empty = await make_team(db, name="Z-Force", headquarters="Sister Margaret's Bar")
    response = await client.get("/teams")
    assert response.status_code == 200
    assert row_by_column(response.text, f"team-{crowded.id}")["Heroes"] == "3"
    assert row_by_column(response.text, f"team-{empty.id}")["Heroes"] == "0"


async def test_team_detail_lists_its_heroes_as_links(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    other = await make_team(db, name="Z-Force", headquarters="Sister Margaret's Bar")
    members = [await make_hero(db, name=name, team=team) for name in ("Rusty-Man", "Tarantula")]
    outsider = await make_hero(db, name="Deadpond", team=other)
    links = {a.text: a.attrs.get("href") for a in parse((await client.get(f"/teams/{team.id}")).text).find_all("a")}
    assert links["Rusty-Man"] == f"/heroes/{members[0].id}"
    assert links["Tarantula"] == f"/heroes/{members[1].id}"
    assert outsider.name not in links


async def test_team_detail_without_heroes_says_so(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    response = await client.get(f"/teams/{team.id}")
    assert response.status_code == 200
    assert "No heroes in this team yet." in parse(response.text).by_id("team-detail").text


async def test_team_detail_shows_the_first_hundred_heroes_and_says_how_many_in_all(
    client: Client, db: AsyncSession
) -> None:
    team = await make_team(db, name="Big Team")
    db.add_all(Hero(name=f"Hero {n:03d}", secret_name="s", team_id=team.id) for n in range(105))
    await db.commit()
    response = await client.get(f"/teams/{team.id}")
    rows = [row for row in parse(response.text).find_all("tr") if row.attrs.get("id", "").startswith("team-hero-")]
    assert [row.text.split()[1] for row in rows] == [f"{n:03d}" for n in range(100)]
    assert "Showing the first 100 of 105 heroes" in parse(response.text).by_id("team-detail").text


# --- a name no other live team has ----------------------------------------------------------------------------


async def test_create_team_duplicate_name_409_with_message_beside_name(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await client.post("/teams", data={"name": "Preventers", "headquarters": "Elsewhere"})
    assert response.status_code == 409
    assert field_error(response.text, "team-form-name") == TAKEN
    assert parse(response.text).by_id("team-form-headquarters").attrs["value"] == "Elsewhere"
    assert [(t.name, t.headquarters) for t in await all_teams(db)] == [("Preventers", "Sharp Tower")]


async def test_create_team_htmx_duplicate_name_returns_form_fragment_409(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await client.post("/teams", data={"name": "Preventers", "headquarters": "Elsewhere"}, headers=HTMX)
    assert response.status_code == 409
    assert not is_full_page(response.text)
    assert field_error(response.text, "team-form-name") == TAKEN
    assert len(await all_teams(db)) == 1


async def test_update_team_keeping_its_own_name_is_not_a_conflict(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await save(client, team.id, {"name": "Preventers", "headquarters": "Tall Tower"})
    assert response.status_code == 303
    assert (await stored(db, team.id)).headquarters == "Tall Tower"


async def test_update_team_to_another_teams_name_409_beside_name(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers", headquarters="Sharp Tower")
    other = await make_team(db, name="Z-Force", headquarters="Sister Margaret's Bar")
    response = await save(client, other.id, {"name": "Preventers", "headquarters": "Elsewhere"})
    assert response.status_code == 409
    assert field_error(response.text, "team-form-name") == TAKEN
    assert form_fields(response.text, "team-form")["version"] == "1"
    assert [(t.name, t.headquarters, t.version) for t in await all_teams(db)] == [
        ("Preventers", "Sharp Tower", 1),
        ("Z-Force", "Sister Margaret's Bar", 1),
    ]


async def test_update_team_htmx_to_another_teams_name_409_inline_row(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers", headquarters="Sharp Tower")
    other = await make_team(db, name="Z-Force", headquarters="Sister Margaret's Bar")
    response = await save(client, other.id, {"name": "Preventers", "headquarters": "Elsewhere"}, htmx=True)
    row_id = f"team-{other.id}"
    assert response.status_code == 409
    assert parse(response.text).by_id(row_id).tag == "tr"
    assert field_error(response.text, f"{row_id}-name") == TAKEN
    saved = await stored(db, other.id)
    assert (saved.name, saved.version) == ("Z-Force", 1)


# --- delete: the heroes are left without a team ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("heroes", "consequence"),
    [
        (3, "3 heroes will be left without a team."),
        (1, "1 hero will be left without a team."),
        (0, "No heroes are in this team."),
    ],
)
async def test_delete_confirmation_says_what_happens_to_the_heroes(
    client: Client, db: AsyncSession, heroes: int, consequence: str
) -> None:
    team = await team_with_heroes(db, heroes)
    response = await client.get(f"/teams/{team.id}/delete")
    assert response.status_code == 200
    assert f"{consequence} {TRASH_NOTE}" in parse(response.text).by_id("team-delete").text


@pytest.mark.parametrize(
    ("heroes", "message"),
    [
        (0, "Moved team Preventers to the trash."),
        (1, "Moved team Preventers to the trash. 1 hero left without a team; Undo puts them back."),
        (3, "Moved team Preventers to the trash. 3 heroes left without a team; Undo puts them back."),
    ],
)
async def test_delete_team_toast_says_how_many_heroes_were_left_without_a_team(
    client: Client, db: AsyncSession, heroes: int, message: str
) -> None:
    team = await team_with_heroes(db, heroes)
    response = await delete_team(client, team.id)
    landing = await client.get(response.headers["location"])
    assert toast(landing) == f"{message} Undo"  # the message, then its Undo button
    assert toast(await client.get("/teams")) == ""


async def test_delete_team_keeps_its_heroes_without_a_team(client: Client, db: AsyncSession) -> None:
    team = await team_with_heroes(db, 3)
    other = await make_team(db, name="Z-Force")
    outsider = await make_hero(db, name="Deadpond", team=other)
    await delete_team(client, team.id)
    heroes = {hero.name: (hero.team_id, hero.version, hero.deleted_at) for hero in await all_heroes(db)}
    assert heroes == {
        "Hero 0": (None, 2, None),
        "Hero 1": (None, 2, None),
        "Hero 2": (None, 2, None),
        "Deadpond": (outsider.team_id, 1, None),
    }


async def test_delete_team_records_the_heroes_it_detached(client: Client, db: AsyncSession) -> None:
    team_id = id_of(await team_with_heroes(db, 2))
    hero_ids = [id_of(hero) for hero in await all_heroes(db)]
    await make_hero(db, name="Deadpond", team=await make_team(db, name="Z-Force"))
    await delete_team(client, team_id)
    entries = await audit_entries(db)
    shown = [(e.action, e.record_type, e.record_id, e.changes, e.note, e.username) for e in entries]
    note = "Team Preventers was deleted."
    # The team's entry remembers each hero's version after leaving (a restore takes back only those untouched).
    assert shown[0] == ("delete", "team", team_id, {"heroes": {str(hero_id): 2 for hero_id in hero_ids}}, "", "eddie")
    assert sorted(shown[1:], key=lambda entry: entry[2] or 0) == [
        ("update", "hero", hero_id, {"team_id": [team_id, None]}, note, "eddie") for hero_id in hero_ids
    ]
    assert len({entry.request_id for entry in entries}) == 1


async def test_delete_team_htmx_keeps_its_heroes_without_a_team(client: Client, db: AsyncSession) -> None:
    team = await team_with_heroes(db, 2)
    row = parse((await client.get("/teams")).text).by_id(f"team-{team.id}")
    button = row.find("a", hx_post=f"/teams/{team.id}/delete")
    await client.post(button.attrs["hx-post"], data=json.loads(button.attrs["hx-vals"]), headers=HTMX)
    assert [(hero.name, hero.team_id) for hero in await all_heroes(db)] == [("Hero 0", None), ("Hero 1", None)]


async def test_deleting_a_team_in_sql_sets_its_heroes_team_to_null(db: AsyncSession) -> None:
    """The database itself enforces ON DELETE SET NULL (SQLite needs foreign_keys=ON for it)."""
    team = await team_with_heroes(db, 2)
    await db.exec(delete(Team).where(col(Team.id) == team.id))
    await db.commit()
    assert [hero.team_id for hero in await all_heroes(db)] == [None, None]


async def test_hero_cannot_point_at_a_missing_team(db: AsyncSession) -> None:
    """Foreign keys are enforced on both databases."""
    await make_hero(db)
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        await db.exec(update(Hero).values(team_id=12345))
    await db.rollback()

"""Teams: editing (full page and inline row), deleting to the trash (heroes stay, teamless), and 404s for bad ids.

Saves and deletes send the version the served form or the row's Delete button carries, as a browser would.
"""

from __future__ import annotations

import json

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX
from tests.factories import (
    all_heroes,
    all_teams,
    audit_entries,
    fetch_team,
    field_error,
    form_fields,
    id_of,
    make_hero,
    make_team,
)
from tests.markup import Element, parse
from webapp.models import Hero, Team

Client = AsyncTestClient[Litestar]

TRASH_NOTE = "It goes to the trash, where it can be restored."


def is_full_page(html: str) -> bool:
    document = parse(html)
    return document.has("html") and document.has("body")


def cells(row: Element) -> list[str]:
    return [cell.text for cell in row.find_all("td")]


async def team_with_heroes(db: AsyncSession, count: int, name: str = "Preventers") -> Team:
    team = await make_team(db, name=name)
    for number in range(count):
        await make_hero(db, name=f"Hero {number}", secret_name=f"Secret {number}", team=team)
    return team


async def stored(db: AsyncSession, team_id: int | None) -> Team:
    """The team as stored, in the trash or not. Ends its read transaction (SQLite writers wait for it)."""
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


async def delete_from_the_row(client: Client, team_id: int | None) -> Response:
    """Press the list row's Delete button, as htmx does: it posts the values the button carries."""
    row = parse((await client.get("/teams")).text).by_id(f"team-{team_id}")
    button = row.find("a", hx_post=f"/teams/{team_id}/delete")
    return await client.post(button.attrs["hx-post"], data=json.loads(button.attrs["hx-vals"]), headers=HTMX)


# --- edit --------------------------------------------------------------------------------------------------


async def test_edit_team_page_shows_the_current_values(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await client.get(f"/teams/{team.id}/edit")
    document = parse(response.text)
    assert response.status_code == 200
    assert is_full_page(response.text)
    assert document.by_id("team-form").attrs["action"] == f"/teams/{team.id}"
    assert document.by_id("team-form-name").attrs["value"] == "Preventers"
    assert document.by_id("team-form-headquarters").attrs["value"] == "Sharp Tower"
    assert form_fields(response.text, "team-form")["version"] == "1"


async def test_update_team_redirects_303_to_the_team_and_saves(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await save(client, team.id, {"name": "Preventers II", "headquarters": "Tall Tower"})
    saved = await stored(db, team.id)
    assert response.status_code == 303
    assert response.headers["location"] == f"/teams/{team.id}"
    assert (saved.name, saved.headquarters, saved.version) == ("Preventers II", "Tall Tower", 2)


async def test_update_team_toast_appears_on_the_next_page(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    response = await save(client, team.id, {"name": "Preventers II", "headquarters": "Tall Tower"})
    landing = await client.get(response.headers["location"])
    assert landing.status_code == 200
    assert parse(landing.text).by_id("toasts").text == "Saved team Preventers II."


async def test_update_team_keeping_its_own_name_is_not_a_conflict(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await save(client, team.id, {"name": "Preventers", "headquarters": "Tall Tower"})
    saved = await stored(db, team.id)
    assert response.status_code == 303
    assert saved.headquarters == "Tall Tower"


async def test_update_team_invalid_input_422_keeps_the_stored_team(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await save(client, team.id, {"name": "", "headquarters": "Tall Tower"})
    saved = await stored(db, team.id)
    assert response.status_code == 422
    assert field_error(response.text, "team-form-name") == "Name is required."
    assert parse(response.text).by_id("team-form-headquarters").attrs["value"] == "Tall Tower"
    assert (saved.name, saved.headquarters, saved.version) == ("Preventers", "Sharp Tower", 1)


async def test_update_team_to_another_teams_name_409_beside_name(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers", headquarters="Sharp Tower")
    other = await make_team(db, name="Z-Force", headquarters="Sister Margaret's Bar")
    response = await save(client, other.id, {"name": "Preventers", "headquarters": "Elsewhere"})
    assert response.status_code == 409
    assert field_error(response.text, "team-form-name") == "A team named “Preventers” already exists."
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
    assert field_error(response.text, f"{row_id}-name") == "A team named “Preventers” already exists."
    saved = await stored(db, other.id)
    assert (saved.name, saved.version) == ("Z-Force", 1)


# --- inline edit -------------------------------------------------------------------------------------------


async def test_edit_team_htmx_returns_the_row_as_inputs(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await client.get(f"/teams/{team.id}/edit", headers=HTMX)
    row_id = f"team-{team.id}"
    document = parse(response.text)
    assert response.status_code == 200
    assert not is_full_page(response.text)
    assert document.by_id(row_id).tag == "tr"
    inputs = {e.attrs.get("aria-label"): e.attrs for e in parse(response.text).find_all("input")}
    assert inputs["Name"]["value"] == "Preventers"
    assert inputs["Headquarters"]["value"] == "Sharp Tower"
    assert {b.text for b in parse(response.text).find_all("button")} == {"Save"}
    assert "Cancel" in [a.text for a in parse(response.text).find_all("a")]
    assert form_fields(response.text, f"{row_id}-form")["version"] == "1"


async def test_update_team_htmx_returns_the_read_only_row(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    await make_hero(db, team=team)
    response = await save(client, team.id, {"name": "Preventers II", "headquarters": "Tall Tower"}, htmx=True)
    row = parse(response.text).by_id(f"team-{team.id}")
    assert response.status_code == 200
    assert [field.attrs.get("name") for field in parse(response.text).find_all("input")] == [
        "selected"
    ]  # no edit fields
    assert cells(row)[:3] == ["Preventers II", "Tall Tower", "1"]
    saved = await stored(db, team.id)
    assert (saved.name, saved.version) == ("Preventers II", 2)


async def test_update_team_htmx_carries_the_toast(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    response = await save(client, team.id, {"name": "Preventers II", "headquarters": "Tall Tower"}, htmx=True)
    toasts = parse(response.text).by_id("toasts")
    assert toasts.attrs.get("hx-swap-oob")
    assert toasts.text == "Saved team Preventers II."


async def test_update_team_htmx_invalid_returns_the_row_form_422(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    row_id = f"team-{team.id}"
    response = await save(client, team.id, {"name": "Preventers", "headquarters": ""}, htmx=True)
    assert response.status_code == 422
    assert parse(response.text).by_id(row_id).tag == "tr"
    assert field_error(response.text, f"{row_id}-headquarters") == "Headquarters is required."
    assert parse(response.text).by_id(f"{row_id}-name").attrs["value"] == "Preventers"
    saved = await stored(db, team.id)
    assert (saved.headquarters, saved.version) == ("Sharp Tower", 1)


async def test_team_row_htmx_returns_the_read_only_row_for_cancel(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await client.get(f"/teams/{team.id}/row", headers=HTMX)
    assert response.status_code == 200
    assert cells(parse(response.text).by_id(f"team-{team.id}"))[:2] == ["Preventers", "Sharp Tower"]
    assert [field.attrs.get("name") for field in parse(response.text).find_all("input")] == [
        "selected"
    ]  # no edit fields


async def test_team_row_without_htmx_redirects_to_the_team(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    response = await client.get(f"/teams/{team.id}/row", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/teams/{team.id}"


# --- delete ------------------------------------------------------------------------------------------------


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


async def test_delete_confirmation_is_a_post_form_with_a_delete_button(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    response = await client.get(f"/teams/{team.id}/delete")
    form = parse(response.text).by_id("team-delete")
    assert form.tag == "form"
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == f"/teams/{team.id}/delete"
    assert "Delete" in [b.text for b in parse(response.text).find_all("button")]
    assert form_fields(response.text, "team-delete")["version"] == "1"
    saved = await stored(db, team.id)
    assert (saved.deleted_at, saved.version) == (None, 1)


async def test_delete_team_redirects_303_to_the_list_and_moves_it_to_the_trash(
    client: Client, db: AsyncSession
) -> None:
    team = await make_team(db, name="Preventers")
    response = await delete_team(client, team.id)
    assert response.status_code == 303
    assert response.headers["location"] == "/teams"
    saved = await stored(db, team.id)
    assert saved.deleted_at is not None
    assert (saved.deleted_by, saved.version) == ("eddie", 2)
    landing = parse((await client.get("/teams")).text)
    assert not landing.has(id=f"team-{team.id}")
    assert "No teams yet" in landing.by_id("team-summary").text


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
    assert parse(landing.text).by_id("toasts").text == f"{message} Undo"  # the message, then its Undo button
    assert parse((await client.get("/teams")).text).by_id("toasts").text == ""


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
    team = await team_with_heroes(db, 2)
    team_id = id_of(team)
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


async def test_delete_team_htmx_answers_200_with_count_and_toast(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    await make_team(db, name="Z-Force")
    response = await delete_from_the_row(client, team.id)
    document = parse(response.text)
    assert response.status_code == 200
    assert parse(response.text).find_all("tr") == []
    assert document.by_id("team-summary").text == "1 team"
    assert document.by_id("toasts").text == "Moved team Preventers to the trash. Undo"
    assert [(t.name, t.deleted_at is None) for t in await all_teams(db)] == [("Preventers", False), ("Z-Force", True)]


async def test_delete_team_htmx_keeps_its_heroes_without_a_team(client: Client, db: AsyncSession) -> None:
    team = await team_with_heroes(db, 2)
    await delete_from_the_row(client, team.id)
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


# --- unknown and malformed ids -----------------------------------------------------------------------------

BAD_IDS = ["999", "0", "-1", "abc", "1.5", "99999999999999999999", "2147483648"]


@pytest.mark.parametrize("team_id", BAD_IDS)
@pytest.mark.parametrize("suffix", ["", "/edit", "/row", "/delete"])
async def test_get_unknown_or_malformed_team_id_is_404_html(
    client: Client, db: AsyncSession, team_id: str, suffix: str
) -> None:
    response = await client.get(f"/teams/{team_id}{suffix}", follow_redirects=False)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not found" in [h.text for h in parse(response.text).find_all("h1")]


@pytest.mark.parametrize("team_id", BAD_IDS)
@pytest.mark.parametrize("suffix", ["", "/delete"])
async def test_post_unknown_or_malformed_team_id_is_404_html_and_changes_nothing(
    client: Client, db: AsyncSession, team_id: str, suffix: str
) -> None:
    await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await client.post(
        f"/teams/{team_id}{suffix}", data={"name": "Z-Force", "headquarters": "Bar"}, follow_redirects=False
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert [(t.name, t.headquarters) for t in await all_teams(db)] == [("Preventers", "Sharp Tower")]


async def test_unknown_team_id_htmx_gets_the_alert_fragment_404(client: Client, db: AsyncSession) -> None:
    response = await client.get("/teams/999/edit", headers=HTMX)
    assert response.status_code == 404
    assert not is_full_page(response.text)
    assert [a.attrs.get("role") for a in parse(response.text).find_all("div")] == ["alert"]
    assert response.headers["hx-retarget"] == "#toasts"

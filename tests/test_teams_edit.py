"""Teams: editing (full page and inline row), deleting (heroes stay, teamless), and 404s for bad ids."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX
from tests.factories import all_heroes, all_teams, fetch_team, field_error, make_hero, make_team
from tests.markup import Element, parse
from webapp.models import Hero, Team

Client = AsyncTestClient[Litestar]


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


async def test_update_team_redirects_303_to_the_team_and_saves(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await client.post(
        f"/teams/{team.id}", data={"name": "Preventers II", "headquarters": "Tall Tower"}, follow_redirects=False
    )
    saved = await fetch_team(db, team.id or 0)
    assert response.status_code == 303
    assert response.headers["location"] == f"/teams/{team.id}"
    assert saved is not None
    assert (saved.name, saved.headquarters) == ("Preventers II", "Tall Tower")


async def test_update_team_toast_appears_on_the_next_page(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    response = await client.post(f"/teams/{team.id}", data={"name": "Preventers II", "headquarters": "Tall Tower"})
    assert response.status_code == 200
    assert parse(response.text).by_id("toasts").text == "Saved team Preventers II."


async def test_update_team_keeping_its_own_name_is_not_a_conflict(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await client.post(
        f"/teams/{team.id}", data={"name": "Preventers", "headquarters": "Tall Tower"}, follow_redirects=False
    )
    saved = await fetch_team(db, team.id or 0)
    assert response.status_code == 303
    assert saved is not None
    assert saved.headquarters == "Tall Tower"


async def test_update_team_invalid_input_422_keeps_the_stored_team(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await client.post(f"/teams/{team.id}", data={"name": "", "headquarters": "Tall Tower"})
    saved = await fetch_team(db, team.id or 0)
    assert response.status_code == 422
    assert field_error(response.text, "team-form-name") == "Name is required."
    assert parse(response.text).by_id("team-form-headquarters").attrs["value"] == "Tall Tower"
    assert saved is not None
    assert (saved.name, saved.headquarters) == ("Preventers", "Sharp Tower")


async def test_update_team_to_another_teams_name_409_beside_name(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers", headquarters="Sharp Tower")
    other = await make_team(db, name="Z-Force", headquarters="Sister Margaret's Bar")
    response = await client.post(f"/teams/{other.id}", data={"name": "Preventers", "headquarters": "Elsewhere"})
    assert response.status_code == 409
    assert field_error(response.text, "team-form-name") == "A team named “Preventers” already exists."
    assert [(t.name, t.headquarters) for t in await all_teams(db)] == [
        ("Preventers", "Sharp Tower"),
        ("Z-Force", "Sister Margaret's Bar"),
    ]


async def test_update_team_htmx_to_another_teams_name_409_inline_row(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers", headquarters="Sharp Tower")
    other = await make_team(db, name="Z-Force", headquarters="Sister Margaret's Bar")
    response = await client.post(
        f"/teams/{other.id}", data={"name": "Preventers", "headquarters": "Elsewhere"}, headers=HTMX
    )
    row_id = f"team-{other.id}"
    assert response.status_code == 409
    assert parse(response.text).by_id(row_id).tag == "tr"
    assert field_error(response.text, f"{row_id}-name") == "A team named “Preventers” already exists."
    saved = await fetch_team(db, other.id or 0)
    assert saved is not None
    assert saved.name == "Z-Force"


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


async def test_update_team_htmx_returns_the_read_only_row(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    await make_hero(db, team=team)
    response = await client.post(
        f"/teams/{team.id}", data={"name": "Preventers II", "headquarters": "Tall Tower"}, headers=HTMX
    )
    row = parse(response.text).by_id(f"team-{team.id}")
    assert response.status_code == 200
    assert parse(response.text).find_all("input") == []
    assert cells(row)[:3] == ["Preventers II", "Tall Tower", "1"]
    saved = await fetch_team(db, team.id or 0)
    assert saved is not None
    assert saved.name == "Preventers II"


async def test_update_team_htmx_carries_the_toast(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    response = await client.post(
        f"/teams/{team.id}", data={"name": "Preventers II", "headquarters": "Tall Tower"}, headers=HTMX
    )
    toasts = parse(response.text).by_id("toasts")
    assert toasts.attrs.get("hx-swap-oob")
    assert toasts.text == "Saved team Preventers II."


async def test_update_team_htmx_invalid_returns_the_row_form_422(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    row_id = f"team-{team.id}"
    response = await client.post(f"/teams/{team.id}", data={"name": "Preventers", "headquarters": ""}, headers=HTMX)
    assert response.status_code == 422
    assert parse(response.text).by_id(row_id).tag == "tr"
    assert field_error(response.text, f"{row_id}-headquarters") == "Headquarters is required."
    assert parse(response.text).by_id(f"{row_id}-name").attrs["value"] == "Preventers"
    saved = await fetch_team(db, team.id or 0)
    assert saved is not None
    assert saved.headquarters == "Sharp Tower"


async def test_team_row_htmx_returns_the_read_only_row_for_cancel(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await client.get(f"/teams/{team.id}/row", headers=HTMX)
    assert response.status_code == 200
    assert cells(parse(response.text).by_id(f"team-{team.id}"))[:2] == ["Preventers", "Sharp Tower"]
    assert parse(response.text).find_all("input") == []


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
    assert consequence in parse(response.text).by_id("team-delete").text


async def test_delete_confirmation_is_a_post_form_with_a_delete_button(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    response = await client.get(f"/teams/{team.id}/delete")
    form = parse(response.text).by_id("team-delete")
    assert form.tag == "form"
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == f"/teams/{team.id}/delete"
    assert "Delete" in [b.text for b in parse(response.text).find_all("button")]
    assert await fetch_team(db, team.id or 0) is not None


async def test_delete_team_redirects_303_to_the_list_with_a_toast(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    response = await client.post(f"/teams/{team.id}/delete", follow_redirects=False)
    landing = await client.get(response.headers["location"])
    assert response.status_code == 303
    assert response.headers["location"] == "/teams"
    assert parse(landing.text).by_id("toasts").text == "Deleted team Preventers."
    assert await all_teams(db) == []


async def test_delete_team_keeps_its_heroes_without_a_team(client: Client, db: AsyncSession) -> None:
    team = await team_with_heroes(db, 3)
    other = await make_team(db, name="Z-Force")
    outsider = await make_hero(db, name="Deadpond", team=other)
    await client.post(f"/teams/{team.id}/delete", follow_redirects=False)
    heroes = {hero.name: hero.team_id for hero in await all_heroes(db)}
    assert heroes == {"Hero 0": None, "Hero 1": None, "Hero 2": None, "Deadpond": outsider.team_id}


async def test_delete_team_htmx_answers_200_with_count_and_toast(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    await make_team(db, name="Z-Force")
    response = await client.post(f"/teams/{team.id}/delete", headers=HTMX)
    document = parse(response.text)
    assert response.status_code == 200
    assert parse(response.text).find_all("tr") == []
    assert document.by_id("team-summary").text == "1 team"
    assert document.by_id("toasts").text == "Deleted team Preventers."
    assert [t.name for t in await all_teams(db)] == ["Z-Force"]


async def test_delete_team_htmx_keeps_its_heroes_without_a_team(client: Client, db: AsyncSession) -> None:
    team = await team_with_heroes(db, 2)
    await client.post(f"/teams/{team.id}/delete", headers=HTMX)
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

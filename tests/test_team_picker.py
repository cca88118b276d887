"""The hero forms' team field past `team_select_limit` live teams: a field taking a team's exact name, whose
datalist htmx fills from /teams/options as you type; the form also still takes `team_id` (scripts, the select).

Here the limit is 2, so three teams are already "many".
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import Element, parse
from tests.support import (
    HTMX,
    Client,
    all_heroes,
    database_state,
    fetch_hero,
    field_message,
    form_fields,
    id_of,
    make_hero,
    make_team,
    move_to_trash,
)
from webapp.config import Settings
from webapp.models import Team

NEW = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": ""}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, team_select_limit=2)


async def many_teams(db: AsyncSession) -> list[int]:
    """More live teams than the limit: the ids of Preventers, Z-Force and Avengers."""
    return [id_of(await make_team(db, name=name)) for name in ("Preventers", "Z-Force", "Avengers")]


async def make_hero_in(db: AsyncSession, team_id: int | None = None) -> int:
    team = await db.get(Team, team_id) if team_id is not None else None
    return id_of(await make_hero(db, team=team))


def option_values(datalist: Element) -> list[str]:
    return [option.attrs["value"] for option in datalist.find_all("option")]


def unknown(name: str) -> str:
    return f"No team is named “{name}”. Type a team’s exact name, or “No team”."


async def edit_form(client: Client, hero_id: int, htmx: bool) -> dict[str, str]:
    response = await client.get(f"/heroes/{hero_id}/edit", headers=HTMX if htmx else None)
    assert response.status_code == 200
    return form_fields(response.text, f"hero-{hero_id}-form" if htmx else "hero-form")


async def stored_team(db: AsyncSession, hero_id: int) -> int | None:
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    await db.commit()
    return hero.team_id


# --- the field as served --------------------------------------------------------------------------------------


async def test_new_hero_form_past_the_limit_has_a_searchable_team_field_and_no_select(
    client: Client, db: AsyncSession
) -> None:
    await many_teams(db)
    response = await client.get("/heroes/new")
    assert response.status_code == 200
    form = parse(response.text).by_id("hero-form")
    assert not form.has("select")
    field = form.by_id("hero-form-team")
    assert (field.tag, field.attrs["name"], field.attrs.get("value")) == ("input", "team", "")
    assert form.find("label", **{"for": "hero-form-team"}).text == "Team"
    assert field.attrs["list"] == "hero-form-team-options"
    assert field.attrs["hx-get"] == "/teams/options"
    assert field.attrs["hx-target"] == "#hero-form-team-options"
    assert option_values(form.by_id("hero-form-team-options")) == ["No team"]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
async def test_edit_form_past_the_limit_holds_the_heros_team_name(client: Client, db: AsyncSession, htmx: bool) -> None:
    team = (await many_teams(db))[1]
    hero_id = await make_hero_in(db, team)
    response = await client.get(f"/heroes/{hero_id}/edit", headers=HTMX if htmx else None)
    assert response.status_code == 200
    prefix = f"hero-{hero_id}" if htmx else "hero-form"
    document = parse(response.text)
    assert not document.has("select")
    field = document.by_id(f"{prefix}-team")
    assert field.attrs["value"] == "Z-Force"
    if htmx:
        assert (field.attrs["aria-label"], field.attrs["form"]) == ("Team", f"hero-{hero_id}-form")
    assert option_values(document.by_id(f"{prefix}-team-options")) == ["No team", "Z-Force"]


async def test_edit_form_of_a_hero_without_team_holds_an_empty_team_field(client: Client, db: AsyncSession) -> None:
    await many_teams(db)
    hero_id = await make_hero_in(db)
    assert (await edit_form(client, hero_id, htmx=True))["team"] == ""


async def test_at_the_limit_the_team_field_stays_a_select(client: Client, db: AsyncSession) -> None:
    live = {name: id_of(await make_team(db, name=name)) for name in ("Preventers", "Z-Force")}
    await move_to_trash(db, await make_team(db, name="Avengers"))  # trashed teams do not count
    response = await client.get("/heroes/new")
    form = parse(response.text).by_id("hero-form")
    assert not form.has("input", name="team")
    options = {option.text: option.attrs["value"] for option in form.find("select", name="team_id").find_all("option")}
    assert options == {"No team": "", **{name: str(team_id) for name, team_id in live.items()}}


# --- saving a name ----------------------------------------------------------------------------------------------


async def test_create_hero_with_an_exact_team_name_saves_that_team(client: Client, db: AsyncSession) -> None:
    team = (await many_teams(db))[2]
    data = form_fields((await client.get("/heroes/new")).text, "hero-form") | NEW | {"team": "  Avengers "}
    response = await client.post("/heroes", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert [(hero.name, hero.team_id) for hero in await all_heroes(db)] == [("Deadpond", team)]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
@pytest.mark.parametrize("typed", ["Avengers", "Z-Force"])
async def test_edit_hero_with_an_exact_team_name_saves_that_team(
    client: Client, db: AsyncSession, htmx: bool, typed: str
) -> None:
    teams = dict(zip(("Preventers", "Z-Force", "Avengers"), await many_teams(db), strict=True))
    hero_id = await make_hero_in(db, teams["Z-Force"])
    data = await edit_form(client, hero_id, htmx) | {"team": typed}
    response = await client.post(
        f"/heroes/{hero_id}", data=data, headers=HTMX if htmx else None, follow_redirects=False
    )
    assert response.status_code == (200 if htmx else 303)
    assert await stored_team(db, hero_id) == teams[typed]


@pytest.mark.parametrize("typed", ["No team", "no TEAM", "", "   "])
async def test_edit_hero_with_no_team_or_a_blank_team_leaves_the_team(
    client: Client, db: AsyncSession, typed: str
) -> None:
    team = (await many_teams(db))[0]
    hero_id = await make_hero_in(db, team)
    data = await edit_form(client, hero_id, htmx=False) | {"team": typed}
    response = await client.post(f"/heroes/{hero_id}", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert await stored_team(db, hero_id) is None


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
async def test_edit_hero_with_a_name_no_live_team_has_is_422_with_values_kept(
    client: Client, db: AsyncSession, htmx: bool
) -> None:
    team = (await many_teams(db))[0]
    await move_to_trash(db, await make_team(db, name="Trashed"))
    hero_id = await make_hero_in(db, team)
    before = await database_state(db)
    for typed in ("Nobody", "z-force", "Z-Forc", "Avengers%", "Trashed"):  # each refused: nothing changes
        data = await edit_form(client, hero_id, htmx) | {"name": "Deadpool", "team": typed}

        response = await client.post(f"/heroes/{hero_id}", data=data, headers=HTMX if htmx else None)

        assert response.status_code == 422, typed
        document = parse(response.text)
        assert field_message(document, "team") == unknown(typed)
        kept = form_fields(response.text, f"hero-{hero_id}-form" if htmx else "hero-form")
        assert (kept["name"], kept["team"]) == ("Deadpool", typed)
    assert await database_state(db) == before


async def test_create_hero_with_an_unknown_team_name_reports_every_invalid_field(
    client: Client, db: AsyncSession
) -> None:
    await many_teams(db)
    data = form_fields((await client.get("/heroes/new")).text, "hero-form") | NEW | {"name": "", "team": "Nobody"}
    response = await client.post("/heroes", data=data)
    assert response.status_code == 422
    form = parse(response.text).by_id("hero-form")
    assert field_message(form, "name") == "Name is required."
    assert field_message(form, "team") == unknown("Nobody")
    assert await all_heroes(db) == []


HOSTILE_NAMES = [
    ("Z-\x00Force", "Team contains characters that are not allowed."),
    ("Z\x1b[31m", "Team contains characters that are not allowed."),
    ("Z" * 101, "Team must be at most 100 characters."),
    ("Z" * 100_000, "Team must be at most 100 characters."),
]


async def test_hostile_team_names_are_422_never_looked_up_or_saved(client: Client, db: AsyncSession) -> None:
    team = (await many_teams(db))[0]
    hero_id = await make_hero_in(db, team)
    before = await database_state(db)
    for typed, message in HOSTILE_NAMES:
        data = await edit_form(client, hero_id, htmx=False) | {"team": typed}
        response = await client.post(f"/heroes/{hero_id}", data=data)
        assert response.status_code == 422, typed[:20]
        assert field_message(parse(response.text).by_id("hero-form"), "team") == message
    assert await database_state(db) == before


async def test_a_form_sending_team_id_is_still_read_by_it(client: Client, db: AsyncSession) -> None:
    teams = await many_teams(db)
    hero_id = await make_hero_in(db, teams[0])
    data = await edit_form(client, hero_id, htmx=False)
    del data["team"]
    response = await client.post(f"/heroes/{hero_id}", data=data | {"team_id": str(teams[1])})
    assert response.status_code == 200  # followed the 303 to the detail page
    assert await stored_team(db, hero_id) == teams[1]
    # Both sent (no form of ours does that): team_id decides, as for scripts.
    both = await edit_form(client, hero_id, htmx=False) | {"team_id": str(teams[2]), "team": "Preventers"}
    assert (await client.post(f"/heroes/{hero_id}", data=both, follow_redirects=False)).status_code == 303
    assert await stored_team(db, hero_id) == teams[2]


async def test_a_team_id_no_live_team_has_is_422_on_the_searchable_field(client: Client, db: AsyncSession) -> None:
    teams = await many_teams(db)
    hero_id = await make_hero_in(db, teams[0])
    data = await edit_form(client, hero_id, htmx=False)
    del data["team"]
    before = await database_state(db)
    response = await client.post(f"/heroes/{hero_id}", data=data | {"team_id": "999999"})
    assert response.status_code == 422
    assert (
        field_message(parse(response.text).by_id("hero-form"), "team") == "That team no longer exists. Choose another."
    )
    assert await database_state(db) == before


# --- an edit conflict -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
async def test_conflict_with_a_typed_team_shows_the_team_saved_meanwhile_and_saving_again_applies_it(
    client: Client, db: AsyncSession, htmx: bool
) -> None:
    teams = await many_teams(db)
    hero_id = await make_hero_in(db, teams[0])
    form_a, form_b = await edit_form(client, hero_id, htmx), await edit_form(client, hero_id, htmx)
    headers = HTMX if htmx else None
    assert (await client.post(f"/heroes/{hero_id}", data=form_a | {"team": "Avengers"}, headers=headers)).is_success

    response = await client.post(f"/heroes/{hero_id}", data=form_b | {"team": "Z-Force"}, headers=headers)

    assert response.status_code == 409
    prefix = f"hero-{hero_id}" if htmx else "hero-form"
    document = parse(response.text)
    assert document.by_id(f"{prefix}-team-current").text == "Saved meanwhile: Avengers"
    assert f"{prefix}-team-current" in document.by_id(f"{prefix}-team").attrs["aria-describedby"].split()
    again = form_fields(response.text, f"{prefix}-form" if htmx else "hero-form")
    assert again["team"] == "Z-Force"
    assert await stored_team(db, hero_id) == teams[2]

    assert (await client.post(f"/heroes/{hero_id}", data=again, headers=headers)).is_success
    assert await stored_team(db, hero_id) == teams[1]


async def test_conflict_where_both_chose_the_same_team_does_not_flag_it(client: Client, db: AsyncSession) -> None:
    teams = await many_teams(db)
    hero_id = await make_hero_in(db, teams[0])
    form_a, form_b = await edit_form(client, hero_id, False), await edit_form(client, hero_id, False)
    await client.post(f"/heroes/{hero_id}", data=form_a | {"name": "A", "team": "Avengers"})
    response = await client.post(f"/heroes/{hero_id}", data=form_b | {"team": "Avengers"})
    assert response.status_code == 409
    document = parse(response.text)
    assert document.has(id="hero-form-name-current")
    assert not document.has(id="hero-form-team-current")


# --- the suggestions --------------------------------------------------------------------------------------------


async def options(client: Client, typed: str) -> list[str]:
    response = await client.get("/teams/options", params={"team": typed}, headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    return [option.attrs["value"] for option in parse(response.text).find_all("option")]


async def test_options_match_anywhere_in_the_name_ignoring_case_prefix_first(client: Client, db: AsyncSession) -> None:
    for name in ("Young Avengers", "X-Men", "Avengers West", "Dark Avengers", "Avengers"):
        await make_team(db, name=name)
    await move_to_trash(db, await make_team(db, name="Avengers Gone"))
    assert await options(client, "aVEN") == ["No team", "Avengers", "Avengers West", "Dark Avengers", "Young Avengers"]
    assert await options(client, "x-m") == ["No team", "X-Men"]
    assert await options(client, "nobody") == ["No team"]


async def test_options_offer_at_most_twenty_names(client: Client, db: AsyncSession) -> None:
    db.add_all(Team(name=f"Team {n:02d}", headquarters="Base") for n in range(1, 26))
    await db.commit()
    assert await options(client, "team") == ["No team", *(f"Team {n:02d}" for n in range(1, 21))]


async def test_options_take_like_wildcards_literally(client: Client, db: AsyncSession) -> None:
    for name in ("100% Heroes", "Under_Dogs", "Back\\Slash", "Plain"):
        await make_team(db, name=name)
    assert await options(client, "%") == ["No team", "100% Heroes"]
    assert await options(client, "_") == ["No team", "Under_Dogs"]
    assert await options(client, "\\") == ["No team", "Back\\Slash"]


async def test_options_without_htmx_are_a_page(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Avengers")
    response = await client.get("/teams/options", params={"team": "aven"})
    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("h1").text == "Team names"
    assert [item.text for item in page.find("main").find("ul").find_all("li")] == ["Avengers"]


async def test_hostile_options_queries_are_400_never_500(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Avengers")
    for typed in ("A" * 101, "A" * 50_000, "Aven\x00", "Av\x1fen", "Av\x7fen"):
        for headers in (None, HTMX):
            response = await client.get("/teams/options", params={"team": typed}, headers=headers)
            assert response.status_code == 400, (typed[:20], headers)

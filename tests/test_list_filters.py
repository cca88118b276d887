"""Filters on the hero and team lists: the team filter (a team's exact name, "No team", an unknown name refused
with 422 and a message), the age range, and the teams' "has heroes"."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import HTMX, Client, form_fields, id_of, make_hero, make_team, move_to_trash, rows, summary, vary
from webapp.models import Hero, Team

# --- teams: "has heroes" -------------------------------------------------------------------------------------


async def test_team_has_heroes_filter_counts_only_live_heroes(client: Client, db: AsyncSession) -> None:
    manned = await make_team(db, name="Manned")
    empty = await make_team(db, name="Empty")
    abandoned = await make_team(db, name="Abandoned")
    await make_hero(db, name="Member", team=manned)
    await move_to_trash(db, await make_hero(db, name="Gone", team=abandoned))
    found_yes = rows((await client.get("/teams?has_heroes=yes")).text, "team-rows")
    found_no = rows((await client.get("/teams?has_heroes=no")).text, "team-rows")
    assert found_yes == [manned.id]
    assert found_no == [abandoned.id, empty.id]
    assert rows((await client.get("/teams?has_heroes=")).text, "team-rows") == [abandoned.id, empty.id, manned.id]


async def test_team_has_heroes_filter_combines_with_search_and_is_kept_in_the_form(
    client: Client, db: AsyncSession
) -> None:
    for name in ("Alpha One", "Alpha Two", "Beta"):
        team = await make_team(db, name=name)
        if name != "Alpha Two":
            await make_hero(db, name=f"Member of {name}", team=team)
    response = await client.get("/teams", params={"q": "alpha", "has_heroes": "yes"})
    assert [cell.text for cell in parse(response.text).find_all("td", data_label="Name")] == ["Alpha One"]
    assert parse(response.text).by_id("team-summary").text == "1 team matches"
    chosen = parse(response.text).by_id("team-has-heroes").find("option", selected="")
    assert chosen.attrs["value"] == "yes"


# --- heroes: team filter and age range -----------------------------------------------------------------------


@pytest.fixture
async def squads(db: AsyncSession) -> dict[str, int]:
    alpha = Team(name="Alpha", headquarters="A")
    alphabet = Team(name="Alphabet", headquarters="B")
    db.add_all([alpha, alphabet])
    await db.commit()
    heroes = {
        "Aged 0": Hero(name="Aged 0", secret_name="s", age=0, team_id=alpha.id),
        "Aged 18": Hero(name="Aged 18", secret_name="s", age=18, team_id=alphabet.id),
        "Aged 30": Hero(name="Aged 30", secret_name="s", age=30),
        "Aged 10000": Hero(name="Aged 10000", secret_name="s", age=10000, team_id=alpha.id),
        "Ageless": Hero(name="Ageless", secret_name="s", age=None),
    }
    db.add_all(heroes.values())
    await db.commit()
    return {name: id_of(hero) for name, hero in heroes.items()}


FILTERS = [
    ({"team": "Alpha"}, ["Aged 0", "Aged 10000"]),
    ({"team": "Alphabet"}, ["Aged 18"]),
    ({"team": "  Alphabet "}, ["Aged 18"]),
    ({"team": "No team"}, ["Aged 30", "Ageless"]),
    ({"team": "no TEAM"}, ["Aged 30", "Ageless"]),
    ({"min_age": "18"}, ["Aged 10000", "Aged 18", "Aged 30"]),
    ({"max_age": "18"}, ["Aged 0", "Aged 18"]),
    ({"min_age": "0"}, ["Aged 0", "Aged 10000", "Aged 18", "Aged 30"]),
    ({"min_age": "18", "max_age": "30"}, ["Aged 18", "Aged 30"]),
    ({"min_age": "18", "max_age": "18"}, ["Aged 18"]),
    ({"min_age": "31", "max_age": "17"}, []),
    ({"max_age": "10000"}, ["Aged 0", "Aged 10000", "Aged 18", "Aged 30"]),
    ({"min_age": " 18 ", "max_age": ""}, ["Aged 10000", "Aged 18", "Aged 30"]),
    ({"team": "Alpha", "min_age": "1"}, ["Aged 10000"]),
    ({"team": "No team", "q": "30"}, ["Aged 30"]),
]


@pytest.mark.usefixtures("squads")
async def test_hero_filters_select_by_team_and_age_range(client: Client) -> None:
    for params, expected in FILTERS:  # one test over the table: each case is one cheap request on the same data
        response = await client.get("/heroes", params=params)
        assert response.status_code == 200, params
        names = [cell.text for cell in parse(response.text).find_all("td", data_label="Name")]
        assert names == expected, params


async def test_hero_filters_are_kept_in_the_search_form(client: Client, squads: dict[str, int]) -> None:
    params = {"q": "Aged", "team": "Alpha", "min_age": "1", "max_age": "2000", "size": "50", "sort": "-age"}
    response = await client.get("/heroes", params=params)
    assert form_fields(response.text, "hero-search") == params


async def test_hero_filter_count_says_how_many_match(client: Client, squads: dict[str, int]) -> None:
    assert await summary(client, {"team": "Alpha"}) == "2 heroes match"
    assert await summary(client, {"min_age": "31", "max_age": "17"}) == "No heroes match."


async def test_hero_filter_by_an_unknown_team_is_422_with_a_message_and_no_rows(
    client: Client, squads: dict[str, int]
) -> None:
    for typed in ("Alph", "alpha", "Nobody", "No team at all", "Team 1"):
        response = await client.get("/heroes", params={"team": typed})
        assert response.status_code == 422, typed
        page = parse(response.text)
        assert page.find("h1").text == "Heroes", typed
        assert page.by_id("hero-rows").find_all("tr") == [], typed
        alert = page.by_id("hero-list").find(role="alert")
        assert f"No team is named “{typed}”" in alert.text, typed
        field = page.by_id("hero-team-filter")
        assert form_fields(response.text, "hero-search")["team"] == typed  # kept, in the select of few teams
        assert field.attrs["aria-invalid"] == "true", typed
        assert field.attrs["aria-describedby"] == alert.attrs["id"], typed


async def test_hero_filter_by_an_unknown_team_with_htmx_is_the_list_fragment_422(
    client: Client, squads: dict[str, int]
) -> None:
    response = await client.get("/heroes", params={"team": "Nobody"}, headers=HTMX)
    assert response.status_code == 422
    page = parse(response.text)
    assert [node.attrs.get("id") for node in page.children] == ["hero-list"]
    assert "No team is named “Nobody”" in page.by_id("hero-list").find(role="alert").text
    assert page.by_id("hero-rows").find_all("tr") == []
    assert "hx-request" in vary(response)


async def test_hero_filter_by_a_team_in_the_trash_is_an_unknown_team(
    client: Client, db: AsyncSession, squads: dict[str, int]
) -> None:
    gone = await make_team(db, name="Gone")
    await move_to_trash(db, gone)
    response = await client.get("/heroes", params={"team": "Gone"})
    assert response.status_code == 422
    assert parse(response.text).by_id("hero-rows").find_all("tr") == []

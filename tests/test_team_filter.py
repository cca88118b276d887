"""The heroes list's "Filter by team": a select of the teams while they are few (up to `team_select_limit`, as the
hero form's Team field), and past that a field that suggests names as you type. Either way the address says
`team=<exact name>` or `team=No team`, and without JavaScript the field takes a typed name.

The suggestions' request must never push its address (defect: focusing the field put /teams/options in the address
bar): the search form keeps its hx-* attributes to itself. Here the limit is 2, so three teams are "many"."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import HTMX, Client, form_fields, make_hero, make_team, move_to_trash, rows
from webapp.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, team_select_limit=2)


async def test_few_teams_filter_is_a_select_of_any_no_team_and_each_team(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Z-Force")
    await make_team(db, name="Preventers")
    gone = await make_team(db, name="Gone")
    await move_to_trash(db, gone)  # live teams only: two, at the limit

    field = parse((await client.get("/heroes")).text).by_id("hero-team-filter")

    assert field.tag == "select"
    assert [(option.attrs["value"], option.text) for option in field.find_all("option")] == [
        ("", "Any team"),
        ("No team", "No team"),
        ("Preventers", "Preventers"),
        ("Z-Force", "Z-Force"),
    ]


async def test_the_select_shows_the_filter_the_address_holds(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    member = await make_hero(db, name="Deadpond", team=team)
    await make_hero(db, name="Loner")
    response = await client.get("/heroes", params={"team": "Preventers"})
    assert rows(response.text) == [member.id]
    assert form_fields(response.text, "hero-search")["team"] == "Preventers"
    response = await client.get("/heroes", params={"team": "No team"})
    assert form_fields(response.text, "hero-search")["team"] == "No team"


def chosen(html: str) -> list[tuple[str, str]]:
    """The team filter's options marked selected: (value, text)."""
    field = parse(html).by_id("hero-team-filter")
    return [(option.attrs["value"], option.text) for option in field.find_all("option") if "selected" in option.attrs]


async def test_each_page_selects_only_its_own_filter_from_the_teams_it_is_offered(
    client: Client, db: AsyncSession
) -> None:
    # A worker offers the same teams to one page after another, their options written once: each page still
    # selects only the team its own address names, spelt as typed and escaped.
    odd = 'A & <b>B</b> "x"'
    await make_team(db, name=odd)
    await make_team(db, name="Preventers")
    for query, expected in [
        ({"team": odd}, [(odd, odd)]),
        ({"team": "Preventers"}, [("Preventers", "Preventers")]),
        ({}, []),
        ({"team": "No team"}, [("No team", "No team")]),
        ({"team": "Unknown <b>"}, [("Unknown <b>", "Unknown <b>")]),
        ({"team": odd}, [(odd, odd)]),
    ]:
        response = await client.get("/heroes", params=query)
        assert chosen(response.text) == expected, query
    unknown = parse((await client.get("/heroes", params={"team": "Unknown <b>"})).text).by_id("hero-team-filter")
    assert [option.text for option in unknown.find_all("option")] == [
        "Any team",
        "No team",
        odd,
        "Preventers",
        "Unknown <b>",
    ]


async def test_many_teams_filter_is_a_field_whose_suggestions_push_no_address(client: Client, db: AsyncSession) -> None:
    for name in ("Avengers", "Preventers", "Z-Force"):
        await make_team(db, name=name)
    page = parse((await client.get("/heroes", params={"team": "Avengers"})).text)

    field = page.by_id("hero-team-filter")
    assert (field.tag, field.attrs["name"], field.attrs["value"]) == ("input", "team", "Avengers")
    assert field.attrs["hx-get"] == "/teams/options"
    assert field.attrs["hx-push-url"] == "false"
    # Nothing the search form says about its own request reaches the fields inside it.
    assert page.by_id("hero-search").attrs["hx-disinherit"] == "*"


async def test_many_teams_without_javascript_the_field_takes_an_exact_name_or_no_team(
    client: Client, db: AsyncSession
) -> None:
    teams = [await make_team(db, name=name) for name in ("Avengers", "Preventers", "Z-Force")]
    member = await make_hero(db, name="Deadpond", team=teams[1])
    loner = await make_hero(db, name="Loner")
    assert rows((await client.get("/heroes", params={"team": "Preventers"})).text) == [member.id]
    assert rows((await client.get("/heroes", params={"team": "No team"})).text) == [loner.id]


async def test_the_filter_is_left_alone_by_the_list_swaps(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers")
    fragment = parse((await client.get("/heroes", params={"team": "Preventers"}, headers=HTMX)).text)
    assert not fragment.has(id="hero-team-filter")  # the list's fragment: the form stays as the user left it


async def test_an_unknown_team_in_the_address_stays_chosen_and_names_are_escaped(
    client: Client, db: AsyncSession
) -> None:
    await make_team(db, name="<Preventers & co>")
    response = await client.get("/heroes", params={"team": "<b>Nobody</b>"})
    assert response.status_code == 422
    field = parse(response.text).by_id("hero-team-filter")
    options = [(option.attrs["value"], option.text, "selected" in option.attrs) for option in field.find_all("option")]
    assert options == [
        ("", "Any team", False),
        ("No team", "No team", False),
        ("<Preventers & co>", "<Preventers & co>", False),
        ("<b>Nobody</b>", "<b>Nobody</b>", True),
    ]
    assert "<b>Nobody</b>" not in response.text
    assert "<Preventers" not in response.text

"""Teams: the list (hero counts, keyset pages, fragments), the detail page, and creating a team.

Teams in the trash are left out of the list, its count and its pages (the trash has its own file). Search, the
"has heroes" filter, sorting and the list's parameters have files of their own (test_list_*.py)."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX, Clock, sign_in
from tests.factories import all_teams, field_error, form_fields, make_hero, make_team, make_user, move_to_trash
from tests.list_support import header_names, named_link, token
from tests.markup import Element, parse
from webapp.models import Hero, Role

Client = AsyncTestClient[Litestar]
TEAM_ROW = re.compile(r"team-\d+")


def team_row_ids(html: str) -> list[str]:
    return [row.attrs["id"] for row in parse(html).find_all("tr") if TEAM_ROW.fullmatch(row.attrs.get("id", ""))]


def cells(row: Element) -> list[str]:
    return [cell.text for cell in row.find_all("td")]


def row_by_column(html: str, row_id: str) -> dict[str, str]:
    """A list row's cells keyed by their column (data-label, which the narrow layout shows beside each cell)."""
    row = parse(html).by_id(row_id)
    return {cell.attrs["data-label"]: cell.text for cell in row.find_all("td") if "data-label" in cell.attrs}


def is_full_page(html: str) -> bool:
    document = parse(html)
    return document.has("html") and document.has("body")


def link(html: str, rel: str) -> Element | None:
    return next(iter(parse(html).find_all("a", rel=rel)), None)


# --- list --------------------------------------------------------------------------------------------------


async def test_team_list_shows_each_teams_hero_count(client: Client, db: AsyncSession) -> None:
    crowded = await make_team(db, name="Preventers")
    empty = await make_team(db, name="Z-Force", headquarters="Sister Margaret's Bar")
    for name in ("Rusty-Man", "Tarantula", "Dr. Weird"):
        await make_hero(db, name=name, team=crowded)

    response = await client.get("/teams")

    assert response.status_code == 200
    assert row_by_column(response.text, f"team-{crowded.id}")["Heroes"] == "3"
    assert row_by_column(response.text, f"team-{empty.id}")["Heroes"] == "0"


async def test_team_list_row_links_to_the_team(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    response = await client.get("/teams")
    assert row_by_column(response.text, f"team-{team.id}")["Name"] == "Preventers"
    hrefs = [a.attrs.get("href") for a in parse(response.text).find_all("a") if a.text == "Preventers"]
    assert f"/teams/{team.id}" in hrefs


async def test_team_list_empty_state_invites_the_first_team(client: Client, db: AsyncSession) -> None:
    response = await client.get("/teams")
    assert response.status_code == 200
    assert "No teams yet" in parse(response.text).by_id("team-summary").text
    assert team_row_ids(response.text) == []


async def test_team_list_has_named_columns_and_a_selection_checkbox_for_editors(
    client: Client, db: AsyncSession
) -> None:
    team = await make_team(db, name="Preventers")
    response = await client.get("/teams")
    headers = [
        name for name in header_names(parse(response.text).find("table", aria_label="Teams")) if name != "Selected"
    ]
    assert headers[:3] == ["Name", "Headquarters", "Heroes"]
    box = parse(response.text).by_id(f"team-{team.id}").find("input", type="checkbox")
    assert box.attrs["aria-label"] == "Select Preventers"


async def test_team_list_for_viewers_has_no_selection_column(http: Client, db: AsyncSession, clock: Clock) -> None:
    team = await make_team(db, name="Preventers")
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    response = await http.get("/teams")
    assert header_names(parse(response.text).find("table", aria_label="Teams"))[:3] == [
        "Name",
        "Headquarters",
        "Heroes",
    ]
    assert parse(response.text).has("tr", id=f"team-{team.id}")
    assert not parse(response.text).has("input", type="checkbox")


async def test_team_list_first_page_holds_25_teams_and_links_next(client: Client, db: AsyncSession) -> None:
    teams = [await make_team(db, name=f"Team {number:02d}", headquarters="Somewhere") for number in range(26)]

    response = await client.get("/teams")

    assert len(team_row_ids(response.text)) == 25
    next_link = link(response.text, "next")
    assert next_link is not None
    assert next_link.attrs["href"] == f"/teams?after={token(['Team 24', teams[24].id])}"
    assert link(response.text, "prev") is None
    assert named_link(response.text, "First page") is None


async def test_team_list_next_page_holds_the_rest_and_links_back(client: Client, db: AsyncSession) -> None:
    teams = [await make_team(db, name=f"Team {number:02d}", headquarters="Somewhere") for number in range(26)]
    next_link = link((await client.get("/teams")).text, "next")
    assert next_link is not None

    response = await client.get(next_link.attrs["href"])

    assert response.status_code == 200
    (row_id,) = team_row_ids(response.text)
    assert row_by_column(response.text, row_id)["Name"] == "Team 25"
    prev_link = link(response.text, "prev")
    assert prev_link is not None
    assert prev_link.attrs["href"] == f"/teams?before={token(['Team 25', teams[25].id])}"
    assert link(response.text, "next") is None
    first = named_link(response.text, "First page")
    assert first is not None
    assert first.attrs["href"] == "/teams"


async def test_team_list_leaves_teams_in_the_trash_out_of_rows_count_and_pages(
    client: Client, db: AsyncSession
) -> None:
    teams = [await make_team(db, name=f"Team {number:02d}", headquarters="Somewhere") for number in range(26)]
    await move_to_trash(db, teams[0])

    response = await client.get("/teams")

    assert team_row_ids(response.text) == [f"team-{team.id}" for team in teams[1:]]
    assert parse(response.text).by_id("team-summary").text == "25 teams"
    assert link(response.text, "next") is None


@pytest.mark.parametrize("page", ["2", "0", "-3", "abc", "99", "99999999999999999999"])
async def test_team_list_old_page_number_links_show_the_first_page(client: Client, db: AsyncSession, page: str) -> None:
    await make_team(db, name="Preventers")
    response = await client.get(f"/teams?page={page}")
    assert response.status_code == 200
    assert len(team_row_ids(response.text)) == 1


async def test_team_list_plain_get_is_a_full_page(client: Client, db: AsyncSession) -> None:
    response = await client.get("/teams")
    assert response.status_code == 200
    assert is_full_page(response.text)
    assert [h.text for h in parse(response.text).find_all("h1")] == ["Teams"]


async def test_team_list_htmx_get_is_the_table_fragment(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers")
    response = await client.get("/teams", headers=HTMX)
    assert response.status_code == 200
    assert not is_full_page(response.text)
    assert parse(response.text).has("tbody", id="team-rows")
    assert "HX-Request" in response.headers["vary"]


@pytest.mark.parametrize("extra", [{"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}])
async def test_team_list_boosted_or_history_restore_gets_a_full_page(
    client: Client, db: AsyncSession, extra: dict[str, str]
) -> None:
    response = await client.get("/teams", headers={**HTMX, **extra})
    assert response.status_code == 200
    assert is_full_page(response.text)
    assert "HX-Request" in response.headers["vary"]


# --- detail ------------------------------------------------------------------------------------------------


async def test_team_detail_heading_names_the_team(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    response = await client.get(f"/teams/{team.id}")
    assert response.status_code == 200
    assert "Preventers" in [h.text for h in parse(response.text).find_all("h1")]


async def test_team_detail_page_title_names_the_team_and_the_page_offers_its_history(
    client: Client, db: AsyncSession
) -> None:
    team = await make_team(db, name="Preventers")
    document = parse((await client.get(f"/teams/{team.id}")).text)
    assert document.find("title").text == "Preventers · Hero admin"
    history = document.by_id("history-panel").find("a", href=f"/teams/{team.id}/history")
    assert history.attrs["hx-get"] == f"/teams/{team.id}/history"


async def test_team_detail_lists_its_heroes_as_links(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    other = await make_team(db, name="Z-Force", headquarters="Sister Margaret's Bar")
    members = [await make_hero(db, name=name, team=team) for name in ("Rusty-Man", "Tarantula")]
    outsider = await make_hero(db, name="Deadpond", team=other)

    response = await client.get(f"/teams/{team.id}")

    links = {a.text: a.attrs.get("href") for a in parse(response.text).find_all("a")}
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
    assert team.id is not None
    db.add_all(Hero(name=f"Hero {n:03d}", secret_name="s", team_id=team.id) for n in range(105))
    await db.commit()

    response = await client.get(f"/teams/{team.id}")

    rows = [row for row in parse(response.text).find_all("tr") if row.attrs.get("id", "").startswith("team-hero-")]
    assert [row.text.split()[1] for row in rows] == [f"{n:03d}" for n in range(100)]
    assert "Showing the first 100 of 105 heroes" in parse(response.text).by_id("team-detail").text


async def test_team_detail_htmx_get_is_the_detail_fragment(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Preventers")
    response = await client.get(f"/teams/{team.id}", headers=HTMX)
    assert response.status_code == 200
    assert not is_full_page(response.text)
    assert parse(response.text).has(id="team-detail")


# --- create ------------------------------------------------------------------------------------------------


async def test_new_team_page_has_an_empty_form(client: Client, db: AsyncSession) -> None:
    response = await client.get("/teams/new")
    document = parse(response.text)
    assert response.status_code == 200
    assert is_full_page(response.text)
    assert document.by_id("team-form").attrs["action"] == "/teams"
    assert document.by_id("team-form-name").attrs["value"] == ""
    # A one-time id (a double submit creates one team) and no version: there is nothing stored yet to be stale.
    assert sorted(form_fields(response.text, "team-form")) == ["_csrf", "_once", "headquarters", "name"]


async def test_new_team_htmx_is_the_form_fragment_for_the_list_page(client: Client, db: AsyncSession) -> None:
    response = await client.get("/teams/new", headers=HTMX)
    document = parse(response.text)
    assert response.status_code == 200
    assert not is_full_page(response.text)
    assert document.by_id("team-form").attrs["hx-post"] == "/teams"
    assert document.by_id("team-form-name").attrs["value"] == ""


async def test_create_team_redirects_303_to_the_team_page(client: Client, db: AsyncSession) -> None:
    response = await client.post(
        "/teams", data={"name": "Preventers", "headquarters": "Sharp Tower"}, follow_redirects=False
    )
    (team,) = await all_teams(db)
    assert response.status_code == 303
    assert response.headers["location"] == f"/teams/{team.id}"
    assert (team.name, team.headquarters, team.version, team.deleted_at) == ("Preventers", "Sharp Tower", 1, None)


async def test_create_team_toast_appears_once_on_the_next_page(client: Client, db: AsyncSession) -> None:
    response = await client.post(
        "/teams", data={"name": "Preventers", "headquarters": "Sharp Tower"}, follow_redirects=False
    )
    landing = await client.get(response.headers["location"])
    again = await client.get(response.headers["location"])
    assert parse(landing.text).by_id("toasts").text == "Created team Preventers."
    assert parse(again.text).by_id("toasts").text == ""


async def test_create_team_trims_surrounding_whitespace(client: Client, db: AsyncSession) -> None:
    await client.post("/teams", data={"name": "  Preventers ", "headquarters": " Sharp Tower  "})
    (team,) = await all_teams(db)
    assert (team.name, team.headquarters) == ("Preventers", "Sharp Tower")


async def test_create_team_htmx_adds_the_new_row_out_of_band(client: Client, db: AsyncSession) -> None:
    response = await client.post("/teams", data={"name": "Preventers", "headquarters": "Sharp Tower"}, headers=HTMX)
    (team,) = await all_teams(db)
    assert response.status_code == 200
    new_row = parse(response.text).find("tbody", hx_swap_oob="afterbegin:#team-rows").find("tr")
    assert new_row.attrs["id"] == f"team-{team.id}"
    assert "Preventers" in cells(new_row)


async def test_create_team_htmx_returns_a_fresh_form(client: Client, db: AsyncSession) -> None:
    response = await client.post("/teams", data={"name": "Preventers", "headquarters": "Sharp Tower"}, headers=HTMX)
    document = parse(response.text)
    assert not is_full_page(response.text)
    assert document.by_id("team-form").attrs["action"] == "/teams"
    assert document.by_id("team-form-name").attrs["value"] == ""
    assert document.by_id("team-form-headquarters").attrs["value"] == ""


async def test_create_team_htmx_updates_the_count(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Z-Force", headquarters="Sister Margaret's Bar")
    response = await client.post("/teams", data={"name": "Preventers", "headquarters": "Sharp Tower"}, headers=HTMX)
    summary = parse(response.text).by_id("team-summary")
    assert summary.attrs.get("hx-swap-oob") == "true"
    assert summary.text == "2 teams"


async def test_create_team_htmx_carries_the_toast(client: Client, db: AsyncSession) -> None:
    response = await client.post("/teams", data={"name": "Preventers", "headquarters": "Sharp Tower"}, headers=HTMX)
    toasts = parse(response.text).by_id("toasts")
    assert toasts.attrs.get("hx-swap-oob")
    assert toasts.text == "Created team Preventers."


INVALID_TEAMS = [
    pytest.param({"name": "", "headquarters": "Sharp Tower"}, "name", "Name is required.", id="blank-name"),
    pytest.param({"name": "   ", "headquarters": "Sharp Tower"}, "name", "Name is required.", id="spaces-name"),
    pytest.param({"headquarters": "Sharp Tower"}, "name", "Name is required.", id="missing-name"),
    pytest.param({"name": "Preventers", "headquarters": ""}, "headquarters", "Headquarters is required.", id="no-hq"),
    pytest.param(
        {"name": "P" * 101, "headquarters": "Sharp Tower"},
        "name",
        "Name must be at most 100 characters.",
        id="long-name",
    ),
    pytest.param(
        {"name": "Preventers", "headquarters": "H" * 201},
        "headquarters",
        "Headquarters must be at most 200 characters.",
        id="long-hq",
    ),
    pytest.param(
        {"name": "Pre\x00venters", "headquarters": "Sharp Tower"},
        "name",
        "Name contains characters that are not allowed.",
        id="nul-name",
    ),
]


@pytest.mark.parametrize(("data", "field", "message"), INVALID_TEAMS)
async def test_create_team_invalid_input_rerenders_form_422_with_message(
    client: Client, db: AsyncSession, data: dict[str, str], field: str, message: str
) -> None:
    response = await client.post("/teams", data=data, follow_redirects=False)
    assert response.status_code == 422
    assert field_error(response.text, f"team-form-{field}") == message
    assert await all_teams(db) == []


@pytest.mark.parametrize(("data", "field", "message"), INVALID_TEAMS)
async def test_create_team_htmx_invalid_input_returns_form_fragment_422(
    client: Client, db: AsyncSession, data: dict[str, str], field: str, message: str
) -> None:
    response = await client.post("/teams", data=data, headers=HTMX)
    assert response.status_code == 422
    assert not is_full_page(response.text)
    assert field_error(response.text, f"team-form-{field}") == message
    assert await all_teams(db) == []


async def test_create_team_invalid_input_keeps_what_was_typed(client: Client, db: AsyncSession) -> None:
    response = await client.post("/teams", data={"name": "", "headquarters": "Sharp <Tower> & “Co”"})
    document = parse(response.text)
    assert document.by_id("team-form-headquarters").attrs["value"] == "Sharp <Tower> & “Co”"
    assert field_error(response.text, "team-form-headquarters") is None


async def test_create_team_duplicate_name_409_with_message_beside_name(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await client.post("/teams", data={"name": "Preventers", "headquarters": "Elsewhere"})
    assert response.status_code == 409
    assert field_error(response.text, "team-form-name") == "A team named “Preventers” already exists."
    assert parse(response.text).by_id("team-form-headquarters").attrs["value"] == "Elsewhere"
    assert [(t.name, t.headquarters) for t in await all_teams(db)] == [("Preventers", "Sharp Tower")]


async def test_create_team_htmx_duplicate_name_returns_form_fragment_409(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers", headquarters="Sharp Tower")
    response = await client.post("/teams", data={"name": "Preventers", "headquarters": "Elsewhere"}, headers=HTMX)
    assert response.status_code == 409
    assert not is_full_page(response.text)
    assert "already exists" in (field_error(response.text, "team-form-name") or "")
    assert len(await all_teams(db)) == 1

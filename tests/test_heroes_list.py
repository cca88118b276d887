"""Heroes list and detail pages: content, keyset pages, htmx fragments, Vary, 404 for unknown or malformed ids, 405.

Heroes in the trash are left out of the list, its count and its pages (the trash has its own file). Search,
filters, sorting and the list's parameters have files of their own (test_list_*.py)."""

from __future__ import annotations

import json

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX, Clock, sign_in
from tests.factories import fetch_hero, id_of, make_hero, make_heroes, make_team, make_user, move_to_trash
from tests.list_support import header_names, link, named_link, token
from tests.markup import Element, parse
from webapp.models import Role

Client = AsyncTestClient[Litestar]


def row_ids(page: Element) -> list[str]:
    return [row.attrs["id"] for row in page.by_id("hero-rows").find_all("tr")]


def cell(row: Element, column: str) -> Element:
    return row.find("td", data_label=column)


# --- the list page ----------------------------------------------------------------------------------------


async def test_hero_list_page_has_heading_table_and_column_headers(client: Client) -> None:
    response = await client.get("/heroes")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = parse(response.text)
    assert page.find("h1").text == "Heroes"
    table = page.find("table", aria_label="Heroes")
    # Editors' rows also carry a selection checkbox (bulk actions); where it sits is not the point here.
    headers = [name for name in header_names(table) if name != "Selected"]
    assert headers[:4] == ["Name", "Secret name", "Age", "Team"]


async def test_hero_list_for_viewers_has_no_selection_column(http: Client, db: AsyncSession, clock: Clock) -> None:
    hero = await make_hero(db, name="Deadpond")
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    page = parse((await http.get("/heroes")).text)
    assert page.has("tr", id=f"hero-{hero.id}")
    headers = header_names(page.find("table", aria_label="Heroes"))
    assert headers[:4] == ["Name", "Secret name", "Age", "Team"]
    assert not page.has("input", type="checkbox")


async def test_hero_list_row_for_editors_has_a_labelled_selection_checkbox(client: Client, db: AsyncSession) -> None:
    hero = await make_hero(db, name="Deadpond")
    box = parse((await client.get("/heroes")).text).by_id(f"hero-{hero.id}").find("input", type="checkbox")
    assert box.attrs["aria-label"] == "Select Deadpond"


async def test_hero_list_offers_new_hero_link(client: Client) -> None:
    page = parse((await client.get("/heroes")).text)
    assert page.find("a", href="/heroes/new").text == "New hero"


async def test_hero_list_row_shows_hero_fields(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    hero = await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=48, team=team)
    page = parse((await client.get("/heroes")).text)
    row = page.by_id(f"hero-{hero.id}")
    cells = [cell(row, column).text for column in ("Name", "Secret name", "Age", "Team")]
    assert cells == ["Deadpond", "Dive Wilson", "48", "Z-Force"]


async def test_hero_list_team_name_links_to_the_team(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    hero = await make_hero(db, team=team)
    row = parse((await client.get("/heroes")).text).by_id(f"hero-{hero.id}")
    assert row.find("a", href=f"/teams/{team.id}").text == "Z-Force"


async def test_hero_list_teamless_hero_shows_no_team(client: Client, db: AsyncSession) -> None:
    hero = await make_hero(db)
    row = parse((await client.get("/heroes")).text).by_id(f"hero-{hero.id}")
    team_cell = cell(row, "Team")
    assert team_cell.text == "No team"
    assert not team_cell.has("a")


async def test_hero_list_row_links_to_detail_edit_and_delete(client: Client, db: AsyncSession) -> None:
    hero = await make_hero(db, name="Deadpond")
    row = parse((await client.get("/heroes")).text).by_id(f"hero-{hero.id}")
    assert row.find("a", href=f"/heroes/{hero.id}").text == "Deadpond"
    assert row.find("a", aria_label="Edit Deadpond").attrs["href"] == f"/heroes/{hero.id}/edit"
    delete = row.find("a", aria_label="Delete Deadpond")
    assert delete.attrs["href"] == f"/heroes/{hero.id}/delete"
    assert delete.attrs["hx-post"] == f"/heroes/{hero.id}/delete"
    assert delete.attrs["hx-confirm"] == "Delete hero “Deadpond”? It goes to the trash, where it can be restored."


async def test_hero_list_row_delete_carries_the_stored_version(client: Client, db: AsyncSession) -> None:
    hero = await make_hero(db, name="Deadpond")
    hero.version = 4
    db.add(hero)
    await db.commit()
    row = parse((await client.get("/heroes")).text).by_id(f"hero-{hero.id}")
    sent = json.loads(row.find("a", aria_label="Delete Deadpond").attrs["hx-vals"])
    assert sent["version"] == "4"
    assert sent["_once"]


async def test_hero_list_renders_markup_in_names_escaped(client: Client, db: AsyncSession) -> None:
    text = "<script>alert(1)</script>\"'&"
    hero = await make_hero(db, name=text, secret_name=text, team=await make_team(db, name=text))
    response = await client.get("/heroes")
    assert text not in response.text
    row = parse(response.text).by_id(f"hero-{hero.id}")
    assert [cell(row, "Name").text, cell(row, "Secret name").text] == [text, text]
    assert row.find("a", aria_label=f"Edit {text}").text == "Edit"
    assert text in row.find("a", aria_label=f"Delete {text}").attrs["hx-confirm"]
    assert all("src" in script.attrs for script in parse(response.text).find_all("script"))


async def test_hero_list_empty_state_says_no_heroes_yet(client: Client) -> None:
    response = await client.get("/heroes")
    page = parse(response.text)
    assert "No heroes yet" in page.by_id("hero-summary").text
    assert not page.by_id("hero-rows").find_all("tr")


async def test_hero_list_summary_counts_heroes(client: Client, db: AsyncSession) -> None:
    await make_heroes(db, 3)
    page = parse((await client.get("/heroes")).text)
    assert page.by_id("hero-summary").text == "3 heroes"


async def test_hero_list_leaves_heroes_in_the_trash_out_of_rows_count_and_pages(
    client: Client, db: AsyncSession
) -> None:
    heroes = await make_heroes(db, 26)
    await move_to_trash(db, heroes[0])
    page = parse((await client.get("/heroes")).text)
    assert row_ids(page) == [f"hero-{hero.id}" for hero in heroes[1:]]
    assert page.by_id("hero-summary").text == "25 heroes"
    assert not page.has("a", rel="next")


async def test_hero_list_orders_heroes_by_name(client: Client, db: AsyncSession) -> None:
    zed = await make_hero(db, name="Zed")
    abe = await make_hero(db, name="Abe")
    page = parse((await client.get("/heroes")).text)
    assert row_ids(page) == [f"hero-{abe.id}", f"hero-{zed.id}"]


# --- pages (keyset: the links say where the next page starts, not its number) -------------------------------


async def test_hero_list_first_page_shows_25_and_links_next_after_its_last_row(
    client: Client, db: AsyncSession
) -> None:
    heroes = await make_heroes(db, 30)
    response = await client.get("/heroes")
    page = parse(response.text)
    assert row_ids(page) == [f"hero-{hero.id}" for hero in heroes[:25]]
    assert link(response.text, "next") == f"/heroes?after={token(['Hero 25', heroes[24].id])}"
    assert link(response.text, "prev") is None
    assert named_link(response.text, "First page") is None


async def test_hero_list_next_page_shows_the_rest_and_links_previous_and_first_page(
    client: Client, db: AsyncSession
) -> None:
    heroes = await make_heroes(db, 30)
    following = link((await client.get("/heroes")).text, "next")
    assert following is not None
    response = await client.get(following)
    assert row_ids(parse(response.text)) == [f"hero-{hero.id}" for hero in heroes[25:]]
    assert link(response.text, "prev") == f"/heroes?before={token(['Hero 26', heroes[25].id])}"
    assert link(response.text, "next") is None
    first = named_link(response.text, "First page")
    assert first is not None
    assert first.attrs["href"] == "/heroes"


async def test_hero_list_previous_link_leads_back_to_the_first_page(client: Client, db: AsyncSession) -> None:
    heroes = await make_heroes(db, 30)
    second = await client.get(f"/heroes?after={token(['Hero 25', heroes[24].id])}")
    previous = link(second.text, "prev")
    assert previous is not None
    response = await client.get(previous)
    assert row_ids(parse(response.text)) == [f"hero-{hero.id}" for hero in heroes[:25]]
    assert link(response.text, "prev") is None
    assert link(response.text, "next") == f"/heroes?after={token(['Hero 25', heroes[24].id])}"


async def test_hero_list_pages_have_no_page_numbers(client: Client, db: AsyncSession) -> None:
    await make_heroes(db, 60)
    nav = parse((await client.get("/heroes")).text).find("nav", aria_label="Heroes pages")
    assert [a.text for a in nav.find_all("a")] == ["Next"]
    assert not nav.find_all(aria_current="page")


async def test_hero_list_single_page_has_no_page_links(client: Client, db: AsyncSession) -> None:
    await make_heroes(db, 25)
    response = await client.get("/heroes")
    page = parse(response.text)
    assert len(row_ids(page)) == 25
    assert not page.has("nav", aria_label="Heroes pages")
    assert link(response.text, "next") is None
    assert link(response.text, "prev") is None


@pytest.mark.parametrize("raw", ["2", "abc", "0", "-1", "", "99999999999999999999"])
async def test_hero_list_old_page_number_links_show_the_first_page(client: Client, db: AsyncSession, raw: str) -> None:
    heroes = await make_heroes(db, 30)
    response = await client.get("/heroes", params={"page": raw})
    assert response.status_code == 200
    assert row_ids(parse(response.text)) == [f"hero-{hero.id}" for hero in heroes[:25]]


async def test_hero_list_page_links_carry_htmx_attributes(client: Client, db: AsyncSession) -> None:
    await make_heroes(db, 30)
    response = await client.get("/heroes")
    following = parse(response.text).find("a", rel="next")
    assert following.attrs["hx-get"] == following.attrs["href"]
    assert following.attrs["hx-target"] == "#hero-list"
    assert following.attrs["hx-push-url"] == "true"


# --- htmx: fragment or full page ----------------------------------------------------------------------------


async def test_hero_list_htmx_returns_only_the_list_fragment(client: Client, db: AsyncSession) -> None:
    hero = await make_hero(db)
    response = await client.get("/heroes", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    page = parse(response.text)
    assert [node.attrs.get("id") for node in page.children] == ["hero-list"]
    assert page.has("tr", id=f"hero-{hero.id}")


async def test_hero_list_htmx_next_page_returns_that_page(client: Client, db: AsyncSession) -> None:
    heroes = await make_heroes(db, 30)
    following = link((await client.get("/heroes")).text, "next")
    assert following is not None
    response = await client.get(following, headers=HTMX)
    assert "<html" not in response.text
    assert row_ids(parse(response.text)) == [f"hero-{hero.id}" for hero in heroes[25:]]


@pytest.mark.parametrize("header", ["HX-Boosted", "HX-History-Restore-Request"])
async def test_hero_list_boosted_or_history_restore_returns_full_page(
    client: Client, db: AsyncSession, header: str
) -> None:
    hero = await make_hero(db)
    response = await client.get("/heroes", headers={**HTMX, header: "true"})
    assert response.status_code == 200
    assert "<html" in response.text
    page = parse(response.text)
    assert page.find("h1").text == "Heroes"
    assert page.has("tr", id=f"hero-{hero.id}")


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/heroes", {}),
        ("GET", "/heroes", HTMX),
        ("GET", "/heroes/{id}", {}),
        ("GET", "/heroes/{id}", HTMX),
        ("GET", "/heroes/{id}/edit", HTMX),
        ("GET", "/heroes/{id}/row", HTMX),
        ("GET", "/heroes/{id}/row", {}),
        ("GET", "/heroes/new", {}),
        ("POST", "/heroes", {}),
        ("POST", "/heroes", HTMX),
        ("GET", "/heroes/4242", {}),
        ("GET", "/heroes/4242", HTMX),
        ("PUT", "/heroes/{id}", {}),
    ],
)
async def test_hero_responses_vary_on_hx_request(
    client: Client, db: AsyncSession, method: str, path: str, headers: dict[str, str]
) -> None:
    hero = await make_hero(db)
    response = await client.request(method, path.format(id=hero.id), headers=headers, follow_redirects=False)
    vary = [value.strip().lower() for line in response.headers.get_list("vary") for value in line.split(",")]
    assert "hx-request" in vary


# --- the detail page ------------------------------------------------------------------------------------------


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


async def test_hero_detail_page_title_names_the_hero_and_the_page_offers_its_history(
    client: Client, db: AsyncSession
) -> None:
    hero = await make_hero(db, name="Deadpond")
    page = parse((await client.get(f"/heroes/{hero.id}")).text)
    assert page.find("title").text == "Deadpond · Hero admin"
    link = page.by_id("history-panel").find("a", href=f"/heroes/{hero.id}/history")
    assert link.attrs["hx-get"] == f"/heroes/{hero.id}/history"


async def test_hero_detail_without_age_or_team_says_so(client: Client, db: AsyncSession) -> None:
    hero = await make_hero(db, age=None, team=None)
    detail = parse((await client.get(f"/heroes/{hero.id}")).text).by_id("hero-detail")
    assert [dd.text for dd in detail.find_all("dd")][1:] == ["Unknown", "No team"]


async def test_hero_detail_htmx_returns_the_detail_fragment(client: Client, db: AsyncSession) -> None:
    hero = await make_hero(db, secret_name="Dive Wilson")
    response = await client.get(f"/heroes/{hero.id}", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Dive Wilson" in parse(response.text).by_id("hero-detail").text


async def test_hero_detail_unknown_id_is_404_html_page(client: Client, db: AsyncSession) -> None:
    await make_hero(db)
    response = await client.get("/heroes/4242")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text
    assert parse(response.text).find("h1").text == "Not found"


async def test_hero_detail_unknown_id_htmx_is_404_alert_fragment(client: Client) -> None:
    response = await client.get("/heroes/4242", headers=HTMX)
    assert response.status_code == 404
    assert "<html" not in response.text
    assert "Not found" in parse(response.text).find(role="alert").text


MALFORMED_IDS = ["abc", "-1", "0", "99999999999999999999", "2147483648", "1e3", "%20"]
ROUTES = [
    ("GET", "/heroes/{}"),
    ("GET", "/heroes/{}/edit"),
    ("POST", "/heroes/{}"),
    ("GET", "/heroes/{}/delete"),
    ("POST", "/heroes/{}/delete"),
    ("GET", "/heroes/{}/row"),
]


@pytest.mark.parametrize("hero_id", MALFORMED_IDS)
@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_hero_routes_malformed_id_is_404_html(client: Client, method: str, path: str, hero_id: str) -> None:
    data = {"name": "X", "secret_name": "Y"} if method == "POST" else None
    response = await client.request(method, path.format(hero_id), data=data)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_hero_routes_missing_id_is_404_html(client: Client, db: AsyncSession, method: str, path: str) -> None:
    await make_hero(db)
    data = {"name": "X", "secret_name": "Y"} if method == "POST" else None
    response = await client.request(method, path.format(4242), data=data)
    assert response.status_code == 404
    assert "<html" in response.text


# --- methods --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/heroes", "/heroes/{}", "/heroes/{}/edit", "/heroes/{}/delete", "/heroes/{}/row"])
async def test_hero_routes_unsupported_method_is_405_html(
    client: Client, db: AsyncSession, method: str, path: str
) -> None:
    hero = await make_hero(db)
    response = await client.request(method, path.format(hero.id))
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")
    assert parse(response.text).find("h1").text == "Method not allowed"


async def test_http_delete_method_does_not_delete_the_hero(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    await client.delete(f"/heroes/{hero_id}")
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    assert (hero.deleted_at, hero.version) == (None, 1)

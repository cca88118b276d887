"""With JavaScript off, every action is a real link or form: post/redirect/get, confirmation pages, 422 pages."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, Response, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.support import add_hero, add_many_heroes, add_team, expect_cells, main_nav, row_of, with_undo
from tests.support import all_heroes, all_teams


def _post_answer(page: Page, submit: Callable[[], None]) -> Response:
    """Submit a form and return the server's direct answer to the POST (a redirect is not followed here)."""
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        submit()
    return answer.value


def test_hero_create_edit_delete_without_javascript(nojs_page: Page, server: LiveServer) -> None:
    page = nojs_page
    team_id = add_team(server, name="Preventers")
    z_force_id = add_team(server, name="Z-Force")
    page.goto("/heroes")
    expect(page.get_by_text("No heroes yet", exact=False)).to_be_visible()

    page.get_by_role("link", name="New hero").click()
    expect(page).to_have_url(f"{server.url}/heroes/new")
    expect(page.get_by_role("heading", name="New hero", level=1)).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Deadpond")
    page.get_by_label("Secret name", exact=True).fill("Dive Wilson")
    page.get_by_label("Age", exact=True).fill("30")
    page.get_by_label("Team", exact=True).select_option(label="Preventers")
    answer = _post_answer(page, page.get_by_role("button", name="Save", exact=True).click)
    assert answer.status == 303

    heroes = server.run(all_heroes)
    assert [(h.name, h.secret_name, h.age, h.team_id) for h in heroes] == [("Deadpond", "Dive Wilson", 30, team_id)]
    hero_id = heroes[0].id
    expect(page).to_have_url(f"{server.url}/heroes/{hero_id}")
    expect(page.get_by_role("heading", name="Deadpond", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Created hero Deadpond.")
    expect(page.get_by_role("main").get_by_role("link", name="Preventers")).to_be_visible()

    page.get_by_role("link", name="Edit Deadpond").click()
    expect(page).to_have_url(f"{server.url}/heroes/{hero_id}/edit")
    expect(page.get_by_role("heading", name="Edit hero", level=1)).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Deadpond")
    expect(page.get_by_label("Age", exact=True)).to_have_value("30")
    page.get_by_label("Name", exact=True).fill("Deadpool")
    page.get_by_label("Secret name", exact=True).fill("Wade Wilson")
    page.get_by_label("Age", exact=True).fill("")
    page.get_by_label("Team", exact=True).select_option(label="Z-Force")
    assert _post_answer(page, page.get_by_role("button", name="Save", exact=True).click).status == 303

    expect(page).to_have_url(f"{server.url}/heroes/{hero_id}")
    expect(page.get_by_role("heading", name="Deadpool", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Saved hero Deadpool.")
    hero = server.run(all_heroes)[0]
    assert (hero.name, hero.secret_name, hero.age, hero.team_id) == ("Deadpool", "Wade Wilson", None, z_force_id)

    page.get_by_role("link", name="Delete Deadpool").click()
    expect(page).to_have_url(f"{server.url}/heroes/{hero_id}/delete")
    expect(page.get_by_role("main")).to_contain_text("Deadpool")
    assert server.run(all_heroes) != []  # the confirmation page alone deletes nothing
    assert _post_answer(page, page.get_by_role("button", name="Delete").click).status == 303

    expect(page).to_have_url(f"{server.url}/heroes")
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_be_visible()
    status = page.get_by_role("status")
    expect(status).to_have_text(with_undo("Moved hero Deadpool to the trash."))
    expect(page.get_by_role("table", name="Heroes").get_by_role("link", name="Deadpool")).to_have_count(0)
    assert [(h.name, h.deleted_by) for h in server.run(all_heroes)] == [("Deadpool", "eddie")]

    # Undo, a plain form in the status message, restores the hero and stays on the list it was shown on.
    assert _post_answer(page, status.get_by_role("button", name="Undo").click).status == 303
    expect(page).to_have_url(f"{server.url}/heroes")
    expect(page.get_by_role("table", name="Heroes").get_by_role("link", name="Deadpool", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Restored hero Deadpool.")
    assert [(h.name, h.deleted_at) for h in server.run(all_heroes)] == [("Deadpool", None)]


def test_hero_invalid_submit_without_javascript_shows_422_page_with_messages(
    nojs_page: Page, server: LiveServer
) -> None:
    page = nojs_page
    page.goto("/heroes/new")
    page.get_by_label("Name", exact=True).fill("   ")
    page.get_by_label("Secret name", exact=True).fill("Dive Wilson")
    page.get_by_label("Age", exact=True).fill("30")
    assert _post_answer(page, page.get_by_role("button", name="Save", exact=True).click).status == 422

    expect(page.get_by_role("heading", name="New hero", level=1)).to_be_visible()
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("Name is required.")
    expect(page.get_by_role("alert")).to_contain_text("Please correct")
    expect(page.get_by_label("Secret name", exact=True)).to_have_value("Dive Wilson")
    expect(page.get_by_label("Age", exact=True)).to_have_value("30")
    assert server.run(all_heroes) == []


def test_hero_invalid_edit_without_javascript_keeps_stored_hero(nojs_page: Page, server: LiveServer) -> None:
    page = nojs_page
    hero_id = add_hero(server, name="Deadpond", secret_name="Dive Wilson")
    page.goto(f"/heroes/{hero_id}/edit")
    page.get_by_label("Name", exact=True).fill("Deadpool")
    page.get_by_label("Secret name", exact=True).fill(" ")
    assert _post_answer(page, page.get_by_role("button", name="Save", exact=True).click).status == 422

    secret_name = page.get_by_label("Secret name", exact=True)
    expect(secret_name).to_have_attribute("aria-invalid", "true")
    expect(secret_name).to_have_accessible_description("Secret name is required.")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Deadpool")
    assert [(h.name, h.secret_name) for h in server.run(all_heroes)] == [("Deadpond", "Dive Wilson")]


def test_team_create_edit_delete_without_javascript_leaves_heroes_teamless(nojs_page: Page, server: LiveServer) -> None:
    page = nojs_page
    page.goto("/teams")
    page.get_by_role("link", name="New team").click()
    expect(page).to_have_url(f"{server.url}/teams/new")
    expect(page.get_by_role("heading", name="New team", level=1)).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Preventers")
    page.get_by_label("Headquarters").fill("Sharp Tower")
    assert _post_answer(page, page.get_by_role("button", name="Save", exact=True).click).status == 303

    teams = server.run(all_teams)
    assert [(t.name, t.headquarters) for t in teams] == [("Preventers", "Sharp Tower")]
    team_id = teams[0].id
    assert team_id is not None
    expect(page).to_have_url(f"{server.url}/teams/{team_id}")
    expect(page.get_by_role("heading", name="Preventers", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Created team Preventers.")

    page.get_by_role("link", name="Edit Preventers").click()
    expect(page).to_have_url(f"{server.url}/teams/{team_id}/edit")
    expect(page.get_by_label("Headquarters")).to_have_value("Sharp Tower")
    page.get_by_label("Name", exact=True).fill("Z-Force")
    page.get_by_label("Headquarters").fill("Sister Margaret's Bar")
    assert _post_answer(page, page.get_by_role("button", name="Save", exact=True).click).status == 303
    expect(page).to_have_url(f"{server.url}/teams/{team_id}")
    expect(page.get_by_role("heading", name="Z-Force", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Saved team Z-Force.")
    assert [(t.name, t.headquarters) for t in server.run(all_teams)] == [("Z-Force", "Sister Margaret's Bar")]

    add_hero(server, name="Deadpond", team_id=team_id)
    add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp", team_id=team_id)
    page.reload()
    expect(page.get_by_role("table", name=re.compile("Z-Force")).get_by_role("link")).to_have_text(
        ["Deadpond", "Rusty-Man"]
    )
    page.get_by_role("link", name="Delete Z-Force").click()
    expect(page).to_have_url(f"{server.url}/teams/{team_id}/delete")
    expect(page.get_by_role("main")).to_contain_text("2 heroes will be left without a team.")
    assert _post_answer(page, page.get_by_role("button", name="Delete").click).status == 303

    expect(page).to_have_url(f"{server.url}/teams")
    expect(page.get_by_role("heading", name="Teams", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(
        with_undo("Moved team Z-Force to the trash. 2 heroes left without a team; Undo puts them back.")
    )
    assert [(t.name, t.deleted_by) for t in server.run(all_teams)] == [("Z-Force", "eddie")]
    assert [(h.name, h.team_id) for h in server.run(all_heroes)] == [("Deadpond", None), ("Rusty-Man", None)]
    main_nav(page).get_by_role("link", name="Heroes").click()
    expect_cells(
        row_of(page.get_by_role("table", name="Heroes"), "Deadpond"), "Deadpond", "Dive Wilson", "—", "No team"
    )


def test_team_duplicate_name_without_javascript_shows_409_page(nojs_page: Page, server: LiveServer) -> None:
    page = nojs_page
    add_team(server, name="Preventers")
    page.goto("/teams/new")
    page.get_by_label("Name", exact=True).fill("Preventers")
    page.get_by_label("Headquarters").fill("Another Tower")
    assert _post_answer(page, page.get_by_role("button", name="Save", exact=True).click).status == 409

    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description(re.compile("^A team named “Preventers” already exists."))
    expect(page.get_by_label("Headquarters")).to_have_value("Another Tower")
    assert [t.headquarters for t in server.run(all_teams)] == ["Sharp Tower"]


def test_pagination_links_work_without_javascript(nojs_page: Page, server: LiveServer) -> None:
    page = nojs_page
    add_many_heroes(server, 30)
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    expect(row_of(table, "Hero 25")).to_be_visible()

    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"/heroes\?after=[\w-]+$"))
    expect(row_of(table, "Hero 26")).to_be_visible()
    expect(row_of(table, "Hero 25")).to_have_count(0)
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_be_visible()

    page.get_by_role("link", name="Previous").click()
    expect(page).to_have_url(re.compile(r"/heroes\?before=[\w-]+$"))
    expect(row_of(table, "Hero 01")).to_be_visible()

"""Teams with JavaScript: create from the list, inline edit, delete with its consequence for the heroes."""

from __future__ import annotations

import re

from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.support import (
    add_hero,
    add_team,
    expect_cells,
    expect_same_document,
    mark_document,
    open_create_form,
    record_posts,
    row_of,
    start_inline_edit,
    with_undo,
)
from tests.support import all_heroes, all_teams, fetch_team


def test_create_team_from_list_adds_row_resets_form_counts_and_toasts(page: Page, server: LiveServer) -> None:
    add_team(server, name="Preventers")
    page.goto("/teams")
    expect(page.get_by_text("1 team", exact=True)).to_be_visible()
    mark_document(page)

    open_create_form(page, "New team")
    name = page.get_by_label("Name", exact=True)
    name.fill("Z-Force")
    page.get_by_label("Headquarters").fill("Sister Margaret's Bar")
    page.get_by_role("button", name="Save", exact=True).click()

    table = page.get_by_role("table", name="Teams")
    expect_cells(row_of(table, "Z-Force"), "Z-Force", "Sister Margaret's Bar", "0")
    expect(page.get_by_role("status")).to_have_text("Created team Z-Force.")
    expect(page.get_by_text("2 teams", exact=True)).to_be_visible()
    expect(name).to_have_value("")
    expect(page.get_by_label("Headquarters")).to_have_value("")
    expect(page).to_have_url(f"{server.url}/teams")
    expect_same_document(page)
    assert [(t.name, t.headquarters) for t in server.run(all_teams)] == [
        ("Preventers", "Sharp Tower"),
        ("Z-Force", "Sister Margaret's Bar"),
    ]


def test_create_team_duplicate_name_shows_409_error_and_keeps_input(page: Page, server: LiveServer) -> None:
    add_team(server, name="Preventers")
    page.goto("/teams")
    open_create_form(page, "New team")
    page.get_by_label("Name", exact=True).fill("Preventers")
    page.get_by_label("Headquarters").fill("Another Tower")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Save", exact=True).click()
    assert answer.value.status == 409

    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    # The message first, then the field's help.
    expect(name).to_have_accessible_description(re.compile("^A team named “Preventers” already exists."))
    expect(name).to_have_value("Preventers")
    expect(page.get_by_label("Headquarters")).to_have_value("Another Tower")
    expect(page.get_by_role("alert")).to_contain_text("Please correct")
    expect(page.get_by_text("1 team", exact=True)).to_be_visible()
    expect(page).to_have_url(f"{server.url}/teams")
    assert [t.headquarters for t in server.run(all_teams)] == ["Sharp Tower"]


def test_create_team_blank_headquarters_shows_422_error(page: Page, server: LiveServer) -> None:
    page.goto("/teams")
    open_create_form(page, "New team")
    page.get_by_label("Name", exact=True).fill("Z-Force")
    page.get_by_label("Headquarters").fill("  ")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Save", exact=True).click()
    assert answer.value.status == 422

    headquarters = page.get_by_label("Headquarters")
    expect(headquarters).to_have_attribute("aria-invalid", "true")
    expect(headquarters).to_have_accessible_description("Headquarters is required.")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Z-Force")
    assert server.run(all_teams) == []


def test_inline_edit_team_saves_in_place(page: Page, server: LiveServer) -> None:
    team_id = add_team(server, name="Preventers", headquarters="Sharp Tower")
    add_hero(server, name="Deadpond", team_id=team_id)
    page.goto("/teams")
    mark_document(page)
    table = page.get_by_role("table", name="Teams")

    start_inline_edit(table, "Preventers")
    name = table.get_by_role("textbox", name="Name", exact=True)
    expect(name).to_have_value("Preventers")
    headquarters = table.get_by_role("textbox", name="Headquarters")
    expect(headquarters).to_have_value("Sharp Tower")
    name.fill("Z-Force")
    headquarters.fill("Sister Margaret's Bar")
    table.get_by_role("button", name="Save", exact=True).click()

    expect_cells(row_of(table, "Z-Force"), "Z-Force", "Sister Margaret's Bar", "1")
    expect(table.get_by_role("textbox")).to_have_count(0)
    expect(page).to_have_url(f"{server.url}/teams")
    expect_same_document(page)
    team = server.run(lambda db: fetch_team(db, team_id))
    assert team is not None
    assert (team.name, team.headquarters) == ("Z-Force", "Sister Margaret's Bar")


def test_inline_edit_team_save_shows_status_message(page: Page, server: LiveServer) -> None:
    add_team(server, name="Preventers")
    page.goto("/teams")
    table = page.get_by_role("table", name="Teams")
    start_inline_edit(table, "Preventers")
    table.get_by_role("textbox", name="Name", exact=True).fill("Z-Force")
    table.get_by_role("button", name="Save", exact=True).click()
    expect(row_of(table, "Z-Force")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Saved team Z-Force.")


def test_inline_edit_team_cancel_restores_row_unchanged(page: Page, server: LiveServer) -> None:
    team_id = add_team(server, name="Preventers", headquarters="Sharp Tower")
    page.goto("/teams")
    table = page.get_by_role("table", name="Teams")

    start_inline_edit(table, "Preventers")
    table.get_by_role("textbox", name="Headquarters").fill("Elsewhere")
    table.get_by_role("link", name="Cancel").click()

    expect_cells(row_of(table, "Preventers"), "Preventers", "Sharp Tower", "0")
    expect(table.get_by_role("textbox")).to_have_count(0)
    expect(page).to_have_url(f"{server.url}/teams")
    team = server.run(lambda db: fetch_team(db, team_id))
    assert team is not None
    assert team.headquarters == "Sharp Tower"


def test_inline_edit_team_duplicate_name_shows_409_in_row(page: Page, server: LiveServer) -> None:
    add_team(server, name="Preventers")
    team_id = add_team(server, name="Z-Force", headquarters="Sister Margaret's Bar")
    page.goto("/teams")
    table = page.get_by_role("table", name="Teams")

    start_inline_edit(table, "Z-Force")
    table.get_by_role("textbox", name="Name", exact=True).fill("Preventers")
    table.get_by_role("textbox", name="Headquarters").fill("Somewhere new")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        table.get_by_role("button", name="Save", exact=True).click()
    assert answer.value.status == 409

    name = table.get_by_role("textbox", name="Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    # The message first, then the field's help.
    expect(name).to_have_accessible_description(re.compile("^A team named “Preventers” already exists."))
    expect(name).to_have_value("Preventers")
    expect(table.get_by_role("textbox", name="Headquarters")).to_have_value("Somewhere new")
    expect(page).to_have_url(f"{server.url}/teams")
    team = server.run(lambda db: fetch_team(db, team_id))
    assert team is not None
    assert (team.name, team.headquarters) == ("Z-Force", "Sister Margaret's Bar")

    # Cancel from the error row brings back the stored team.
    table.get_by_role("link", name="Cancel").click()
    expect_cells(row_of(table, "Z-Force"), "Z-Force", "Sister Margaret's Bar", "0")


def test_delete_team_after_confirm_warns_about_heroes_and_leaves_them_teamless(page: Page, server: LiveServer) -> None:
    team_id = add_team(server, name="Preventers")
    add_team(server, name="Z-Force")
    add_hero(server, name="Deadpond", team_id=team_id)
    add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp", team_id=team_id)
    page.goto("/teams")
    table = page.get_by_role("table", name="Teams")
    expect_cells(row_of(table, "Preventers"), "Preventers", "Sharp Tower", "2")
    mark_document(page)
    messages: list[str] = []

    def accept(dialog: Dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    table.get_by_role("link", name="Delete Preventers").click()

    expect(row_of(table, "Preventers")).to_have_count(0)
    expect(row_of(table, "Z-Force")).to_be_visible()
    expect(page.get_by_text("1 team", exact=True)).to_be_visible()
    status = page.get_by_role("status")
    expect(status).to_have_text(
        with_undo("Moved team Preventers to the trash. 2 heroes left without a team; Undo puts them back.")
    )
    expect(status.get_by_role("button", name="Undo")).to_be_visible()
    assert len(messages) == 1
    assert "Preventers" in messages[0]
    assert "2 heroes will be left without a team" in messages[0]
    expect_same_document(page)
    assert [(t.name, t.deleted_by) for t in server.run(all_teams)] == [("Preventers", "eddie"), ("Z-Force", None)]
    assert [(h.name, h.team_id) for h in server.run(all_heroes)] == [("Deadpond", None), ("Rusty-Man", None)]


def test_delete_team_dismissed_keeps_team_and_sends_nothing(page: Page, server: LiveServer) -> None:
    team_id = add_team(server, name="Preventers")
    add_hero(server, name="Deadpond", team_id=team_id)
    page.goto("/teams")
    table = page.get_by_role("table", name="Teams")
    posts = record_posts(page)
    page.once("dialog", lambda dialog: dialog.dismiss())
    table.get_by_role("link", name="Delete Preventers").click()
    # A later round trip: a delete request, had one been sent, would have gone before it.
    start_inline_edit(table, "Preventers")
    expect(table.get_by_role("textbox", name="Name", exact=True)).to_have_value("Preventers")

    assert posts == []
    expect(page.get_by_text("1 team", exact=True)).to_be_visible()
    assert [t.name for t in server.run(all_teams)] == ["Preventers"]
    assert [h.team_id for h in server.run(all_heroes)] == [team_id]

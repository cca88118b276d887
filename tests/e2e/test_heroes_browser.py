"""Heroes with JavaScript: every htmx flow of the list page (create, inline edit, delete, pages), in place."""

from __future__ import annotations

import re

from playwright.sync_api import Dialog, Page, expect
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.e2e.conftest import LiveServer, PageProblems
from tests.e2e.support import (
    add_hero,
    add_many_heroes,
    add_team,
    expect_cells,
    expect_same_document,
    main_nav,
    mark_document,
    open_create_form,
    record_posts,
    row_of,
    start_inline_edit,
    with_undo,
)
from tests.support import all_heroes, fetch_hero, move_to_trash
from webapp.models import Hero


async def trash_hero(db: AsyncSession, hero_id: int) -> None:
    hero = await db.get(Hero, hero_id)
    assert hero is not None
    await move_to_trash(db, hero, by="rita")


def test_create_hero_from_list_adds_row_resets_form_counts_and_toasts(page: Page, server: LiveServer) -> None:
    add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp")
    team_id = add_team(server, name="Preventers")
    page.goto("/heroes")
    expect(page.get_by_text("1 hero", exact=True)).to_be_visible()
    mark_document(page)

    open_create_form(page, "New hero")
    name = page.get_by_label("Name", exact=True)
    name.fill("Deadpond")
    page.get_by_label("Secret name", exact=True).fill("Dive Wilson")
    page.get_by_label("Age", exact=True).fill("33")
    page.get_by_label("Team", exact=True).select_option(label="Preventers")
    page.get_by_role("button", name="Save", exact=True).click()

    table = page.get_by_role("table", name="Heroes")
    expect_cells(row_of(table, "Deadpond"), "Deadpond", "Dive Wilson", "33", "Preventers")
    expect(page.get_by_role("status")).to_have_text("Created hero Deadpond.")
    expect(page.get_by_text("2 heroes", exact=True)).to_be_visible()
    # The form is back, empty, ready for the next hero.
    expect(name).to_have_value("")
    expect(page.get_by_label("Secret name", exact=True)).to_have_value("")
    expect(page.get_by_label("Age", exact=True)).to_have_value("")
    expect(page.get_by_label("Team", exact=True)).to_have_value("")
    expect(page).to_have_url(f"{server.url}/heroes")
    expect_same_document(page)
    created = [hero for hero in server.run(all_heroes) if hero.name == "Deadpond"]
    assert [(h.secret_name, h.age, h.team_id) for h in created] == [("Dive Wilson", 33, team_id)]


def test_create_hero_blank_name_shows_error_beside_field_and_keeps_input(page: Page, server: LiveServer) -> None:
    page.goto("/heroes")
    expect(page.get_by_text("No heroes yet", exact=False)).to_be_visible()
    open_create_form(page, "New hero")
    page.get_by_label("Name", exact=True).fill("   ")  # passes the browser's `required`, not the server
    page.get_by_label("Secret name", exact=True).fill("Dive Wilson")
    page.get_by_label("Age", exact=True).fill("33")
    page.get_by_role("button", name="Save", exact=True).click()

    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("Name is required.")
    expect(page.get_by_role("alert")).to_contain_text("Please correct")
    expect(page.get_by_label("Secret name", exact=True)).to_have_value("Dive Wilson")
    expect(page.get_by_label("Age", exact=True)).to_have_value("33")
    expect(page.get_by_label("Secret name", exact=True)).not_to_have_attribute("aria-invalid", "true")
    # The 422 fragment replaced the form only: one page heading, one form.
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(1)
    expect(page).to_have_url(f"{server.url}/heroes")
    assert server.run(all_heroes) == []

    # The re-rendered form still submits in place.
    name.fill("Deadpond")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Created hero Deadpond.")
    expect(row_of(page.get_by_role("table", name="Heroes"), "Deadpond")).to_be_visible()
    expect(page.get_by_text("1 hero", exact=True)).to_be_visible()  # the empty state gave way to the count
    assert [hero.name for hero in server.run(all_heroes)] == ["Deadpond"]


def test_inline_edit_hero_saves_every_field_in_place(page: Page, server: LiveServer) -> None:
    old_team = add_team(server, name="Preventers")
    new_team = add_team(server, name="Z-Force")
    hero_id = add_hero(server, name="Deadpond", secret_name="Dive Wilson", age=30, team_id=old_team)
    page.goto("/heroes")
    mark_document(page)
    table = page.get_by_role("table", name="Heroes")

    start_inline_edit(table, "Deadpond")
    name = table.get_by_role("textbox", name="Name", exact=True)
    expect(name).to_have_value("Deadpond")
    expect(table.get_by_role("textbox", name="Secret name")).to_have_value("Dive Wilson")
    expect(table.get_by_role("spinbutton", name="Age")).to_have_value("30")
    team = table.get_by_role("combobox", name="Team")
    expect(team.get_by_role("option", name="No team")).to_have_count(1)
    expect(team).to_have_value(str(old_team))

    name.fill("Deadpool")
    table.get_by_role("textbox", name="Secret name").fill("Wade Wilson")
    table.get_by_role("spinbutton", name="Age").fill("34")
    team.select_option(label="Z-Force")
    table.get_by_role("button", name="Save", exact=True).click()

    expect_cells(row_of(table, "Deadpool"), "Deadpool", "Wade Wilson", "34", "Z-Force")
    expect(table.get_by_role("textbox")).to_have_count(0)
    expect(page).to_have_url(f"{server.url}/heroes")
    expect_same_document(page)
    hero = server.run(lambda db: fetch_hero(db, hero_id))
    assert hero is not None
    assert (hero.name, hero.secret_name, hero.age, hero.team_id) == ("Deadpool", "Wade Wilson", 34, new_team)

    # The swapped-in row is live: it can be edited again, here back to no team and no age.
    start_inline_edit(table, "Deadpool")
    table.get_by_role("spinbutton", name="Age").fill("")
    table.get_by_role("combobox", name="Team").select_option(label="No team")
    table.get_by_role("button", name="Save", exact=True).click()
    expect_cells(row_of(table, "Deadpool"), "Deadpool", "Wade Wilson", "—", "No team")
    hero = server.run(lambda db: fetch_hero(db, hero_id))
    assert hero is not None
    assert (hero.age, hero.team_id) == (None, None)


def test_inline_edit_hero_save_shows_status_message(page: Page, server: LiveServer) -> None:
    add_hero(server, name="Deadpond")
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    start_inline_edit(table, "Deadpond")
    table.get_by_role("textbox", name="Name", exact=True).fill("Deadpool")
    table.get_by_role("button", name="Save", exact=True).click()
    expect(row_of(table, "Deadpool")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Saved hero Deadpool.")


def test_inline_edit_hero_cancel_restores_row_unchanged(page: Page, server: LiveServer) -> None:
    team_id = add_team(server, name="Preventers")
    hero_id = add_hero(server, name="Deadpond", secret_name="Dive Wilson", age=30, team_id=team_id)
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")

    start_inline_edit(table, "Deadpond")
    table.get_by_role("textbox", name="Name", exact=True).fill("Something else")
    table.get_by_role("combobox", name="Team").select_option(label="No team")
    table.get_by_role("link", name="Cancel").click()

    expect_cells(row_of(table, "Deadpond"), "Deadpond", "Dive Wilson", "30", "Preventers")
    expect(table.get_by_role("textbox")).to_have_count(0)
    expect(page).to_have_url(f"{server.url}/heroes")
    hero = server.run(lambda db: fetch_hero(db, hero_id))
    assert hero is not None
    assert (hero.name, hero.team_id) == ("Deadpond", team_id)


def test_inline_edit_hero_blank_name_shows_error_in_row_and_keeps_input(page: Page, server: LiveServer) -> None:
    hero_id = add_hero(server, name="Deadpond", secret_name="Dive Wilson", age=30)
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")

    start_inline_edit(table, "Deadpond")
    table.get_by_role("textbox", name="Name", exact=True).fill("   ")
    table.get_by_role("textbox", name="Secret name").fill("Wade Wilson")
    table.get_by_role("spinbutton", name="Age").fill("31")
    table.get_by_role("button", name="Save", exact=True).click()

    name = table.get_by_role("textbox", name="Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("Name is required.")
    expect(table.get_by_text("Name is required.")).to_be_visible()
    expect(table.get_by_role("textbox", name="Secret name")).to_have_value("Wade Wilson")
    expect(table.get_by_role("spinbutton", name="Age")).to_have_value("31")
    expect(page).to_have_url(f"{server.url}/heroes")
    hero = server.run(lambda db: fetch_hero(db, hero_id))
    assert hero is not None
    assert (hero.name, hero.secret_name, hero.age) == ("Deadpond", "Dive Wilson", 30)

    # Correcting the name saves from the re-rendered row.
    name.fill("Deadpool")
    table.get_by_role("button", name="Save", exact=True).click()
    expect_cells(row_of(table, "Deadpool"), "Deadpool", "Wade Wilson", "31")
    hero = server.run(lambda db: fetch_hero(db, hero_id))
    assert hero is not None
    assert (hero.name, hero.secret_name, hero.age) == ("Deadpool", "Wade Wilson", 31)


def test_delete_hero_after_confirm_removes_row_counts_and_toasts(page: Page, server: LiveServer) -> None:
    add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp")
    add_hero(server, name="Deadpond")
    page.goto("/heroes")
    expect(page.get_by_text("2 heroes", exact=True)).to_be_visible()
    table = page.get_by_role("table", name="Heroes")
    mark_document(page)
    messages: list[str] = []

    def accept(dialog: Dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    table.get_by_role("link", name="Delete Deadpond").click()

    expect(row_of(table, "Deadpond")).to_have_count(0)
    expect(row_of(table, "Rusty-Man")).to_be_visible()
    expect(page.get_by_text("1 hero", exact=True)).to_be_visible()
    status = page.get_by_role("status")
    expect(status).to_have_text(with_undo("Moved hero Deadpond to the trash."))
    expect(status.get_by_role("button", name="Undo")).to_be_visible()
    assert len(messages) == 1
    assert "Deadpond" in messages[0]
    assert "trash" in messages[0]
    expect(page).to_have_url(f"{server.url}/heroes")
    expect_same_document(page)
    heroes = server.run(all_heroes)
    assert [(h.name, h.deleted_by, h.deleted_at is not None) for h in heroes] == [
        ("Rusty-Man", None, False),
        ("Deadpond", "eddie", True),
    ]


def test_delete_hero_dismissed_keeps_row_and_sends_nothing(page: Page, server: LiveServer) -> None:
    add_hero(server, name="Deadpond")
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    posts = record_posts(page)
    page.once("dialog", lambda dialog: dialog.dismiss())
    table.get_by_role("link", name="Delete Deadpond").click()
    # Another round trip after the dismissal: a delete request, had one been sent, would have gone first.
    start_inline_edit(table, "Deadpond")
    expect(table.get_by_role("textbox", name="Name", exact=True)).to_have_value("Deadpond")

    assert posts == []
    expect(page.get_by_text("1 hero", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("")
    assert [hero.name for hero in server.run(all_heroes)] == ["Deadpond"]


def test_pagination_next_swaps_table_pushes_url_and_back_restores_full_page(page: Page, server: LiveServer) -> None:
    add_many_heroes(server, 30)
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    expect(table.get_by_role("row")).to_have_count(26)  # header + 25
    mark_document(page)

    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"/heroes\?after=[\w-]+$"))  # keyset: the position after the last row
    expect(row_of(table, "Hero 26")).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(6)
    expect(row_of(table, "Hero 01")).to_have_count(0)
    expect(page.get_by_role("link", name="Previous")).to_be_visible()
    expect(page.get_by_role("link", name="Next")).to_have_count(0)
    expect_same_document(page)

    page.go_back()
    expect(page).to_have_url(f"{server.url}/heroes")
    expect(row_of(table, "Hero 01")).to_be_visible()
    # A whole page, not a bare fragment: the heading, the navigation and the page's own controls.
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_have_count(1)
    expect(main_nav(page).get_by_role("link", name="Teams")).to_be_visible()
    expect(page.get_by_role("link", name="New hero")).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(26)
    # ...and a working one: htmx is alive again.
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"/heroes\?after=[\w-]+$"))
    expect(row_of(table, "Hero 30")).to_be_visible()


def test_pagination_forward_after_back_shows_full_second_page(page: Page, server: LiveServer) -> None:
    add_many_heroes(server, 30)
    page.goto("/heroes")
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"/heroes\?after=[\w-]+$"))
    page.go_back()
    expect(row_of(page.get_by_role("table", name="Heroes"), "Hero 01")).to_be_visible()

    page.go_forward()
    table = page.get_by_role("table", name="Heroes")
    expect(row_of(table, "Hero 26")).to_be_visible()
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_have_count(1)
    expect(main_nav(page).get_by_role("link", name="Heroes")).to_be_visible()
    expect(page.get_by_role("link", name="New hero")).to_be_visible()


def test_team_link_in_hero_row_opens_team_detail_with_its_heroes(page: Page, server: LiveServer) -> None:
    team_id = add_team(server, name="Preventers")
    add_hero(server, name="Deadpond", team_id=team_id)
    add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp", team_id=team_id)
    add_hero(server, name="Loner", secret_name="Lone Wolf")
    page.goto("/heroes")
    row_of(page.get_by_role("table", name="Heroes"), "Deadpond").get_by_role("link", name="Preventers").click()

    expect(page).to_have_url(f"{server.url}/teams/{team_id}")
    expect(page.get_by_role("heading", name="Preventers", level=1)).to_be_visible()
    heroes = page.get_by_role("table", name=re.compile("Preventers"))
    expect(heroes.get_by_role("link")).to_have_text(["Deadpond", "Rusty-Man"])


def test_edit_of_hero_deleted_elsewhere_shows_alert_pointing_to_trash_and_keeps_page(
    page: Page, server: LiveServer, problems: PageProblems
) -> None:
    problems.allow("Response Status Error Code 404 from /heroes/")  # htmx logs the error answer it shows
    hero_id = add_hero(server, name="Deadpond")
    add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp")
    page.goto("/heroes")
    server.run(lambda db: trash_hero(db, hero_id))
    table = page.get_by_role("table", name="Heroes")

    table.get_by_role("link", name="Edit Deadpond").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("This hero was deleted")
    expect(alert).to_contain_text("deleted by rita")
    expect(alert.get_by_role("link", name="Open the Trash")).to_have_attribute("href", "/trash")
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_have_count(1)
    expect(row_of(table, "Rusty-Man")).to_be_visible()
    expect(page).to_have_url(f"{server.url}/heroes")

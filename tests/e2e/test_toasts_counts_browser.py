"""Issue 12, defects 4 and 6 and the selection count: status messages that cover no control and can be
dismissed, Undo a few key presses away, the count line and "Select all N matching" agreeing after every inline
change, and "N of M selected" following the ticks. At desktop size and at a 390 px phone's where it matters."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.e2e.conftest import LiveServer
from tests.e2e.everyday import controls_covered_by, focused
from tests.e2e.support import add_hero, add_many_heroes, open_create_form, start_inline_edit
from webapp.audit import Actor
from webapp.config import utcnow
from webapp.data import writes
from webapp.registry import HEROES

# Where messages sit, dismissing them, focus, tab distances, the selection count and what is hidden without
# JavaScript are the markup's and the page script's, the same on either database: those run on one
# (`one_database`). The list counts after each change are the database's live counts: those run on both.
ONE_DATABASE = pytest.mark.one_database
UNDO_TABS_LIMIT = 10  # from the top of the page, past the skip link and the main navigation


def _count_line(page: Page, prefix: str = "hero") -> Locator:
    return page.locator(f"#{prefix}-summary")


def _select_all(page: Page, prefix: str = "hero") -> Locator:
    return page.locator(f"#{prefix}-bulk").get_by_text("matching")


def _alphas(server: LiveServer) -> None:
    for name in ("Alpha One", "Alpha Three", "Alpha Two", "Beta"):
        add_hero(server, name=name)


@ONE_DATABASE
def test_saved_message_covers_no_control_and_can_be_dismissed(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    add_many_heroes(server, 25)
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    start_inline_edit(table, "Hero 20")
    table.get_by_role("button", name="Save", exact=True).click()
    status = page.get_by_role("status")
    expect(status).to_have_text("Saved hero Hero 20.")
    assert controls_covered_by(page, "#toasts") == []
    status.get_by_role("button", name="Dismiss").click()
    expect(status).to_have_text("")


@ONE_DATABASE
def test_conflict_alert_can_be_dismissed_and_gives_the_focus_back(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    hero_id = add_hero(server, name="Deadpond", age=30)
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    start_inline_edit(table, "Deadpond")

    async def change_meanwhile(db: AsyncSession) -> None:
        rita = Actor(user_id=None, username="rita", request_id="arranged", at=utcnow())
        await writes.change(db, HEROES, hero_id, version=1, values={"age": 31}, actor=rita)
        await db.commit()

    server.run(change_meanwhile)
    table.get_by_role("spinbutton", name="Age").fill("40")
    table.get_by_role("button", name="Save", exact=True).click()
    alert = page.locator("#toasts").get_by_role("alert")
    expect(alert).to_contain_text("while you were editing")
    assert controls_covered_by(page, "#toasts") == []
    name = table.get_by_role("textbox", name="Name", exact=True)
    expect(name).to_be_focused()
    alert.get_by_role("button", name="Dismiss").click()
    expect(alert).to_have_count(0)
    expect(name).to_be_focused()


@ONE_DATABASE
def test_undo_after_delete_without_javascript_is_a_few_tabs_away(nojs_page: Page, server: LiveServer) -> None:
    page = nojs_page
    add_many_heroes(server, 30)
    hero_id = add_hero(server, name="Aardvark")
    page.goto(f"/heroes/{hero_id}/delete")
    page.get_by_role("button", name="Delete").click()
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    expect(page.get_by_role("button", name="Dismiss")).to_be_hidden()  # needs JavaScript
    presses = 0
    while presses < 60 and "Undo" not in focused(page):
        page.keyboard.press("Tab")
        presses += 1
    print(f"Tab presses from the top of the list page to Undo: {presses}")
    assert presses <= UNDO_TABS_LIMIT, focused(page)
    assert controls_covered_by(page, "#toasts") == []


def test_counts_agree_after_inline_create(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    add_hero(server, name="Deadpond")
    add_hero(server, name="Rusty-Man")
    page.goto("/heroes")
    expect(_count_line(page)).to_have_text("2 heroes")
    open_create_form(page, "New hero")
    page.get_by_label("Name", exact=True).fill("Spider-Boy")
    page.get_by_label("Secret name", exact=True).fill("Pedro Parqueador")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Created hero Spider-Boy.")
    expect(_count_line(page)).to_have_text("3 heroes")
    expect(_select_all(page)).to_have_text("Select all 3 matching")


def test_counts_agree_after_delete_in_a_searched_list(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    _alphas(server)
    page.goto("/heroes?q=alpha")
    expect(_count_line(page)).to_have_text("3 heroes match")
    expect(_select_all(page)).to_have_text("Select all 3 matching")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Delete Alpha Two").click()
    expect(page.get_by_role("link", name="Alpha Two")).to_have_count(0)
    expect(_count_line(page)).to_have_text("2 heroes match")
    expect(_select_all(page)).to_have_text("Select all 2 matching")


def test_counts_agree_after_an_inline_edit_leaves_the_search(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    _alphas(server)
    page.goto("/heroes?q=alpha")
    table = page.get_by_role("table", name="Heroes")
    start_inline_edit(table, "Alpha Two")
    table.get_by_role("textbox", name="Name", exact=True).fill("Gamma")
    table.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved hero Gamma.")
    expect(_count_line(page)).to_have_text("2 heroes match")
    expect(_select_all(page)).to_have_text("Select all 2 matching")


def test_team_counts_agree_after_inline_delete_of_the_last_one_and_a_create(page: Page, server: LiveServer) -> None:
    page.goto("/teams")
    open_create_form(page, "New team")
    page.get_by_label("Name", exact=True).fill("Preventers")
    page.get_by_label("Headquarters", exact=True).fill("Sharp Tower")
    page.get_by_role("button", name="Save", exact=True).click()
    # The list was empty (no bulk form to speak of): the count and the bulk form arrive together.
    expect(_count_line(page, "team")).to_have_text("1 team")
    expect(_select_all(page, "team")).to_have_text("Select all 1 matching")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Delete Preventers").click()
    expect(_count_line(page, "team")).to_contain_text("No teams yet.")
    expect(page.locator("#team-bulk")).to_be_hidden()


@ONE_DATABASE
def test_selection_count_follows_the_ticks(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    _alphas(server)
    page.goto("/heroes")
    count = page.locator("#hero-selection")
    expect(count).to_have_text("0 of 4 selected")
    page.get_by_role("checkbox", name="Select Alpha One").check()
    page.get_by_role("checkbox", name="Select Beta").check()
    expect(count).to_have_text("2 of 4 selected")
    page.get_by_role("checkbox", name="Select all 4 matching").check()
    expect(count).to_have_text("4 of 4 selected")
    page.get_by_role("checkbox", name="Select Beta").uncheck()
    expect(count).to_have_text("3 of 4 selected")
    select_page = page.get_by_role("checkbox", name="Select all", exact=True)
    select_page.check()  # from "some of them" to all
    expect(count).to_have_text("4 of 4 selected")
    select_page.uncheck()
    expect(count).to_have_text("0 of 4 selected")


@ONE_DATABASE
def test_without_javascript_what_needs_it_is_hidden(nojs_page: Page, server: LiveServer) -> None:
    add_hero(server, name="Deadpond")
    nojs_page.goto("/heroes")
    expect(nojs_page.get_by_role("checkbox", name="Select Deadpond")).to_be_visible()
    expect(nojs_page.locator("#hero-selection")).to_be_hidden()
    expect(nojs_page.get_by_role("button", name="Keyboard shortcuts")).to_be_hidden()

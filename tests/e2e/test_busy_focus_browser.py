"""Issue 12, defects 2 and 3: what the user sees while an htmx request runs (answers held back as on a slow
network), and where the focus goes after inline Save, Cancel, Escape and Delete, the history panel and the last
page of a list. Each test runs at desktop size and at a 390 px phone's."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SIZES, LiveServer
from tests.e2e.everyday import HeldAnswers, focused
from tests.e2e.support import (
    add_hero,
    add_many_heroes,
    expect_cells,
    expect_no_axe_violations,
    open_create_form,
    record_posts,
    row_of,
    start_inline_edit,
)

# What the page shows while an answer is held back, and where the focus goes, are the page's script and markup:
# the same on either database behind the server, so these run on one. The saves, creates and deletes they send
# are proven on both databases over HTTP (tests/test_records_*.py).
pytestmark = pytest.mark.one_database


def test_searching_shows_its_indicator_and_busy_list_until_the_answer(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    add_hero(server, name="Deadpond")
    add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp")
    page.goto("/heroes")
    progress = page.get_by_text("Searching…")
    expect(progress).to_be_hidden()
    answers = HeldAnswers(page)

    page.get_by_role("searchbox", name="Search").fill("rusty")
    expect(progress).to_be_visible()
    expect(page.locator("#hero-list")).to_have_attribute("aria-busy", "true")
    expect(page.get_by_role("button", name="Search", exact=True)).to_be_disabled()
    # The indicator fades in (0.2 s): checked for contrast once it is fully shown, not halfway.
    expect(progress).to_have_css("opacity", "1")
    expect_no_axe_violations(page)

    answers.release()
    expect(progress).to_be_hidden()
    expect(page.locator("#hero-list")).not_to_have_attribute("aria-busy", "true")
    expect(page.get_by_role("button", name="Search", exact=True)).to_be_enabled()
    expect(page.get_by_role("table", name="Heroes").get_by_role("link", name="Deadpond")).to_have_count(0)


def test_inline_edit_and_save_show_a_busy_row_and_disable_what_sent_them(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    hero_id = add_hero(server, name="Deadpond", age=30)
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    row = page.locator(f"#hero-{hero_id}")
    answers = HeldAnswers(page)

    edit = table.get_by_role("link", name="Edit Deadpond")
    edit.click()
    expect(row).to_have_attribute("aria-busy", "true")
    expect(edit).to_have_attribute("disabled", "")
    answers.release()
    expect(table.get_by_role("textbox", name="Name", exact=True)).to_be_focused()

    table.get_by_role("spinbutton", name="Age").fill("31")
    save = table.get_by_role("button", name="Save", exact=True)
    save.click()
    expect(row).to_have_attribute("aria-busy", "true")
    expect(save).to_be_disabled()
    expect_no_axe_violations(page)
    answers.release()
    expect_cells(row_of(table, "Deadpond"), "Deadpond", "Dive Wilson", "31")
    expect(row).not_to_have_attribute("aria-busy", "true")


def test_inline_create_shows_a_busy_form_and_a_disabled_save(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    page.goto("/heroes")
    answers = HeldAnswers(page)
    new = page.get_by_role("link", name="New hero")
    new.click()
    expect(new).to_have_attribute("disabled", "")
    expect(page.locator("#hero-form-slot")).to_have_attribute("aria-busy", "true")
    answers.release()
    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    page.get_by_label("Name", exact=True).fill("Spider-Boy")
    page.get_by_label("Secret name", exact=True).fill("Pedro Parqueador")
    save = page.get_by_role("button", name="Save", exact=True)
    save.click()
    expect(save).to_be_disabled()
    expect(page.locator("#hero-form")).to_have_attribute("aria-busy", "true")
    answers.release()
    expect(page.get_by_role("status")).to_have_text("Created hero Spider-Boy.")
    expect(page.get_by_label("Name", exact=True)).to_be_focused()  # the fresh form, ready for the next one


def test_delete_shows_a_busy_row_until_it_goes(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    hero_id = add_hero(server, name="Deadpond")
    page.goto("/heroes")
    row = page.locator(f"#hero-{hero_id}")
    answers = HeldAnswers(page)
    page.once("dialog", lambda dialog: dialog.accept())
    delete = page.get_by_role("link", name="Delete Deadpond")
    delete.click()
    expect(row).to_have_attribute("aria-busy", "true")
    expect(delete).to_have_attribute("disabled", "")
    answers.release()
    expect(row).to_have_count(0)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_busy_rows_and_the_undo_message_have_no_axe_violations(
    new_page: Callable[..., Page], server: LiveServer, scheme: str
) -> None:
    page = new_page(color_scheme=scheme, viewport=SIZES["desktop"])
    hero_id = add_hero(server, name="Deadpond")
    add_hero(server, name="Rusty-Man")
    page.goto("/heroes")
    row = page.locator(f"#hero-{hero_id}")
    answers = HeldAnswers(page)
    page.get_by_role("link", name="Edit Deadpond").click()
    expect(row).to_have_attribute("aria-busy", "true")
    expect_no_axe_violations(page)
    answers.release()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(row).to_have_attribute("aria-busy", "true")
    expect_no_axe_violations(page)
    answers.release()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Delete Rusty-Man").click()
    expect(page.locator("tr[aria-busy='true']")).to_have_count(1)
    expect_no_axe_violations(page)
    answers.release()
    expect(page.locator("#toasts").get_by_role("button", name="Undo")).to_be_focused()
    expect_no_axe_violations(page)


def test_inline_save_puts_the_focus_on_the_saved_rows_edit(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    add_hero(server, name="Deadpond", age=30)
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    start_inline_edit(table, "Deadpond")
    table.get_by_role("textbox", name="Name", exact=True).fill("Deadpool")
    table.get_by_role("button", name="Save", exact=True).click()
    expect(table.get_by_role("link", name="Edit Deadpool")).to_be_focused()


def test_inline_cancel_puts_the_focus_on_the_rows_edit(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    add_hero(server, name="Deadpond")
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    start_inline_edit(table, "Deadpond")
    table.get_by_role("link", name="Cancel").click()
    expect(table.get_by_role("link", name="Edit Deadpond")).to_be_focused()


def test_escape_closes_inline_edit_unsaved_and_focuses_the_row(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    add_hero(server, name="Deadpond")
    page.goto("/heroes")
    posts = record_posts(page)
    table = page.get_by_role("table", name="Heroes")
    start_inline_edit(table, "Deadpond")
    table.get_by_role("textbox", name="Name", exact=True).fill("Not saved")
    page.keyboard.press("Escape")
    expect(table.get_by_role("textbox")).to_have_count(0)
    expect(table.get_by_role("link", name="Edit Deadpond")).to_be_focused()
    expect_cells(row_of(table, "Deadpond"), "Deadpond")
    assert posts == []


def test_escape_closes_inline_new_form_and_focuses_new_hero(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    page.goto("/heroes")
    posts = record_posts(page)
    open_create_form(page, "New hero")
    page.get_by_label("Name", exact=True).fill("Not saved")
    page.keyboard.press("Escape")
    expect(page.locator("#hero-form")).to_have_count(0)
    expect(page.get_by_role("link", name="New hero")).to_be_focused()
    assert posts == []


def test_inline_delete_focuses_undo_then_escape_focuses_the_next_row(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    add_hero(server, name="Black Lion")
    add_hero(server, name="Deadpond")
    next_id = add_hero(server, name="Rusty-Man")
    page.goto("/heroes")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Delete Deadpond").click()
    undo = page.locator("#toasts").get_by_role("button", name="Undo")
    # Undo is reached with no Tab press at all: the focus is on it.
    expect(undo).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#toasts").get_by_text("Moved hero Deadpond to the trash.")).to_have_count(0)
    expect(page.locator(f"#hero-{next_id}")).to_be_focused()
    expect(page.locator(f"#hero-{next_id}")).to_have_class(re.compile(r"\brow-focus\b"))


def test_deleting_the_last_row_focuses_undo_and_dismiss_focuses_the_heading(
    sized_page: Page, server: LiveServer
) -> None:
    page = sized_page
    add_hero(server, name="Deadpond")
    page.goto("/heroes")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Delete Deadpond").click()
    expect(page.locator("#toasts").get_by_role("button", name="Undo")).to_be_focused()
    page.locator("#toasts").get_by_role("button", name="Dismiss").click()
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_be_focused()


def test_history_panel_focuses_its_heading_once_loaded(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    hero_id = add_hero(server, name="Deadpond")
    page.goto(f"/heroes/{hero_id}")
    page.get_by_role("link", name="Show the changes to Deadpond").click()
    heading = page.get_by_role("heading", name="History")
    expect(heading).to_be_focused()
    assert focused(page) != "body"


def test_next_to_the_last_page_focuses_its_first_row(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    add_many_heroes(server, 30)
    page.goto("/heroes")
    page.get_by_role("link", name="Next").click()
    first = page.locator("#hero-rows > tr").first
    expect(first).to_contain_text("Hero 26")
    expect(first).to_be_focused()
    expect(page.get_by_role("link", name="Next")).to_have_count(0)


def test_an_inline_form_has_the_focus_as_it_comes_in_and_a_field_moved_to_keeps_it(
    sized_page: Page, server: LiveServer
) -> None:
    """The inline edit's first field takes the focus in the swap itself, not at htmx's settle a moment later (and
    so before the browser's own autofocus could): a field the user moves to as soon as the form shows keeps the
    focus, and text typed goes where the user put it. With a settle 20 ms later, the focus went back to Name."""
    page = sized_page
    add_hero(server, name="Deadpond", age=30)
    page.goto("/heroes")
    # The moment the form's Age field is in the page (a mutation observer: before any other task runs), note where
    # the focus is and move to Age, as a quick click or Tab would.
    page.evaluate(
        """() => {
          window.focusedOnArrival = null;
          new MutationObserver(() => {
            const age = document.querySelector("tr.editing input[name='age']");
            if (!age || window.focusedOnArrival !== null) return;
            window.focusedOnArrival = document.activeElement.name || document.activeElement.tagName;
            age.focus();
          }).observe(document.body, { childList: true, subtree: true });
        }"""
    )
    table = page.get_by_role("table", name="Heroes")
    table.get_by_role("link", name="Edit Deadpond").click()
    age = table.get_by_role("spinbutton", name="Age")
    expect(age).to_be_focused()
    assert page.evaluate("window.focusedOnArrival") == "name"  # Name had it already when the form came in
    page.wait_for_timeout(200)  # well past any settle
    assert page.evaluate("document.activeElement.name") == "age"
    page.keyboard.type("1")
    expect(age).to_have_value(re.compile(r"^(130|301)$"))  # where the caret was put does not matter here
    expect(table.get_by_role("textbox", name="Name", exact=True)).to_have_value("Deadpond")

"""Issue 12, the keyboard layer: / n j k e Enter Escape ?, never while typing in a field, and the dialog listing
them (reachable and closable by keyboard, announced by its heading, axe-clean in both colour schemes). At desktop
size and at a 390 px phone's."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SIZES, LiveServer
from tests.e2e.support import add_hero, expect_no_axe_violations, record_posts

# The keyboard layer is the page's own script over the markup, the same on either database behind the server: these
# run on one. What the keys lead to (the forms, a save) is proven on both databases over HTTP.
pytestmark = pytest.mark.one_database

SHORTCUT_KEYS = ["/", "n", "j", "k", "e", "Enter", "Escape", "?"]


def _cast(server: LiveServer) -> list[int]:
    return [add_hero(server, name=name) for name in ("Black Lion", "Deadpond", "Rusty-Man")]


def _row_focus(page: Page, hero_id: int) -> None:
    row = page.locator(f"#hero-{hero_id}")
    expect(row).to_be_focused()
    expect(row).to_have_class(re.compile(r"\brow-focus\b"))
    expect(page.locator("tr.row-focus")).to_have_count(1)


def test_slash_focuses_search_and_keys_typed_there_stay_text(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    _cast(server)
    page.goto("/heroes")
    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Search")
    expect(search).to_be_focused()
    page.keyboard.type("n/j?")
    expect(search).to_have_value("n/j?")
    expect(page.locator("#hero-form")).to_have_count(0)
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_n_opens_the_new_hero_form_and_escape_closes_it(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    page.goto("/heroes")
    page.keyboard.press("n")
    name = page.get_by_role("main").get_by_role("textbox", name="Name", exact=True)
    expect(name).to_be_focused()
    page.keyboard.type("Spider-Boy")  # "n", "j" and "e" are letters of the name here, not shortcuts
    expect(name).to_have_value("Spider-Boy")
    page.keyboard.press("Escape")
    expect(page.locator("#hero-form")).to_have_count(0)
    expect(page.get_by_role("link", name="New hero")).to_be_focused()


def test_j_and_k_move_the_row_focus_and_e_edits_it(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    black_lion, deadpond, rusty = _cast(server)
    page.goto("/heroes")
    page.keyboard.press("j")
    _row_focus(page, black_lion)
    page.keyboard.press("j")
    page.keyboard.press("j")
    _row_focus(page, rusty)
    page.keyboard.press("j")  # the last row stays
    _row_focus(page, rusty)
    page.keyboard.press("k")
    _row_focus(page, deadpond)
    assert page.locator(f"#hero-{deadpond}").is_visible()

    page.keyboard.press("e")
    name = page.get_by_role("table", name="Heroes").get_by_role("textbox", name="Name", exact=True)
    expect(name).to_be_focused()
    expect(name).to_have_value("Deadpond")
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="Edit Deadpond")).to_be_focused()


def test_enter_on_the_focused_row_edits_it(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    _black_lion, deadpond, _rusty = _cast(server)
    page.goto("/heroes")
    page.keyboard.press("k")  # from nowhere, k starts at the last row
    page.keyboard.press("k")
    _row_focus(page, deadpond)
    page.keyboard.press("Enter")
    name = page.get_by_role("table", name="Heroes").get_by_role("textbox", name="Name", exact=True)
    expect(name).to_be_focused()
    expect(name).to_have_value("Deadpond")
    assert page.url.endswith("/heroes")  # edited in place, not followed the name's link


def test_shortcuts_do_not_fire_in_an_inline_edit_field(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    _cast(server)
    page.goto("/heroes")
    posts = record_posts(page)
    page.keyboard.press("j")
    page.keyboard.press("e")
    name = page.get_by_role("table", name="Heroes").get_by_role("textbox", name="Name", exact=True)
    expect(name).to_be_focused()
    name.press("End")
    page.keyboard.type(" jk/?ne")
    expect(name).to_have_value("Black Lion jk/?ne")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert posts == []


def test_question_mark_opens_the_shortcuts_dialog_and_escape_closes_it(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    _cast(server)
    page.goto("/heroes")
    page.keyboard.press("j")
    page.keyboard.press("Shift+Slash")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    for key in SHORTCUT_KEYS:
        kbd = page.locator("kbd", has_text=re.compile(rf"^{re.escape(key)}$"))
        expect(dialog.get_by_role("rowheader").filter(has=kbd)).to_have_count(1)
    box, viewport = dialog.bounding_box(), page.viewport_size
    assert box is not None
    assert viewport is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= viewport["width"]
    expect_no_axe_violations(page)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("tr.row-focus")).to_be_focused()  # back where it was


def test_shortcuts_dialog_opens_from_its_button_and_closes_with_close(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    page.goto("/heroes")
    opener = page.get_by_role("button", name="Keyboard shortcuts")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    close = dialog.get_by_role("button", name="Close")
    expect(close).to_be_focused()  # the modal dialog takes the focus
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_shortcuts_dialog_in_each_colour_scheme_has_no_axe_violations(
    new_page: Callable[..., Page], server: LiveServer, scheme: str
) -> None:
    page = new_page(color_scheme=scheme, viewport=SIZES["desktop"])
    _cast(server)
    page.goto("/heroes")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    expect_no_axe_violations(page)

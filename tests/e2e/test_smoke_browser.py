"""The browser harness works and the core htmx create flow swaps in place."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.support import open_create_form


def test_create_hero_from_list_adds_row_without_reload(page: Page, server: LiveServer) -> None:
    page.goto("/heroes")
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_be_visible()
    open_create_form(page, "New hero")
    page.get_by_label("Name", exact=True).fill("Deadpond")
    page.get_by_label("Secret name").fill("Dive Wilson")
    page.get_by_role("button", name="Save", exact=True).click()
    table = page.get_by_role("table", name="Heroes")
    expect(table.get_by_role("link", name="Deadpond", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Created hero Deadpond.")
    expect(page.get_by_label("Name", exact=True)).to_have_value("")
    expect(page).to_have_url(f"{server.url}/heroes")

"""The heroes list in a browser without JavaScript: search, filters and Clear, sort and pages are plain links and
forms, and an unknown team filter marks the field. The list with htmx is in test_lists_browser.py."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.support import ANY, add_cast, add_many_heroes, expect_query, list_names, many_hero_names


def test_search_filter_and_clear_without_javascript(nojs_page: Page, server: LiveServer) -> None:
    page = nojs_page
    add_cast(server)
    page.goto("/heroes")
    search = page.get_by_role("searchbox", name="Search")
    search.fill("parq")
    search.press("Enter")
    expect_query(page, q="parq")
    expect(list_names(page)).to_have_text(["Spider-Boy"])
    expect(page.locator("#hero-summary")).to_have_text("1 hero matches")
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("parq")

    search.fill("")
    page.get_by_role("combobox", name="Filter by team").select_option("Preventers")
    page.get_by_role("spinbutton", name="Min age").fill("31")
    page.get_by_role("button", name="Search").click()
    expect_query(page, q="", team="Preventers", min_age="31")
    expect(list_names(page)).to_have_text(["Tarantula"])

    page.get_by_role("link", name="Clear").click()
    expect(page).to_have_url(f"{server.url}/heroes")
    expect(list_names(page)).to_have_count(5)
    expect(page.get_by_role("combobox", name="Filter by team")).to_have_value("")


def test_sort_and_pages_without_javascript(nojs_page: Page, server: LiveServer) -> None:
    page = nojs_page
    add_many_heroes(server, 60)
    page.goto("/heroes")
    name_header = page.get_by_role("columnheader", name="Name", exact=True)

    name_header.get_by_role("link", name="Name", exact=True).click()
    expect_query(page, sort="-name")
    expect(name_header).to_have_attribute("aria-sort", "descending")
    expect(list_names(page)).to_have_text(many_hero_names(60, 36))

    page.get_by_role("link", name="Next").click()
    expect_query(page, sort="-name", after=ANY)
    expect(list_names(page)).to_have_text(many_hero_names(35, 11))

    page.get_by_role("link", name="Previous").click()
    expect_query(page, sort="-name", before=ANY)
    expect(list_names(page)).to_have_text(many_hero_names(60, 36))

    # Searching keeps the sort (it travels with the search form).
    search = page.get_by_role("searchbox", name="Search")
    search.fill("Secret 0")
    search.press("Enter")
    expect_query(page, q="Secret 0", sort="-name")
    expect(list_names(page)).to_have_text(many_hero_names(9, 1))


def test_unknown_team_filter_without_javascript_marks_the_field(nojs_page: Page, server: LiveServer) -> None:
    page = nojs_page
    add_cast(server)
    answer = page.goto("/heroes?team=Nobody")
    assert answer is not None
    assert answer.status == 422
    team = page.get_by_role("combobox", name="Filter by team")
    expect(team).to_have_value("Nobody")
    expect(team).to_have_attribute("aria-invalid", "true")
    expect(team).to_have_accessible_description(re.compile("No team is named “Nobody”"))
    expect(list_names(page)).to_have_count(0)

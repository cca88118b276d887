"""The heroes and teams lists in a browser: search as you type, filters, sort, pages, Back/Forward, no-JS.

The list state lives in the URL; with htmx only the list section is swapped and the URL pushed, and Back reloads
the whole page from the server (no history cache). Screenshots go to /tmp for a human to look at.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, Request, Route, expect

from tests.e2e.conftest import LiveServer, PageProblems
from tests.e2e.support import (
    ANY,
    add_cast,
    add_hero,
    add_many_heroes,
    expect_no_axe_violations,
    expect_query,
    expect_same_document,
    list_names,
    main_nav,
    many_hero_names,
    mark_document,
)

SEARCHING = re.compile(r"\bhtmx-request\b")


def _list_requests(page: Page, path: str = "/heroes") -> list[Request]:
    """The list requests htmx sends from now on."""
    sent: list[Request] = []

    def record(request: Request) -> None:
        if urlsplit(request.url).path == path and request.headers.get("hx-request") == "true":
            sent.append(request)

    page.on("request", record)
    return sent


def _expect_idle(page: Page, progress_id: str = "hero-search-progress") -> None:
    """No request in flight and the indicator faded out (axe would judge the contrast of a half-faded one).

    Waits out the debounce delays first: a field's suggestions request (which shares the form's indicator) may
    still be due after the list has been swapped."""
    progress = page.locator(f"#{progress_id}")
    page.wait_for_timeout(400)
    expect(progress).not_to_have_class(SEARCHING)
    expect(progress).to_have_css("opacity", "0")


def _expect_full_list_page(page: Page) -> None:
    """A whole page, not a bare fragment: the heading, the main navigation and the search form are there."""
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_have_count(1)
    expect(main_nav(page).get_by_role("link", name="Teams")).to_be_visible()
    expect(page.get_by_role("search", name="Search heroes")).to_have_count(1)


def test_search_as_you_type_narrows_rows_in_place(page: Page, server: LiveServer, problems: PageProblems) -> None:
    add_cast(server)
    page.goto("/heroes")
    summary = page.locator("#hero-summary")
    expect(summary).to_have_text("5 heroes")
    mark_document(page)
    sent = _list_requests(page)

    search = page.get_by_role("searchbox", name="Search")
    search.press_sequentially("parq", delay=40)  # part of Spider-Boy's secret name, in another case; no Enter

    expect(list_names(page)).to_have_text(["Spider-Boy"])
    expect(summary).to_have_text("1 hero matches")
    expect_query(page, q="parq")
    expect(search).to_be_focused()
    expect(search).to_have_value("parq")
    expect_same_document(page)
    assert 1 <= len(sent) < 4, f"typing 4 letters sent {len(sent)} list requests: the search is not debounced"

    # Typing on narrows further; deleting widens again, each time in place.
    search.press_sequentially("x", delay=40)
    expect(summary).to_have_text("No heroes match.")
    expect(list_names(page)).to_have_count(0)
    search.press("Backspace")
    expect(list_names(page)).to_have_text(["Spider-Boy"])

    search.press("Control+a")
    search.press("Delete")
    expect(list_names(page)).to_have_text(["Black Lion", "Deadpond", "Rusty-Man", "Spider-Boy", "Tarantula"])
    expect(summary).to_have_text("5 heroes")
    expect_query(page, q="")
    expect(search).to_be_focused()
    expect_same_document(page)


def test_search_progress_indicator_shows_while_the_list_request_is_in_flight(page: Page, server: LiveServer) -> None:
    add_cast(server)
    page.goto("/heroes")
    progress = page.locator("#hero-search-progress")
    expect(progress).to_have_text("Searching…")
    expect(progress).to_have_css("opacity", "0")
    held: list[Route] = []

    def hold(route: Route) -> None:
        if route.request.headers.get("hx-request") == "true":
            held.append(route)  # answered below, once the test has seen the indicator
        else:
            route.continue_()

    page.route(re.compile(r"/heroes\?"), hold)
    page.get_by_role("searchbox", name="Search").fill("Tommy")

    expect(progress).to_have_class(SEARCHING)
    expect(progress).to_have_css("opacity", "1")
    expect(list_names(page)).to_have_count(5)  # the old rows stay until the answer comes
    assert len(held) == 1
    held[0].continue_()

    expect(list_names(page)).to_have_text(["Rusty-Man"])
    _expect_idle(page)


def _set_without_input_event(box: Locator, value: str) -> None:
    """Put `value` in the field as no keyboard would, so only what the test does next can send a search."""
    box.evaluate("(box, value) => { box.value = value }", value)


def test_search_submits_on_enter_also_with_an_empty_box(page: Page, server: LiveServer) -> None:
    add_cast(server)
    page.goto("/heroes")
    mark_document(page)
    search = page.get_by_role("searchbox", name="Search")
    _set_without_input_event(search, "Preventers")
    search.press("Enter")

    expect(list_names(page)).to_have_text(["Deadpond", "Tarantula"])  # a team's name matches its heroes
    expect(page.locator("#hero-summary")).to_have_text("2 heroes match")
    expect_query(page, q="Preventers")
    expect(search).to_be_focused()
    expect_same_document(page)

    _set_without_input_event(search, "")
    search.press("Enter")
    expect(list_names(page)).to_have_text(["Black Lion", "Deadpond", "Rusty-Man", "Spider-Boy", "Tarantula"])
    expect(page.locator("#hero-summary")).to_have_text("5 heroes")
    expect_query(page, q="")
    expect_same_document(page)


def test_filter_by_team_name_no_team_and_unknown_team(page: Page, server: LiveServer, problems: PageProblems) -> None:
    add_cast(server)
    page.goto("/heroes")
    mark_document(page)
    team = page.get_by_role("combobox", name="Filter by team")  # a select: there are few teams

    team.select_option("Preventers")  # a change of a filter sends the search
    expect(list_names(page)).to_have_text(["Deadpond", "Tarantula"])
    expect_query(page, team="Preventers")
    expect(page.locator("#hero-summary")).to_have_text("2 heroes match")

    team.select_option("No team")
    expect(list_names(page)).to_have_text(["Black Lion", "Spider-Boy"])
    expect_query(page, team="No team")
    expect_same_document(page)

    # A name none of the teams has can come only from the address; the select keeps it, marked.
    page.goto("/heroes?team=Nobody")
    expect(page.get_by_role("alert")).to_have_text("No team is named “Nobody”. Type a team’s exact name, or “No team”.")
    expect(list_names(page)).to_have_count(0)
    expect(team).to_have_value("Nobody")


def test_filter_by_age_range(page: Page, server: LiveServer, problems: PageProblems) -> None:
    add_cast(server)
    page.goto("/heroes")
    mark_document(page)

    page.get_by_role("spinbutton", name="Min age").fill("30")
    page.keyboard.press("Tab")
    expect(list_names(page)).to_have_text(["Black Lion", "Deadpond", "Rusty-Man", "Tarantula"])
    expect_query(page, min_age="30")

    max_age = page.get_by_role("spinbutton", name="Max age")
    max_age.fill("35")
    max_age.press("Enter")
    expect(list_names(page)).to_have_text(["Black Lion", "Deadpond", "Tarantula"])  # both ends included
    expect_query(page, min_age="30", max_age="35")
    expect(page.locator("#hero-summary")).to_have_text("3 heroes match")
    expect_same_document(page)


def test_sort_by_age_header_ascending_then_descending_and_search_keeps_it(page: Page, server: LiveServer) -> None:
    add_cast(server)
    page.goto("/heroes")
    mark_document(page)
    name_header = page.get_by_role("columnheader", name="Name", exact=True)
    age_header = page.get_by_role("columnheader", name="Age")
    expect(name_header).to_have_attribute("aria-sort", "ascending")
    expect(age_header).not_to_have_attribute("aria-sort", re.compile(".*"))

    age_header.get_by_role("link", name="Age").click()
    expect(list_names(page)).to_have_text(["Spider-Boy", "Deadpond", "Tarantula", "Black Lion", "Rusty-Man"])
    expect(age_header).to_have_attribute("aria-sort", "ascending")
    expect(age_header).to_contain_text("▲")
    expect(name_header).not_to_have_attribute("aria-sort", re.compile(".*"))
    expect_query(page, sort="age")

    age_header.get_by_role("link", name="Age").click()
    expect(list_names(page)).to_have_text(["Rusty-Man", "Black Lion", "Tarantula", "Deadpond", "Spider-Boy"])
    expect(age_header).to_have_attribute("aria-sort", "descending")
    expect(age_header).to_contain_text("▼")
    expect_query(page, sort="-age")

    search = page.get_by_role("searchbox", name="Search")
    search.fill("Preventers")
    expect(list_names(page)).to_have_text(["Tarantula", "Deadpond"])  # by age, oldest first, not by name
    expect(age_header).to_have_attribute("aria-sort", "descending")
    expect_query(page, q="Preventers", sort="-age")
    expect(search).to_be_focused()
    expect_same_document(page)


def test_next_and_previous_move_through_pages_and_per_page_50(page: Page, server: LiveServer) -> None:
    add_many_heroes(server, 60)
    page.goto("/heroes")
    mark_document(page)
    expect(list_names(page)).to_have_text(many_hero_names(1, 25))
    expect(page.get_by_role("link", name="Previous")).to_have_count(0)
    expect(page.get_by_role("link", name="Next")).to_have_attribute("rel", "next")

    page.get_by_role("link", name="Next").click()
    expect(list_names(page)).to_have_text(many_hero_names(26, 50))
    expect_query(page, after=ANY, before="")
    expect(page.get_by_role("link", name="Previous")).to_have_attribute("rel", "prev")

    page.get_by_role("link", name="Next").click()
    expect(list_names(page)).to_have_text(many_hero_names(51, 60))
    expect(page.get_by_role("link", name="Next")).to_have_count(0)

    page.get_by_role("link", name="Previous").click()
    expect(list_names(page)).to_have_text(many_hero_names(26, 50))
    expect_query(page, before=ANY, after="")

    page.get_by_role("link", name="First page").click()
    expect(list_names(page)).to_have_text(many_hero_names(1, 25))
    expect_query(page, before="", after="")

    per_page = page.get_by_role("combobox", name="Per page")
    expect(per_page).to_have_value("25")
    per_page.select_option("50")
    expect(list_names(page)).to_have_text(many_hero_names(1, 50))
    expect_query(page, size="50")
    page.get_by_role("link", name="Next").click()
    expect(list_names(page)).to_have_text(many_hero_names(51, 60))
    expect_query(page, size="50", after=ANY)
    expect(per_page).to_have_value("50")
    expect_same_document(page)


def test_back_and_forward_restore_search_sort_and_page_as_full_pages(page: Page, server: LiveServer) -> None:
    add_many_heroes(server, 60)
    add_hero(server, name="Deadpond", secret_name="Dive Wilson")  # on the first page, but no match for "Secret"
    page.goto("/heroes")
    search = page.get_by_role("searchbox", name="Search")
    name_header = page.get_by_role("columnheader", name="Name", exact=True)
    start = ["Deadpond", *many_hero_names(1, 24)]
    expect(list_names(page)).to_have_text(start)

    search.fill("Secret")  # one input event: one search, one history entry
    expect(list_names(page)).to_have_text(many_hero_names(1, 25))
    expect_query(page, q="Secret")
    name_header.get_by_role("link", name="Name", exact=True).click()
    expect(list_names(page)).to_have_text(many_hero_names(60, 36))
    expect_query(page, q="Secret", sort="-name")
    page.get_by_role("link", name="Next").click()
    expect(list_names(page)).to_have_text(many_hero_names(35, 11))
    expect_query(page, q="Secret", sort="-name", after=ANY)

    # Each Back is a whole page from the server (the document is new) whose rows and form match its URL.
    states = [  # the rows, the search box, the Name header's aria-sort
        (many_hero_names(60, 36), "Secret", "descending"),
        (many_hero_names(1, 25), "Secret", "ascending"),
        (start, "", "ascending"),
    ]
    for rows, typed, order in states:
        mark_document(page)
        page.go_back()
        page.wait_for_function("() => window.__sameDocument !== true")
        expect(list_names(page)).to_have_text(rows)
        expect(search).to_have_value(typed)
        expect(name_header).to_have_attribute("aria-sort", order)
        expect_query(page, q=typed, after="", sort="-name" if order == "descending" else "")
        _expect_full_list_page(page)

    for rows, typed in (
        (many_hero_names(1, 25), "Secret"),
        (many_hero_names(60, 36), "Secret"),
        (many_hero_names(35, 11), "Secret"),
    ):
        mark_document(page)
        page.go_forward()
        page.wait_for_function("() => window.__sameDocument !== true")
        expect(list_names(page)).to_have_text(rows)
        expect(search).to_have_value(typed)
        _expect_full_list_page(page)
    expect_query(page, q="Secret", sort="-name", after=ANY)

    # The restored page is live: htmx works on it again.
    mark_document(page)
    page.get_by_role("link", name="Previous").click()
    expect(list_names(page)).to_have_text(many_hero_names(60, 36))
    expect_same_document(page)


def test_teams_list_search_sort_and_has_heroes_filter(page: Page, server: LiveServer) -> None:
    add_cast(server)
    page.goto("/teams")
    mark_document(page)
    summary = page.locator("#team-summary")
    expect(summary).to_have_text("3 teams")
    expect(list_names(page, "team-rows")).to_have_text(["Avengers", "Preventers", "Z-Force"])

    search = page.get_by_role("searchbox", name="Search")
    search.fill("tower")  # headquarters match too
    expect(list_names(page, "team-rows")).to_have_text(["Avengers", "Preventers"])
    expect(summary).to_have_text("2 teams match")
    expect_query(page, q="tower")
    expect(search).to_be_focused()

    headquarters = page.get_by_role("columnheader", name="Headquarters")
    headquarters.get_by_role("link", name="Headquarters").click()
    expect(headquarters).to_have_attribute("aria-sort", "ascending")
    expect(list_names(page, "team-rows")).to_have_text(["Preventers", "Avengers"])  # Sharp Tower, Stark Tower
    headquarters.get_by_role("link", name="Headquarters").click()
    expect(headquarters).to_have_attribute("aria-sort", "descending")
    expect(list_names(page, "team-rows")).to_have_text(["Avengers", "Preventers"])
    expect_query(page, q="tower", sort="-headquarters")

    page.get_by_role("combobox", name="Has heroes").select_option(label="No")
    expect(list_names(page, "team-rows")).to_have_text(["Avengers"])
    expect_query(page, q="tower", sort="-headquarters", has_heroes="no")
    expect_same_document(page)
    _expect_idle(page, "team-search-progress")
    expect_no_axe_violations(page)
    page.screenshot(path="/tmp/lists-teams.png", full_page=True)


def test_heroes_list_with_search_and_filter_has_no_axe_violations(page: Page, server: LiveServer) -> None:
    add_cast(server)
    page.goto("/heroes")
    page.get_by_role("searchbox", name="Search").fill("on")
    expect(list_names(page)).to_have_text(["Black Lion", "Deadpond", "Tarantula"])
    page.get_by_role("combobox", name="Filter by team").select_option("Preventers")
    expect(list_names(page)).to_have_text(["Deadpond", "Tarantula"])
    page.get_by_role("columnheader", name="Age").get_by_role("link", name="Age").click()
    expect(page.get_by_role("columnheader", name="Age")).to_have_attribute("aria-sort", "ascending")
    _expect_idle(page)
    expect_no_axe_violations(page)
    page.screenshot(path="/tmp/lists-heroes.png", full_page=True)


def test_keyboard_sort_and_next_keep_focus_and_announce_the_new_order(page: Page, server: LiveServer) -> None:
    """Enter on a sort header or on Next swaps the list; focus comes back to the link followed (stable ids), and
    the polite status region, which stays in the page, says what the list now shows."""
    add_many_heroes(server, 30)
    page.goto("/heroes")
    status = page.locator("#hero-list-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text(re.compile(r"30 heroes,\s+sorted by Name, ascending\."))

    page.get_by_role("link", name="Age").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("columnheader", name="Age")).to_have_attribute("aria-sort", "ascending")
    expect(page.get_by_role("link", name="Age")).to_be_focused()
    expect(status).to_have_text(re.compile(r"30 heroes,\s+sorted by Age, ascending\."))

    page.get_by_role("link", name="Next").focus()
    page.keyboard.press("Enter")
    expect_query(page, after=ANY, sort="age")
    expect(page.get_by_role("link", name="Previous")).to_be_visible()
    expect(status).to_have_text(re.compile(r"sorted by Age, ascending, a further page\."))
    expect(page.locator("#hero-list-status")).to_have_count(1)

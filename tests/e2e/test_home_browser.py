"""Everyday use in a browser: the home page and breadcrumbs at desktop size and on a 390 px phone (axe-core finds
nothing, light and dark), the team filter's suggestions leaving the address bar and history alone (defect 1), and
Undo after a delete on a list staying on that list (defect 8)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.e2e.conftest import LiveServer
from tests.e2e.support import (
    add_cast,
    add_hero,
    expect_no_axe_violations,
    expect_same_document,
    list_names,
    mark_document,
    row_of,
)
from webapp.models import Team

# axe-core's findings, the breadcrumbs' trail and layout, and the team filter leaving the address alone are the
# markup's and the page script's, the same on either database: those run on one (`one_database`). The home page's
# counts and recent changes, and Undo after a delete, come from the database: those run on both.
ONE_DATABASE = pytest.mark.one_database
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
LONG_NAME = "Captain Extraordinarily-Long-Hero-Name"


def create_team_in_the_browser(page: Page, name: str) -> None:
    """A change made as a user makes it, so the history (and the home page) records it."""
    page.goto("/teams/new")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Headquarters").fill("Sharp Tower")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def expect_no_sideways_scrolling(page: Page) -> None:
    overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_home_counts_lists_and_recent_changes_lead_to_the_records(
    new_page: Callable[..., Page], server: LiveServer, viewport: ViewportSize
) -> None:
    add_hero(server, name="Deadpond")
    page = new_page(viewport=viewport)
    create_team_in_the_browser(page, "Preventers")

    page.goto("/")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="Home", level=1)).to_be_visible()
    expect(page.locator("#home-heroes")).to_contain_text("1 hero")
    expect(page.locator("#home-teams")).to_contain_text("1 team")
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_have_count(0)
    expect_no_sideways_scrolling(page)

    page.get_by_role("region", name="Your recent changes").get_by_role("link", name="Preventers").click()
    expect(page).to_have_url(re.compile(r"/teams/\d+$"))
    expect(page.get_by_role("heading", name="Preventers", level=1)).to_be_visible()

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Home").click()
    page.get_by_role("main").get_by_role("link", name="Heroes", exact=True).click()
    expect(page).to_have_url(f"{server.url}/heroes")
    expect(row_of(page.get_by_role("table", name="Heroes"), "Deadpond")).to_be_visible()


@ONE_DATABASE
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_home_has_no_axe_violations(
    new_page: Callable[..., Page], server: LiveServer, scheme: str, viewport: ViewportSize
) -> None:
    add_hero(server, name=LONG_NAME)
    page = new_page(color_scheme=scheme, viewport=viewport)
    create_team_in_the_browser(page, "A Team With A Rather Long Name Indeed")
    page.goto("/")
    expect(page.get_by_role("region", name="Everyone’s recent changes").get_by_role("listitem")).to_have_count(1)
    expect_no_axe_violations(page)
    expect_no_sideways_scrolling(page)


@ONE_DATABASE
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_breadcrumbs_lead_up_the_trail(
    new_page: Callable[..., Page], server: LiveServer, viewport: ViewportSize
) -> None:
    hero_id = add_hero(server, name=LONG_NAME)
    page = new_page(viewport=viewport)
    page.goto(f"/heroes/{hero_id}/edit")
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("link")).to_have_text(["Home", "Heroes", LONG_NAME, "Edit"])
    expect(crumbs.get_by_role("link", name="Edit")).to_have_attribute("aria-current", "page")
    expect_no_sideways_scrolling(page)
    expect_no_axe_violations(page)

    crumbs.get_by_role("link", name=LONG_NAME).click()
    expect(page).to_have_url(f"{server.url}/heroes/{hero_id}")
    expect(crumbs.get_by_role("link")).to_have_text(["Home", "Heroes", LONG_NAME])
    crumbs.get_by_role("link", name="Heroes").click()
    expect(page).to_have_url(f"{server.url}/heroes")
    expect(crumbs.get_by_role("link", name="Heroes")).to_have_attribute("aria-current", "page")


def add_many_teams(server: LiveServer, count: int = 101) -> None:
    """More teams than the select limit (100): the team filter becomes the field that suggests names."""

    async def arrange(db: AsyncSession) -> None:
        db.add_all([Team(name=f"Team {n:03d}", headquarters="Base") for n in range(1, count + 1)])
        await db.commit()

    server.run(arrange)


@ONE_DATABASE
def test_team_filter_suggestions_never_change_the_address_or_the_history(page: Page, server: LiveServer) -> None:
    add_many_teams(server)
    page.goto("/heroes")
    mark_document(page)
    entries = page.evaluate("() => history.length")
    team = page.get_by_role("combobox", name="Filter by team")

    with page.expect_response(lambda response: "/teams/options" in response.url) as suggested:
        team.focus()
    assert suggested.value.status == 200
    team.press_sequentially("Team 05")
    # The suggestions for what was typed arrived (only a request after the typing holds Team 050).
    expect(page.locator("#hero-team-filter-options option[value='Team 050']")).to_have_count(1)

    assert page.url == f"{server.url}/heroes"
    assert page.evaluate("() => history.length") == entries
    expect_same_document(page)
    page.reload()
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_be_visible()


def test_undo_after_a_delete_on_a_list_stays_on_that_list(page: Page, server: LiveServer) -> None:
    add_cast(server)
    page.goto("/heroes?q=a&sort=-name")
    expect(list_names(page)).to_have_text(["Tarantula", "Spider-Boy", "Rusty-Man", "Deadpond", "Black Lion"])
    page.once("dialog", lambda dialog: dialog.accept())
    row_of(page.get_by_role("table", name="Heroes"), "Rusty-Man").get_by_role("link", name="Delete").click()
    expect(list_names(page)).to_have_text(["Tarantula", "Spider-Boy", "Deadpond", "Black Lion"])

    page.get_by_role("status").get_by_role("button", name="Undo").click()

    expect(page).to_have_url(f"{server.url}/heroes?q=a&sort=-name")
    expect(page.get_by_role("status")).to_contain_text("Restored hero Rusty-Man.")
    expect(list_names(page)).to_have_text(["Tarantula", "Spider-Boy", "Rusty-Man", "Deadpond", "Black Lion"])

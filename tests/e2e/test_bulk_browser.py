"""Bulk actions in the browser: ticking rows ("Select all" for the page, "Select all N matching" across pages),
the preview, and applying it; and the same without JavaScript, ticking rows one by one."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.e2e.conftest import LiveServer
from tests.e2e.support import add_hero, add_team, expect_no_axe_violations, row_of
from tests.support import all_heroes
from webapp.models import Hero


def add_spiders_and_bats(server: LiveServer, spiders: int, bats: int) -> None:
    async def arrange(db: AsyncSession) -> None:
        db.add_all(Hero(name=f"Spider {n:02d}", secret_name="Web") for n in range(1, spiders + 1))
        db.add_all(Hero(name=f"Bat {n:02d}", secret_name="Cave") for n in range(1, bats + 1))
        await db.commit()

    server.run(arrange)


def teams_by_hero(server: LiveServer) -> dict[str, int | None]:
    async def read(db: AsyncSession) -> dict[str, int | None]:
        return dict((await db.exec(select(Hero.name, Hero.team_id))).all())

    return server.run(read)


def test_set_team_on_all_heroes_matching_a_search_across_pages(page: Page, server: LiveServer) -> None:
    team_id = add_team(server, name="Avengers")
    add_spiders_and_bats(server, spiders=30, bats=3)
    page.goto("/heroes")
    page.get_by_label("Search", exact=True).fill("Spider")
    expect(page.get_by_text("30 heroes match", exact=True)).to_be_visible()
    table = page.get_by_role("table", name="Heroes")

    page.get_by_label("Select all", exact=True).check()
    expect(table.get_by_role("checkbox", name="Select Spider 01")).to_be_checked()
    expect(table.get_by_role("checkbox", name="Select Spider 25")).to_be_checked()
    page.get_by_label("Select all 30 matching", exact=True).check()
    team = page.get_by_label("Set team to", exact=True)
    # The field suggests teams as it is typed in: the suggestions for what was typed come before the form is sent,
    # so leaving the page does not abort them (htmx logs an aborted request as an error).
    with page.expect_response(lambda response: "/teams/options" in response.url and "Avengers" in response.url):
        team.fill("Avengers")
    expect(team).not_to_have_class(re.compile(r"\bhtmx-request\b"))
    page.get_by_role("button", name="Set team", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Set team Avengers on 30 heroes?")
    expect(page.locator("#bulk-outcome")).to_have_text("30 heroes will change to team Avengers.")
    page.get_by_role("button", name="Apply", exact=True).click()

    expect(page.get_by_role("status")).to_have_text("Set team Avengers on 30 heroes.")
    expect(page).to_have_url(f"{server.url}/heroes?q=Spider")
    expect(row_of(table, "Spider 01").get_by_role("link", name="Avengers", exact=True)).to_be_visible()
    teams = teams_by_hero(server)
    assert sorted(name for name, team in teams.items() if team == team_id) == [f"Spider {n:02d}" for n in range(1, 31)]
    assert [team for name, team in teams.items() if name.startswith("Bat")] == [None, None, None]


def test_all_matching_past_a_search_count_says_so_and_the_preview_counts(page: Page, server: LiveServer) -> None:
    """A search counts to 2,000 (listing.SEARCH_COUNT_CAP): past it "Select all matching" has no number, the
    selection count says all matching are selected, and the preview says how many."""

    async def arrange(db: AsyncSession) -> None:
        await db.exec(insert(Hero), params=[{"name": f"Spider {n:04d}", "secret_name": "Web"} for n in range(2_001)])
        await db.commit()

    server.run(arrange)
    page.goto("/heroes?q=Spider")
    expect(page.get_by_text("More than 2,000 heroes match", exact=True)).to_be_visible()
    selection = page.locator("#hero-selection")
    expect(selection).to_have_text("0 selected")
    page.get_by_label("Select all matching", exact=True).check()
    expect(selection).to_have_text("All matching selected")
    page.get_by_role("button", name="Delete selected", exact=True).click()
    expect(page.locator("#bulk-outcome")).to_have_text(
        "2,001 heroes will move to the trash, where each can be restored."
    )


def test_unticking_a_row_clears_select_all_and_all_matching(page: Page, server: LiveServer) -> None:
    add_spiders_and_bats(server, spiders=3, bats=0)
    page.goto("/heroes")
    select_page = page.get_by_label("Select all", exact=True)
    all_matching = page.get_by_label("Select all 3 matching", exact=True)
    all_matching.check()
    expect(select_page).to_be_checked()
    page.get_by_role("checkbox", name="Select Spider 02").uncheck()
    expect(all_matching).not_to_be_checked()
    expect(select_page).not_to_be_checked()
    assert select_page.evaluate("box => box.indeterminate")


def test_delete_selected_rows_after_the_preview(page: Page, server: LiveServer) -> None:
    for name in ("Deadpond", "Rusty-Man", "Tarantula"):
        add_hero(server, name=name)
    page.goto("/heroes")
    expect_no_axe_violations(page)
    page.get_by_role("checkbox", name="Select Deadpond", exact=True).check()
    page.get_by_role("checkbox", name="Select Tarantula", exact=True).check()
    page.get_by_role("button", name="Delete selected", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Move 2 heroes to the trash?")
    expect(page.locator("#bulk-names li")).to_have_text(["Deadpond", "Tarantula"])
    expect_no_axe_violations(page)
    page.get_by_role("button", name="Delete", exact=True).click()

    expect(page.get_by_role("status")).to_have_text("Moved 2 heroes to the trash.")
    table = page.get_by_role("table", name="Heroes")
    expect(row_of(table, "Rusty-Man")).to_be_visible()
    expect(row_of(table, "Deadpond")).to_have_count(0)
    expect(row_of(table, "Tarantula")).to_have_count(0)
    expect(page.get_by_text("1 hero", exact=True)).to_be_visible()
    assert sorted((hero.name, hero.deleted_at is None) for hero in server.run(all_heroes)) == [
        ("Deadpond", False),
        ("Rusty-Man", True),
        ("Tarantula", False),
    ]


def test_without_javascript_rows_are_ticked_one_by_one_and_the_preview_applies(
    nojs_page: Page, server: LiveServer
) -> None:
    for name in ("Deadpond", "Rusty-Man"):
        add_hero(server, name=name)
    nojs_page.goto("/heroes")
    expect(nojs_page.get_by_label("Select all", exact=True)).to_be_hidden()
    nojs_page.get_by_role("checkbox", name="Select Rusty-Man", exact=True).check()
    nojs_page.get_by_role("button", name="Delete selected", exact=True).click()
    expect(nojs_page.get_by_role("heading", level=1)).to_have_text("Move 1 hero to the trash?")
    nojs_page.get_by_role("button", name="Delete", exact=True).click()
    expect(nojs_page.get_by_role("status")).to_have_text("Moved 1 hero to the trash.")
    expect(row_of(nojs_page.get_by_role("table", name="Heroes"), "Rusty-Man")).to_have_count(0)

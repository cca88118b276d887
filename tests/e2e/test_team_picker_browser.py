"""The hero forms' team field past the select limit (100 live teams by default): typing fills its datalist with
suggestions through htmx, and an exact name saves."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.e2e.conftest import LiveServer
from tests.e2e.support import (
    add_hero,
    expect_no_axe_violations,
    expect_same_document,
    mark_document,
    row_of,
    start_inline_edit,
)
from tests.support import fetch_hero
from webapp.models import Team

AVENGERS = ["Avengers", "Dark Avengers", "Young Avengers"]


def add_many_teams(server: LiveServer) -> dict[str, int]:
    """101 "Team 001"... teams and the Avengers teams, in one transaction; their ids by name."""

    async def arrange(db: AsyncSession) -> dict[str, int]:
        teams = [Team(name=f"Team {n:03d}", headquarters="Base") for n in range(1, 102)]
        teams += [Team(name=name, headquarters="Tower") for name in AVENGERS]
        db.add_all(teams)
        await db.commit()
        return {team.name: team.id for team in teams if team.id is not None}

    return server.run(arrange)


def test_inline_edit_team_field_suggests_matching_names_and_saves_an_exact_one(page: Page, server: LiveServer) -> None:
    teams = add_many_teams(server)
    hero_id = add_hero(server, name="Deadpond", team_id=teams["Team 001"])
    page.goto("/heroes")
    mark_document(page)
    table = page.get_by_role("table", name="Heroes")

    start_inline_edit(table, "Deadpond")
    team = table.get_by_role("combobox", name="Team")
    expect(team).to_have_value("Team 001")
    expect(table.locator("select")).to_have_count(0)
    suggestions = page.locator(f"#hero-{hero_id}-team-options option")
    expect(suggestions).to_have_count(2)  # "No team" and the hero's team, before anything is typed

    team.fill("aVeN")

    expect(suggestions).to_have_count(1 + len(AVENGERS))
    assert suggestions.evaluate_all("options => options.map(option => option.value)") == ["No team", *AVENGERS]
    expect_no_axe_violations(page)

    team.fill("Dark Avengers")
    table.get_by_role("button", name="Save", exact=True).click()

    expect(row_of(table, "Deadpond")).to_contain_text("Dark Avengers")
    expect(table.get_by_role("combobox")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("Saved hero Deadpond.")
    expect_same_document(page)
    hero = server.run(lambda db: fetch_hero(db, hero_id))
    assert hero is not None
    assert hero.team_id == teams["Dark Avengers"]

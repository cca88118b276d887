"""Two people editing at once, the trash with Undo, history and revert, the Activity page: in a real browser.

Screenshots of the new screens go to /tmp/shots for a human to look at (not kept with the repository).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.e2e.conftest import LiveServer
from tests.e2e.support import (
    add_hero,
    add_team,
    expect_cells,
    expect_no_axe_violations,
    expect_same_document,
    mark_document,
    row_of,
    start_inline_edit,
    with_undo,
)
from tests.support import all_heroes, audit_entries, fetch_hero, fetch_team
from webapp.audit import Actor
from webapp.config import utcnow
from webapp.data import writes
from webapp.registry import HEROES as HERO
from webapp.registry import TEAMS as TEAM
from webapp.resource import Resource

SHOTS = Path("/tmp/shots")


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # caret="initial": hiding the caret leaves style="" on every input, which htmx's settle copies onto the
    # inputs a later swap brings (the bulk form, out of band), and the CSP refuses that as an inline style.
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True, caret="initial")


def _as_rita(server: LiveServer, new_page: Callable[..., Page]) -> Page:
    """A page of a second editor, "rita", beside the default page of "eddie"."""
    return new_page(session_token=server.sign_in("rita"))


def _rita() -> Actor:
    return Actor(user_id=None, username="rita", request_id="arranged", at=utcnow())


def _arrange(server: LiveServer, *steps: Callable[[AsyncSession], Any]) -> list[Any]:
    """Run changes through webapp.records, each committed, so they have history as if made in the app."""

    async def go(db: AsyncSession) -> list[Any]:
        results = []
        for step in steps:
            results.append(await step(db))
            await db.commit()
        return results

    return server.run(go)


def _rename_hero(hero_id: int, name: str, version: int) -> Callable[[AsyncSession], Any]:
    return lambda db: writes.change(db, HERO, hero_id, version=version, values={"name": name}, actor=_rita())


def _trash(kind: Resource, record_id: int) -> Callable[[AsyncSession], Any]:
    return lambda db: writes.trash(db, kind, record_id, version=1, actor=_rita())


def test_inline_edit_conflict_keeps_typed_value_beside_saved_one_and_saves_on_top(
    page: Page, server: LiveServer, new_page: Callable[..., Page]
) -> None:
    hero_id = add_hero(server, name="Deadpond", secret_name="Dive Wilson", age=30)
    rita = _as_rita(server, new_page)
    eddie_table, rita_table = (p.get_by_role("table", name="Heroes") for p in (page, rita))
    for each, table in ((page, eddie_table), (rita, rita_table)):
        each.goto("/heroes")
        start_inline_edit(table, "Deadpond")
    mark_document(rita)

    eddie_table.get_by_role("spinbutton", name="Age").fill("31")
    eddie_table.get_by_role("button", name="Save").click()
    expect_cells(row_of(eddie_table, "Deadpond"), "Deadpond", "Dive Wilson", "31")

    age = rita_table.get_by_role("spinbutton", name="Age")
    age.fill("40")
    rita_table.get_by_role("button", name="Save").click()

    # The conflict view replaced the row: rita's value kept, eddie's beside it, and why in an alert.
    expect(rita.locator(f"#hero-{hero_id}")).to_have_class(re.compile(r"\bconflict\b"))
    expect(age).to_have_value("40")
    expect(age).to_have_accessible_description("Saved meanwhile: 31")
    expect(rita.locator(f"#hero-{hero_id}-age-current")).to_have_text("Saved meanwhile: 31")
    expect(rita.locator(f"#hero-{hero_id}-name-current")).to_have_count(0)  # the name did not differ
    expect(rita.locator("#toasts").get_by_role("alert")).to_contain_text(
        "eddie saved this hero while you were editing."
    )
    expect_same_document(rita)
    hero = server.run(lambda db: fetch_hero(db, hero_id))
    assert hero is not None
    assert (hero.age, hero.version) == (31, 2)
    expect_no_axe_violations(rita)
    _shot(rita, "conflict-row")

    rita_table.get_by_role("button", name="Save").click()
    expect_cells(row_of(rita_table, "Deadpond"), "Deadpond", "Dive Wilson", "40")
    expect(rita_table.get_by_role("textbox")).to_have_count(0)
    expect(rita.get_by_role("status")).to_have_text("Saved hero Deadpond.")
    expect_same_document(rita)
    hero = server.run(lambda db: fetch_hero(db, hero_id))
    assert hero is not None
    assert (hero.age, hero.version) == (40, 3)


def test_edit_page_conflict_keeps_typed_value_beside_saved_one_and_saves_on_top(
    page: Page, server: LiveServer, new_page: Callable[..., Page]
) -> None:
    team_id = add_team(server, name="Preventers", headquarters="Sharp Tower")
    rita = _as_rita(server, new_page)
    for each in (page, rita):
        each.goto(f"/teams/{team_id}/edit")

    page.get_by_label("Headquarters").fill("Sister Margaret's Bar")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{server.url}/teams/{team_id}")
    expect(page.get_by_role("status")).to_have_text("Saved team Preventers.")

    headquarters = rita.get_by_label("Headquarters")
    headquarters.fill("Baxter Building")
    with rita.expect_response(lambda response: response.request.method == "POST") as answer:
        rita.get_by_role("button", name="Save").click()
    assert answer.value.status == 409
    assert answer.value.request.headers.get("hx-request") is None  # a plain form post, a whole page back

    expect(rita.get_by_role("heading", name="Edit team", level=1)).to_be_visible()
    expect(rita.locator("#team-form").get_by_role("alert")).to_contain_text(
        "eddie saved this team while you were editing."
    )
    expect(headquarters).to_have_value("Baxter Building")
    expect(headquarters).to_have_accessible_description("Saved meanwhile: Sister Margaret's Bar")
    expect(rita.locator("#team-form-name-current")).to_have_count(0)
    team = server.run(lambda db: fetch_team(db, team_id))
    assert team is not None
    assert (team.headquarters, team.version) == ("Sister Margaret's Bar", 2)

    rita.get_by_role("button", name="Save").click()
    expect(rita).to_have_url(f"{server.url}/teams/{team_id}")
    expect(rita.get_by_role("main").get_by_text("Baxter Building", exact=True)).to_be_visible()
    expect(rita.get_by_role("status")).to_have_text("Saved team Preventers.")
    team = server.run(lambda db: fetch_team(db, team_id))
    assert team is not None
    assert (team.headquarters, team.version) == ("Baxter Building", 3)


def test_delete_from_list_row_then_undo_brings_hero_back(page: Page, server: LiveServer) -> None:
    add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp")
    hero_id = add_hero(server, name="Deadpond")
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    page.once("dialog", lambda dialog: dialog.accept())
    table.get_by_role("link", name="Delete Deadpond").click()

    expect(row_of(table, "Deadpond")).to_have_count(0)
    status = page.get_by_role("status")
    expect(status).to_have_text(with_undo("Moved hero Deadpond to the trash."))
    _shot(page, "undo-toast")
    status.get_by_role("button", name="Undo").click()

    expect(page).to_have_url(f"{server.url}/heroes/{hero_id}")
    expect(page.get_by_role("heading", name="Deadpond", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Restored hero Deadpond.")
    heroes = server.run(all_heroes)
    assert [(h.name, h.deleted_at, h.version) for h in heroes] == [("Rusty-Man", None, 1), ("Deadpond", None, 3)]


def test_history_panel_loads_in_place_and_revert_restores_old_value(page: Page, server: LiveServer) -> None:
    hero_id = add_hero(server, name="Deadpond")
    _arrange(server, _rename_hero(hero_id, "Deadpool", version=1))
    renamed = server.run(audit_entries)[-1]
    page.goto(f"/heroes/{hero_id}")
    mark_document(page)

    page.get_by_role("link", name="Show the changes to Deadpool").click()
    panel = page.locator("#history-panel")
    expect(panel.get_by_role("listitem")).to_have_count(1)
    expect(panel.get_by_role("listitem")).to_contain_text("rita changed hero Deadpool")
    change = panel.get_by_role("table", name=f"Change #{renamed.id}")
    expect(change.get_by_role("rowheader")).to_have_text(["Name"])
    expect(change.get_by_role("cell")).to_have_text(["Deadpond", "Deadpool"])
    expect(page).to_have_url(f"{server.url}/heroes/{hero_id}")
    expect_same_document(page)
    _shot(page, "history-panel")

    panel.get_by_role("button", name=re.compile(r"Revert to before")).click()

    expect(page).to_have_url(f"{server.url}/heroes/{hero_id}/history")
    expect(page.get_by_role("heading", name="History of Deadpond", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(f"Reverted Deadpond to how it was before change #{renamed.id}.")
    newest = page.locator("#history-panel").get_by_role("listitem").first
    expect(newest).to_contain_text("eddie reverted hero Deadpond")
    expect(newest.get_by_role("cell")).to_have_text(["Deadpool", "Deadpond"])
    hero = server.run(lambda db: fetch_hero(db, hero_id))
    assert hero is not None
    assert (hero.name, hero.version) == ("Deadpond", 3)
    assert [entry.action for entry in server.run(audit_entries)] == ["update", "revert"]
    expect_no_axe_violations(page)


def test_trash_page_restore_button_brings_team_back_with_its_heroes(page: Page, server: LiveServer) -> None:
    team_id = add_team(server, name="Preventers")
    hero_id = add_hero(server, name="Deadpond", team_id=team_id)
    gone_hero_id = add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp")
    _arrange(server, _trash(TEAM, team_id), _trash(HERO, gone_hero_id))
    page.goto("/trash")

    heroes = page.get_by_role("table", name="Heroes in the trash")
    # When: in the viewer's own time zone, relative while recent (static/js/times.js).
    expect_cells(row_of(heroes, "Rusty-Man"), "Rusty-Man", re.compile(r"^(now|\d+ (second|minute)s? ago)$"), "rita")
    teams = page.get_by_role("table", name="Teams in the trash")
    expect_cells(row_of(teams, "Preventers"), "Preventers", re.compile(r"^(now|\d+ (second|minute)s? ago)$"), "rita")
    expect_no_axe_violations(page)
    _shot(page, "trash")

    teams.get_by_role("button", name="Restore Preventers").click()

    expect(page).to_have_url(f"{server.url}/teams/{team_id}")
    expect(page.get_by_role("heading", name="Preventers", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Restored team Preventers. 1 of its heroes is back in it.")
    expect(page.get_by_role("main").get_by_role("link", name="Deadpond")).to_be_visible()
    team = server.run(lambda db: fetch_team(db, team_id))
    hero = server.run(lambda db: fetch_hero(db, hero_id))
    assert team is not None
    assert hero is not None
    assert (team.deleted_at, hero.team_id) == (None, team_id)


def test_activity_page_lists_changes_and_filters_by_type_in_place(page: Page, server: LiveServer) -> None:
    team_id = add_team(server, name="Preventers")
    hero_id = add_hero(server, name="Deadpond")
    _arrange(server, _rename_hero(hero_id, "Deadpool", version=1), _trash(TEAM, team_id))
    page.goto("/activity")
    changes = page.get_by_role("region", name="Changes")
    expect(changes.get_by_role("listitem")).to_have_count(2)
    expect(changes.get_by_role("listitem").first).to_contain_text("rita moved team Preventers to the trash")
    expect(changes.get_by_role("listitem").last).to_contain_text("rita changed hero Deadpool")
    expect_no_axe_violations(page)
    _shot(page, "activity")
    mark_document(page)

    page.get_by_label("Record type").select_option(label="Heroes")

    expect(changes.get_by_role("listitem")).to_have_count(1)
    expect(changes.get_by_role("listitem")).to_contain_text("rita changed hero Deadpool")
    expect(page).to_have_url(re.compile(r"/activity\?type=hero"))
    expect_same_document(page)

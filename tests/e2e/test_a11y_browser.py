"""Accessibility (axe-core) of the main screens, a phone-sized layout, and screenshots for a human to look at."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.support import (
    add_hero,
    add_team,
    expect_no_axe_violations,
    open_create_form,
    row_of,
    start_inline_edit,
)
from tests.support import all_teams
from webapp.config import PROJECT_DIR

# axe-core's findings and the phone layout are about the markup and the stylesheet, the same on either database
# behind the server: these run on one (what the screens show from each database is proven over HTTP on both).
pytestmark = pytest.mark.one_database

ARTIFACTS = PROJECT_DIR / "test-artifacts"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}


def _arrange_heroes(server: LiveServer) -> None:
    preventers = add_team(server, name="Preventers")
    z_force = add_team(server, name="Z-Force", headquarters="Sister Margaret's Bar")
    add_hero(server, name="Deadpond", secret_name="Dive Wilson", age=30, team_id=preventers)
    add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp", age=48, team_id=z_force)
    add_hero(server, name="Spider-Boy", secret_name="Pedro Parqueador")


def _team_id(server: LiveServer, name: str) -> int | None:
    return next(team.id for team in server.run(all_teams) if team.name == name)


def _screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def test_heroes_list_has_no_axe_violations(page: Page, server: LiveServer) -> None:
    _arrange_heroes(server)
    page.set_viewport_size(DESKTOP)
    page.goto("/heroes")
    expect(row_of(page.get_by_role("table", name="Heroes"), "Spider-Boy")).to_be_visible()
    expect_no_axe_violations(page)
    _screenshot(page, "heroes-desktop-light")


def test_heroes_list_in_dark_mode_has_no_axe_violations(new_page: Callable[..., Page], server: LiveServer) -> None:
    _arrange_heroes(server)
    page = new_page(color_scheme="dark", viewport=DESKTOP)
    page.goto("/heroes")
    expect(row_of(page.get_by_role("table", name="Heroes"), "Spider-Boy")).to_be_visible()
    assert page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches")
    expect_no_axe_violations(page)  # colour contrast in the dark palette too
    _screenshot(page, "heroes-desktop-dark")


def test_hero_form_with_errors_has_no_axe_violations(page: Page, server: LiveServer) -> None:
    add_team(server, name="Preventers")
    page.goto("/heroes/new")
    page.get_by_label("Name", exact=True).fill(" ")
    page.get_by_label("Secret name", exact=True).fill(" ")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_label("Secret name", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name", exact=True)).to_have_accessible_description("Name is required.")
    expect_no_axe_violations(page)


def test_create_form_on_list_with_errors_has_no_axe_violations(page: Page, server: LiveServer) -> None:
    _arrange_heroes(server)
    page.goto("/heroes")
    open_create_form(page, "New hero")
    page.get_by_label("Name", exact=True).fill(" ")
    page.get_by_label("Secret name", exact=True).fill("Dive Wilson")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    expect_no_axe_violations(page)


def test_team_detail_has_no_axe_violations(page: Page, server: LiveServer) -> None:
    team_id = add_team(server, name="Preventers")
    add_hero(server, name="Deadpond", age=30, team_id=team_id)
    add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp", team_id=team_id)
    page.goto(f"/teams/{team_id}")
    expect(page.get_by_role("heading", name="Preventers", level=1)).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name="Rusty-Man")).to_be_visible()
    expect_no_axe_violations(page)


def test_inline_edit_row_has_no_axe_violations(page: Page, server: LiveServer) -> None:
    _arrange_heroes(server)
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    start_inline_edit(table, "Deadpond")
    expect(table.get_by_role("combobox", name="Team")).to_have_value(str(_team_id(server, "Preventers")))
    expect_no_axe_violations(page)


def test_inline_edit_row_with_error_has_no_axe_violations(page: Page, server: LiveServer) -> None:
    add_hero(server, name="Deadpond")
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    start_inline_edit(table, "Deadpond")
    table.get_by_role("textbox", name="Name", exact=True).fill(" ")
    table.get_by_role("button", name="Save", exact=True).click()
    expect(table.get_by_role("textbox", name="Name", exact=True)).to_have_attribute("aria-invalid", "true")
    expect_no_axe_violations(page)


def test_heroes_list_fits_a_phone_without_horizontal_scrolling(
    new_page: Callable[..., Page], server: LiveServer
) -> None:
    _arrange_heroes(server)
    add_hero(server, name="Captain Extraordinarily-Long-Hero-Name", secret_name="Someone With A Long Secret Name")
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/heroes")
    expect(page.get_by_role("link", name="Captain Extraordinarily-Long-Hero-Name", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="New hero")).to_be_in_viewport()
    overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a 390px-wide screen"
    _screenshot(page, "heroes-phone")


def test_hero_forms_in_place_fit_a_phone_without_horizontal_scrolling(
    new_page: Callable[..., Page], server: LiveServer
) -> None:
    _arrange_heroes(server)
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/heroes")
    open_create_form(page, "New hero")
    table = page.get_by_role("table", name="Heroes")
    start_inline_edit(table, "Deadpond")
    expect(table.get_by_role("combobox", name="Team")).to_be_visible()
    overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a 390px-wide screen"
    _screenshot(page, "heroes-phone-editing")

"""Phones (390 x 844): no page is wider than the screen for any role, the heroes list is compact rows with a
"Sort by" control (with and without JavaScript) while the header sort links are hidden and take no focus, and
checkboxes are 24px targets (WCAG 2.2, 2.5.8) on phones and desktops."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.e2e.conftest import LiveServer
from tests.e2e.support import add_hero, add_many_heroes, add_team, list_names
from tests.support import move_to_trash
from webapp.config import utcnow
from webapp.models import AuditEntry, Hero, Role

# Widths, hidden controls, focus order and target sizes come from the markup and the stylesheet, the same on either
# database behind the server: these run on one. The order a sort gives, and what each role's pages hold, are proven
# on both databases over HTTP (tests/test_list_sort_and_pages.py, tests/test_authorization.py).
pytestmark = pytest.mark.one_database

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
LONG = "Captain Extraordinarily-Long-Hero-Name-Without-Spaces"


def _arrange(server: LiveServer) -> tuple[int, int]:
    """A long-named team and hero, a changed hero with history, one in the trash: (hero id, team id)."""
    team = add_team(server, name="The Uncommonly Long-Named League", headquarters="A Very Long Street Name 1234")
    hero = add_hero(server, name=LONG, secret_name="Someone With A Long Secret Name", age=40, team_id=team)
    gone = add_hero(server, name="Spider-Boy", secret_name="Pedro Parqueador")

    async def history(db: AsyncSession) -> None:
        db.add(
            AuditEntry(
                at=utcnow(),
                username="eddie",
                action="update",
                record_type="hero",
                record_id=hero,
                label=LONG,
                changes={"secret_name": ["Someone", "Someone With A Long Secret Name"], "age": [39, 40]},
            )
        )
        await db.commit()
        trashed = await db.get(Hero, gone)
        assert trashed is not None
        await move_to_trash(db, trashed)

    server.run(history)
    return hero, team


def _pages(hero: int, team: int, role: Role) -> list[str]:
    pages = [
        "/heroes",
        "/teams",
        f"/heroes/{hero}",
        f"/teams/{team}",
        f"/heroes/{hero}/history",
        "/activity",
        "/trash",
        "/account/password",
    ]
    if role is not Role.viewer:
        pages += [f"/heroes/{hero}/edit", "/heroes/new", f"/teams/{team}/edit"]
    if role is Role.admin:
        pages += ["/users", "/users/new"]
    return pages


@pytest.mark.parametrize("role", [Role.viewer, Role.editor, Role.admin])
def test_no_page_is_wider_than_a_phone_for_any_role(
    new_page: Callable[..., Page], server: LiveServer, role: Role
) -> None:
    hero, team = _arrange(server)
    token = server.sign_in(f"{role.value}-with-a-long-name", role)
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True, session_token=token)
    too_wide = {}
    for path in _pages(hero, team, role):
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = width
    assert too_wide == {}, f"wider than 390px: {too_wide}"
    # Every main tab is on the screen (the nav wraps instead of running off it).
    for name in ["Heroes", "Teams", "Activity", "Trash", *(["Users"] if role is Role.admin else [])]:
        expect(page.get_by_role("navigation", name="Main").get_by_role("link", name=name)).to_be_in_viewport()


def test_the_heroes_list_on_a_phone_is_compact_rows(new_page: Callable[..., Page], server: LiveServer) -> None:
    add_many_heroes(server, 25)
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/heroes")
    rows = page.locator("#hero-rows > tr")
    expect(rows).to_have_count(25)
    heights = [rows.nth(n).bounding_box()["height"] for n in range(25)]  # type: ignore[index]
    assert max(heights) <= 80, heights  # stacked one cell per line, a row was 230px
    page.screenshot(path="/tmp/phone-list.png", full_page=True)  # stacked one cell per line, a row was 230px
    table = page.get_by_role("table", name="Heroes").bounding_box()
    assert table is not None
    assert table["height"] < 2_000  # 7,166px before


@pytest.mark.parametrize("javascript", [True, False])
def test_a_phone_sorts_with_the_sort_by_control(
    new_page: Callable[..., Page], server: LiveServer, javascript: bool
) -> None:
    add_hero(server, name="Alpha Hero", secret_name="A", age=20)
    add_hero(server, name="Omega Hero", secret_name="O", age=90)
    add_hero(server, name="Mid Hero", secret_name="M", age=50)
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True, javascript=javascript)
    page.goto("/heroes")
    expect(page.locator("thead a.sort").first).to_be_hidden()  # display:none: no focus, no screen reader stop
    page.get_by_label("Sort by").select_option(label="Age, descending")
    page.get_by_role("button", name="Sort", exact=True).click()
    expect(list_names(page)).to_have_text(["Omega Hero", "Mid Hero", "Alpha Hero"])
    assert "sort=-age" in page.url
    expect(page.get_by_label("Sort by")).to_have_value("-age")
    # Searching keeps the order chosen.
    page.get_by_role("searchbox", name="Search").fill("Hero")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(list_names(page)).to_have_text(["Omega Hero", "Mid Hero", "Alpha Hero"])


def test_the_sort_links_take_no_focus_on_a_phone(new_page: Callable[..., Page], server: LiveServer) -> None:
    add_hero(server, name="Alpha", secret_name="A")
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/heroes")
    focused = []
    for _ in range(60):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("() => document.activeElement.className + '|' + document.activeElement.id"))
    assert not [item for item in focused if item.startswith("sort|")], focused


def test_on_a_desktop_the_headers_sort_and_the_sort_by_control_is_hidden(page: Page, server: LiveServer) -> None:
    add_hero(server, name="Alpha", secret_name="A", age=90)
    add_hero(server, name="Omega", secret_name="O", age=20)
    page.set_viewport_size(DESKTOP)
    page.goto("/heroes")
    expect(page.get_by_label("Sort by")).to_be_hidden()
    page.get_by_role("link", name="Age").click()
    expect(page.get_by_role("columnheader", name="Age")).to_have_attribute("aria-sort", "ascending")
    expect(list_names(page)).to_have_text(["Omega", "Alpha"])
    page.get_by_role("link", name="Age").click()
    expect(page.get_by_role("columnheader", name="Age")).to_have_attribute("aria-sort", "descending")
    expect(list_names(page)).to_have_text(["Alpha", "Omega"])


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_checkboxes_are_24px_targets(new_page: Callable[..., Page], server: LiveServer, viewport: ViewportSize) -> None:
    add_hero(server, name="Alpha", secret_name="A")
    page = new_page(viewport=viewport)
    page.goto("/heroes")
    boxes = page.get_by_role("checkbox")
    expect(boxes.first).to_be_visible()
    for n in range(boxes.count()):
        if boxes.nth(n).is_visible():
            box = boxes.nth(n).bounding_box()
            assert box is not None
            assert min(box["width"], box["height"]) >= 24, box

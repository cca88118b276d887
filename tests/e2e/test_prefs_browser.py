"""In a browser, at desktop size and on a phone: the theme switch (remembered per user, "system" following the
device), axe-core in both colour schemes, times in the viewer's own time zone, a form kept across an ended
session, and Activity's date range with its export link."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from sqlmodel import col, update
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.e2e.conftest import LiveServer
from tests.e2e.support import add_hero, add_team, expect_no_axe_violations
from tests.support import TEST_PASSWORD, move_to_trash
from webapp.config import utcnow
from webapp.models import AuditEntry, Hero, UserSession

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
SIZES = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
DARK_BACKGROUND = "rgb(18, 21, 27)"
LIGHT_BACKGROUND = "rgb(246, 247, 249)"
# What the browser does with the markup (colours, contrast, the theme switch's form and script) is the same
# whichever database the server runs on, so those tests run on one database (`one_database`); the theme stored per
# user and applied to every page is proven on both over HTTP (tests/test_theme_and_times.py). The times shown
# ("now") come from timestamps each database stores and gives back, sessions ending and Activity's date filter
# from its queries: those run on both.
ONE_DATABASE = pytest.mark.one_database
# Intl's full date and long time in en-GB: "Sunday 6 December 2026 at 04:05:09 GMT+9".
TOKYO_TITLE = re.compile(r"\d{4} at \d{2}:\d{2}:\d{2} (GMT\+9|Japan Standard Time)$")
UTC_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$")


def background(page: Page) -> str:
    return str(page.evaluate("() => getComputedStyle(document.body).backgroundColor"))


def choose_theme(page: Page, label: str) -> None:
    page.goto("/account/password")
    page.get_by_role("group", name="Theme").get_by_label(label).check()
    page.get_by_role("button", name="Save theme").click()
    expect(page.get_by_role("status")).to_contain_text("Theme set to")


@ONE_DATABASE
@SIZES
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_theme_switch_is_remembered_and_beats_the_device(
    new_page: Callable[..., Page], server: LiveServer, viewport: ViewportSize, javascript: bool
) -> None:
    page = new_page(viewport=viewport, color_scheme="light", javascript=javascript)
    page.goto("/heroes")
    assert background(page) == LIGHT_BACKGROUND  # "system" on a light device
    choose_theme(page, "Dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background(page) == DARK_BACKGROUND
    # Remembered for the user: another browser of theirs (a dark device, this time) gets it too.
    other = new_page(viewport=viewport, color_scheme="dark", javascript=javascript)
    other.goto("/teams")
    assert background(other) == DARK_BACKGROUND
    choose_theme(other, "Light")
    assert background(other) == LIGHT_BACKGROUND  # beats the device's dark setting
    choose_theme(other, "System (as this device is set)")
    assert background(other) == DARK_BACKGROUND  # follows the device again


def _arrange_screens(server: LiveServer) -> int:
    team = add_team(server, name="Preventers")
    hero = add_hero(server, name="Deadpond", secret_name="Dive Wilson", age=30, team_id=team)
    gone = add_hero(server, name="Spider-Boy", secret_name="Pedro Parqueador")

    async def arrange(db: AsyncSession) -> None:
        db.add(
            AuditEntry(
                at=utcnow(),
                username="eddie",
                action="update",
                record_type="hero",
                record_id=hero,
                label="Deadpond",
                changes={"age": [29, 30]},
            )
        )
        await db.commit()
        trashed = await db.get(Hero, gone)
        assert trashed is not None
        await move_to_trash(db, trashed)

    server.run(arrange)
    return hero


# Each theme on a device set the other way: both palettes on every screen, and the chosen theme beating the device.
# The same theme on a device set alike gives the same colours (the stylesheet's dark rules apply to "dark", or to
# a dark device unless the theme is "light"), so those two pairs would check nothing more.
@ONE_DATABASE
@pytest.mark.parametrize(
    ("theme", "scheme"), [("Light", "dark"), ("Dark", "light")], ids=["Light-on-dark", "Dark-on-light"]
)
def test_main_screens_have_no_axe_violations_in_either_scheme(
    new_page: Callable[..., Page], server: LiveServer, theme: str, scheme: str
) -> None:
    hero = _arrange_screens(server)
    page = new_page(viewport=DESKTOP, color_scheme=scheme)
    choose_theme(page, theme)
    for path in ("/heroes", f"/heroes/{hero}", f"/heroes/{hero}/edit", f"/heroes/{hero}/history", "/activity"):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("data-theme", theme.lower())
        expect_no_axe_violations(page)
    for path in ("/trash", "/account/password"):
        page.goto(path)
        expect_no_axe_violations(page)


@ONE_DATABASE
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_screens_following_the_device_have_no_axe_violations(
    new_page: Callable[..., Page], server: LiveServer, scheme: str
) -> None:
    hero = _arrange_screens(server)
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True, color_scheme=scheme)
    for path in ("/heroes", f"/heroes/{hero}/edit", "/activity", "/account/password"):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("data-theme", "system")
        assert background(page) == (DARK_BACKGROUND if scheme == "dark" else LIGHT_BACKGROUND)
        expect_no_axe_violations(page)


@SIZES
def test_times_show_in_the_viewers_zone_with_the_exact_time_on_hover(
    new_page: Callable[..., Page], server: LiveServer, viewport: ViewportSize
) -> None:
    hero = _arrange_screens(server)
    page = new_page(viewport=viewport, timezone_id="Asia/Tokyo", locale="en-GB")
    page.goto(f"/heroes/{hero}/history")
    moment = page.locator("time").first
    expect(moment).to_have_text("now")
    expect(moment).to_have_attribute("title", TOKYO_TITLE)
    page.goto("/activity")
    expect(page.locator("time").first).to_have_text("now")


def test_times_read_in_utc_without_javascript(nojs_page: Page, server: LiveServer) -> None:
    hero = _arrange_screens(server)
    nojs_page.goto(f"/heroes/{hero}/history")
    expect(nojs_page.locator("time").first).to_have_text(UTC_TEXT)


def _end_sessions(server: LiveServer) -> None:
    async def idle(db: AsyncSession) -> None:
        then = utcnow() - timedelta(minutes=31)
        await db.exec(update(UserSession).where(col(UserSession.id).is_not(None)).values(last_seen_at=then))  # type: ignore[call-overload]
        await db.commit()

    server.run(idle)


@SIZES
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_what_was_typed_survives_the_session_ending(
    new_page: Callable[..., Page], server: LiveServer, viewport: ViewportSize, javascript: bool
) -> None:
    hero = add_hero(server, name="Deadpond", secret_name="Dive Wilson")
    page = new_page(viewport=viewport, javascript=javascript)
    page.goto(f"/heroes/{hero}/edit")
    page.get_by_label("Name", exact=True).fill("Deadpool")
    page.get_by_label("Secret name").fill("Wade Wilson")
    _end_sessions(server)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("p.notice")).to_have_text(
        "Your session ended; sign in again and your changes will be back in the form."
    )
    page.get_by_label("Username").fill("eddie")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/heroes/{hero}/edit")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Deadpool")
    expect(page.get_by_label("Secret name")).to_have_value("Wade Wilson")
    expect(page.locator("p.notice")).to_contain_text("not saved yet")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Deadpool")).to_be_visible()


@SIZES
def test_activity_filters_by_dates_and_exports_what_it_shows(
    new_page: Callable[..., Page], server: LiveServer, viewport: ViewportSize
) -> None:
    _arrange_screens(server)
    page = new_page(viewport=viewport)
    page.goto("/activity")
    entries = page.get_by_role("region", name="Changes").locator("li.history-entry")
    expect(entries).to_have_count(1)
    today = utcnow().date()
    page.get_by_label("From").fill((today + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("region", name="Changes")).to_contain_text("Nothing recorded yet.")
    page.get_by_label("From").fill(today.isoformat())
    page.get_by_label("To").fill(today.isoformat())
    page.get_by_role("button", name="Filter").click()
    expect(entries).to_have_count(1)
    query = f"from={today.isoformat()}&to={today.isoformat()}"
    expect(page.get_by_role("link", name="Export CSV")).to_have_attribute("href", f"/activity/export.csv?{query}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename == "activity.csv"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]


def test_a_bad_date_range_says_what_is_wrong(page: Page, server: LiveServer) -> None:
    page.goto("/activity?from=2026-12-03&to=2026-12-01")
    expect(page.get_by_role("heading", name="This Activity filter is not valid")).to_be_visible()
    expect(page.get_by_text("“From” is after “To”")).to_be_visible()

"""The second factor in Chromium: setting it up from the account page (QR code, key, a code, recovery codes),
signing in with a code, and the set-up a role requires right after the password. The `problems` fixture fails
the test on any CSP violation (the QR code is inline SVG)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pyotp
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.support import TEST_PASSWORD, make_user
from webapp import accounts
from webapp.models import Role


def sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def set_up_from_the_page(page: Page) -> str:
    """Scan-free set-up: read the key shown as text, type the app's code. Returns the key."""
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(10)
    return secret


def next_code(secret: str) -> str:
    """The app's next code (the current one was used up by the set-up, and is refused a second time)."""
    return pyotp.TOTP(secret).at(datetime.now(UTC), counter_offset=1)


def test_set_up_from_the_account_page_then_sign_in_with_a_code(
    server: LiveServer, new_page: Callable[..., Page]
) -> None:
    server.run(lambda db: make_user(db, username="sam", role=Role.editor))
    page = new_page(session_token="")
    sign_in(page, "sam")
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_be_visible()
    page.get_by_role("link", name="sam", exact=True).click()
    page.get_by_role("link", name="Second factor").click()
    page.get_by_role("link", name="Set up a second factor").click()
    secret = set_up_from_the_page(page)
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_text(re.compile("You have 10 unused recovery codes"))).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "sam")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Authentication code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not valid")
    page.get_by_label("Authentication code").fill(next_code(secret))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_be_visible()


def test_a_role_that_requires_it_sets_it_up_right_after_the_password(
    server: LiveServer, new_page: Callable[..., Page]
) -> None:
    server.run(lambda db: make_user(db, username="eve", role=Role.editor))
    admin = new_page(session_token=server.sign_in("root", Role.admin))
    admin.goto("/users")
    admin.get_by_label("Every editor").check()
    admin.get_by_role("button", name="Save second-factor rules").click()
    expect(admin.get_by_role("status")).to_have_text("Saved which roles need a second factor.")

    page = new_page(session_token="")
    page.goto("/teams")
    page.get_by_label("Username").fill("eve")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Your account must have a second factor before you can go on.")
    page.goto("/heroes")  # nothing else first
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    set_up_from_the_page(page)
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_be_visible()
    assert server.run(lambda db: accounts.roles_requiring_second_factor(db)) == {"editor"}

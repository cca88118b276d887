"""Issue 12 ("Everyday use") in a real browser, at desktop size and at a 390 px phone's: a conflict with yourself
in another tab, the site icon, the extra Save buttons, field help, and the first run's sign-in page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SIZES, LiveServer, PageProblems
from tests.e2e.support import add_hero, expect_no_axe_violations

# Tests marked `one_database` check presentation only (the alert's words and place, contrast in both schemes, the
# icon, the help text's ties, the first-run hint), the same on either database behind the server. What the
# database decides beneath them is proven on both over HTTP: the conflict with yourself (tests/test_conflicts.py),
# the first-run hint while no account exists (tests/test_setup_link.py), the age refused (tests/test_heroes_forms.py).
# The extra Save buttons store and re-read a hero through the browser's own round trips, so they run on both.
ONE_DATABASE = pytest.mark.one_database
SAVED_IN_ANOTHER_TAB = "You saved this hero in another tab or window while editing it here."
AGE_HELP = "A whole number from 0 to 10,000; blank if unknown."


def _conflict_with_yourself(page: Page, problems: PageProblems, server: LiveServer) -> Page:
    """Open one hero's edit page in two tabs of the same signed-in browser, save in the first, then in the second;
    returns the second tab, showing the conflict."""
    hero_id = add_hero(server, name="Deadpond", age=30)
    first = page
    second = page.context.new_page()
    problems.watch(second)
    for tab in (first, second):
        tab.goto(f"/heroes/{hero_id}/edit")
        expect(tab.get_by_label("Name", exact=True)).to_have_value("Deadpond")
    first.get_by_label("Name", exact=True).fill("Deadpond Prime")
    first.get_by_role("button", name="Save", exact=True).click()
    expect(first.get_by_role("heading", name="Deadpond Prime")).to_be_visible()
    second.get_by_label("Age", exact=True).fill("31")
    second.get_by_role("button", name="Save", exact=True).click()
    return second


@ONE_DATABASE
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_conflict_with_yourself_says_you_saved_in_another_tab(
    new_page: Callable[..., Page], problems: PageProblems, server: LiveServer, size: str, scheme: str
) -> None:
    page = new_page(viewport=SIZES[size], color_scheme=scheme)
    second = _conflict_with_yourself(page, problems, server)
    alert = second.locator("#hero-form").get_by_role("alert").filter(has_text="another tab")
    expect(alert).to_contain_text(SAVED_IN_ANOTHER_TAB)
    expect(alert).not_to_contain_text("eddie")  # not named to himself as if someone else had saved
    expect(alert).to_be_visible()
    # The user's own value stays, beside what the other tab saved.
    expect(second.get_by_label("Age", exact=True)).to_have_value("31")
    expect(second.get_by_text("Saved meanwhile: Deadpond Prime")).to_be_visible()
    assert second.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
    expect_no_axe_violations(second)


@ONE_DATABASE
def test_the_site_icon_answers_with_an_image(sized_page: Page, server: LiveServer) -> None:
    sized_page.goto("/")
    icon = sized_page.locator("link[rel='icon']")
    expect(icon).to_have_count(1)
    href = icon.get_attribute("href")
    assert href
    for url in (href, "/favicon.ico"):
        response = sized_page.request.get(url)
        assert response.status == 200, url
        assert response.headers["content-type"].startswith("image/"), (url, response.headers["content-type"])
        assert response.body(), url


def fill_and_press(page: Page, name: str, secret_name: str, button: str) -> None:
    """A hero form's two text fields typed in, then one of its save buttons pressed."""
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Secret name", exact=True).fill(secret_name)
    page.get_by_role("button", name=button, exact=True).click()


def test_save_and_add_another_opens_a_fresh_form_naming_the_saved_hero(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    page.goto("/heroes/new")
    fill_and_press(page, "Spider-Boy", "Pedro Parqueador", "Save and add another")
    expect(page).to_have_url(re.compile(r"/heroes/new$"))
    expect(page.get_by_role("status")).to_contain_text("Created hero Spider-Boy.")
    expect(page.get_by_label("Name", exact=True)).to_have_value("")
    expect(page.get_by_label("Secret name", exact=True)).to_have_value("")
    # The hero was saved: the next one can be added, and both are listed.
    fill_and_press(page, "Rusty-Man", "Tommy Sharp", "Save")
    expect(page.get_by_role("heading", name="Rusty-Man")).to_be_visible()
    page.goto("/heroes")
    heroes = page.get_by_role("table", name="Heroes")
    for name in ("Spider-Boy", "Rusty-Man"):
        expect(heroes.get_by_role("link", name=name, exact=True)).to_be_visible()


def test_save_and_continue_editing_comes_back_to_the_edit_form(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    page.goto("/heroes/new")
    fill_and_press(page, "Kept Open", "Still Here", "Save and continue editing")
    expect(page).to_have_url(re.compile(r"/heroes/\d+/edit$"))
    expect(page.get_by_role("status")).to_contain_text("Created hero Kept Open.")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Kept Open")
    edit_url = page.url

    # On the edit form, the button saves and stays, at the new version (saving again is no conflict).
    page.get_by_label("Name", exact=True).fill("Kept Open Twice")
    page.get_by_role("button", name="Save and continue editing", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Saved hero Kept Open Twice.")
    assert page.url == edit_url
    expect(page.get_by_label("Name", exact=True)).to_have_value("Kept Open Twice")
    page.get_by_label("Age", exact=True).fill("12")
    page.get_by_role("button", name="Save and continue editing", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Saved hero Kept Open Twice.")
    expect(page.get_by_label("Age", exact=True)).to_have_value("12")
    expect(page.get_by_role("alert")).to_have_count(0)


def _described_by(page: Page, label: str) -> list[str]:
    return (page.get_by_label(label, exact=True).get_attribute("aria-describedby") or "").split()


@ONE_DATABASE
def test_the_age_help_describes_the_field_and_stays_beside_its_error(sized_page: Page, server: LiveServer) -> None:
    page = sized_page
    page.goto("/heroes/new")
    help_text = page.get_by_text(AGE_HELP, exact=True)
    expect(help_text).to_be_visible()
    help_id = help_text.get_attribute("id")
    assert help_id
    assert help_id in _described_by(page, "Age")
    expect(page.get_by_label("Age", exact=True)).to_have_accessible_description(AGE_HELP)
    # The help sits under its field.
    field_box, help_box = page.get_by_label("Age", exact=True).bounding_box(), help_text.bounding_box()
    assert field_box
    assert help_box
    assert help_box["y"] >= field_box["y"] + field_box["height"] - 1

    page.get_by_label("Name", exact=True).fill("Old Timer")
    page.get_by_label("Secret name", exact=True).fill("Methuselah")
    page.get_by_label("Age", exact=True).fill("10001")
    # The browser's own check (max=10000) would stop the form: skip it, as a browser without it would, so the
    # server's answer is what is shown.
    page.locator("#hero-form").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="Save", exact=True).click()

    error = page.locator("#hero-form-age-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Age must be a whole number from 0 to 10,000.")
    expect(page.get_by_label("Age", exact=True)).to_have_attribute("aria-invalid", "true")
    described = _described_by(page, "Age")
    assert "hero-form-age-error" in described, described
    assert help_id in described, described
    expect(page.get_by_text(AGE_HELP, exact=True)).to_be_visible()
    expect(page.get_by_label("Age", exact=True)).to_have_accessible_description(re.compile(re.escape(AGE_HELP)))


@ONE_DATABASE
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_first_run_sign_in_page_says_no_account_exists(
    new_page: Callable[..., Page], live_server: LiveServer, problems: PageProblems, size: str, scheme: str
) -> None:
    live_server.reset()  # no account at all, as on a fresh install (`server`, used by new_page, made one)
    page = new_page(session_token="", viewport=SIZES[size], color_scheme=scheme)
    page.goto("/login")
    hint = page.get_by_role("region", name="No account exists yet")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("python -m webapp serve")
    expect_no_axe_violations(page)

    response = page.goto("/setup/not-a-token")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="This set-up link has expired or is not valid", level=1)).to_be_visible()


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)

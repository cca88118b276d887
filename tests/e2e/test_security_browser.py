"""Stored hostile payloads on every screen, in Chromium: none runs, none fetches anything, the Content-Security-
Policy is never violated (the `problems` fixture fails the test on any CSP report), and each shows as text.

Also signing in and out through the UI (and Back after signing out), and what a viewer's browser offers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import quote

import pytest
from playwright.sync_api import Dialog, Locator, Page, Request, expect
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.e2e.conftest import LiveServer
from tests.e2e.support import add_hero, add_team, main_nav, start_inline_edit
from tests.hostile import XSS
from tests.support import TEST_PASSWORD, make_user
from webapp import accounts
from webapp.config import utcnow
from webapp.models import Hero, Role, Team, User

# Each stored text carries two payloads, and each record several texts, so six heroes and six teams carry
# every payload in every place a name, secret name or headquarters is shown.
HALF = len(XSS) // 2
FIRST, SECOND = [p.value for p in XSS[:HALF]], [p.value for p in XSS[HALF:]]
NAMES = [f"{a} {b}" for a, b in zip(FIRST, SECOND, strict=True)]
SECRET_NAMES = {name: f"{b} {a}" for name, a, b in zip(NAMES, FIRST, SECOND, strict=True)}
TEAM_NAMES = {name: f"{a}{b}" for name, a, b in zip(NAMES, FIRST, SECOND, strict=True)}
HEADQUARTERS = {team: f"{b}{a}" for team, a, b in zip(TEAM_NAMES.values(), FIRST, SECOND, strict=True)}

# Every payload calls alert(): recorded here (and the dialog it opens is caught too).
MARKER_SCRIPT = """
window.__xss = [];
const realAlert = window.alert.bind(window);
window.alert = (message) => { window.__xss.push(String(message)); return realAlert(message); };
"""
# Anything in the live document that a payload would have made: handlers, htmx triggers, embeds, inline scripts.
# The app's own hx-trigger elements (tag, action or hx-get), as in tests/hostile_checks.py: the list searches
# and the Activity filters reload on change, team fields fetch suggestions. A payload's would be elsewhere.
LIVE_MARKUP = """() => {
  const found = [];
  const own = new Set(['form /activity', 'form /heroes', 'form /teams', 'input /teams/options']);
  for (const element of document.querySelectorAll('*')) {
    const tag = element.tagName.toLowerCase();
    for (const attribute of element.attributes) {
      const name = attribute.name;
      const source = element.getAttribute('action') || element.getAttribute('hx-get');
      const ownTrigger = name === 'hx-trigger' && own.has(`${tag} ${source}`);
      if (name.startsWith('on') || name.startsWith('hx-on') || (name === 'hx-trigger' && !ownTrigger)) {
        found.push(`${tag} ${name}`);
      }
    }
    if (['img', 'svg', 'iframe', 'object', 'embed'].includes(tag)) found.push(tag);
    if (tag === 'script' && !element.getAttribute('src')) found.push('inline script');
  }
  if (document.querySelectorAll('#toasts').length > 1) found.push('a second #toasts');
  return found;
}"""


@dataclass
class PayloadWatch:
    """What payloads did in a page: dialogs opened, alert() calls, and requests to URLs the payloads name."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.add_init_script(MARKER_SCRIPT)
        self.page.on("dialog", self._on_dialog)
        self.page.on("request", self._on_request)

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _on_request(self, request: Request) -> None:
        # Our own navigations may carry a payload in the query (?next=...); a payload's own fetch is not a document.
        if "xss" in request.url and request.resource_type != "document":
            self.fetched.append(request.url)

    def check(self) -> None:
        """Nothing ran, opened or fetched so far, and nothing in the current document was made live."""
        assert self.page.evaluate("() => window.__xss") == []
        assert self.page.evaluate(LIVE_MARKUP) == []
        assert self.dialogs == []
        assert self.fetched == []


def store_payloads(server: LiveServer) -> tuple[dict[str, int], dict[str, int]]:
    """The heroes and their teams (plus 25 plain heroes, so the list has a second page): names -> ids."""

    async def arrange(db: AsyncSession) -> tuple[dict[str, int], dict[str, int]]:
        teams = [Team(name=TEAM_NAMES[name], headquarters=HEADQUARTERS[TEAM_NAMES[name]]) for name in NAMES]
        db.add_all(teams)
        await db.flush()
        heroes = [
            Hero(name=name, secret_name=SECRET_NAMES[name], age=index, team_id=team.id)
            for index, (name, team) in enumerate(zip(NAMES, teams, strict=True))
        ]
        db.add_all(heroes + [Hero(name=f"Hero {n:02d}", secret_name=f"Secret {n:02d}") for n in range(1, 26)])
        await db.commit()
        return {h.name: h.id for h in heroes if h.id}, {t.name: t.id for t in teams if t.id}

    return server.run(arrange)


async def session_for(db: AsyncSession, username: str) -> str:
    """A new session for a stored user, as signing in would make; returns the token for the cookie."""
    user = (await db.exec(select(User).where(User.username == username))).one()
    token, _row = await accounts.start_session(db, user=user, now=utcnow())
    await db.commit()
    return token


def admin_page(server: LiveServer, new_page: Callable[..., Page]) -> tuple[Page, PayloadWatch]:
    page = new_page(session_token=server.sign_in("root", Role.admin))
    return page, PayloadWatch(page)


def first_cells(table: Locator) -> set[str]:
    return {" ".join(text.split()) for text in table.locator("tbody tr td:first-child").all_inner_texts()}


# The payload tests check what the browser does with the pages (nothing runs, nothing is fetched, no CSP report),
# which does not depend on the database behind the server: they run on one. That every payload is stored exactly
# and shown escaped on every screen is proven on both databases over HTTP (tests/test_hostile_input.py,
# tests/test_hostile_accounts.py). Signing in and out, and a viewer's controls, read sessions and roles: both.
ONE_DATABASE = pytest.mark.one_database


@ONE_DATABASE
def test_hero_screens_show_stored_payloads_as_text_and_run_none(
    server: LiveServer, new_page: Callable[..., Page]
) -> None:
    hero_ids, _team_ids = store_payloads(server)
    page, watch = admin_page(server, new_page)
    table = page.get_by_role("table", name="Heroes")

    # Both list pages (the second one swapped in by htmx), then the inline edit of each payload's row.
    page.goto("/heroes")
    on_first_page = first_cells(table)
    watch.check()
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_role("link", name="Previous")).to_be_visible()
    second_page = page.url
    on_second_page = first_cells(table)
    watch.check()
    assert set(NAMES) <= on_first_page | on_second_page
    for address, shown in (("/heroes", on_first_page), (second_page, on_second_page)):
        page.goto(address)
        for name in sorted(shown & set(NAMES)):
            start_inline_edit(table, name)
            expect(table.get_by_role("textbox", name="Name", exact=True)).to_have_value(name)
            expect(table.get_by_role("textbox", name="Secret name")).to_have_value(SECRET_NAMES[name])
            table.get_by_role("link", name="Cancel").click()
            expect(table.get_by_role("link", name=f"Edit {name}", exact=True)).to_be_visible()
            watch.check()

    for name, hero_id in hero_ids.items():
        page.goto(f"/heroes/{hero_id}")
        expect(page).to_have_title(f"{name} · Hero admin")
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        main = page.get_by_role("main")
        expect(main.get_by_text(SECRET_NAMES[name], exact=True)).to_be_visible()
        expect(main.get_by_role("link", name=TEAM_NAMES[name], exact=True)).to_be_visible()
        watch.check()
        page.goto(f"/heroes/{hero_id}/edit")
        expect(page.get_by_label("Name", exact=True)).to_have_value(name)
        expect(page.get_by_label("Secret name", exact=True)).to_have_value(SECRET_NAMES[name])
        expect(page.get_by_label("Team", exact=True).locator("option:checked")).to_have_text(TEAM_NAMES[name])
        watch.check()
        page.goto(f"/heroes/{hero_id}/delete")
        expect(page.locator("#hero-delete strong")).to_have_text(name)
        watch.check()


@ONE_DATABASE
def test_team_screens_show_stored_payloads_as_text_and_run_none(
    server: LiveServer, new_page: Callable[..., Page]
) -> None:
    hero_ids, team_ids = store_payloads(server)
    page, watch = admin_page(server, new_page)
    table = page.get_by_role("table", name="Teams")

    page.goto("/teams")
    assert first_cells(table) == set(team_ids)
    watch.check()
    for name in team_ids:
        start_inline_edit(table, name)
        expect(table.get_by_role("textbox", name="Name", exact=True)).to_have_value(name)
        expect(table.get_by_role("textbox", name="Headquarters")).to_have_value(HEADQUARTERS[name])
        table.get_by_role("link", name="Cancel").click()
        expect(table.get_by_role("link", name=f"Edit {name}", exact=True)).to_be_visible()
        watch.check()

    heroes = {TEAM_NAMES[hero]: (hero, hero_id) for hero, hero_id in hero_ids.items()}
    for name, team_id in team_ids.items():
        page.goto(f"/teams/{team_id}")
        expect(page).to_have_title(f"{name} · Hero admin")
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        expect(page.get_by_role("heading", level=2)).to_have_text([f"Heroes in {name}", "History"])
        main = page.get_by_role("main")
        expect(main.get_by_text(HEADQUARTERS[name], exact=True)).to_be_visible()
        hero, hero_id = heroes[name]
        expect(main.get_by_role("link", name=hero, exact=True)).to_have_attribute("href", f"/heroes/{hero_id}")
        expect(main.get_by_text(SECRET_NAMES[hero], exact=True)).to_be_visible()
        watch.check()
        page.goto(f"/teams/{team_id}/edit")
        expect(page.get_by_label("Name", exact=True)).to_have_value(name)
        expect(page.get_by_label("Headquarters")).to_have_value(HEADQUARTERS[name])
        watch.check()
        page.goto(f"/teams/{team_id}/delete")
        expect(page.locator("#team-delete strong")).to_have_text(name)
        watch.check()


@ONE_DATABASE
def test_user_and_account_screens_show_stored_usernames_as_text_and_run_none(
    server: LiveServer, new_page: Callable[..., Page]
) -> None:
    # Sign-up would refuse these names; stored anyway (say, by an older version), they must still be inert.
    async def arrange(db: AsyncSession) -> dict[str, int]:
        users = [await make_user(db, username=name, role=Role.viewer) for name in NAMES]
        return {user.username: user.id for user in users if user.id}

    user_ids = server.run(arrange)
    page, watch = admin_page(server, new_page)
    page.goto("/users")
    assert first_cells(page.get_by_role("table", name="Users")) == set(NAMES) | {"eddie", "root"}
    watch.check()
    for name, user_id in user_ids.items():
        page.goto(f"/users/{user_id}")
        expect(page).to_have_title(f"User {name} · Hero admin")
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        expect(page.get_by_text(f"{name} will be signed out everywhere.", exact=True)).to_be_visible()
        watch.check()
    page.goto("/account/password")
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    watch.check()
    response = page.goto("/heroes/999999")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    watch.check()

    # Signed in under such a name, every page shows it in the header, as text.
    for name in NAMES[:2]:
        as_user = new_page(session_token=server.run(partial(session_for, username=name)))
        user_watch = PayloadWatch(as_user)
        for path in ("/account/password", "/heroes", "/heroes/999999"):
            as_user.goto(path)
            expect(main_nav(as_user).get_by_role("link", name=name, exact=True)).to_be_visible()
            user_watch.check()


@ONE_DATABASE
def test_sign_in_and_error_pages_signed_out_run_no_payload(server: LiveServer, new_page: Callable[..., Page]) -> None:
    page = new_page(session_token="")
    watch = PayloadWatch(page)
    for name in NAMES:
        # The `next` a link may carry and the username typed in are both sent back in the form.
        page.goto(f"/login?next={quote('/' + name, safe='')}")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        watch.check()
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")
        expect(page.get_by_label("Username")).to_have_value(name)
        watch.check()
    for name in NAMES[:3]:
        response = page.goto("/" + quote(name, safe=""))
        assert response is not None
        assert response.status == 404
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        watch.check()


def test_sign_in_and_out_through_the_ui_and_back_shows_no_data(
    server: LiveServer, new_page: Callable[..., Page]
) -> None:
    server.run(lambda db: make_user(db, username="sam", role=Role.editor))
    add_hero(server, name="Classified Hero", secret_name="Very Secret")
    page = new_page(session_token="")

    page.goto("/heroes")
    expect(page).to_have_url(f"{server.url}/login?next=%2Fheroes")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{server.url}/heroes")
    expect(page.get_by_role("heading", name="Heroes", level=1)).to_be_visible()
    expect(main_nav(page).get_by_role("link", name="sam", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="Very Secret")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{server.url}/login")
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    expect(page.get_by_label("Username")).to_be_visible()

    # The list was no-store: Back asks the server again, which sends the signed-out browser to sign in.
    page.go_back()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Very Secret")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Very Secret")).to_have_count(0)
    page.goto("/heroes")
    expect(page).to_have_url(f"{server.url}/login?next=%2Fheroes")


def test_viewer_sees_no_controls_to_change_anything(server: LiveServer, new_page: Callable[..., Page]) -> None:
    team_id = add_team(server, name="Preventers")
    hero_id = add_hero(server, name="Deadpond", team_id=team_id)
    page = new_page(session_token=server.sign_in("vic", Role.viewer))
    nav = main_nav(page)
    for path, heading, shown in (
        ("/heroes", "Heroes", "Deadpond"),
        (f"/heroes/{hero_id}", "Deadpond", "Preventers"),
        ("/teams", "Teams", "Preventers"),
        (f"/teams/{team_id}", "Preventers", "Deadpond"),
    ):
        page.goto(path)
        main = page.get_by_role("main")
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(main.get_by_role("link", name=shown, exact=True)).to_be_visible()
        expect(main.get_by_role("link", name="New hero")).to_have_count(0)
        expect(main.get_by_role("link", name="New team")).to_have_count(0)
        expect(main.get_by_role("link", name="Edit", exact=False)).to_have_count(0)
        expect(main.get_by_role("link", name="Delete", exact=False)).to_have_count(0)
        expect(nav.get_by_role("link", name="Users")).to_have_count(0)
        expect(nav.get_by_role("link", name="vic", exact=True)).to_be_visible()

"""What the browser tests share: arranging data, finding rows, proving a swap did not reload the page."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import parse_qsl, urlsplit

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Error, Locator, Page, expect
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.e2e.conftest import LiveServer
from tests.support import make_hero, make_team
from webapp.models import Hero, Team


def add_team(server: LiveServer, name: str = "Preventers", headquarters: str = "Sharp Tower") -> int:
    team = server.run(lambda db: make_team(db, name=name, headquarters=headquarters))
    assert team.id is not None
    return team.id


def add_hero(
    server: LiveServer,
    name: str = "Deadpond",
    secret_name: str = "Dive Wilson",
    age: int | None = None,
    team_id: int | None = None,
) -> int:
    async def arrange(db: AsyncSession) -> Hero:
        team = await db.get(Team, team_id) if team_id is not None else None
        return await make_hero(db, name=name, secret_name=secret_name, age=age, team=team)

    hero = server.run(arrange)
    assert hero.id is not None
    return hero.id


def add_many_heroes(server: LiveServer, count: int) -> None:
    """Heroes "Hero 01", "Hero 02", ... in one transaction (the list sorts them in that order)."""

    async def arrange(db: AsyncSession) -> None:
        db.add_all(Hero(name=f"Hero {n:02d}", secret_name=f"Secret {n:02d}") for n in range(1, count + 1))
        await db.commit()

    server.run(arrange)


def row_of(table: Locator, name: str) -> Locator:
    """The table row whose first cell links to `name`."""
    return table.get_by_role("row").filter(has=table.page.get_by_role("link", name=name, exact=True))


def expect_cells(row: Locator, *texts: str | re.Pattern[str]) -> None:
    """The row's leading cells read `texts`, in order (the actions cell is not checked)."""
    cells = row.get_by_role("cell")
    for index, text in enumerate(texts):
        expect(cells.nth(index)).to_have_text(text)


def mark_document(page: Page) -> None:
    """Tag the current document, so a later `expect_same_document` proves no navigation or reload happened."""
    page.evaluate("() => { window.__sameDocument = true }")


def expect_same_document(page: Page) -> None:
    assert page.evaluate("() => window.__sameDocument === true"), "the page navigated or reloaded"


def main_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


def start_inline_edit(table: Locator, name: str) -> None:
    """Click the row's Edit and wait until the inline form has taken focus (htmx settles in the swap itself, so the
    swap is over by then: see templates/base.html)."""
    table.get_by_role("link", name=f"Edit {name}", exact=True).click()
    expect(table.get_by_role("textbox", name="Name", exact=True)).to_be_focused()


def open_create_form(page: Page, link_name: str) -> None:
    """Click "New hero" / "New team" on a list page and wait until the form in place has taken focus."""
    page.get_by_role("link", name=link_name, exact=True).click()
    expect(page.get_by_role("main").get_by_role("textbox", name="Name", exact=True)).to_be_focused()


def record_posts(page: Page) -> list[str]:
    """The URLs of the POST requests the page sends from now on."""
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    return posts


def with_undo(message: str) -> re.Pattern[str]:
    """The text of a status message that offers Undo (after a delete): the message, then the Undo button."""
    return re.compile(rf"^\s*{re.escape(message)}\s*Undo\s*$")


def expect_no_axe_violations(page: Page) -> None:
    """axe-core finds nothing wrong with the page as it is now."""
    results = Axe().run(page)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


# --- the lists ---------------------------------------------------------------------------------------------------

# In `expect_query`: the parameter is there with some value (a page cursor, whose value the server makes up).
ANY = "<any>"


def add_cast(server: LiveServer) -> None:
    """Five heroes in two teams (and none), all with an age, and a third team without heroes.

    By name: Black Lion, Deadpond, Rusty-Man, Spider-Boy, Tarantula. By age: Spider-Boy 16, Deadpond 30,
    Tarantula 32, Black Lion 35, Rusty-Man 48."""
    preventers = add_team(server, name="Preventers", headquarters="Sharp Tower")
    z_force = add_team(server, name="Z-Force", headquarters="Sister Margaret's Bar")
    add_team(server, name="Avengers", headquarters="Stark Tower")
    add_hero(server, name="Deadpond", secret_name="Dive Wilson", age=30, team_id=preventers)
    add_hero(server, name="Tarantula", secret_name="Natalia Jackson", age=32, team_id=preventers)
    add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp", age=48, team_id=z_force)
    add_hero(server, name="Spider-Boy", secret_name="Pedro Parqueador", age=16)
    add_hero(server, name="Black Lion", secret_name="Trevor Challa", age=35)


def list_names(page: Page, rows_id: str = "hero-rows") -> Locator:
    """The name cells of the list's rows, in the order shown."""
    return page.locator(f"#{rows_id} td[data-label='Name']")


def many_hero_names(first: int, last: int) -> list[str]:
    """["Hero 01", ...] as `add_many_heroes` names them; `last` < `first` counts down."""
    step = 1 if last >= first else -1
    return [f"Hero {n:02d}" for n in range(first, last + step, step)]


def url_query(page: Page) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(page.url).query))


def expect_query(page: Page, **expected: str) -> None:
    """The page's URL comes to hold these parameters ("" = absent or blank, ANY = present), whatever else it holds.

    Waits, since htmx pushes the URL around the swap; form pushes carry blank fields too (`team=&min_age=`)."""
    with contextlib.suppress(Error):  # on timeout, the assertion below says what the URL holds instead
        page.wait_for_function(
            """([expected, any]) => {
                const query = new URLSearchParams(location.search);
                return Object.entries(expected).every(([name, value]) =>
                    value === any ? !!query.get(name) : (query.get(name) ?? "") === value);
            }""",
            arg=[expected, ANY],
            timeout=5_000,
        )
    actual = url_query(page)
    assert all(
        bool(actual.get(name)) if value == ANY else actual.get(name, "") == value for name, value in expected.items()
    ), f"{page.url} does not hold {expected}"

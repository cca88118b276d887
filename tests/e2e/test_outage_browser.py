"""A save the database cannot take (its write lock held elsewhere) with htmx: the 503 puts the form back in place
with what was typed and says the change was not saved; Save then works once the database is free."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg  # type: ignore[import-untyped]
from playwright.sync_api import Page, expect
from sqlalchemy.engine import make_url

from tests.e2e.conftest import LiveServer, PageProblems
from tests.e2e.support import open_create_form, row_of
from tests.support import all_heroes

# The app answers within its 5 s request deadline; a loaded machine may add to that.
ANSWERED_WITHIN_MS = 20_000


@contextmanager
def writes_blocked(database_url: str) -> Iterator[None]:
    """Another connection holding what a new hero needs: SQLite's write lock, or on PostgreSQL a lock on the
    hero table that lets reads through but not writes."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        holder = sqlite3.connect(url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    held, release = threading.Event(), threading.Event()

    async def hold() -> None:
        connection = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
        try:
            async with connection.transaction():
                await connection.execute("LOCK TABLE hero IN EXCLUSIVE MODE")
                held.set()
                await asyncio.to_thread(release.wait)
        finally:
            await connection.close()

    holder_thread = threading.Thread(target=asyncio.run, args=(hold(),))
    holder_thread.start()
    try:
        assert held.wait(30)
        yield
    finally:
        release.set()
        holder_thread.join(30)


def test_a_save_refused_while_the_database_is_busy_keeps_the_form_in_place(
    page: Page, server: LiveServer, problems: PageProblems
) -> None:
    problems.allow("503")  # htmx logs the error answer it swaps
    page.goto("/heroes")
    open_create_form(page, "New hero")
    page.get_by_label("Name", exact=True).fill("Deadpond")
    page.get_by_label("Secret name", exact=True).fill("Dive Wilson")
    page.get_by_label("Age", exact=True).fill("33")
    with writes_blocked(server.database_url):
        page.get_by_role("button", name="Save").click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Your change was not saved; nothing was lost.", timeout=ANSWERED_WITHIN_MS)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Deadpond")
    expect(page.get_by_label("Secret name", exact=True)).to_have_value("Dive Wilson")
    expect(page.get_by_label("Age", exact=True)).to_have_value("33")
    expect(page.get_by_role("button", name="Save")).to_have_count(1)  # the form in place, not a second one
    assert server.run(all_heroes) == []

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Created hero Deadpond.")
    expect(row_of(page.get_by_role("table", name="Heroes"), "Deadpond")).to_be_visible()
    assert [hero.name for hero in server.run(all_heroes)] == ["Deadpond"]

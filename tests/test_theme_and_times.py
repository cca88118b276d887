"""A theme per user (system, light, dark) set on the account page and applied to every page through
<html data-theme>; times written as <time> in UTC for the viewer's browser to show in its own zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import Client, Clock, fetch_user, make_hero, make_user, sign_in, toast
from webapp.models import Role, User
from webapp.templating import moment


def theme_of(html: str) -> str:
    return parse(html).find("html").attrs["data-theme"]


@pytest.mark.parametrize("theme", ["light", "dark", "system"])
async def test_a_chosen_theme_is_kept_and_applied_to_every_page(
    client: Client, db: AsyncSession, editor: User, theme: str
) -> None:
    response = await client.post("/account/theme", data={"theme": theme}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/password"
    stored = await fetch_user(db, editor.id or 0)
    assert stored is not None
    assert stored.theme == theme
    await db.commit()
    for path in ("/heroes", "/activity", "/account/password"):
        assert theme_of((await client.get(path)).text) == theme
    page = await client.get("/account/password")
    assert parse(page.text).find("input", id=f"theme-{theme}").attrs.get("checked") is not None


async def test_the_theme_is_the_users_not_the_browsers(http: Client, db: AsyncSession, clock: Clock) -> None:
    dark = await make_user(db, username="dora", role=Role.viewer)
    dark.theme = "dark"
    db.add(dark)
    await db.commit()
    await sign_in(http, db, dark, clock)
    assert theme_of((await http.get("/heroes")).text) == "dark"
    await sign_in(http, db, await make_user(db, username="lena", role=Role.viewer), clock)
    assert theme_of((await http.get("/heroes")).text) == "system"


async def test_signed_out_pages_follow_the_device(http: Client) -> None:
    assert theme_of((await http.get("/login")).text) == "system"


async def test_an_unknown_theme_is_refused_400_and_nothing_changes(
    client: Client, db: AsyncSession, editor: User
) -> None:
    response = await client.post("/account/theme", data={"theme": "neon"}, follow_redirects=False)
    assert response.status_code == 400
    assert "Choose System, Light or Dark." in response.text
    stored = await fetch_user(db, editor.id or 0)
    assert stored is not None
    assert stored.theme == "system"


async def test_setting_the_theme_needs_the_csrf_token(client: Client, db: AsyncSession, editor: User) -> None:
    del client.headers["X-CSRF-Token"]
    response = await client.post("/account/theme", data={"theme": "dark"}, follow_redirects=False)
    assert response.status_code == 403
    stored = await fetch_user(db, editor.id or 0)
    assert stored is not None
    assert stored.theme == "system"


async def test_the_theme_message_says_what_was_set(client: Client) -> None:
    assert "Theme set to dark." in toast(await client.post("/account/theme", data={"theme": "dark"}))


def test_a_moment_is_a_time_element_in_utc_readable_without_javascript() -> None:
    at = datetime(2026, 12, 6, 21, 5, 9, tzinfo=timezone(timedelta(hours=2)))
    element = parse(str(moment(at))).find("time")
    assert element.attrs["datetime"] == "2026-12-06T19:05:09+00:00"
    assert element.text == "2026-12-06 19:05 UTC"
    assert element.attrs["title"] == "2026-12-06 19:05:09 UTC"


async def test_history_trash_and_users_write_times_as_time_elements(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    admin = await make_user(db, username="ada", role=Role.admin)
    admin.last_login_at = clock()
    db.add(admin)
    await db.commit()
    await sign_in(http, db, admin, clock)
    hero = await make_hero(db, "Deadpond")
    await http.post(f"/heroes/{hero.id}/delete", data={"version": "1"})
    for path in ("/activity", "/trash", f"/heroes/{hero.id}/history", "/users"):
        times = parse((await http.get(path)).text).find_all("time")
        assert times, path
        for element in times:
            assert datetime.fromisoformat(element.attrs["datetime"]).tzinfo == UTC, path
            assert element.text.endswith(" UTC")

"""A form sent after its session ended is kept: the sign-in page says so, and after signing in again the form's
page holds what was typed (not saved); only for the same user, only with that session's CSRF token from this
site, and only for a while."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import browser, clears_cookie, set_cookie, submit_login
from tests.markup import parse
from tests.support import HTMX, TEST_PASSWORD, Client, Clock, form_fields, make_hero, make_user, sign_in
from webapp.models import Hero, Role, Team
from webapp.stash import KEEP

KEPT_NOTICE = "Your session ended; sign in again and your changes will be back in the form."
IDLE = timedelta(minutes=31)


async def stored_hero(db: AsyncSession, hero_id: int) -> Hero:
    db.expire_all()
    hero = await db.get(Hero, hero_id)
    await db.commit()
    assert hero is not None
    return hero


async def edit_after_session_ended(http: Client, db: AsyncSession, clock: Clock) -> tuple[httpx.Response, int]:
    """eddie opens Deadpond's edit form, goes idle past the session's end, then saves a new name."""
    eddie = await make_user(db, username="eddie")
    await sign_in(http, db, eddie, clock)
    hero = await make_hero(db, "Deadpond", age=30)
    data = form_fields((await http.get(f"/heroes/{hero.id}/edit")).text, "hero-form")
    clock.advance(IDLE)
    response = await http.post(
        f"/heroes/{hero.id}", data=data | {"name": "Deadpool", "age": "31"}, follow_redirects=False
    )
    assert hero.id is not None
    del http.headers["X-CSRF-Token"]  # the ended session's: the sign-in form carries its own
    return response, hero.id


async def test_a_save_after_the_session_ended_goes_to_sign_in_with_the_form_kept(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    response, hero_id = await edit_after_session_ended(http, db, clock)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": [f"/heroes/{hero_id}/edit"]}
    assert "Deadpool" not in response.headers["location"]  # never the values in the URL
    kept = set_cookie(response, "restore")
    assert kept is not None
    assert kept.value
    assert kept["httponly"]
    assert int(kept["max-age"]) == int(KEEP.total_seconds())
    assert set_cookie(response, "flash") is None  # no fading message in place of the sign-in page's own
    page = await http.get(response.headers["location"])
    notice = parse(page.text).find("p", **{"class": "notice"})
    assert notice is not None
    assert notice.text.strip() == KEPT_NOTICE
    assert (await stored_hero(db, hero_id)).name == "Deadpond"


async def test_signing_in_again_opens_the_form_with_what_was_typed_not_saved(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    _response, hero_id = await edit_after_session_ended(http, db, clock)
    signed_in = await submit_login(http, "eddie", TEST_PASSWORD, next_path=f"/heroes/{hero_id}/edit")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == f"/heroes/{hero_id}/edit"
    page = await http.get(signed_in.headers["location"])
    assert page.status_code == 200
    values = form_fields(page.text, "hero-form")
    assert (values["name"], values["age"], values["version"]) == ("Deadpool", "31", "1")
    assert "not saved yet" in parse(page.text).find("p", **{"class": "notice"}).text
    assert clears_cookie(page, "restore")
    hero = await stored_hero(db, hero_id)
    assert (hero.name, hero.age, hero.version) == ("Deadpond", 30, 1)
    # Given back once: a reload shows what is stored.
    assert form_fields((await http.get(f"/heroes/{hero_id}/edit")).text, "hero-form")["name"] == "Deadpond"
    # Saving it is the user's choice, and goes through as any edit.
    saved = await http.post(f"/heroes/{hero_id}", data=values, follow_redirects=False)
    assert saved.status_code == 303
    assert (await stored_hero(db, hero_id)).name == "Deadpool"


async def test_a_kept_new_record_form_comes_back_on_the_new_page(http: Client, db: AsyncSession, clock: Clock) -> None:
    eddie = await make_user(db, username="eddie")
    await sign_in(http, db, eddie, clock)
    data = form_fields((await http.get("/teams/new")).text, "team-form")
    clock.advance(IDLE)
    response = await http.post("/teams", data=data | {"name": "Z-Force", "headquarters": "Cable's"})
    assert response.url.path == "/login"
    del http.headers["X-CSRF-Token"]
    signed_in = await submit_login(http, "eddie", TEST_PASSWORD, next_path="/teams/new")
    page = await http.get(signed_in.headers["location"])
    values = form_fields(page.text, "team-form")
    assert (values["name"], values["headquarters"]) == ("Z-Force", "Cable's")
    assert "version" not in values
    db.expire_all()
    assert (await db.exec(Team.__table__.select())).all() == []  # type: ignore[attr-defined]


async def test_an_inline_save_after_the_session_ended_is_kept_for_the_edit_page(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    eddie = await make_user(db, username="eddie")
    await sign_in(http, db, eddie, clock)
    hero = await make_hero(db, "Deadpond")
    data = {"name": "Deadpool", "secret_name": "Wade", "age": "", "team_id": "", "version": "1"}
    clock.advance(IDLE)
    response = await http.post(f"/heroes/{hero.id}", data=data, headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == f"/login?next=%2Fheroes%2F{hero.id}%2Fedit"
    assert set_cookie(response, "restore") is not None
    del http.headers["X-CSRF-Token"]
    await submit_login(http, "eddie", TEST_PASSWORD)
    assert form_fields((await http.get(f"/heroes/{hero.id}/edit")).text, "hero-form")["secret_name"] == "Wade"


async def test_someone_else_signing_in_on_that_browser_does_not_get_the_form(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    _response, hero_id = await edit_after_session_ended(http, db, clock)
    await make_user(db, username="olga", role=Role.editor)
    await submit_login(http, "olga", TEST_PASSWORD)
    page = await http.get(f"/heroes/{hero_id}/edit")
    assert form_fields(page.text, "hero-form")["name"] == "Deadpond"
    assert not parse(page.text).has("p", **{"class": "notice"})


async def test_a_kept_form_is_gone_after_its_time(http: Client, db: AsyncSession, clock: Clock) -> None:
    _response, hero_id = await edit_after_session_ended(http, db, clock)
    clock.advance(KEEP + timedelta(seconds=1))
    await submit_login(http, "eddie", TEST_PASSWORD)
    assert form_fields((await http.get(f"/heroes/{hero_id}/edit")).text, "hero-form")["name"] == "Deadpond"


async def test_a_form_without_the_ended_sessions_token_is_not_kept(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    eddie = await make_user(db, username="eddie")
    await sign_in(http, db, eddie, clock)
    hero = await make_hero(db, "Deadpond")
    clock.advance(IDLE)
    data = {"name": "Planted", "secret_name": "x", "age": "", "team_id": "", "version": "1"}
    async with browser(http) as other:
        other.cookies.set("session", http.cookies["session"])  # the cookie alone, as a cross-site form sends it
        response = await other.post(f"/heroes/{hero.id}", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert set_cookie(response, "restore") is None


async def test_a_form_from_another_site_is_not_kept(http: Client, db: AsyncSession, clock: Clock) -> None:
    eddie = await make_user(db, username="eddie")
    await sign_in(http, db, eddie, clock)
    hero = await make_hero(db, "Deadpond")
    clock.advance(IDLE)
    data = {"name": "Planted", "secret_name": "x", "age": "", "team_id": "", "version": "1"}
    response = await http.post(
        f"/heroes/{hero.id}", data=data, headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False
    )
    assert response.headers["location"].startswith("/login")
    assert set_cookie(response, "restore") is None


async def test_a_form_sent_with_no_session_at_all_is_not_kept(http: Client, db: AsyncSession) -> None:
    hero = await make_hero(db, "Deadpond")
    data = {"name": "Planted", "secret_name": "x", "age": "", "team_id": "", "version": "1"}
    response = await http.post(f"/heroes/{hero.id}", data=data, follow_redirects=False)
    assert response.headers["location"].startswith("/login")
    assert set_cookie(response, "restore") is None

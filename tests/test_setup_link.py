"""The one-time set-up link: while no user exists it creates the first admin and signs them in, once."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import form_token, new_session_cookie, set_cookie, signed_in_as, stored_session, stored_users
from tests.conftest import TEST_HOST, Clock
from tests.markup import parse
from tests.support import Client, field_error, make_user
from webapp.accounts import issue_setup_token
from webapp.app import create_app
from webapp.config import Settings
from webapp.db import create_engine, create_tables
from webapp.models import Role, SetupToken

PASSWORD = "first admin passphrase"


async def setup_token(db: AsyncSession, clock: Clock, valid_for: timedelta = timedelta(hours=24)) -> str:
    token = await issue_setup_token(db, now=clock(), valid_for=valid_for)
    await db.commit()
    return token


async def stored_setup_tokens(db: AsyncSession) -> list[SetupToken]:
    db.expire_all()
    rows = list((await db.exec(select(SetupToken))).all())
    await db.commit()
    return rows


def first_admin(username: str = "Root.Admin", password: str = PASSWORD, confirm: str | None = None) -> dict[str, str]:
    return {"username": username, "password": password, "password_confirm": password if confirm is None else confirm}


async def test_setup_page_shows_the_first_admin_form(http: Client, db: AsyncSession, clock: Clock) -> None:
    token = await setup_token(db, clock)
    response = await http.get(f"/setup/{token}")
    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("h1").text == "Create the first admin"
    form = page.find("form", action=f"/setup/{token}")
    assert [label.text for label in form.find_all("label")] == ["Username", "New password", "Repeat the new password"]
    cookie = set_cookie(response, "csrf")
    assert cookie is not None
    assert form.find("input", name="_csrf").attrs["value"] == cookie.value


async def test_setup_creates_an_admin_signs_them_in_and_the_link_stops_working(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    token = await setup_token(db, clock)
    data = first_admin() | {"_csrf": await form_token(http, f"/setup/{token}")}
    response = await http.post(f"/setup/{token}", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/heroes"
    users = await stored_users(db)
    assert list(users) == ["root.admin"]
    admin = users["root.admin"]
    assert (admin.role, admin.is_active) == (Role.admin.value, True)
    assert PasswordHasher().verify(admin.password_hash, PASSWORD)
    admin_id = admin.id
    row = await stored_session(db, new_session_cookie(response))
    assert row is not None
    assert row.user_id == admin_id
    assert signed_in_as(await http.get("/users")) == "root.admin"
    assert await stored_setup_tokens(db) == []  # used up, not merely shadowed by the new user
    assert (await http.get(f"/setup/{token}")).status_code == 410
    http.cookies.clear()
    again = await http.post(f"/setup/{token}", data=first_admin("intruder"), follow_redirects=False)
    assert again.status_code in {403, 410}
    assert list(await stored_users(db)) == ["root.admin"]


async def test_setup_used_link_says_so_with_a_sign_in_link_410(http: Client, db: AsyncSession, clock: Clock) -> None:
    token = await setup_token(db, clock)
    data = first_admin() | {"_csrf": await form_token(http, f"/setup/{token}")}
    await http.post(f"/setup/{token}", data=data)
    http.cookies.clear()  # a fresh browser: nothing of the first visit is left
    response = await http.get(f"/setup/{token}")
    assert response.status_code == 410
    assert response.headers["content-type"].startswith("text/html")
    page = parse(response.text)
    assert page.find("h1").text == "This set-up link was used"
    alert = page.find(role="alert")
    assert "The first admin already exists" in alert.text
    assert alert.find("a", href="/login").text == "Sign in"
    assert not page.has("form")


async def test_setup_invalid_input_rerenders_422_and_creates_nobody(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    token = await setup_token(db, clock)
    csrf = await form_token(http, f"/setup/{token}")
    short = await http.post(f"/setup/{token}", data=first_admin(password="short12") | {"_csrf": csrf})
    assert short.status_code == 422
    assert field_error(short.text, "new-password-password")
    assert "short12" not in short.text
    differ = await http.post(f"/setup/{token}", data=first_admin(confirm="other passphrase") | {"_csrf": csrf})
    assert differ.status_code == 422
    assert field_error(differ.text, "new-password-password_confirm")
    bad_name = await http.post(f"/setup/{token}", data=first_admin(username="root admin") | {"_csrf": csrf})
    assert bad_name.status_code == 422
    assert field_error(bad_name.text, "setup-username")
    assert await stored_users(db) == {}
    assert (await http.get(f"/setup/{token}")).status_code == 200


def assert_dead_link_page(response: httpx.Response) -> None:
    """The page for a set-up link that no longer works: why it may be, and the two ways to a first admin."""
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = parse(response.text)
    assert page.find("h1").text == "This set-up link has expired or is not valid"
    message = page.find(role="alert").text
    assert "works once, for 24 hours" in message
    assert "restart the server" in message
    assert "users create NAME --role admin" in message
    assert not page.has("form")


async def test_setup_expired_link_says_so_404(http: Client, db: AsyncSession, clock: Clock) -> None:
    token = await setup_token(db, clock, valid_for=timedelta(hours=24))
    clock.advance(timedelta(hours=24, seconds=1))
    assert_dead_link_page(await http.get(f"/setup/{token}"))
    response = await http.post(f"/setup/{token}", data=first_admin(), follow_redirects=False)
    assert response.status_code in {403, 404}
    assert await stored_users(db) == {}


async def test_setup_link_is_410_once_a_user_exists(http: Client, db: AsyncSession, clock: Clock) -> None:
    token = await setup_token(db, clock)
    csrf = await form_token(http, f"/setup/{token}")
    await make_user(db, username="someone", role=Role.viewer)
    assert (await http.get(f"/setup/{token}")).status_code == 410
    response = await http.post(f"/setup/{token}", data=first_admin() | {"_csrf": csrf}, follow_redirects=False)
    assert response.status_code == 410
    assert set(await stored_users(db)) == {"someone"}


async def test_setup_mistyped_link_says_so_404(http: Client, db: AsyncSession, clock: Clock) -> None:
    token = await setup_token(db, clock)
    assert_dead_link_page(await http.get(f"/setup/{token[:-1]}"))


async def test_a_new_setup_link_replaces_the_old_one(http: Client, db: AsyncSession, clock: Clock) -> None:
    old = await setup_token(db, clock)
    new = await setup_token(db, clock)
    assert_dead_link_page(await http.get(f"/setup/{old}"))
    assert (await http.get(f"/setup/{new}")).status_code == 200


async def test_two_simultaneous_submits_of_one_link_create_one_admin(
    app: Litestar, db: AsyncSession, clock: Clock
) -> None:
    token = await setup_token(db, clock)
    # On the test's own event loop (the test client would run the two requests one after the other).
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        anonymous = await form_token(client)
        client.cookies.set("csrf", anonymous)
        responses = await asyncio.gather(
            *(
                client.post(f"/setup/{token}", data={**first_admin(username=name), "_csrf": anonymous})
                for name in ("first", "second")
            )
        )
    assert sorted(response.status_code for response in responses) == [303, 410]
    assert len(await stored_users(db)) == 1


# --- the sign-in page of a fresh install ---------------------------------------------------------------------------


async def test_sign_in_page_on_an_empty_database_says_how_to_make_the_first_admin(http: Client) -> None:
    response = await http.get("/login")
    assert response.status_code == 200
    page = parse(response.text)
    hint = page.find("section", aria_labelledby="first-run")
    assert hint.find("h2").text == "No account exists yet"
    assert [code.text for code in hint.find_all("code")][:2] == [
        "python -m webapp serve",
        "python -m webapp users create NAME --role admin",
    ]
    assert page.has("form", action="/login")  # still the form, for whoever made one meanwhile


async def test_sign_in_page_drops_the_hint_once_any_account_exists(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="gone", role=Role.admin, is_active=False)
    page = parse((await http.get("/login")).text)
    assert not page.has("section", aria_labelledby="first-run")
    assert "No account exists yet" not in page.text


async def test_sign_in_page_still_answers_without_the_hint_when_the_accounts_cannot_be_read(tmp_path: Path) -> None:
    database = tmp_path / "broken.db"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{database}", allowed_hosts=(TEST_HOST,))
    engine = create_engine(settings)
    try:
        await create_tables(engine)
    finally:
        await engine.dispose()
    async with AsyncTestClient(app=create_app(settings)) as browser:
        assert parse((await browser.get("/login")).text).has("section", aria_labelledby="first-run")
        with closing(sqlite3.connect(database)) as connection, connection:
            connection.execute('ALTER TABLE "user" RENAME TO user_away')  # the accounts cannot be read
        response = await browser.get("/login")
    assert response.status_code == 200
    page = parse(response.text)
    assert not page.has("section", aria_labelledby="first-run")
    assert page.has("form", action="/login")

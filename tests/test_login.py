"""Signing in through the real form: the page, the session cookie, case, wrong and unknown users, `next`."""

from __future__ import annotations

from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import (
    clears_cookie,
    form_token,
    new_session_cookie,
    session_rows,
    set_cookie,
    signed_in_as,
    stored_session,
    submit_login,
    user_id,
)
from tests.conftest import Clock, sign_in
from tests.markup import parse
from tests.support import TEST_PASSWORD, Client, audit_entries, fetch_user, make_user
from webapp.app import create_app
from webapp.config import Settings
from webapp.models import AuditEntry, Role

BAD_CREDENTIALS = "Invalid username or password."


# --- the page ---------------------------------------------------------------------------------------------------


async def test_login_page_has_username_password_and_sign_in_button(http: Client) -> None:
    response = await http.get("/login")
    assert response.status_code == 200
    page = parse(response.text)
    form = page.find("form", action="/login")
    assert form.attrs["method"] == "post"
    labels = {label.attrs["for"]: label.text for label in form.find_all("label")}
    assert labels == {"login-username": "Username", "login-password": "Password"}
    assert form.by_id("login-username").attrs["name"] == "username"
    assert form.by_id("login-password").attrs["type"] == "password"
    assert form.find("button", type="submit").text == "Sign in"


async def test_login_page_sets_csrf_cookie_matching_the_form_field(http: Client) -> None:
    response = await http.get("/login")
    cookie = set_cookie(response, "csrf")
    assert cookie is not None
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"
    assert parse(response.text).find("input", name="_csrf").attrs["value"] == cookie.value


async def test_login_without_the_csrf_field_is_refused_403(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    await form_token(http)  # the cookie alone is not enough
    response = await http.post("/login", data={"username": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 403
    assert set_cookie(response, "session") is None
    assert await session_rows(db) == []


# --- success ----------------------------------------------------------------------------------------------------


async def test_login_success_redirects_303_to_heroes_with_a_session_cookie(http: Client, db: AsyncSession) -> None:
    alice = user_id(await make_user(db, username="alice"))
    response = await submit_login(http, "alice", TEST_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/heroes"
    cookie = set_cookie(response, "session")
    assert cookie is not None
    assert cookie.value
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    row = await stored_session(db, cookie.value)
    assert row is not None
    assert row.user_id == alice
    assert row.role == Role.editor.value


async def test_login_success_goes_to_the_next_path(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    response = await submit_login(http, "alice", TEST_PASSWORD, next_path="/teams?page=2")
    assert response.status_code == 303
    assert response.headers["location"] == "/teams?page=2"


async def test_login_page_carries_next_from_the_link_into_the_form(http: Client) -> None:
    response = await http.get("/login", params={"next": "/teams?page=2"})
    assert parse(response.text).find("input", name="next").attrs["value"] == "/teams?page=2"


async def test_login_records_the_sign_in_time(http: Client, db: AsyncSession, clock: Clock) -> None:
    alice = user_id(await make_user(db, username="alice"))
    await submit_login(http, "alice", TEST_PASSWORD)
    stored = await fetch_user(db, alice)
    await db.commit()
    assert stored is not None
    assert stored.last_login_at == clock.now


async def test_signed_in_page_shows_username_and_sign_out_button(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    await submit_login(http, "alice", TEST_PASSWORD)
    response = await http.get("/heroes")
    assert response.status_code == 200
    assert signed_in_as(response) == "alice"
    sign_out = parse(response.text).find("form", action="/logout")
    assert sign_out.attrs["method"] == "post"
    assert sign_out.find("button").text == "Sign out"


async def test_login_rotates_the_csrf_token(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    anonymous = await form_token(http)
    response = await submit_login(http, "alice", TEST_PASSWORD, token=anonymous)
    assert clears_cookie(response, "csrf")
    page = await http.get("/account/password")
    signed_in = parse(page.text).find("form", action="/account/password").find("input", name="_csrf")
    assert signed_in.attrs["value"]
    assert signed_in.attrs["value"] != anonymous


async def test_signed_out_page_offers_sign_in_not_sign_out(http: Client) -> None:
    page = parse((await http.get("/login")).text)
    assert not page.has("form", action="/logout")
    assert page.find("a", href="/login").text == "Sign in"


@pytest.mark.parametrize("typed", ["ALICE", "Alice", "  alice  "])
async def test_login_username_ignores_case_and_surrounding_spaces(http: Client, db: AsyncSession, typed: str) -> None:
    alice = user_id(await make_user(db, username="alice"))
    response = await submit_login(http, typed, TEST_PASSWORD)
    assert response.status_code == 303
    row = await stored_session(db, new_session_cookie(response))
    assert row is not None
    assert row.user_id == alice


# --- failure ----------------------------------------------------------------------------------------------------


async def test_login_wrong_password_rerenders_422_with_the_message(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    response = await submit_login(http, "alice", "not the password")
    assert response.status_code == 422
    page = parse(response.text)
    assert page.find(role="alert").text == BAD_CREDENTIALS
    assert page.find("input", name="username").attrs["value"] == "alice"
    assert page.find("input", name="password").attrs["value"] == ""
    assert "not the password" not in response.text
    assert set_cookie(response, "session") is None
    assert await session_rows(db) == []


async def test_login_unknown_user_and_wrong_password_look_the_same(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    token = await form_token(http)
    wrong = await submit_login(http, "alice", "not the password", token=token)
    unknown = await submit_login(http, "nobody", "not the password", token=token)
    assert wrong.status_code == unknown.status_code == 422
    assert parse(unknown.text).find(role="alert").text == BAD_CREDENTIALS
    # Apart from the typed username echoed back, the two pages are byte for byte the same.
    assert unknown.text.replace("nobody", "USER") == wrong.text.replace("alice", "USER")
    assert set_cookie(unknown, "session") is None


async def test_login_inactive_user_is_refused_even_with_the_right_password(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice", is_active=False)
    response = await submit_login(http, "alice", TEST_PASSWORD)
    assert response.status_code == 422
    assert parse(response.text).find(role="alert").text == BAD_CREDENTIALS
    assert set_cookie(response, "session") is None
    assert await session_rows(db) == []


async def test_login_blank_fields_rerender_422_with_field_errors(http: Client, db: AsyncSession) -> None:
    response = await submit_login(http, "", "")
    assert response.status_code == 422
    page = parse(response.text)
    for input_id in ("login-username", "login-password"):
        assert page.by_id(input_id).attrs["aria-invalid"] == "true"
    assert await session_rows(db) == []


# --- on record --------------------------------------------------------------------------------------------------


def account_events(entries: list[AuditEntry]) -> list[tuple[object, ...]]:
    return [(e.action, e.record_type, e.user_id, e.username, e.label, e.note) for e in entries]


async def test_sign_in_is_recorded_with_the_user_and_the_client(http: Client, db: AsyncSession) -> None:
    alice = user_id(await make_user(db, username="alice"))
    response = await submit_login(http, "alice", TEST_PASSWORD)
    assert response.status_code == 303
    assert account_events(await audit_entries(db)) == [
        ("sign_in", "account", alice, "alice", "alice", "from testclient")
    ]


@pytest.mark.parametrize(
    ("typed", "password", "reason"),
    [
        ("nobody", TEST_PASSWORD, "unknown user"),
        ("alice", "not the password", "wrong password"),
        ("dora", TEST_PASSWORD, "deactivated account"),
    ],
    ids=["unknown user", "wrong password", "deactivated account"],
)
async def test_failed_sign_in_is_recorded_with_the_typed_username_and_the_reason(
    http: Client, db: AsyncSession, typed: str, password: str, reason: str
) -> None:
    await make_user(db, username="alice")
    await make_user(db, username="dora", is_active=False)
    response = await submit_login(http, typed, password)
    assert response.status_code == 422
    recorded = [(e.action, e.record_type, e.username, e.note) for e in await audit_entries(db)]
    assert recorded == [("sign_in_failed", "account", typed, f"{reason}, from testclient")]


async def test_sign_out_is_recorded(http: Client, db: AsyncSession, clock: Clock) -> None:
    alice = await make_user(db, username="alice")
    alice_id = user_id(alice)
    await sign_in(http, db, alice, clock)
    response = await http.post("/logout", follow_redirects=False)
    assert response.status_code == 303
    assert account_events(await audit_entries(db)) == [("sign_out", "account", alice_id, "alice", "alice", "")]


# --- where to go after signing in -------------------------------------------------------------------------------

UNSAFE_NEXT = [
    "//evil.test",
    "/\\evil.test",
    "https:evil.test",
    "https://evil.test/",
    "javascript:alert(1)",
    "/\r\nSet-Cookie:x",
    "\\\\evil.test",
    " //evil.test",
    "/\t/evil.test",
    "evil.test",
]


@pytest.mark.parametrize("target", UNSAFE_NEXT)
async def test_login_ignores_an_unsafe_next(http: Client, db: AsyncSession, target: str) -> None:
    await make_user(db, username="alice")
    response = await submit_login(http, "alice", TEST_PASSWORD, next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/heroes"


@pytest.mark.parametrize(
    "query",
    [
        "next=//evil.test",
        "next=/%5Cevil.test",
        "next=https:evil.test",
        "next=https://evil.test/",
        "next=javascript:alert(1)",
        "next=/%0d%0aSet-Cookie:x",
        "next=%5C%5Cevil.test",
        "next=%20//evil.test",
    ],
)
async def test_login_link_with_an_unsafe_next_puts_heroes_in_the_form(http: Client, query: str) -> None:
    response = await http.get(f"/login?{query}")
    assert response.status_code == 200
    assert parse(response.text).find("input", name="next").attrs["value"] == "/heroes"


@pytest.mark.parametrize("target", ["/teams?page=2", "/heroes/3/edit", "/teams"])
async def test_login_keeps_a_safe_next(http: Client, db: AsyncSession, target: str) -> None:
    await make_user(db, username="alice")
    response = await submit_login(http, "alice", TEST_PASSWORD, next_path=target)
    assert response.headers["location"] == target


# --- over HTTPS -------------------------------------------------------------------------------------------------


async def test_secure_cookies_use_the_host_prefix_secure_and_root_path(
    settings: Settings, engine: AsyncEngine, db: AsyncSession
) -> None:
    await make_user(db, username="alice")
    app = create_app(replace(settings, secure_cookies=True))
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as browser:
        page = await browser.get("/login")
        csrf = set_cookie(page, "__Host-csrf")
        assert csrf is not None
        assert csrf["secure"] is True
        response = await submit_login(browser, "alice", TEST_PASSWORD)
        assert response.status_code == 303
        assert set_cookie(response, "session") is None
        cookie = set_cookie(response, "__Host-session")
        assert cookie is not None
        assert cookie.value
        assert cookie["secure"] is True
        assert cookie["path"] == "/"
        assert cookie["httponly"] is True
        assert cookie["samesite"].lower() == "lax"
        assert not cookie["domain"]
        assert signed_in_as(await browser.get("/heroes")) == "alice"

"""Server-side sessions: never adopt a planted id, fresh ids at sign-in and on a role change, logout deletes,
deactivation and new passwords end sessions, idle and absolute timeouts. The user_session table is checked too.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import (
    browser,
    clears_cookie,
    new_session_cookie,
    session_rows,
    set_cookie,
    signed_in_as,
    stored_session,
    submit_login,
    use_session,
    user_id,
)
from tests.conftest import Clock, sign_in
from tests.support import TEST_PASSWORD, Client, fetch_user, make_user
from webapp.accounts import digest, new_token
from webapp.models import Role, User

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def admin(db: AsyncSession) -> User:
    return await make_user(db, username="ada", role=Role.admin)


async def session_token(client: httpx.AsyncClient, db: AsyncSession, user: User, clock: Clock) -> str:
    """Sign `client` in (a session made directly) and return the cookie value it now sends."""
    await sign_in(client, db, user, clock)
    token = client.cookies.get("session")
    assert token
    return token


def is_sign_in_redirect(response: httpx.Response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login")


# --- session fixation -------------------------------------------------------------------------------------------


async def test_made_up_session_cookie_is_cleared_and_not_adopted(http: Client, db: AsyncSession) -> None:
    planted = new_token()
    use_session(http, planted)
    response = await http.get("/heroes", follow_redirects=False)
    assert is_sign_in_redirect(response)
    assert clears_cookie(response)
    assert await session_rows(db) == []


async def test_made_up_session_cookie_on_the_sign_in_page_is_cleared(http: Client) -> None:
    use_session(http, "attacker-chosen-id")
    response = await http.get("/login")
    assert response.status_code == 200
    assert signed_in_as(response) is None
    assert clears_cookie(response)


async def test_sign_in_issues_a_new_id_not_the_planted_one(http: Client, db: AsyncSession) -> None:
    alice = user_id(await make_user(db, username="alice"))
    planted = new_token()
    use_session(http, planted)
    response = await submit_login(http, "alice", TEST_PASSWORD)
    assert response.status_code == 303
    issued = new_session_cookie(response)
    assert issued != planted
    assert await stored_session(db, planted) is None
    rows = await session_rows(db)
    assert [(row.id, row.user_id) for row in rows] == [(digest(issued), alice)]
    # The planted id is worth nothing afterwards.
    use_session(http, planted)
    assert is_sign_in_redirect(await http.get("/heroes", follow_redirects=False))


async def test_sign_in_over_an_existing_session_issues_a_different_id(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    viewer = await make_user(db, username="victor", role=Role.viewer)
    await make_user(db, username="alice")
    before = await session_token(http, db, viewer, clock)
    csrf = http.headers.pop("X-CSRF-Token")
    response = await submit_login(http, "alice", TEST_PASSWORD, token=csrf)
    assert response.status_code == 303
    assert new_session_cookie(response) != before


# --- a change of role -------------------------------------------------------------------------------------------


async def test_role_change_rotates_the_session_id(http: Client, db: AsyncSession, admin: User, clock: Clock) -> None:
    eddie = await make_user(db, username="eddie", role=Role.editor)
    eddie_id = user_id(eddie)
    old = await session_token(http, db, eddie, clock)
    async with browser(http) as admin_browser:
        await sign_in(admin_browser, db, admin, clock)
        changed = await admin_browser.post(
            f"/users/{eddie_id}", data={"role": "viewer", "is_active": "on"}, follow_redirects=False
        )
        assert changed.status_code == 303
    response = await http.get("/heroes", follow_redirects=False)
    assert response.status_code == 200
    new = new_session_cookie(response)
    assert new != old
    assert await stored_session(db, old) is None
    row = await stored_session(db, new)
    assert row is not None
    assert (row.user_id, row.role) == (eddie_id, "viewer")
    use_session(http, old)
    assert is_sign_in_redirect(await http.get("/heroes", follow_redirects=False))
    use_session(http, new)
    assert signed_in_as(await http.get("/heroes")) == "eddie"


async def test_unchanged_role_keeps_the_session_id(http: Client, db: AsyncSession, clock: Clock) -> None:
    eddie = await make_user(db, username="eddie")
    token = await session_token(http, db, eddie, clock)
    response = await http.get("/heroes")
    assert set_cookie(response, "session") is None
    assert await stored_session(db, token) is not None


# --- signing out ------------------------------------------------------------------------------------------------


async def test_logout_deletes_the_session_and_replay_goes_to_sign_in(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    eddie = await make_user(db, username="eddie")
    token = await session_token(http, db, eddie, clock)
    response = await http.post("/logout", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert clears_cookie(response)
    assert await session_rows(db) == []
    use_session(http, token)
    replay = await http.get("/heroes", follow_redirects=False)
    assert is_sign_in_redirect(replay)


async def test_logout_by_get_does_not_sign_out(http: Client, db: AsyncSession, clock: Clock) -> None:
    eddie = await make_user(db, username="eddie")
    token = await session_token(http, db, eddie, clock)
    response = await http.get("/logout", follow_redirects=False)
    assert response.status_code == 405
    assert set_cookie(response, "session") is None
    assert await stored_session(db, token) is not None
    assert signed_in_as(await http.get("/heroes")) == "eddie"


async def test_logout_without_the_csrf_token_does_not_sign_out(http: Client, db: AsyncSession, clock: Clock) -> None:
    eddie = await make_user(db, username="eddie")
    token = await session_token(http, db, eddie, clock)
    del http.headers["X-CSRF-Token"]
    response = await http.post("/logout", follow_redirects=False)
    assert response.status_code == 403
    assert await stored_session(db, token) is not None


async def test_logout_ends_only_this_browsers_session(http: Client, db: AsyncSession, clock: Clock) -> None:
    eddie = await make_user(db, username="eddie")
    await session_token(http, db, eddie, clock)
    async with browser(http) as laptop:
        other = await session_token(laptop, db, eddie, clock)
        await http.post("/logout")
        assert signed_in_as(await laptop.get("/heroes")) == "eddie"
    assert [row.id for row in await session_rows(db)] == [digest(other)]


# --- an admin's changes to a user -------------------------------------------------------------------------------


async def test_deactivating_a_user_ends_their_sessions_at_once(
    http: Client, db: AsyncSession, admin: User, clock: Clock
) -> None:
    eddie = await make_user(db, username="eddie")
    eddie_id = user_id(eddie)
    token = await session_token(http, db, eddie, clock)
    async with browser(http) as admin_browser:
        await sign_in(admin_browser, db, admin, clock)
        response = await admin_browser.post(f"/users/{eddie_id}", data={"role": "editor"}, follow_redirects=False)
        assert response.status_code == 303
        assert signed_in_as(await admin_browser.get("/users")) == "ada"
    assert await session_rows(db, eddie_id) == []
    stored = await fetch_user(db, eddie_id)
    await db.commit()
    assert stored is not None
    assert stored.is_active is False
    use_session(http, token)
    assert is_sign_in_redirect(await http.get("/heroes", follow_redirects=False))


async def test_setting_a_new_password_ends_that_users_sessions(
    http: Client, db: AsyncSession, admin: User, clock: Clock
) -> None:
    eddie = await make_user(db, username="eddie")
    eddie_id = user_id(eddie)
    token = await session_token(http, db, eddie, clock)
    async with browser(http) as admin_browser:
        admin_token = await session_token(admin_browser, db, admin, clock)
        data = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
        response = await admin_browser.post(f"/users/{eddie_id}/password", data=data, follow_redirects=False)
        assert response.status_code == 303
        # The admin who set it stays signed in.
        assert signed_in_as(await admin_browser.get("/users")) == "ada"
    assert await session_rows(db, eddie_id) == []
    assert await stored_session(db, admin_token) is not None
    use_session(http, token)
    assert is_sign_in_redirect(await http.get("/heroes", follow_redirects=False))
    stored = await fetch_user(db, eddie_id)
    await db.commit()
    assert stored is not None
    assert PasswordHasher().verify(stored.password_hash, NEW_PASSWORD)


# --- changing one's own password --------------------------------------------------------------------------------


async def test_own_password_change_keeps_this_browser_under_a_new_id_and_ends_others(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    eddie = await make_user(db, username="eddie")
    eddie_id = user_id(eddie)
    old = await session_token(http, db, eddie, clock)
    async with browser(http) as laptop:
        elsewhere = await session_token(laptop, db, eddie, clock)
        data = {"current_password": TEST_PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
        response = await http.post("/account/password", data=data, follow_redirects=False)
        assert response.status_code == 303
        new = new_session_cookie(response)
        assert new not in {old, elsewhere}
        assert is_sign_in_redirect(await laptop.get("/heroes", follow_redirects=False))
    assert [row.id for row in await session_rows(db, eddie_id)] == [digest(new)]
    use_session(http, new)
    assert signed_in_as(await http.get("/heroes")) == "eddie"
    use_session(http, old)
    assert is_sign_in_redirect(await http.get("/heroes", follow_redirects=False))


async def test_own_password_change_with_a_wrong_current_password_changes_nothing(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    eddie = await make_user(db, username="eddie")
    eddie_id = user_id(eddie)
    token = await session_token(http, db, eddie, clock)
    data = {"current_password": "not my password", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    response = await http.post("/account/password", data=data)
    assert response.status_code == 422
    assert set_cookie(response, "session") is None
    assert NEW_PASSWORD not in response.text
    assert [row.id for row in await session_rows(db, eddie_id)] == [digest(token)]
    stored = await fetch_user(db, eddie_id)
    await db.commit()
    assert stored is not None
    assert PasswordHasher().verify(stored.password_hash, TEST_PASSWORD)


# --- timeouts ---------------------------------------------------------------------------------------------------


async def test_session_ends_after_31_idle_minutes(http: Client, db: AsyncSession, clock: Clock) -> None:
    eddie = await make_user(db, username="eddie")
    token = await session_token(http, db, eddie, clock)
    clock.advance(timedelta(minutes=31))
    response = await http.get("/heroes", follow_redirects=False)
    assert is_sign_in_redirect(response)
    assert clears_cookie(response)
    assert await stored_session(db, token) is None


async def test_session_survives_29_idle_minutes(http: Client, db: AsyncSession, clock: Clock) -> None:
    eddie = await make_user(db, username="eddie")
    token = await session_token(http, db, eddie, clock)
    clock.advance(timedelta(minutes=29))
    response = await http.get("/heroes")
    assert response.status_code == 200
    assert signed_in_as(response) == "eddie"
    row = await stored_session(db, token)
    assert row is not None
    assert row.last_seen_at == clock.now  # the request counted as activity


async def test_activity_extends_the_idle_timeout(http: Client, db: AsyncSession, clock: Clock) -> None:
    eddie = await make_user(db, username="eddie")
    token = await session_token(http, db, eddie, clock)
    for _ in range(3):
        clock.advance(timedelta(minutes=29))
        assert signed_in_as(await http.get("/heroes")) == "eddie"
    clock.advance(timedelta(minutes=31))
    assert is_sign_in_redirect(await http.get("/heroes", follow_redirects=False))
    assert await stored_session(db, token) is None


async def test_session_ends_after_12_hours_however_active(http: Client, db: AsyncSession, clock: Clock) -> None:
    eddie = await make_user(db, username="eddie")
    token = await session_token(http, db, eddie, clock)
    statuses = []
    for _ in range(36):  # every 20 minutes up to exactly 12 hours
        clock.advance(timedelta(minutes=20))
        statuses.append((await http.get("/heroes", follow_redirects=False)).status_code)
    assert statuses == [200] * 36
    clock.advance(timedelta(minutes=20))
    response = await http.get("/heroes", follow_redirects=False)
    assert is_sign_in_redirect(response)
    assert clears_cookie(response)
    assert await stored_session(db, token) is None


async def test_expired_session_sends_htmx_requests_to_sign_in(http: Client, db: AsyncSession, clock: Clock) -> None:
    eddie = await make_user(db, username="eddie")
    await session_token(http, db, eddie, clock)
    clock.advance(timedelta(minutes=31))
    response = await http.get("/heroes", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["hx-redirect"].startswith("/login")

"""Hostile input to the account forms: set-up, sign-in, new user, user update, set password, own password.

As for heroes and teams (test_hostile_input.py): never a 5xx, refusals are readable 4xx pages that change
nothing, accepted usernames are stored exactly (after the documented strip and case-fold) and shown escaped,
and passwords are stored (as hashes) exactly as typed and never sent back.
Password hashing is slow by design, so the password corpus is small and each hash is checked once.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from httpx import Response
from sqlalchemy import delete
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import throttle_counts
from tests.conftest import Clock, sign_in
from tests.hostile import CHOICES, PASSWORDS, USERNAMES, Hostile, escaped, is_control
from tests.hostile_checks import assert_escaped, assert_inert, assert_refused, assert_shown, attribute, snapshot
from tests.markup import parse
from tests.support import TEST_PASSWORD, Client, audit_entries, field_error, make_user
from webapp import accounts
from webapp.auth import SENT_MAX
from webapp.config import Settings
from webapp.models import PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX, Role, Team, User, UserSession
from webapp.usernames import normalize

# The documented rule: letters, digits and . @ + - _ only, at most 150 characters, stored case-folded.
USERNAME = re.compile(rf"[\w.@+-]{{1,{USERNAME_MAX}}}")
OTHER_PASSWORD = "another fine passphrase"


def user_id(user: User) -> int:
    """A stored user's id, read before anything expires the object."""
    assert user.id is not None
    return user.id


def valid_username(value: str) -> bool:
    return USERNAME.fullmatch(normalize(value)) is not None


def as_recorded(typed: str) -> str:
    """A typed username as a failed sign-in records it: normalised (NFKC, casefold) and, being anyone's input,
    kept short."""
    name = normalize(typed)
    return name if len(name) <= SENT_MAX else name[: SENT_MAX - 1] + "…"


def valid_password(value: str) -> bool:
    return PASSWORD_MIN <= len(value) <= PASSWORD_MAX


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(password_hash, password)
    except VerificationError:
        return False


def assert_not_echoed(html: str, password: str) -> None:
    """Passwords are never sent back, neither as typed nor escaped."""
    if len(password) >= PASSWORD_MIN:
        assert password not in html
        assert escaped(password) not in html


def sign_out(client: Client) -> None:
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)


def next_field(html: str) -> str:
    """Where the sign-in form goes afterwards (its hidden `next` field)."""
    return parse(html).find("input", name="next").attrs["value"]


async def anonymous_form(client: Client, path: str) -> str:
    """Open a form page signed out, as a browser would; returns the token its form carries."""
    page = await client.get(path, follow_redirects=False)
    assert page.status_code == 200
    return parse(page.text).find("input", name="_csrf").attrs["value"]


async def open_setup_link(client: Client, db: AsyncSession, clock: Clock) -> tuple[str, str]:
    """A set-up link (as the CLI prints it) opened in the browser: (token, form token)."""
    token = await accounts.issue_setup_token(db, now=clock(), valid_for=timedelta(hours=1))
    await db.commit()
    return token, await anonymous_form(client, f"/setup/{token}")


async def users(db: AsyncSession) -> list[dict[str, Any]]:
    return await snapshot(db, User)


async def post(client: Client, path: str, data: dict[str, str]) -> Response:
    return await client.post(path, data=data, follow_redirects=False)


# --- usernames ---------------------------------------------------------------------------------------------


async def check_setup_username(http: Client, db: AsyncSession, clock: Clock, value: str) -> None:
    token, csrf = await open_setup_link(http, db, clock)
    form = {"_csrf": csrf, "username": value, "password": TEST_PASSWORD, "password_confirm": TEST_PASSWORD}
    response = await post(http, f"/setup/{token}", form)
    if not valid_username(value):
        assert_refused(response, 422)
        assert field_error(response.text, "setup-username")
        assert await users(db) == []
        return
    assert response.status_code == 303
    expected = normalize(value)
    assert [(user["username"], user["role"]) for user in await users(db)] == [(expected, Role.admin.value)]
    # The new admin is signed in; the name shows (escaped) in the header and on the Users screen.
    listing = await http.get("/users", follow_redirects=False)
    assert listing.status_code == 200
    assert_shown(listing.text, expected)
    await db.exec(delete(User))  # start the rest of the test with no one (sessions go with their user)
    await db.commit()
    sign_out(http)


async def check_login_form_echo(http: Client, db: AsyncSession, value: str) -> None:
    """The sign-in form sends the typed username back, escaped, and `next` as a hidden field."""
    csrf = await anonymous_form(http, "/login")
    response = await post(http, "/login", {"_csrf": csrf, "username": value, "password": "", "next": "/" + value})
    assert_refused(response, 422)
    assert await snapshot(db, UserSession) == []
    typed = value.strip()[:USERNAME_MAX]
    if typed and not any(is_control(ch) for ch in typed):
        assert attribute(response.text, "login-username", "value") == typed
        assert_escaped(response.text, typed)
    assert next_field(response.text) in {"/" + value, "/heroes"}
    if len(value) < 1000:  # longer ones do not fit in a URL
        page = await http.get("/login", params={"next": "/" + value}, follow_redirects=False)
        assert page.status_code == 200
        assert_inert(page.text)
        assert next_field(page.text) in {"/" + value, "/heroes"}


async def check_failed_sign_in(http: Client, db: AsyncSession, value: str) -> str | None:
    """A failed sign-in with the name as typed: a 422 like any other, and on record (for the admins' Activity
    page) under the name typed, when it could be read as one. Returns that name."""
    csrf = await anonymous_form(http, "/login")
    assert_refused(await post(http, "/login", {"_csrf": csrf, "username": value, "password": "not the password"}), 422)
    failed = [entry.username for entry in await audit_entries(db) if entry.action == "sign_in_failed"]
    typed = value.strip()[:USERNAME_MAX]
    if not typed or any(is_control(ch) for ch in typed):
        assert failed == []
        return None
    assert failed == [as_recorded(typed)]
    return as_recorded(typed)


async def check_new_user_username(http: Client, db: AsyncSession, value: str) -> int | None:
    before = await users(db)
    form = {"username": value, "role": "viewer", "password": TEST_PASSWORD, "password_confirm": TEST_PASSWORD}
    response = await post(http, "/users", form)
    if not valid_username(value):
        assert_refused(response, 422)
        assert field_error(response.text, "user-username")
        assert await users(db) == before
        return None
    assert response.status_code == 303
    (created,) = [user for user in await users(db) if user not in before]
    assert (created["username"], created["role"]) == (normalize(value), "viewer")
    for path in ("/users", f"/users/{created['id']}"):
        page = await http.get(path, follow_redirects=False)
        assert page.status_code == 200
        assert_shown(page.text, created["username"])
    return int(created["id"])


@pytest.mark.parametrize("payload", [h.param() for h in USERNAMES])
async def test_usernames_store_exactly_and_show_escaped_or_refuse(
    http: Client, db: AsyncSession, clock: Clock, payload: Hostile
) -> None:
    await check_setup_username(http, db, clock, payload.value)
    await check_login_form_echo(http, db, payload.value)
    failed = await check_failed_sign_in(http, db, payload.value)
    await sign_in(http, db, await make_user(db, username="root", role=Role.admin), clock)
    if failed is not None:  # anyone can type a name there: admins see it on the Activity page, escaped
        activity = await http.get("/activity", params={"type": "account"}, follow_redirects=False)
        assert activity.status_code == 200
        assert_shown(activity.text, failed)
    created = await check_new_user_username(http, db, payload.value)
    if created is None:
        return
    # The new user signs in with the name as typed; their pages show it escaped.
    sign_out(http)
    csrf = await anonymous_form(http, "/login")
    form = {"_csrf": csrf, "username": payload.value, "password": TEST_PASSWORD, "next": "/teams"}
    response = await post(http, "/login", form)
    assert (response.status_code, response.headers["location"]) == (303, "/teams")
    assert [row["user_id"] for row in await snapshot(db, UserSession)].count(created) == 1
    assert_shown((await http.get("/teams")).text, normalize(payload.value))


# --- passwords ---------------------------------------------------------------------------------------------


async def check_password_form(
    http: Client, db: AsyncSession, path: str, form: dict[str, str], user_id: int | None, password: str
) -> None:
    """Post a form that sets a password: refused (nothing changes) or stored so that exactly `password` works."""
    before = await users(db)
    response = await post(http, path, form)
    assert_not_echoed(response.text, password)
    if not valid_password(password):
        assert_refused(response, 422)
        assert await users(db) == before
        return
    assert response.status_code == 303, (path, response.status_code)
    after = await users(db)
    (user,) = [u for u in after if u["id"] == user_id] if user_id else [u for u in after if u not in before]
    assert password_matches(user["password_hash"], password)


@pytest.mark.parametrize("payload", [h.param() for h in PASSWORDS])
async def test_passwords_are_stored_exactly_as_typed_or_refused(
    http: Client, db: AsyncSession, clock: Clock, payload: Hostile
) -> None:
    password = payload.value
    token, csrf = await open_setup_link(http, db, clock)
    setup = {"_csrf": csrf, "username": "first", "password": password, "password_confirm": password}
    await check_password_form(http, db, f"/setup/{token}", setup, None, password)
    sign_out(http)

    root = await make_user(db, username="root", role=Role.admin)
    root_id = user_id(root)
    await sign_in(http, db, root, clock)
    new_user = {"username": "newbie", "role": "viewer", "password": password, "password_confirm": password}
    await check_password_form(http, db, "/users", new_user, None, password)
    viewer_id = user_id(await make_user(db, username="vera", role=Role.viewer))
    set_password = {"password": password, "password_confirm": password}
    await check_password_form(http, db, f"/users/{viewer_id}/password", set_password, viewer_id, password)

    # One's own password: the hostile value as the current password is refused, then as the new one.
    own = {"current_password": password, "password": OTHER_PASSWORD, "password_confirm": OTHER_PASSWORD}
    before = await users(db)
    response = await post(http, "/account/password", own)
    assert_refused(response, 422)
    assert field_error(response.text, "account-current_password")
    assert_not_echoed(response.text, password)
    assert await users(db) == before
    own = {"current_password": TEST_PASSWORD, "password": password, "password_confirm": password}
    await check_password_form(http, db, "/account/password", own, root_id, password)


async def test_hostile_password_at_sign_in_is_refused_and_not_echoed(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    await make_user(db, username="root", role=Role.admin)
    for payload in PASSWORDS:
        csrf = await anonymous_form(http, "/login")
        response = await post(http, "/login", {"_csrf": csrf, "username": "root", "password": payload.value})
        assert_refused(response, 422)
        assert_not_echoed(response.text, payload.value)
    assert await snapshot(db, UserSession) == []
    # The over-long ones are refused before they count.
    assert (await throttle_counts(db))["account:root"] == 3


# --- roles, the active flag, the CSRF field ----------------------------------------------------------------


@pytest.mark.parametrize("payload", [h.param() for h in CHOICES])
async def test_roles_and_flags_refuse_anything_but_their_choices(
    http: Client, db: AsyncSession, clock: Clock, payload: Hostile
) -> None:
    root = await make_user(db, username="root", role=Role.admin)
    vera = user_id(await make_user(db, username="vera", role=Role.viewer))
    await sign_in(http, db, root, clock)
    before = await users(db)
    form = {"username": "newbie", "role": payload.value, "password": TEST_PASSWORD, "password_confirm": TEST_PASSWORD}
    response = await post(http, "/users", form)
    assert_refused(response, 422)
    assert field_error(response.text, "user-role")
    response = await post(http, f"/users/{vera}", {"role": payload.value, "is_active": "on"})
    assert_refused(response, 422)
    assert field_error(response.text, "user-role")
    assert await users(db) == before

    # A checkbox is on only when it says "on"; anything else is "off", not an error.
    response = await post(http, f"/users/{vera}", {"role": "viewer", "is_active": payload.value})
    assert response.status_code == 303
    assert [(u["username"], u["is_active"]) for u in await users(db)] == [("root", True), ("vera", False)]


HOSTILE_TOKENS = [h for h in CHOICES if h.id in {"script", "sql", "nul"}] + [Hostile("foreign-token", "A" * 43)]


@pytest.mark.parametrize("payload", [h.param() for h in HOSTILE_TOKENS])
async def test_hostile_csrf_field_is_a_403_page_and_changes_nothing(
    http: Client, db: AsyncSession, clock: Clock, payload: Hostile
) -> None:
    root = await make_user(db, username="root", role=Role.admin)
    root_id = user_id(root)
    await anonymous_form(http, "/login")
    form = {"_csrf": payload.value, "username": "root", "password": TEST_PASSWORD}
    assert_refused(await post(http, "/login", form), 403)
    await sign_in(http, db, root, clock)
    http.headers.pop("X-CSRF-Token")  # a plain form: the token travels in the field only
    assert_refused(await post(http, "/teams", {"_csrf": payload.value, "name": "X", "headquarters": "Y"}), 403)
    assert [row["user_id"] for row in await snapshot(db, UserSession)] == [root_id]  # only sign_in's
    assert await snapshot(db, Team) == []


# --- limits on the forms shown before sign-in ----------------------------------------------------------------


async def test_oversized_or_overfull_setup_and_sign_in_forms_are_refused(
    http: Client, db: AsyncSession, clock: Clock, settings: Settings
) -> None:
    token, csrf = await open_setup_link(http, db, clock)
    setup = {"_csrf": csrf, "username": "first", "password": TEST_PASSWORD, "password_confirm": TEST_PASSWORD}
    padding = {"padding": "x" * (settings.max_body_bytes + 1)}
    extra = {f"f{n}": "x" for n in range(47)}
    assert_refused(await post(http, f"/setup/{token}", setup | padding), 413)
    assert_refused(await post(http, f"/setup/{token}", setup | extra), 400)
    login = {"_csrf": csrf, "username": "first", "password": TEST_PASSWORD}
    assert_refused(await post(http, "/login", login | padding), 413)
    assert_refused(await post(http, "/login", login | extra | {"f47": "x", "f48": "x"}), 400)
    assert await users(db) == []
    assert await snapshot(db, UserSession) == []

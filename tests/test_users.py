"""The Users screen (admins only): list, create, change role, deactivate, set a password; the last admin stays."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import stored_users, user_id
from tests.conftest import Clock, sign_in
from tests.markup import parse
from tests.support import TEST_PASSWORD, Client, audit_entries, field_error, make_user, password_hash
from webapp.models import Role, User

LAST_ADMIN = "This is the last active admin: make someone else an admin first."
GOOD_PASSWORD = "a long enough one"


@pytest.fixture
async def admin(db: AsyncSession) -> User:
    return await make_user(db, username="ada", role=Role.admin)


@pytest.fixture
async def admin_client(http: Client, db: AsyncSession, admin: User, clock: Clock) -> Client:
    await sign_in(http, db, admin, clock)
    return http


def new_user(username: str = "grace", role: str = "editor", password: str = GOOD_PASSWORD) -> dict[str, str]:
    return {"username": username, "role": role, "password": password, "password_confirm": password}


def password_values(html: str) -> list[str]:
    """The value attribute of every password input (the page must never fill one in)."""
    return [node.attrs.get("value", "") for node in parse(html).find_all("input", type="password")]


# --- list -------------------------------------------------------------------------------------------------------


async def test_users_list_shows_every_user_with_role_and_status(admin_client: Client, db: AsyncSession) -> None:
    vera = user_id(await make_user(db, username="vera", role=Role.viewer, is_active=False))
    response = await admin_client.get("/users")
    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("h1").text == "Users"
    table = page.find("table", aria_label="Users")
    names = [link.text for link in table.find_all("a")]
    assert names == ["ada", "vera"]
    cells = [td.text for td in table.by_id(f"user-{vera}").find_all("td")]
    assert cells[:3] == ["vera", "viewer", "Deactivated"]
    assert page.find("a", href="/users/new").text == "New user"


@pytest.mark.parametrize("role", [Role.viewer, Role.editor])
async def test_users_screen_is_refused_to_non_admins(http: Client, db: AsyncSession, clock: Clock, role: Role) -> None:
    await sign_in(http, db, await make_user(db, username="someone", role=role), clock)
    assert (await http.get("/users")).status_code == 403
    assert (await http.get("/users/new")).status_code == 403
    assert not parse((await http.get("/heroes")).text).has("a", href="/users")


async def test_admin_nav_links_to_users(admin_client: Client) -> None:
    assert parse((await admin_client.get("/heroes")).text).find("a", href="/users").text == "Users"


async def test_editor_cannot_create_a_user_by_posting(client: Client, db: AsyncSession) -> None:
    response = await client.post("/users", data=new_user(role="admin"))
    assert response.status_code == 403
    assert set(await stored_users(db)) == {"eddie"}


# --- create -----------------------------------------------------------------------------------------------------


async def test_new_user_form_has_username_role_and_two_empty_passwords(admin_client: Client) -> None:
    response = await admin_client.get("/users/new")
    page = parse(response.text)
    form = page.find("form", action="/users")
    labels = [label.text for label in form.find_all("label")]
    assert labels == ["Username", "Role", "New password", "Repeat the new password"]
    assert [o.attrs["value"] for o in form.by_id("user-role").find_all("option")] == ["viewer", "editor", "admin"]
    assert password_values(response.text) == ["", ""]


async def test_create_user_stores_it_and_redirects_303_to_the_list(admin_client: Client, db: AsyncSession) -> None:
    response = await admin_client.post("/users", data=new_user("Grace", "viewer"), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/users"
    grace = (await stored_users(db))["grace"]
    assert (grace.role, grace.is_active, grace.last_login_at) == ("viewer", True, None)
    assert grace.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(grace.password_hash, GOOD_PASSWORD)
    listed = await admin_client.get("/users")
    assert "Created user grace." in parse(listed.text).by_id("toasts").text


@pytest.mark.parametrize("length", [8, 64, 256])
async def test_create_user_accepts_passwords_from_8_to_at_least_64(
    admin_client: Client, db: AsyncSession, length: int
) -> None:
    password = ("correct horse battery staple " * 10)[:length]
    response = await admin_client.post("/users", data=new_user(password=password), follow_redirects=False)
    assert response.status_code == 303
    assert PasswordHasher().verify((await stored_users(db))["grace"].password_hash, password)


@pytest.mark.parametrize(
    ("changes", "input_id"),
    [
        ({"password": "seven77", "password_confirm": "seven77"}, "new-password-password"),
        ({"password": "x" * 257, "password_confirm": "x" * 257}, "new-password-password"),
        ({"password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD + "!"}, "new-password-password_confirm"),
        ({"username": "grace hopper"}, "user-username"),
        ({"username": "<b>grace</b>"}, "user-username"),
        ({"username": ""}, "user-username"),
        ({"username": "g" * 151}, "user-username"),
        ({"role": "superuser"}, "user-role"),
        ({"role": ""}, "user-role"),
    ],
)
async def test_create_user_invalid_input_rerenders_422_and_stores_nothing(
    admin_client: Client, db: AsyncSession, changes: dict[str, str], input_id: str
) -> None:
    response = await admin_client.post("/users", data=new_user() | changes)
    assert response.status_code == 422
    assert field_error(response.text, input_id)
    assert set(await stored_users(db)) == {"ada"}


async def test_create_user_never_echoes_the_passwords(admin_client: Client) -> None:
    data = new_user() | {"password": "secret-one-123", "password_confirm": "secret-two-456"}
    response = await admin_client.post("/users", data=data)
    assert response.status_code == 422
    assert "secret-one-123" not in response.text
    assert "secret-two-456" not in response.text
    assert password_values(response.text) == ["", ""]
    assert parse(response.text).by_id("user-username").attrs["value"] == "grace"


@pytest.mark.parametrize("taken", ["eddie", "EDDIE", "Eddie"])
async def test_create_user_duplicate_username_is_409_whatever_the_case(
    admin_client: Client, db: AsyncSession, taken: str
) -> None:
    await make_user(db, username="eddie", role=Role.viewer)
    response = await admin_client.post("/users", data=new_user(taken, "admin"))
    assert response.status_code == 409
    assert field_error(response.text, "user-username") == "That username is taken."
    assert password_values(response.text) == ["", ""]
    users = await stored_users(db)
    assert set(users) == {"ada", "eddie"}
    assert users["eddie"].role == "viewer"


# --- change role, deactivate ------------------------------------------------------------------------------------


async def test_edit_user_page_shows_role_and_active_and_empty_password_fields(
    admin_client: Client, db: AsyncSession
) -> None:
    vera = user_id(await make_user(db, username="vera", role=Role.viewer))
    response = await admin_client.get(f"/users/{vera}")
    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("h1").text == "vera"
    assert "selected" in page.by_id("user-role").find("option", value="viewer").attrs
    assert "checked" in page.by_id("user-active").attrs
    assert password_values(response.text) == ["", ""]


async def test_edit_unknown_user_is_404(admin_client: Client) -> None:
    assert (await admin_client.get("/users/999999")).status_code == 404
    assert (await admin_client.post("/users/999999", data={"role": "viewer"})).status_code == 404


async def test_change_role_stores_it(admin_client: Client, db: AsyncSession) -> None:
    vera = user_id(await make_user(db, username="vera", role=Role.viewer))
    data = {"role": "editor", "is_active": "on"}
    response = await admin_client.post(f"/users/{vera}", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/users"
    stored = (await stored_users(db))["vera"]
    assert (stored.role, stored.is_active) == ("editor", True)


async def test_deactivate_user_stores_it_and_the_list_says_so(admin_client: Client, db: AsyncSession) -> None:
    vera = user_id(await make_user(db, username="vera", role=Role.viewer))
    response = await admin_client.post(f"/users/{vera}", data={"role": "viewer"}, follow_redirects=False)
    assert response.status_code == 303
    assert (await stored_users(db))["vera"].is_active is False
    row = parse((await admin_client.get("/users")).text).by_id(f"user-{vera}")
    assert "Deactivated" in row.text


async def test_reactivate_user(admin_client: Client, db: AsyncSession) -> None:
    vera = user_id(await make_user(db, username="vera", role=Role.viewer, is_active=False))
    await admin_client.post(f"/users/{vera}", data={"role": "viewer", "is_active": "on"})
    assert (await stored_users(db))["vera"].is_active is True


async def test_change_role_to_an_unknown_role_is_422(admin_client: Client, db: AsyncSession) -> None:
    vera = user_id(await make_user(db, username="vera", role=Role.viewer))
    response = await admin_client.post(f"/users/{vera}", data={"role": "root", "is_active": "on"})
    assert response.status_code == 422
    assert (await stored_users(db))["vera"].role == "viewer"


@pytest.mark.parametrize("data", [{"role": "editor", "is_active": "on"}, {"role": "admin"}])
async def test_last_active_admin_cannot_be_demoted_or_deactivated(
    admin_client: Client, db: AsyncSession, admin: User, data: dict[str, str]
) -> None:
    ada = user_id(admin)
    # An inactive admin does not count as another admin.
    await make_user(db, username="olda", role=Role.admin, is_active=False)
    response = await admin_client.post(f"/users/{ada}", data=data)
    assert response.status_code == 409
    assert field_error(response.text, "user-role") == LAST_ADMIN
    stored = (await stored_users(db))["ada"]
    assert (stored.role, stored.is_active) == ("admin", True)


async def test_an_admin_can_be_demoted_while_another_admin_remains(
    admin_client: Client, db: AsyncSession, admin: User
) -> None:
    ada = user_id(admin)
    await make_user(db, username="bea", role=Role.admin)
    data = {"role": "editor", "is_active": "on"}
    response = await admin_client.post(f"/users/{ada}", data=data, follow_redirects=False)
    assert response.status_code == 303
    # Ada may no longer see the Users screen, so she is sent to the heroes instead of a 403.
    assert response.headers["location"] == "/heroes"
    users = await stored_users(db)
    assert (users["ada"].role, users["bea"].role) == ("editor", "admin")


async def test_saving_another_user_returns_to_the_users_list(admin_client: Client, db: AsyncSession) -> None:
    vera = user_id(await make_user(db, username="vera", role=Role.viewer))
    response = await admin_client.post(
        f"/users/{vera}", data={"role": "editor", "is_active": "on"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/users"


# --- set a password ---------------------------------------------------------------------------------------------


async def test_set_password_stores_the_new_hash(admin_client: Client, db: AsyncSession) -> None:
    vera = user_id(await make_user(db, username="vera", role=Role.viewer))
    data = {"password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD}
    response = await admin_client.post(f"/users/{vera}/password", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert PasswordHasher().verify((await stored_users(db))["vera"].password_hash, GOOD_PASSWORD)


@pytest.mark.parametrize(
    ("data", "input_id"),
    [
        ({"password": "short12", "password_confirm": "short12"}, "new-password-password"),
        ({"password": GOOD_PASSWORD, "password_confirm": "something else"}, "new-password-password_confirm"),
    ],
)
async def test_set_password_invalid_is_422_unchanged_and_not_echoed(
    admin_client: Client, db: AsyncSession, data: dict[str, str], input_id: str
) -> None:
    vera = user_id(await make_user(db, username="vera", role=Role.viewer))
    response = await admin_client.post(f"/users/{vera}/password", data=data)
    assert response.status_code == 422
    assert field_error(response.text, input_id)
    assert data["password"] not in response.text
    assert data["password_confirm"] not in response.text
    assert password_values(response.text) == ["", ""]
    assert (await stored_users(db))["vera"].password_hash == password_hash(TEST_PASSWORD)


async def test_admins_changes_to_accounts_are_recorded_and_shown_to_admins(
    admin_client: Client, db: AsyncSession
) -> None:
    """Who created an account, changed its role or active state, or gave it a new password: in the audit log
    (field by field for a change), and on the admins' Activity page."""
    created = await admin_client.post("/users", data=new_user(username="grace", role="viewer"), follow_redirects=False)
    assert created.status_code == 303
    grace = user_id((await stored_users(db))["grace"])
    changed = await admin_client.post(f"/users/{grace}", data={"role": "editor"}, follow_redirects=False)
    assert changed.status_code == 303
    password = {"password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD}
    assert (
        await admin_client.post(f"/users/{grace}/password", data=password, follow_redirects=False)
    ).status_code == 303

    entries = [entry for entry in await audit_entries(db) if entry.record_id == grace]
    assert [(e.action, e.username, e.label, e.changes) for e in entries] == [
        ("user_created", "ada", "grace", {"role": [None, "viewer"]}),
        ("user_changed", "ada", "grace", {"role": ["viewer", "editor"], "is_active": [True, False]}),
        ("password_set", "ada", "grace", None),
    ]
    shown = parse((await admin_client.get("/activity", params={"type": "account"})).text).by_id("activity").text
    assert "ada set a new password for grace" in " ".join(shown.split())


async def test_changing_ones_own_password_is_recorded(admin_client: Client, db: AsyncSession, admin: User) -> None:
    admin_id = user_id(admin)
    data = {"current_password": TEST_PASSWORD, "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD}
    assert (await admin_client.post("/account/password", data=data, follow_redirects=False)).status_code == 303
    entries = [(e.action, e.user_id, e.record_id) for e in await audit_entries(db)]
    assert entries == [("password_changed", admin_id, admin_id)]

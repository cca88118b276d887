"""Forged POSTs: fields naming another record or user change only what the path names, refused roles change
nothing, and a refusal is recorded once for a signed-in user and never for a signed-out one."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.callers import (
    Caller,
    id_of_user,
    outcome,
    send,
    signed_in,
    stored_hero,
    stored_user,
)
from tests.conftest import Clock
from tests.route_table import (
    NEW_PASSWORD,
)
from tests.support import (
    TEST_PASSWORD,
    Client,
    all_heroes,
    audit_entries,
    database_state,
    fetch_hero,
    fetch_team,
    id_of,
    make_hero,
    make_team,
    make_user,
)
from webapp import accounts
from webapp.models import Role

# --- forged POSTs ---------------------------------------------------------------------------------------------


async def test_viewer_posting_a_hero_edit_is_refused_and_the_hero_unchanged(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=48))
    viewer = await signed_in(db, clock, await make_user(db, username="vic", role=Role.viewer))
    changes = {"name": "Spider-Boy", "secret_name": "Pedro", "age": "17", "team_id": "", "version": "1"}
    response = await send(http, viewer, "POST", f"/heroes/{hero_id}", changes, {})
    assert outcome(response) == "403 page Forbidden"
    hero = await stored_hero(db, hero_id)
    assert (hero.name, hero.secret_name, hero.age) == ("Deadpond", "Dive Wilson", 48)


async def test_editor_creating_an_admin_user_is_refused(http: Client, db: AsyncSession, clock: Clock) -> None:
    editor = await signed_in(db, clock, await make_user(db, username="eddie", role=Role.editor))
    form = {"username": "mallory", "role": "admin", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    before = await database_state(db)
    response = await send(http, editor, "POST", "/users", form, {})
    assert outcome(response) == "403 page Forbidden"
    assert await database_state(db) == before


@pytest.mark.parametrize("whom", ["another user", "themselves"])
async def test_editor_changing_a_role_is_refused(whom: str, http: Client, db: AsyncSession, clock: Clock) -> None:
    editor_user = await make_user(db, username="eddie", role=Role.editor)
    editor = await signed_in(db, clock, editor_user)
    target = editor_user if whom == "themselves" else await make_user(db, username="vic", role=Role.viewer)
    target_id, role_before = id_of_user(target), target.role
    response = await send(http, editor, "POST", f"/users/{target_id}", {"role": "admin", "is_active": "on"}, {})
    assert outcome(response) == "403 page Forbidden"
    stored = await stored_user(db, target_id)
    assert (stored.role, stored.is_active) == (role_before, True)


@pytest.mark.parametrize("field", ["id", "hero_id"])
async def test_forged_id_field_in_a_hero_edit_changes_only_the_hero_in_the_path(
    field: str, http: Client, db: AsyncSession, clock: Clock
) -> None:
    target_id = id_of(await make_hero(db, name="Deadpond"))
    other_id = id_of(await make_hero(db, name="Rusty-Man", secret_name="Tommy Sharp", age=48))
    editor = await signed_in(db, clock, await make_user(db, username="eddie", role=Role.editor))
    form = {"name": "Renamed", "secret_name": "Renamed", "age": "1", "team_id": "", "version": "1"}
    response = await send(http, editor, "POST", f"/heroes/{target_id}", form | {field: str(other_id)}, {})
    assert (response.status_code, response.headers["location"]) == (303, f"/heroes/{target_id}")
    assert (await stored_hero(db, target_id)).name == "Renamed"
    other = await stored_hero(db, other_id)
    assert (other.id, other.name, other.secret_name, other.age) == (other_id, "Rusty-Man", "Tommy Sharp", 48)


async def test_forged_id_field_in_a_new_hero_does_not_overwrite_an_existing_one(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    existing_id = id_of(await make_hero(db, name="Deadpond"))
    editor = await signed_in(db, clock, await make_user(db, username="eddie", role=Role.editor))
    form = {"name": "Newcomer", "secret_name": "New", "age": "", "team_id": "", "id": str(existing_id)}
    response = await send(http, editor, "POST", "/heroes", form, {})
    assert response.status_code == 303
    assert [(hero.id == existing_id, hero.name) for hero in await all_heroes(db)] == [
        (True, "Deadpond"),
        (False, "Newcomer"),
    ]


@pytest.mark.parametrize(("resource", "field"), [("heroes", "id"), ("heroes", "hero_id"), ("teams", "team_id")])
async def test_forged_id_field_in_a_delete_moves_only_the_row_in_the_path_to_the_trash(
    resource: str, field: str, http: Client, db: AsyncSession, clock: Clock
) -> None:
    if resource == "heroes":
        target_id, other_id = id_of(await make_hero(db, name="Deadpond")), id_of(await make_hero(db, name="Rusty"))
    else:
        target_id, other_id = id_of(await make_team(db, name="Z-Force")), id_of(await make_team(db, name="Avengers"))
    editor = await signed_in(db, clock, await make_user(db, username="eddie", role=Role.editor))
    form = {"version": "1", field: str(other_id)}
    response = await send(http, editor, "POST", f"/{resource}/{target_id}/delete", form, {})
    assert response.status_code == 303
    fetch = fetch_hero if resource == "heroes" else fetch_team
    # Each re-read expires what the session loaded before, so read one row's fields before the next.
    target = await fetch(db, target_id)
    assert target is not None
    assert target.deleted_at is not None
    other = await fetch(db, other_id)
    assert other is not None
    assert (other.deleted_at, other.version) == (None, 1)


async def test_forged_fields_in_a_role_change_touch_only_the_user_in_the_path(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    admin = await signed_in(db, clock, await make_user(db, username="ada", role=Role.admin))
    target_id = id_of_user(await make_user(db, username="vic", role=Role.viewer))
    other_id = id_of_user(await make_user(db, username="olga", role=Role.viewer))
    form = {"role": "editor", "is_active": "on", "id": str(other_id), "user_id": str(other_id), "username": "root"}
    response = await send(http, admin, "POST", f"/users/{target_id}", form, {})
    assert response.status_code == 303
    # Each re-read expires what the session loaded before, so read one user's fields before the next.
    target = await stored_user(db, target_id)
    assert (target.username, target.role) == ("vic", "editor")
    other = await stored_user(db, other_id)
    assert (other.username, other.role) == ("olga", "viewer")


async def test_forged_fields_in_an_own_password_change_touch_only_the_caller(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    """A viewer changing their password cannot aim it at the admin, nor promote themselves on the way."""
    admin_user = await make_user(db, username="ada", role=Role.admin)
    viewer_user = await make_user(db, username="vic", role=Role.viewer)
    admin_id, viewer_id = id_of_user(admin_user), id_of_user(viewer_user)
    admin_hash, viewer_hash = admin_user.password_hash, viewer_user.password_hash
    viewer = await signed_in(db, clock, viewer_user)
    forged = {"user_id": str(admin_id), "id": str(admin_id), "username": "ada"}
    form = {"current_password": TEST_PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    form |= forged | {"role": "admin", "is_active": "on"}
    response = await send(http, viewer, "POST", "/account/password", form, {})
    assert response.status_code == 303
    admin_after = await stored_user(db, admin_id)
    assert (admin_after.password_hash, admin_after.role) == (admin_hash, "admin")
    viewer_after = await stored_user(db, viewer_id)
    assert (viewer_after.username, viewer_after.role) == ("vic", "viewer")
    assert viewer_after.password_hash != viewer_hash


# --- refusals on record ---------------------------------------------------------------------------------------

EDIT = {"name": "Renamed", "secret_name": "Renamed", "age": "", "team_id": "", "version": "1"}
FORBIDDEN, EXPIRED = "403 page Forbidden", "403 page This page has expired"
REFUSED = {  # (username, role, token, path, outcome)
    "viewer below the route's role": ("vic", Role.viewer, "right", "/heroes/{hero}", FORBIDDEN),
    "editor without this site's token": ("eddie", Role.editor, "wrong", "/heroes/{hero}", EXPIRED),
    "signed out": (None, None, "right", "/heroes/{hero}", "sign-in /login?next=%2F"),
    "signed out, sign-in without this site's token": (None, None, "wrong", "/login", EXPIRED),
}


@pytest.mark.parametrize("case", REFUSED)
async def test_refusal_of_a_signed_in_user_is_recorded_once_and_of_a_signed_out_one_never(
    case: str, http: Client, db: AsyncSession, clock: Clock
) -> None:
    """Admins see who was refused where (role and CSRF refusals alike); signed-out refusals, which anyone can
    make in any number, leave nothing."""
    username, role, token, template, expected_outcome = REFUSED[case]
    path = template.format(hero=id_of(await make_hero(db, name="Deadpond")))
    user_id = None
    if username is None or role is None:
        caller = Caller("anonymous", None, {"csrf": "anonymous-token"}, "anonymous-token")
    else:
        user = await make_user(db, username=username, role=role)
        user_id = id_of_user(user)
        caller = await signed_in(db, clock, user)
    if token == "wrong":
        caller = replace(caller, csrf=accounts.new_token())
    form = {"username": "vic", "password": TEST_PASSWORD} if path == "/login" else EDIT
    before = await database_state(db)
    response = await send(http, caller, "POST", path, form, {})
    assert outcome(response) == expected_outcome
    recorded = [
        (entry.action, entry.record_type, entry.user_id, entry.username, entry.note.startswith(f"POST {path}: "))
        for entry in await audit_entries(db)
    ]
    assert recorded == ([] if user_id is None else [("refused", "account", user_id, username, True)])
    assert await database_state(db) == before

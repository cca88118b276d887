"""Who may do what: every route the app registers × anonymous/viewer/editor/admin, forged POSTs refused, and
refusals of signed-in users on record.

The matrix is built from the app's own route table. EXPECTED states the least role each (method, path) needs;
a route the app gains without an entry here fails test_every_route_is_in_the_table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

import pytest
from httpx import Response
from litestar import Litestar
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import form_token
from tests.conftest import HTMX, Clock
from tests.markup import parse
from tests.route_table import (
    NEW_PASSWORD,
    Endpoint,
    Sample,
    arrange_sample,
    effective_form,
    endpoint_id,
    endpoints,
    fill,
)
from tests.support import (
    TEST_PASSWORD,
    Client,
    all_heroes,
    audit_entries,
    database_state,
    fetch_hero,
    fetch_team,
    fetch_user,
    id_of,
    make_hero,
    make_team,
    make_user,
)
from webapp import accounts
from webapp.middleware import SAFE_METHODS
from webapp.models import Hero, Role, User

PUBLIC, VIEWER, EDITOR, ADMIN = "public", "viewer", "editor", "admin"
# The steps of signing in after the password (entering a code, setting a second factor up): anyone signed in may
# use them too (and is sent on), so in this matrix they answer like a viewer's route.
CODE_STEP, SETUP_STEP = "code_step", "setup_step"
AS_ROLE = {CODE_STEP: VIEWER, SETUP_STEP: VIEWER}


def _resource(prefix: str, id_name: str) -> dict[Endpoint, str]:
    item = f"{prefix}/{{{id_name}:int}}"
    return {
        ("GET", prefix): VIEWER,
        ("POST", prefix): EDITOR,
        ("OPTIONS", prefix): VIEWER,
        ("GET", f"{prefix}/new"): EDITOR,
        ("OPTIONS", f"{prefix}/new"): VIEWER,
        ("GET", item): VIEWER,
        ("POST", item): EDITOR,
        ("OPTIONS", item): VIEWER,
        ("GET", f"{item}/row"): VIEWER,
        ("OPTIONS", f"{item}/row"): VIEWER,
        ("GET", f"{item}/edit"): EDITOR,
        ("OPTIONS", f"{item}/edit"): VIEWER,
        ("GET", f"{item}/delete"): EDITOR,
        ("POST", f"{item}/delete"): EDITOR,
        ("OPTIONS", f"{item}/delete"): VIEWER,
        ("GET", f"{item}/history"): VIEWER,
        ("OPTIONS", f"{item}/history"): VIEWER,
        ("POST", f"{item}/history/{{entry_id:int}}/revert"): EDITOR,
        ("OPTIONS", f"{item}/history/{{entry_id:int}}/revert"): VIEWER,
        ("POST", f"{item}/restore"): EDITOR,
        ("OPTIONS", f"{item}/restore"): VIEWER,
        ("GET", f"{item}/purge"): ADMIN,
        ("POST", f"{item}/purge"): ADMIN,
        ("OPTIONS", f"{item}/purge"): VIEWER,
    }


# The least role each route needs. Litestar answers OPTIONS on every path; those count as routes too.
EXPECTED: dict[Endpoint, str] = {
    ("GET", "/"): VIEWER,
    ("OPTIONS", "/"): VIEWER,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("OPTIONS", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("OPTIONS", "/readyz"): PUBLIC,
    ("OPTIONS", "/favicon.ico"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("OPTIONS", "/login"): PUBLIC,
    ("POST", "/logout"): VIEWER,
    ("OPTIONS", "/logout"): VIEWER,
    ("GET", "/setup/{token:str}"): PUBLIC,
    ("POST", "/setup/{token:str}"): PUBLIC,
    ("OPTIONS", "/setup/{token:str}"): PUBLIC,
    ("GET", "/account/password"): VIEWER,
    ("POST", "/account/password"): VIEWER,
    ("OPTIONS", "/account/password"): VIEWER,
    ("POST", "/account/theme"): VIEWER,
    ("OPTIONS", "/account/theme"): VIEWER,
    ("GET", "/login/code"): CODE_STEP,
    ("POST", "/login/code"): CODE_STEP,
    ("OPTIONS", "/login/code"): CODE_STEP,
    ("GET", "/account/two-factor"): VIEWER,
    ("OPTIONS", "/account/two-factor"): VIEWER,
    ("GET", "/account/two-factor/setup"): SETUP_STEP,
    ("POST", "/account/two-factor/setup"): SETUP_STEP,
    ("OPTIONS", "/account/two-factor/setup"): SETUP_STEP,
    ("POST", "/account/two-factor/recovery-codes"): VIEWER,
    ("OPTIONS", "/account/two-factor/recovery-codes"): VIEWER,
    ("POST", "/account/two-factor/disable"): VIEWER,
    ("OPTIONS", "/account/two-factor/disable"): VIEWER,
    **_resource("/heroes", "record_id"),
    **_resource("/teams", "record_id"),
    ("GET", "/heroes/bulk"): EDITOR,
    ("OPTIONS", "/heroes/bulk"): EDITOR,
    ("POST", "/heroes/bulk/apply"): EDITOR,
    ("OPTIONS", "/heroes/bulk/apply"): EDITOR,
    ("GET", "/teams/bulk"): EDITOR,
    ("OPTIONS", "/teams/bulk"): EDITOR,
    ("POST", "/teams/bulk/apply"): EDITOR,
    ("OPTIONS", "/teams/bulk/apply"): EDITOR,
    ("GET", "/teams/options"): VIEWER,
    ("OPTIONS", "/teams/options"): VIEWER,
    ("GET", "/heroes/export.csv"): EDITOR,
    ("OPTIONS", "/heroes/export.csv"): EDITOR,
    ("GET", "/teams/export.csv"): EDITOR,
    ("OPTIONS", "/teams/export.csv"): EDITOR,
    ("GET", "/heroes/import"): EDITOR,
    ("POST", "/heroes/import"): EDITOR,
    ("OPTIONS", "/heroes/import"): EDITOR,
    ("POST", "/heroes/import/apply"): EDITOR,
    ("OPTIONS", "/heroes/import/apply"): EDITOR,
    ("GET", "/activity"): VIEWER,
    ("OPTIONS", "/activity"): VIEWER,
    ("GET", "/activity/export.csv"): VIEWER,
    ("OPTIONS", "/activity/export.csv"): VIEWER,
    ("GET", "/trash"): VIEWER,
    ("OPTIONS", "/trash"): VIEWER,
    ("GET", "/trash/empty"): ADMIN,
    ("POST", "/trash/empty"): ADMIN,
    ("OPTIONS", "/trash/empty"): VIEWER,
    ("GET", "/users"): ADMIN,
    ("POST", "/users"): ADMIN,
    ("OPTIONS", "/users"): ADMIN,
    ("GET", "/users/new"): ADMIN,
    ("OPTIONS", "/users/new"): ADMIN,
    ("GET", "/users/{user_id:int}"): ADMIN,
    ("POST", "/users/{user_id:int}"): ADMIN,
    ("OPTIONS", "/users/{user_id:int}"): ADMIN,
    ("POST", "/users/{user_id:int}/password"): ADMIN,
    ("OPTIONS", "/users/{user_id:int}/password"): ADMIN,
    ("POST", "/users/second-factor-policy"): ADMIN,
    ("OPTIONS", "/users/second-factor-policy"): ADMIN,
    ("POST", "/users/{user_id:int}/second-factor/reset"): ADMIN,
    ("OPTIONS", "/users/{user_id:int}/second-factor/reset"): ADMIN,
    ("GET", "/static/{file_path:path}"): PUBLIC,
    ("HEAD", "/static/{file_path:path}"): PUBLIC,
    ("OPTIONS", "/static/{file_path:path}"): PUBLIC,
}

HTMX_FROM_HEROES = HTMX | {"HX-Current-URL": "http://testserver.local/heroes"}


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role | None
    cookies: dict[str, str]
    csrf: str
    """The caller's own valid token: the session's, or (signed out) the one in the csrf cookie."""

    def may(self, least: str) -> bool:
        least = AS_ROLE.get(least, least)
        return least == PUBLIC or (self.role is not None and self.role.allows(Role(least)))


@dataclass(frozen=True)
class World:
    sample: Sample
    callers: list[Caller]


async def signed_in(db: AsyncSession, clock: Clock, user: User) -> Caller:
    token, row = await accounts.start_session(db, user=user, now=clock())
    await db.commit()
    return Caller(user.username, Role(user.role), {"session": token}, row.csrf_token)


async def arrange(db: AsyncSession, clock: Clock, template: str, anonymous_token: str) -> World:
    """The rows the path names (see arrange_sample), a user to point /users/N at, and a signed-in session for
    each role; signed out, a browser holding a token this server issued."""
    target = await make_user(db, username="tess", role=Role.viewer)
    sample = await arrange_sample(
        db, template, user_id=id_of_user(target), setup_token="not-a-real-setup-token", username=target.username
    )
    callers = [Caller("anonymous", None, {"csrf": anonymous_token}, anonymous_token)]
    for role in Role:  # lowest first: refusals are checked before anyone allowed changes anything
        callers.append(await signed_in(db, clock, await make_user(db, username=role.value, role=role)))
    return World(sample, callers)


async def send(
    http: Client, caller: Caller, method: str, url: str, form: dict[str, str], headers: dict[str, str]
) -> Response:
    """One request as `caller`, from a browser holding only that caller's cookies, with its own CSRF token."""
    http.cookies.clear()
    for name, value in caller.cookies.items():
        http.cookies.set(name, value)
    if method in SAFE_METHODS:
        return await http.request(method, url, headers=headers, follow_redirects=False)
    data = form | {"_csrf": caller.csrf}
    return await http.request(method, url, data=data, headers=headers, follow_redirects=False)


def outcome(response: Response) -> str:
    """What the response amounts to, in words the expectations use."""
    status, headers = response.status_code, response.headers
    if status == 303 and headers.get("location", "").startswith("/login?"):
        return f"sign-in {headers['location']}"
    if status == 401 and "hx-redirect" in headers:
        return f"sign-in {headers['hx-redirect']}"
    if status in (401, 403):
        if not headers.get("content-type", "").startswith("text/html"):
            return f"{status} {headers.get('content-type')}"
        document = parse(response.text)
        if document.has("h1"):
            return f"{status} page {document.find('h1').text}"
        alerts = document.find_all(role="alert")
        return f"{status} fragment {alerts[0].find('strong').text.rstrip('.')}" if alerts else f"{status} ?"
    return "allowed" if status < 500 else f"server error {status}"


def signed_out_outcome(method: str, url: str, htmx: bool) -> str:
    if htmx:
        # htmx gets a 401 whose HX-Redirect brings the page it was on back after sign-in.
        return "sign-in /login?next=%2Fheroes"
    # A refused POST cannot be replayed; sign-in leads back to the referring page, here none.
    return f"sign-in /login?{urlencode({'next': url if method in SAFE_METHODS else '/'})}"


# --- the matrix -----------------------------------------------------------------------------------------------


async def test_every_route_is_in_the_table(app: Litestar) -> None:
    routes = set(endpoints(app))
    assert sorted(routes - EXPECTED.keys()) == [], "routes without an expected role: add them to EXPECTED"
    assert sorted(EXPECTED.keys() - routes) == [], "EXPECTED lists routes the app no longer has"


async def test_every_route_declares_the_access_the_table_expects(app: Litestar) -> None:
    declared = endpoints(app)
    assert {e: declared[e] for e in EXPECTED if e in declared} == {e: EXPECTED[e] for e in EXPECTED if e in declared}


@pytest.mark.parametrize("endpoint", sorted(EXPECTED), ids=endpoint_id)
async def test_route_answers_each_role_as_its_access_requires(
    endpoint: Endpoint, http: Client, db: AsyncSession, clock: Clock
) -> None:
    """Signed out: sign-in first (htmx: 401 + HX-Redirect). Below the route's role: the 403 page (htmx: the
    403 fragment), nothing changed. Allowed: neither 401 nor 403 (nor a server error)."""
    method, template = endpoint
    least = EXPECTED[endpoint]
    world = await arrange(db, clock, template, await form_token(http))
    url = fill(template, world.sample)
    # Refused requests carry a form the route would act on, so an unchanged database means something.
    form = {} if method in SAFE_METHODS else effective_form(endpoint, world.sample)
    before = {} if method in SAFE_METHODS else await database_state(db)
    seen: dict[str, str] = {}
    expected: dict[str, str] = {}
    refused = [caller for caller in world.callers if not caller.may(least)]
    for caller in refused:
        for htmx in (False, True):
            key = f"{caller.name}{' (htmx)' if htmx else ''}"
            response = await send(http, caller, method, url, form, HTMX_FROM_HEROES if htmx else {})
            changed = method not in SAFE_METHODS and await database_state(db) != before
            seen[key] = outcome(response) + (" + database changed" if changed else "")
            if caller.role is None:
                expected[key] = signed_out_outcome(method, url, htmx)
            else:
                expected[key] = "403 fragment Forbidden" if htmx else "403 page Forbidden"
    # Allowed callers come after every refusal (they may change things) and send an empty form: hashing a
    # password per role would make the matrix slow, and only the absence of 401/403 is in question here.
    for caller in world.callers:
        if caller not in refused:
            seen[caller.name] = outcome(await send(http, caller, method, url, {}, {}))
            # The tests' schema is made from the models without a migration record, so /readyz answers "not
            # ready" to everyone alike: what is in question here is only that nobody gets a 401 or 403.
            expected[caller.name] = "server error 503" if (method, template) == ("GET", "/readyz") else "allowed"
    assert seen == expected


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


def id_of_user(user: User) -> int:
    assert user.id is not None
    return user.id


async def stored_user(db: AsyncSession, user_id: int) -> User:
    user = await fetch_user(db, user_id)
    assert user is not None
    return user


async def stored_hero(db: AsyncSession, hero_id: int) -> Hero:
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    return hero

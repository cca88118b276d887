"""Who may do what: every route the app registers × anonymous/viewer/editor/admin (forged POSTs and the record
of refusals are in test_forged_requests.py).

The matrix is built from the app's own route table. EXPECTED states the least role each (method, path) needs;
a route the app gains without an entry here fails test_every_route_is_in_the_table.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from litestar import Litestar
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import form_token
from tests.callers import (
    ADMIN,
    CODE_STEP,
    EDITOR,
    PUBLIC,
    SETUP_STEP,
    VIEWER,
    Caller,
    id_of_user,
    outcome,
    send,
    signed_in,
)
from tests.conftest import HTMX, Clock
from tests.route_table import (
    Endpoint,
    Sample,
    arrange_sample,
    effective_form,
    endpoint_id,
    endpoints,
    fill,
)
from tests.support import (
    Client,
    database_state,
    make_user,
)
from webapp.middleware import SAFE_METHODS
from webapp.models import Role


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
class World:
    sample: Sample
    callers: list[Caller]


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

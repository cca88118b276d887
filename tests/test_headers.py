"""Security headers on every page and fragment a signed-in admin can GET (from the app's own route table) and on
the refusals: 400, 401, 403, 404 for an unknown id, 409, 422 and 429. test_errors.py covers the 404 of an unknown
path, 405, 413 and a static file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from httpx import Response
from litestar.routes import HTTPRoute
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX, Clock, sign_in
from tests.markup import parse
from tests.route_table import arrange_sample, fill
from tests.support import TEST_PASSWORD, Client, make_team, make_user
from webapp import accounts
from webapp.app import create_app
from webapp.config import Settings
from webapp.models import Role, Throttle


def get_routes() -> list[str]:
    """Every path template the app answers GET on (building the app touches no database)."""
    app = create_app(Settings())
    return sorted(route.path for route in app.routes if isinstance(route, HTTPRoute) and "GET" in route.methods)


def assert_security_headers(response: Response) -> None:
    policy = response.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def assert_no_store(response: Response) -> None:
    directives = [value.strip() for header in response.headers.get_list("cache-control") for value in header.split(",")]
    assert "no-store" in directives


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize("template", get_routes())
async def test_every_get_route_carries_the_security_headers(
    http: Client, db: AsyncSession, clock: Clock, template: str, htmx: bool
) -> None:
    root = await make_user(db, username="root", role=Role.admin)
    assert root.id is not None
    setup_token = await accounts.issue_setup_token(db, now=clock(), valid_for=timedelta(hours=1))
    await db.commit()
    sample = await arrange_sample(db, template, user_id=root.id, setup_token=setup_token, username="root")
    await sign_in(http, db, root, clock)
    path = fill(template, sample)  # fails on a new kind of path parameter
    response = await http.get(path, headers=HTMX if htmx else {}, follow_redirects=False)
    if template.startswith("/setup/"):
        assert response.status_code == 404  # the set-up link is for an empty database only
    elif template == "/readyz":
        assert response.status_code == 503  # the tests' schema is made from the models, without migration records
    else:
        assert response.status_code in {200, 303}, (path, response.status_code)
    assert_security_headers(response)
    if not template.startswith("/static/"):
        assert_no_store(response)


# --- refusals ----------------------------------------------------------------------------------------------


async def unauthenticated_htmx(http: Client, db: AsyncSession, clock: Clock) -> Response:
    return await http.get("/heroes", headers=HTMX, follow_redirects=False)


async def signed_out_page(http: Client, db: AsyncSession, clock: Clock) -> Response:
    return await http.get("/heroes", follow_redirects=False)


async def viewer_editing(http: Client, db: AsyncSession, clock: Clock) -> Response:
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    return await http.get("/heroes/new", follow_redirects=False)


async def forged_request(http: Client, db: AsyncSession, clock: Clock) -> Response:
    await sign_in(http, db, await make_user(db, username="eddie", role=Role.editor), clock)
    return await http.post("/teams", data={"name": "X", "headquarters": "Y"}, headers={"X-CSRF-Token": "forged"})


async def overfull_form(http: Client, db: AsyncSession, clock: Clock) -> Response:
    await sign_in(http, db, await make_user(db, username="eddie", role=Role.editor), clock)
    return await http.post("/teams", data={f"f{n}": "x" for n in range(51)}, follow_redirects=False)


async def unknown_id(http: Client, db: AsyncSession, clock: Clock) -> Response:
    await sign_in(http, db, await make_user(db, username="eddie", role=Role.editor), clock)
    return await http.get("/heroes/999999", follow_redirects=False)


async def duplicate_team(http: Client, db: AsyncSession, clock: Clock) -> Response:
    await make_team(db, name="Preventers")
    await sign_in(http, db, await make_user(db, username="eddie", role=Role.editor), clock)
    return await http.post("/teams", data={"name": "Preventers", "headquarters": "Y"}, follow_redirects=False)


async def login_form_token(http: Client) -> str:
    page = await http.get("/login")
    return parse(page.text).find("input", name="_csrf").attrs["value"]


async def failed_sign_in(http: Client, db: AsyncSession, clock: Clock) -> Response:
    await make_user(db, username="root", role=Role.admin)
    form = {"_csrf": await login_form_token(http), "username": "root", "password": "not the password"}
    return await http.post("/login", data=form, follow_redirects=False)


async def throttled_sign_in(http: Client, db: AsyncSession, clock: Clock) -> Response:
    await make_user(db, username="root", role=Role.admin)
    db.add(Throttle(key="account:root", window_start=clock(), count=5))
    await db.commit()
    form = {"_csrf": await login_form_token(http), "username": "root", "password": TEST_PASSWORD}
    return await http.post("/login", data=form, follow_redirects=False)


REFUSALS: dict[str, tuple[int, Callable[[Client, AsyncSession, Clock], Awaitable[Response]]]] = {
    "401-htmx-signed-out": (401, unauthenticated_htmx),
    "303-signed-out-page": (303, signed_out_page),
    "403-role": (403, viewer_editing),
    "403-csrf": (403, forged_request),
    "400-too-many-fields": (400, overfull_form),
    "404-unknown-id": (404, unknown_id),
    "409-duplicate": (409, duplicate_team),
    "422-sign-in": (422, failed_sign_in),
    "429-throttled": (429, throttled_sign_in),
}


@pytest.mark.parametrize("kind", list(REFUSALS))
async def test_every_refusal_carries_the_security_headers_and_no_store(
    http: Client, db: AsyncSession, clock: Clock, kind: str
) -> None:
    status, make_request = REFUSALS[kind]
    response = await make_request(http, db, clock)
    assert response.status_code == status
    assert_security_headers(response)
    assert_no_store(response)


async def test_pages_before_sign_in_carry_the_security_headers_and_no_store(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    token = await accounts.issue_setup_token(db, now=clock(), valid_for=timedelta(hours=1))
    await db.commit()
    for path in ("/login", f"/setup/{token}"):
        response = await http.get(path, follow_redirects=False)
        assert response.status_code == 200
        assert_security_headers(response)
        assert_no_store(response)

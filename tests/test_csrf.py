"""CSRF: every state-changing route refuses a missing, wrong or borrowed token and a cross-site request, with a
readable page and the database unchanged; the right token (form field or htmx header) from this site works;
the token rotates at sign-in.

The routes come from the app's own table, so a new unsafe route is in the matrix from the day it is added.
Signed-in routes are called by an admin (allowed everywhere, so any refusal is the CSRF check); sign-in and
set-up are called signed out, with the token of the `csrf` cookie sent back in the `_csrf` field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
from httpx import Response
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX, Clock
from tests.markup import parse
from tests.route_table import (
    Endpoint,
    about_second_factors,
    arrange_sample,
    collected_endpoints,
    effective_form,
    endpoint_id,
    fill,
    sealed_for,
    unsafe,
    with_second_factor,
)
from tests.support import (
    TEST_PASSWORD,
    Client,
    all_teams,
    database_state,
    make_user,
)
from webapp import accounts
from webapp.models import Role, UserSession

ROUTES = collected_endpoints()
UNSAFE = unsafe(ROUTES)
# The set-up link works only while there is no user: that is the state in which a forged set-up would matter.
FIRST_RUN = {("POST", "/setup/{token:str}")}
OWN_ORIGIN = "http://testserver.local"
EXPIRED = "This page has expired"


@dataclass(frozen=True)
class Case:
    token: str
    """Which token the request carries: "none", "wrong", "other" (another session's) or "right"."""
    via: str = "field"
    """Where it goes: "field" (`_csrf`, as a plain form posts it) or "header" (X-CSRF-Token, as htmx sends it)."""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def htmx(self) -> bool:
        return "HX-Request" in self.headers


REFUSED = {
    "no token": Case("none"),
    "wrong token": Case("wrong"),
    "wrong token in the htmx header": Case("wrong", "header", HTMX),
    "another session's token": Case("other"),
    "cross-site Origin": Case("right", headers={"Origin": "https://evil.test"}),
    "cross-site Sec-Fetch-Site": Case("right", "header", HTMX | {"Sec-Fetch-Site": "cross-site"}),
    "same-site Sec-Fetch-Site": Case("right", headers={"Sec-Fetch-Site": "same-site"}),
    "null Origin": Case("right", headers={"Origin": "null"}),
    "look-alike Origin": Case("right", headers={"Origin": f"{OWN_ORIGIN}.evil.test"}),
    "Origin on another port": Case("right", headers={"Origin": f"{OWN_ORIGIN}:8080"}),
}


@dataclass(frozen=True)
class Scene:
    method: str
    url: str
    form: dict[str, str]
    cookies: dict[str, str]
    right: str
    """The caller's own token."""
    other: str
    """A valid token of another session of the same user (signed out: one given to another browser)."""


async def anonymous_token(http: Client, url: str) -> str:
    """Open the form page as a new browser would: the page sets the csrf cookie and puts the same token in
    its `_csrf` field."""
    http.cookies.clear()
    response = await http.get(url)
    assert response.status_code == 200
    token = http.cookies["csrf"]
    assert parse(response.text).find("input", name="_csrf").attrs["value"] == token
    return token


async def arrange(endpoint: Endpoint, http: Client, db: AsyncSession, clock: Clock) -> Scene:
    method, template = endpoint
    target = None
    if endpoint in FIRST_RUN:
        setup_token = await accounts.issue_setup_token(db, now=clock(), valid_for=timedelta(hours=1))
        await db.commit()
        sample = await arrange_sample(db, template, user_id=0, setup_token=setup_token, username="")
    else:
        target = await make_user(db, username="tess", role=Role.viewer)
        assert target.id is not None
        sample = await arrange_sample(
            db, template, user_id=target.id, setup_token="not-a-real-setup-token", username=target.username
        )
    url = fill(template, sample)
    if ROUTES[endpoint] == "public":
        form = effective_form(endpoint, sample)
        other = await anonymous_token(http, url)
        right = await anonymous_token(http, url)
        return Scene(method, url, form, {"csrf": right}, right, other)
    admin = await make_user(db, username="ada", role=Role.admin)
    assert admin.id is not None
    if about_second_factors(template) and target is not None:
        await with_second_factor(db, admin)
        await with_second_factor(db, target)
    # The code step is for a session whose password was right and whose code is still to come.
    stage = "second_factor" if ROUTES[endpoint] == "code_step" else "signed_in"
    session_token, session = await accounts.start_session(db, user=admin, now=clock(), stage=stage)
    _other_token, other_session = await accounts.start_session(db, user=admin, now=clock(), stage=stage)
    await db.commit()
    form = effective_form(endpoint, replace(sample, sealed=sealed_for(admin.id)))
    return Scene(method, url, form, {"session": session_token}, session.csrf_token, other_session.csrf_token)


async def attempt(http: Client, scene: Scene, case: Case) -> Response:
    tokens = {"none": None, "wrong": accounts.new_token(), "other": scene.other, "right": scene.right}
    token = tokens[case.token]
    data, headers = dict(scene.form), dict(case.headers)
    if token is not None and case.via == "field":
        data["_csrf"] = token
    elif token is not None:
        headers["X-CSRF-Token"] = token
    http.cookies.clear()
    for name, value in scene.cookies.items():
        http.cookies.set(name, value)
    return await http.request(scene.method, scene.url, data=data, headers=headers, follow_redirects=False)


def refusal(response: Response) -> str:
    """The response in a few words: "403 page: <h1>", "403 fragment: <alert title>", or status and type."""
    kind = response.headers.get("content-type", "")
    if response.status_code != 403 or not kind.startswith("text/html"):
        return f"{response.status_code} {kind}"
    document = parse(response.text)
    if "<html" in response.text:
        return f"403 page: {document.find('h1').text}"
    return f"403 fragment: {document.find(role='alert').find('strong').text.rstrip('.')}"


def expired(*, htmx: bool) -> str:
    """The readable "reload" answer: a page, or for htmx the alert fragment. Never JSON."""
    return f"403 {'fragment' if htmx else 'page'}: {EXPIRED}"


# --- the matrix -----------------------------------------------------------------------------------------------


def test_the_app_has_unsafe_routes_to_check() -> None:
    # Guards the derivation itself: an empty list would make the matrix pass by checking nothing.
    assert ("POST", "/heroes") in UNSAFE
    assert ("POST", "/login") in UNSAFE


@pytest.mark.parametrize("endpoint", UNSAFE, ids=endpoint_id)
async def test_unsafe_route_refuses_requests_without_this_sites_token(
    endpoint: Endpoint, http: Client, db: AsyncSession, clock: Clock
) -> None:
    """Every case in REFUSED, one request each on the same arrangement: the "expired" 403 and nothing changed.

    The request otherwise acts (see the control below), so an unchanged database shows the check stopped it.
    """
    scene = await arrange(endpoint, http, db, clock)
    before = await database_state(db)
    seen: dict[str, str] = {}
    for name, case in REFUSED.items():
        response = await attempt(http, scene, case)
        seen[name] = refusal(response) + (" + database changed" if await database_state(db) != before else "")
    assert seen == {name: expired(htmx=case.htmx) for name, case in REFUSED.items()}


# Unsafe routes that change nothing by design (the import's dry run, a POST because it uploads a file): with
# the right token they answer their page.
READ_ONLY = {("POST", "/heroes/import")}
# Routes whose answer is a page shown once (new recovery codes), not a redirect: they change the database and
# answer 200.
SHOWN_ONCE = {("POST", "/account/two-factor/setup"), ("POST", "/account/two-factor/recovery-codes")}


@pytest.mark.parametrize("endpoint", UNSAFE, ids=endpoint_id)
async def test_unsafe_route_accepts_the_right_token_in_the_form_field_alone(
    endpoint: Endpoint, http: Client, db: AsyncSession, clock: Clock
) -> None:
    """The control for the matrix: the very request it refuses succeeds, and changes the database, once the
    token is right (sent as a plain form sends it, with no header)."""
    scene = await arrange(endpoint, http, db, clock)
    before = await database_state(db)
    response = await attempt(http, scene, Case("right"))
    if endpoint in READ_ONLY:
        assert response.status_code == 200, response.text
        assert await database_state(db) == before
        return
    if endpoint in SHOWN_ONCE:
        assert response.status_code == 200, response.text
        assert await database_state(db) != before
        return
    assert response.status_code == 303, response.text
    assert await database_state(db) != before


BROWSER_SAME_ORIGIN = {
    "own Origin": {"Origin": OWN_ORIGIN},
    "Sec-Fetch-Site same-origin": {"Sec-Fetch-Site": "same-origin"},
    "Sec-Fetch-Site none": {"Sec-Fetch-Site": "none"},
    "own Origin and same-origin": {"Origin": OWN_ORIGIN, "Sec-Fetch-Site": "same-origin"},
}


@pytest.mark.parametrize("headers", BROWSER_SAME_ORIGIN.values(), ids=BROWSER_SAME_ORIGIN.keys())
async def test_same_origin_request_with_the_token_is_accepted(
    headers: dict[str, str], client: Client, db: AsyncSession
) -> None:
    response = await client.post(
        "/teams",
        data={"name": "Z-Force", "headquarters": "Sister Margaret's Bar"},
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert [team.name for team in await all_teams(db)] == ["Z-Force"]


# --- rotation at sign-in --------------------------------------------------------------------------------------


async def sign_in_through_the_form(http: Client, db: AsyncSession) -> tuple[str, str]:
    """Sign in as a browser does (page, then form, from this origin). Returns the token before and after."""
    await make_user(db, username="ada", role=Role.admin)
    before = await anonymous_token(http, "/login")
    form = {"_csrf": before, "username": "ada", "password": TEST_PASSWORD}
    response = await http.post(
        "/login", data=form, headers={"Origin": OWN_ORIGIN, "Sec-Fetch-Site": "same-origin"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert "csrf" not in http.cookies
    page = await http.get("/heroes")
    after = parse(page.text).find_all("input", name="_csrf")[0].attrs["value"]
    return before, after


async def test_sign_in_gives_the_session_a_new_csrf_token(http: Client, db: AsyncSession) -> None:
    before, after = await sign_in_through_the_form(http, db)
    db.expire_all()
    stored = list((await db.exec(select(UserSession.csrf_token))).all())
    await db.commit()
    assert stored == [after]
    assert after != before


@pytest.mark.parametrize("via", ["field", "header"])
async def test_token_from_before_sign_in_is_refused_afterwards(via: str, http: Client, db: AsyncSession) -> None:
    before, after = await sign_in_through_the_form(http, db)
    team = {"name": "Z-Force", "headquarters": "Sister Margaret's Bar"}
    stale = (
        await http.post("/teams", data=team | {"_csrf": before}, follow_redirects=False)
        if via == "field"
        else await http.post("/teams", data=team, headers={"X-CSRF-Token": before}, follow_redirects=False)
    )
    assert refusal(stale) == expired(htmx=False)
    assert await all_teams(db) == []
    await db.commit()  # end the read: on SQLite it holds the write lock the next request needs
    fresh = await http.post("/teams", data=team | {"_csrf": after}, follow_redirects=False)
    assert fresh.status_code == 303

"""Hostile requests beyond form fields: every path parameter, the history and Activity query values, and
oversized, overfull or odd bodies on every route that takes one.

Never a 5xx; every refusal is a readable 4xx HTML page and changes nothing. The routes come from the app's own
route table, so a new one is covered from the day it is added.
"""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from sqlmodel import delete
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import Clock, sign_in
from tests.hostile import CHOICES, MALFORMED_IDS, Hostile
from tests.hostile_checks import assert_refused, snapshot
from tests.route_table import PARAMETER, acts_on_the_trash, record_change
from tests.support import Client, database_state, field_error, id_of, make_hero, make_team, make_user, move_to_trash
from webapp.config import Settings
from webapp.models import AuditEntry, Hero, Role, Team, User, UserSession

HERO = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": "30"}


@pytest.fixture
async def admin(http: Client, db: AsyncSession, clock: Clock) -> Client:
    """A client signed in as an admin, who may use every route."""
    await sign_in(http, db, await make_user(db, username="root", role=Role.admin), clock)
    return http


# --- path parameters ---------------------------------------------------------------------------------------


def parameter_endpoints(app: Litestar) -> list[tuple[str, str]]:
    """(method, path template) of every route with a path parameter, from the app's own route table."""
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path_parameters and not route.path.startswith("/static"):
            found += [(method, route.path) for method in route.methods if method in {"GET", "POST"}]
    return sorted(found)


def with_segment(template: str, segment: str) -> list[str]:
    """The path once for each of its parameters: that one replaced by a raw, already percent-encoded segment,
    any other by 1 (a real row)."""

    def path(malformed: str) -> str:
        return PARAMETER.sub(lambda match: segment if match.group(1) == malformed else "1", template)

    return [path(name) for name in PARAMETER.findall(template)]


VALID_FORMS = {
    "/heroes": {**HERO, "name": "Changed", "version": "1"},
    "/teams": {"name": "Changed", "headquarters": "Changed", "version": "1"},
    "/users": {"role": "viewer", "password": "a new passphrase", "password_confirm": "a new passphrase"},
    "/setup": {"username": "mallory", "password": "a new passphrase", "password_confirm": "a new passphrase"},
}


async def assert_not_found(client: Client, db: AsyncSession, endpoints: list[tuple[str, str]], segment: str) -> None:
    before = await database_state(db)
    for method, template in endpoints:
        for path in with_segment(template, segment):
            form = VALID_FORMS["/" + template.split("/")[1]] if method == "POST" else None
            response = await client.request(method, path, data=form, follow_redirects=False)
            # Once an account exists, a set-up link is one that was used (410), unless it cannot be read at all.
            expected = {404, 410} if template.startswith("/setup/") else {404}
            assert response.status_code in expected, (method, path, response.status_code)
            assert_refused(response, response.status_code)
    assert await database_state(db) == before


@pytest.mark.parametrize("segment", [h.param() for h in MALFORMED_IDS])
async def test_malformed_id_in_every_path_is_a_404_page_and_changes_nothing(
    admin: Client, app: Litestar, db: AsyncSession, segment: Hostile
) -> None:
    """Rows with id 1 exist, so an id that is read leniently ("01", "+1", "١") would reach a real row: hero 1
    in team 1, user 1, and history entry 1, a change of whichever record the revert route names; the routes
    for what is in the trash are tried once hero 1 and team 1 are there."""
    team = await make_team(db)
    hero = await make_hero(db, team=team)
    assert (id_of(team), id_of(hero), await record_change(db, hero, "name", "Deadpool")) == (1, 1, 1)
    assert [user["id"] for user in await snapshot(db, User)] == [1]
    endpoints = parameter_endpoints(app)
    assert {"/heroes/{record_id:int}", "/teams/{record_id:int}", "/users/{user_id:int}"} <= {e[1] for e in endpoints}
    team_revert = [e for e in endpoints if e[1].startswith("/teams/") and "{entry_id:" in e[1]]
    in_trash = [e for e in endpoints if acts_on_the_trash(e[1])]
    assert team_revert
    assert in_trash
    await assert_not_found(admin, db, [e for e in endpoints if e not in team_revert + in_trash], segment.value)
    await db.exec(delete(AuditEntry))
    assert await record_change(db, team, "name", "Preventers of Old", entry_id=1) == 1
    await assert_not_found(admin, db, team_revert, segment.value)
    for record in (hero, team):
        await db.refresh(record)
        await move_to_trash(db, record)
    await assert_not_found(admin, db, in_trash, segment.value)


# --- query values ------------------------------------------------------------------------------------------


async def test_hostile_history_and_activity_query_values_are_a_400_page(client: Client, db: AsyncSession) -> None:
    team = await make_team(db)
    hero_id, team_id = id_of(await make_hero(db, team=team)), id_of(team)
    for payload in CHOICES:
        for path, name in (
            (f"/heroes/{hero_id}/history", "before"),
            (f"/teams/{team_id}/history", "before"),
            ("/activity", "before"),
            ("/activity", "user"),
            ("/activity", "type"),
        ):
            response = await client.get(path, params={name: payload.value}, follow_redirects=False)
            assert_refused(response, 400)


# --- bodies ------------------------------------------------------------------------------------------------


def unsafe_endpoints(app: Litestar) -> list[tuple[str, str]]:
    """Every POST route (the app has no other unsafe method), from the app's own route table."""
    return sorted((method, route.path) for route in app.routes for method in route.methods if method == "POST")


async def test_body_over_one_megabyte_is_a_413_page_on_every_post_route(
    admin: Client, app: Litestar, db: AsyncSession, settings: Settings
) -> None:
    await make_hero(db, team=await make_team(db))
    tables = (Hero, Team, User, UserSession)
    before = [await snapshot(db, table) for table in tables]
    padding = "x" * (settings.max_body_bytes + 1)
    for method, template in unsafe_endpoints(app):
        path = PARAMETER.sub("1", template)
        response = await admin.request(method, path, data={"name": "Big", "padding": padding}, follow_redirects=False)
        assert response.status_code == 413, (path, response.status_code)
        assert_refused(response, 413)
    assert [await snapshot(db, table) for table in tables] == before


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
async def test_form_with_51_fields_is_a_400_page_on_every_post_route(
    admin: Client, app: Litestar, db: AsyncSession, encoding: str
) -> None:
    await make_hero(db, team=await make_team(db))
    tables = (Hero, Team, User, UserSession)
    before = [await snapshot(db, table) for table in tables]
    fields = {"name": "Many", "headquarters": "Many", "secret_name": "Many"} | {f"f{n}": "x" for n in range(48)}
    assert len(fields) == 51
    for method, template in unsafe_endpoints(app):
        path = PARAMETER.sub("1", template)
        if encoding == "multipart":
            parts = {name: (None, value) for name, value in fields.items()}
            response = await admin.request(method, path, files=parts, follow_redirects=False)
        else:
            response = await admin.request(method, path, data=fields, follow_redirects=False)
        assert response.status_code == 400, (path, response.status_code)
        assert_refused(response, 400)
    assert [await snapshot(db, table) for table in tables] == before


async def test_multipart_text_that_is_not_utf8_is_a_400_page_on_every_post_route(
    admin: Client, app: Litestar, db: AsyncSession
) -> None:
    """Litestar raises while decoding such a part; that is a malformed request, never a 500."""
    await make_hero(db, team=await make_team(db))
    tables = (Hero, Team, User, UserSession)
    before = [await snapshot(db, table) for table in tables]
    body = b'--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\n\xff\xfe Latin-1 \xe9\r\n--XX--\r\n'
    for method, template in unsafe_endpoints(app):
        path = PARAMETER.sub("1", template)
        headers = {"content-type": "multipart/form-data; boundary=XX"}
        response = await admin.request(method, path, content=body, headers=headers, follow_redirects=False)
        assert response.status_code == 400, (path, response.status_code)
        assert_refused(response, 400)
    assert [await snapshot(db, table) for table in tables] == before


async def test_form_with_50_fields_is_still_read(client: Client, db: AsyncSession) -> None:
    fields = {"name": "Many", "headquarters": "Many"} | {f"f{n}": "x" for n in range(48)}
    response = await client.post("/teams", data=fields, follow_redirects=False)
    assert response.status_code == 303
    assert [team["name"] for team in await snapshot(db, Team)] == ["Many"]


async def test_repeated_keys_take_the_first_value(client: Client, db: AsyncSession) -> None:
    body = "name=First&name=Second&headquarters=Here&headquarters=There"
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert (await client.post("/teams", content=body, headers=form, follow_redirects=False)).status_code == 303
    body = "name=First&secret_name=One&secret_name=Two&age=30&age=40"
    assert (await client.post("/heroes", content=body, headers=form, follow_redirects=False)).status_code == 303
    assert [(t["name"], t["headquarters"]) for t in await snapshot(db, Team)] == [("First", "Here")]
    assert [(h["name"], h["secret_name"], h["age"]) for h in await snapshot(db, Hero)] == [("First", "One", 30)]


async def test_file_in_a_text_field_is_a_field_error_not_a_crash(client: Client, db: AsyncSession) -> None:
    files = {"name": ("name.txt", b"<script>alert(1)</script>", "text/plain")}
    response = await client.post("/teams", data={"headquarters": "Here"}, files=files, follow_redirects=False)
    assert_refused(response, 422)
    assert field_error(response.text, "team-form-name")
    assert await snapshot(db, Team) == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("application/json", b'{"name": "Json", "headquarters": "Here"}', id="json"),
        pytest.param("application/x-www-form-urlencoded", b"\xff\xfe%%%=&&==", id="garbage-urlencoded"),
        pytest.param("multipart/form-data; boundary=xx", b"--xx\r\nbroken", id="broken-multipart"),
        pytest.param("multipart/form-data", b"name=NoBoundary", id="multipart-without-boundary"),
    ],
)
async def test_odd_bodies_are_refused_readably_and_store_nothing(
    client: Client, db: AsyncSession, content_type: str, body: bytes
) -> None:
    response = await client.post("/teams", content=body, headers={"content-type": content_type}, follow_redirects=False)
    assert 400 <= response.status_code < 500
    assert_refused(response, response.status_code)
    assert await snapshot(db, Team) == []

"""Hostile input to every hero and team form field, to every path parameter, and oversized or odd bodies.

Never a 5xx; every refusal is a readable 4xx HTML page or fragment and changes nothing; accepted text is stored
exactly as sent (after the documented strip of surrounding whitespace) and shown escaped wherever it appears.
Account forms (sign-in, set-up, users, passwords) are in test_hostile_accounts.py.
"""

from __future__ import annotations

import pytest
from httpx import Response
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX, Clock, sign_in
from tests.factories import field_error, id_of, make_hero, make_team, make_user
from tests.hostile import CHOICES, MALFORMED_IDS, TEXT, Hostile, collapsed, valid_text
from tests.hostile_checks import (
    assert_refused,
    assert_shown,
    attribute,
    cell_texts,
    row_action_labels,
    snapshot,
)
from tests.markup import parse
from webapp.config import Settings
from webapp.models import HEADQUARTERS_MAX, NAME_MAX, Hero, Role, Team, User, UserSession

Client = AsyncTestClient[Litestar]
HERO = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": "30"}
HERO_COLUMNS = {"name": 0, "secret_name": 1}
TEAM_COLUMNS = {"name": 0, "headquarters": 1}
LIMITS = {"name": NAME_MAX, "secret_name": NAME_MAX, "headquarters": HEADQUARTERS_MAX}


@pytest.fixture
async def admin(http: Client, db: AsyncSession, clock: Clock) -> Client:
    """A client signed in as an admin, who may use every route."""
    await sign_in(http, db, await make_user(db, username="root", role=Role.admin), clock)
    return http


async def post(client: Client, path: str, data: dict[str, str], *, htmx: bool = False) -> Response:
    return await client.post(path, data=data, headers=HTMX if htmx else {}, follow_redirects=False)


async def get(client: Client, path: str, *, htmx: bool = False) -> str:
    response = await client.get(path, headers=HTMX if htmx else {}, follow_redirects=False)
    assert response.status_code == 200, (path, response.status_code)
    return str(response.text)


# --- heroes ------------------------------------------------------------------------------------------------


async def check_hero_pages(client: Client, hero_id: int, field: str, text: str) -> None:
    """The stored value shown escaped on the list, detail, edit and delete pages and in the htmx fragments."""
    row_id = f"hero-{hero_id}"
    listing = await get(client, "/heroes")
    assert_shown(listing, text)
    assert cell_texts(listing, row_id)[HERO_COLUMNS[field]] == collapsed(text)
    assert_shown(await get(client, f"/heroes/{hero_id}"), text)
    assert attribute(await get(client, f"/heroes/{hero_id}/edit"), f"hero-form-{field}", "value") == text
    if field == "name":
        # The screens and fragments that show only the name, and the attributes that carry it.
        row = await get(client, f"/heroes/{hero_id}/row", htmx=True)
        assert_shown(row, text)
        assert cell_texts(row, row_id)[HERO_COLUMNS[field]] == collapsed(text)
        inline = await get(client, f"/heroes/{hero_id}/edit", htmx=True)
        assert attribute(inline, f"{row_id}-{field}", "value") == text
        assert_shown(await get(client, f"/heroes/{hero_id}/delete"), text)
        assert row_action_labels(listing, row_id) == {
            f"Edit {text}": "",
            f"Delete {text}": f"Delete hero “{text}”? This cannot be undone.",
        }


async def check_hero_create(client: Client, db: AsyncSession, field: str, value: str, *, htmx: bool) -> None:
    before = await snapshot(db, Hero)
    response = await post(client, "/heroes", {**HERO, field: value}, htmx=htmx)
    if not valid_text(value, LIMITS[field]):
        assert_refused(response, 422)
        assert field_error(response.text, f"hero-form-{field}")
        assert await snapshot(db, Hero) == before
        return
    assert response.status_code == (200 if htmx else 303)
    (created,) = [hero for hero in await snapshot(db, Hero) if hero not in before]
    assert created[field] == value.strip()
    if htmx:
        # The create fragment: a fresh form, the new row out of band, the count and the toast.
        assert_shown(response.text, value.strip())
        row = cell_texts(response.text, f"hero-{created['id']}")
        assert row[HERO_COLUMNS[field]] == collapsed(value)
    else:
        await check_hero_pages(client, created["id"], field, value.strip())


async def check_hero_update(
    client: Client, db: AsyncSession, hero_id: int, field: str, value: str, *, htmx: bool
) -> None:
    before = await snapshot(db, Hero)
    response = await post(client, f"/heroes/{hero_id}", {**HERO, field: value}, htmx=htmx)
    if not valid_text(value, LIMITS[field]):
        assert_refused(response, 422)
        assert field_error(response.text, f"hero-{hero_id}-{field}" if htmx else f"hero-form-{field}")
        assert await snapshot(db, Hero) == before
        return
    assert response.status_code == (200 if htmx else 303)
    (stored,) = [hero for hero in await snapshot(db, Hero) if hero["id"] == hero_id]
    assert stored[field] == value.strip()
    if htmx:
        # The saved row that replaces the inline form, with its toast.
        assert_shown(response.text, value.strip())
        assert cell_texts(response.text, f"hero-{hero_id}")[HERO_COLUMNS[field]] == collapsed(value)
    elif field == "name":  # the page after the redirect, with the toast naming the hero
        assert_shown(await get(client, f"/heroes/{hero_id}"), value.strip())


@pytest.mark.parametrize("payload", [h.param() for h in CHOICES])
async def test_hero_age_and_team_refuse_anything_but_a_number_or_a_team(
    client: Client, db: AsyncSession, payload: Hostile
) -> None:
    team = await make_team(db)
    hero_id = id_of(await make_hero(db, team=team, age=30))
    before = await snapshot(db, Hero)
    for field in ("age", "team_id"):
        for path, htmx, input_id in (
            ("/heroes", False, f"hero-form-{field}"),
            ("/heroes", True, f"hero-form-{field}"),
            (f"/heroes/{hero_id}", False, f"hero-form-{field}"),
            (f"/heroes/{hero_id}", True, f"hero-{hero_id}-{field}"),
        ):
            response = await post(client, path, {**HERO, field: payload.value}, htmx=htmx)
            assert_refused(response, 422)
            assert field_error(response.text, input_id)
    assert await snapshot(db, Hero) == before


# --- teams -------------------------------------------------------------------------------------------------


async def check_team_pages(client: Client, db: AsyncSession, team_id: int, field: str, text: str) -> None:
    """The stored value shown escaped on every team screen and fragment, and (the name) on the hero screens."""
    row_id = f"team-{team_id}"
    listing = await get(client, "/teams")
    assert_shown(listing, text)
    assert cell_texts(listing, row_id)[TEAM_COLUMNS[field]] == collapsed(text)
    assert_shown(await get(client, f"/teams/{team_id}"), text)
    assert attribute(await get(client, f"/teams/{team_id}/edit"), f"team-form-{field}", "value") == text
    if field == "name":
        row = await get(client, f"/teams/{team_id}/row", htmx=True)
        assert_shown(row, text)
        assert cell_texts(row, row_id)[TEAM_COLUMNS[field]] == collapsed(text)
        inline = await get(client, f"/teams/{team_id}/edit", htmx=True)
        assert attribute(inline, f"{row_id}-{field}", "value") == text
        assert_shown(await get(client, f"/teams/{team_id}/delete"), text)
        labels = row_action_labels(listing, row_id)
        assert labels.keys() == {f"Edit {text}", f"Delete {text}"}
        assert labels[f"Delete {text}"].startswith(f"Delete team “{text}”? ")
        # A team's name also appears on its heroes' screens and in the hero form's team choice.
        hero_id = id_of(await make_hero(db, name="Member", team=await db.get(Team, team_id)))
        await db.commit()
        assert cell_texts(await get(client, "/heroes"), f"hero-{hero_id}")[3] == collapsed(text)
        assert_shown(await get(client, f"/heroes/{hero_id}"), text)
        choices = parse(await get(client, "/heroes/new")).by_id("hero-form-team_id").find_all("option")
        assert [option.text for option in choices if option.attrs["value"] == str(team_id)] == [collapsed(text)]


async def forget_team(db: AsyncSession, team_id: int) -> None:
    """Delete a team straight in the database, so its (unique) name can be sent again."""
    team = await db.get(Team, team_id)
    assert team is not None
    await db.delete(team)
    await db.commit()


async def check_team_create(client: Client, db: AsyncSession, field: str, value: str, *, htmx: bool) -> None:
    before = await snapshot(db, Team)
    form = {"name": "Z-Force", "headquarters": "Sharp Tower", field: value}
    response = await post(client, "/teams", form, htmx=htmx)
    if not valid_text(value, LIMITS[field]):
        assert_refused(response, 422)
        assert field_error(response.text, f"team-form-{field}")
        assert await snapshot(db, Team) == before
        return
    assert response.status_code == (200 if htmx else 303)
    (created,) = [team for team in await snapshot(db, Team) if team not in before]
    assert created[field] == value.strip()
    if htmx:
        assert_shown(response.text, value.strip())
        assert cell_texts(response.text, f"team-{created['id']}")[TEAM_COLUMNS[field]] == collapsed(value)
    else:
        await check_team_pages(client, db, created["id"], field, value.strip())
    await forget_team(db, created["id"])


async def check_team_update(
    client: Client, db: AsyncSession, team_id: int, field: str, value: str, *, htmx: bool
) -> None:
    before = await snapshot(db, Team)
    form = {"name": "Preventers", "headquarters": "Sharp Tower", field: value}
    response = await post(client, f"/teams/{team_id}", form, htmx=htmx)
    if not valid_text(value, LIMITS[field]):
        assert_refused(response, 422)
        assert field_error(response.text, f"team-{team_id}-{field}" if htmx else f"team-form-{field}")
        assert await snapshot(db, Team) == before
        return
    assert response.status_code == (200 if htmx else 303)
    (stored,) = [team for team in await snapshot(db, Team) if team["id"] == team_id]
    assert stored[field] == value.strip()
    if htmx:
        assert_shown(response.text, value.strip())
        assert cell_texts(response.text, f"team-{team_id}")[TEAM_COLUMNS[field]] == collapsed(value)
    elif field == "name":
        assert_shown(await get(client, f"/teams/{team_id}"), value.strip())


@pytest.mark.parametrize("payload", [h.param() for h in TEXT])
async def test_text_fields_store_exactly_and_show_escaped_or_refuse(
    client: Client, db: AsyncSession, payload: Hostile
) -> None:
    """Every text field of the hero and team forms: create and edit, as a page and as htmx fragments."""
    hero_id = id_of(await make_hero(db, name="Rusty-Man", secret_name="Tommy Sharp"))
    team_id = id_of(await make_team(db, name="Preventers", headquarters="Sharp Tower"))
    for field in ("name", "secret_name"):
        await check_hero_create(client, db, field, payload.value, htmx=False)
        await check_hero_create(client, db, field, payload.value, htmx=True)
        await check_hero_update(client, db, hero_id, field, payload.value, htmx=False)
        await check_hero_update(client, db, hero_id, field, payload.value, htmx=True)
    for field in ("name", "headquarters"):
        await check_team_create(client, db, field, payload.value, htmx=False)
        await check_team_create(client, db, field, payload.value, htmx=True)
        await check_team_update(client, db, team_id, field, payload.value, htmx=False)
        await check_team_update(client, db, team_id, field, payload.value, htmx=True)


# --- path parameters ---------------------------------------------------------------------------------------


def parameter_endpoints(app: Litestar) -> list[tuple[str, str]]:
    """(method, path template) of every route with a path parameter, from the app's own route table."""
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path_parameters and not route.path.startswith("/static"):
            found += [(method, route.path) for method in route.methods if method in {"GET", "POST"}]
    return sorted(found)


def with_segment(template: str, segment: str) -> str:
    """The path template with its (single) parameter replaced by a raw, already percent-encoded segment."""
    head, _, rest = template.partition("{")
    return head + segment + rest.partition("}")[2]


VALID_FORMS = {
    "/heroes": {**HERO, "name": "Changed"},
    "/teams": {"name": "Changed", "headquarters": "Changed"},
    "/users": {"role": "viewer", "password": "a new passphrase", "password_confirm": "a new passphrase"},
    "/setup": {"username": "mallory", "password": "a new passphrase", "password_confirm": "a new passphrase"},
}


@pytest.mark.parametrize("segment", [h.param() for h in MALFORMED_IDS])
async def test_malformed_id_in_every_path_is_a_404_page_and_changes_nothing(
    admin: Client, app: Litestar, db: AsyncSession, segment: Hostile
) -> None:
    # Rows with id 1 exist, so an id that is read leniently ("01", "+1", "١") would reach a real row.
    team = await make_team(db)
    await make_hero(db, team=team)
    tables = (Hero, Team, User, UserSession)
    before = [await snapshot(db, table) for table in tables]
    assert [rows[0]["id"] for rows in before[:3]] == [1, 1, 1]
    endpoints = parameter_endpoints(app)
    assert {"/heroes/{hero_id:int}", "/teams/{team_id:int}", "/users/{user_id:int}"} <= {e[1] for e in endpoints}
    for method, template in endpoints:
        path = with_segment(template, segment.value)
        form = VALID_FORMS["/" + template.split("/")[1]] if method == "POST" else None
        response = await admin.request(method, path, data=form, follow_redirects=False)
        assert response.status_code == 404, (method, path, response.status_code)
        assert_refused(response, 404)
    assert [await snapshot(db, table) for table in tables] == before


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
        path = with_segment(template, "1") if "{" in template else template
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
        path = with_segment(template, "1") if "{" in template else template
        if encoding == "multipart":
            parts = {name: (None, value) for name, value in fields.items()}
            response = await admin.request(method, path, files=parts, follow_redirects=False)
        else:
            response = await admin.request(method, path, data=fields, follow_redirects=False)
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

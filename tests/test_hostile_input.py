"""Hostile input to every hero and team form field, the hidden ones (version, one-time id) included.

Never a 5xx; every refusal is a readable 4xx HTML page or fragment and changes nothing; accepted text is stored
exactly as sent (after the documented strip of surrounding whitespace) and shown escaped wherever it appears:
lists, pages, fragments, the edit-conflict form, history, Activity and the Trash.
Account forms (sign-in, set-up, users, passwords) are in test_hostile_accounts.py; path parameters, query
values and bodies in test_hostile_requests.py.
"""

from __future__ import annotations

import pytest
from httpx import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX
from tests.hostile import CHOICES, TEXT, Hostile, collapsed, valid_text
from tests.hostile_checks import (
    assert_refused,
    assert_shown,
    attribute,
    cell_texts,
    row_action_labels,
    snapshot,
)
from tests.markup import parse
from tests.support import Client, database_state, field_error, id_of, make_hero, make_team
from webapp.models import HEADQUARTERS_MAX, NAME_MAX, Hero, Team

HERO = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": "30"}
HERO_COLUMNS = {"name": 0, "secret_name": 1}
TEAM_COLUMNS = {"name": 0, "headquarters": 1}
LIMITS = {"name": NAME_MAX, "secret_name": NAME_MAX, "headquarters": HEADQUARTERS_MAX}


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
        confirm = await get(client, f"/heroes/{hero_id}/delete")
        assert_shown(confirm, text)
        assert row_action_labels(listing, row_id) == {
            f"Edit {text}": "",
            f"Delete {text}": f"Delete hero “{text}”? It goes to the trash, where it can be restored.",
        }
        # The Activity page lists entries as the history does (one template): checked for heroes only.
        assert_shown(await get(client, "/activity"), text)
        await check_history_and_trash(client, "hero", hero_id, text, confirm)


async def check_history_and_trash(client: Client, kind: str, record_id: int, text: str, confirm: str) -> None:
    """The name in the record's history, then (deleted through the confirmation page as a person would) on the
    Trash page and its Restore button."""
    plural = f"{kind}s" if kind == "team" else "heroes"
    assert_shown(await get(client, f"/{plural}/{record_id}/history"), text)
    version = parse(confirm).find("input", name="version").attrs["value"]
    deleted = await post(client, f"/{plural}/{record_id}/delete", {"version": version})
    assert deleted.status_code == 303
    trash = await get(client, "/trash")
    assert_shown(trash, text)
    assert parse(trash).by_id(f"trash-{kind}-{record_id}").find("button").attrs["aria-label"] == f"Restore {text}"


async def check_conflict(client: Client, path: str, form: dict[str, str], prefix: str, shown: str) -> None:
    """A save on top of an older version: the 409 form shows the name stored now (`shown`) escaped. The inline
    row's conflict uses the same field macro, so the page is checked only."""
    response = await post(client, path, form)
    assert_refused(response, 409)
    assert parse(response.text).by_id(f"{prefix}-name-current").text == collapsed(f"Saved meanwhile: {shown}")
    assert_shown(response.text, shown)


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
    version = next(hero["version"] for hero in before if hero["id"] == hero_id)  # as the edit form carries it
    response = await post(client, f"/heroes/{hero_id}", {**HERO, field: value, "version": str(version)}, htmx=htmx)
    if not valid_text(value, LIMITS[field]):
        assert_refused(response, 422)
        assert field_error(response.text, f"hero-{hero_id}-{field}" if htmx else f"hero-form-{field}")
        assert await snapshot(db, Hero) == before
        return
    assert response.status_code == (200 if htmx else 303)
    after = await snapshot(db, Hero)
    (stored,) = [hero for hero in after if hero["id"] == hero_id]
    assert stored[field] == value.strip()
    if htmx:
        # The saved row that replaces the inline form, with its toast.
        assert_shown(response.text, value.strip())
        assert cell_texts(response.text, f"hero-{hero_id}")[HERO_COLUMNS[field]] == collapsed(value)
    elif field == "name":  # the page after the redirect, with the toast naming the hero
        assert_shown(await get(client, f"/heroes/{hero_id}"), value.strip())
        # Someone still on an older version saves another name: the conflict form shows the stored one.
        stale = {**HERO, "name": "Someone else", "version": str(stored["version"] - 1)}
        await check_conflict(client, f"/heroes/{hero_id}", stale, "hero-form", stored["name"])
        assert await snapshot(db, Hero) == after


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
            # With the hero's own version: the edit would otherwise be saved, so only the value refuses it.
            form = {**HERO, field: payload.value, "version": "1"}
            response = await post(client, path, form, htmx=htmx)
            assert_refused(response, 422)
            assert field_error(response.text, input_id)
    assert await snapshot(db, Hero) == before


async def test_hostile_version_is_a_409_conflict_and_changes_nothing(client: Client, db: AsyncSession) -> None:
    """Edits and deletes act only on the stored version written in plain digits: anything else is an out-of-date
    form, never a crash nor a lenient match ("١" and "１" are 1 to int(), and version 1 is stored)."""
    team_id = id_of(await make_team(db))
    hero_id = id_of(await make_hero(db))
    routes = {
        f"/heroes/{hero_id}": HERO,
        f"/heroes/{hero_id}/delete": {},
        f"/teams/{team_id}": {"name": "Z-Force", "headquarters": "Bar"},
        f"/teams/{team_id}/delete": {},
    }
    before = await database_state(db)
    for payload in CHOICES:
        for path, form in routes.items():
            assert_refused(await post(client, path, form | {"version": payload.value}), 409)
    assert await database_state(db) == before


async def test_hostile_one_time_form_id_is_a_400_page_and_changes_nothing(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    before = await database_state(db)
    # A one-time id is 16 to 64 of A-Z a-z 0-9 _ -; the huge number is one, the others are not.
    for payload in [hostile for hostile in CHOICES if hostile.id != "huge"]:
        for path, form in (("/heroes", HERO), (f"/heroes/{hero_id}", HERO | {"version": "1"})):
            assert_refused(await post(client, path, form | {"_once": payload.value}), 400)
    assert await database_state(db) == before


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
        confirm = await get(client, f"/teams/{team_id}/delete")
        assert_shown(confirm, text)
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
        await check_history_and_trash(client, "team", team_id, text, confirm)


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
    version = next(team["version"] for team in before if team["id"] == team_id)
    form = {"name": "Preventers", "headquarters": "Sharp Tower", field: value, "version": str(version)}
    response = await post(client, f"/teams/{team_id}", form, htmx=htmx)
    if not valid_text(value, LIMITS[field]):
        assert_refused(response, 422)
        assert field_error(response.text, f"team-{team_id}-{field}" if htmx else f"team-form-{field}")
        assert await snapshot(db, Team) == before
        return
    assert response.status_code == (200 if htmx else 303)
    after = await snapshot(db, Team)
    (stored,) = [team for team in after if team["id"] == team_id]
    assert stored[field] == value.strip()
    if htmx:
        assert_shown(response.text, value.strip())
        assert cell_texts(response.text, f"team-{team_id}")[TEAM_COLUMNS[field]] == collapsed(value)
    elif field == "name":
        assert_shown(await get(client, f"/teams/{team_id}"), value.strip())
        stale = {"name": "Someone else", "headquarters": "Sharp Tower", "version": str(stored["version"] - 1)}
        await check_conflict(client, f"/teams/{team_id}", stale, "team-form", stored["name"])
        assert await snapshot(db, Team) == after


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

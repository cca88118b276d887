"""Deleting heroes: the confirmation page, post/redirect/get with a toast, the htmx answer that removes the row.

A delete moves the hero to the trash (restore, purge and Undo have their own file); it sends the version the
confirmation form or the row's Delete button carries, as a browser would.
"""

from __future__ import annotations

import json

from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX
from tests.factories import (
    all_heroes,
    audit_entries,
    database_state,
    fetch_hero,
    fetch_team,
    form_fields,
    id_of,
    make_hero,
    make_team,
)
from tests.markup import parse
from webapp.models import Hero

Client = AsyncTestClient[Litestar]

TRASH_NOTE = "It goes to the trash, where it can be restored."


def toast(response: Response) -> str:
    return parse(response.text).by_id("toasts").text


def moved(name: str) -> str:
    """The status message after a delete, as read on the page: the message, then its Undo button."""
    return f"Moved hero {name} to the trash. Undo"


async def stored(db: AsyncSession, hero_id: int) -> Hero:
    """The hero as stored, in the trash or not. Ends its read transaction (SQLite writers wait for it)."""
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    await db.commit()
    return hero


async def delete(client: Client, hero_id: int) -> Response:
    """Open the confirmation page and press Delete, as a browser without JavaScript does."""
    form = form_fields((await client.get(f"/heroes/{hero_id}/delete")).text, "hero-delete")
    return await client.post(f"/heroes/{hero_id}/delete", data=form, follow_redirects=False)


async def delete_from_the_row(client: Client, hero_id: int) -> Response:
    """Press the list row's Delete button, as htmx does: it posts the values the button carries."""
    button = (
        parse((await client.get("/heroes")).text)
        .by_id(f"hero-{hero_id}")
        .find("a", hx_post=f"/heroes/{hero_id}/delete")
    )
    return await client.post(button.attrs["hx-post"], data=json.loads(button.attrs["hx-vals"]), headers=HTMX)


# --- the confirmation page ------------------------------------------------------------------------------------


async def test_confirm_delete_page_has_a_delete_button_in_a_post_form(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    response = await client.get(f"/heroes/{hero_id}/delete")
    assert response.status_code == 200
    assert "<html" in response.text
    page = parse(response.text)
    assert page.find("h1").text == "Delete hero"
    form = page.by_id("hero-delete")
    assert (form.tag, form.attrs["method"], form.attrs["action"]) == ("form", "post", f"/heroes/{hero_id}/delete")
    assert form.find("button", type="submit").text == "Delete"
    assert "Deadpond" in form.text


async def test_confirm_delete_page_says_it_goes_to_the_trash_and_carries_the_version(
    client: Client, db: AsyncSession
) -> None:
    hero = await make_hero(db, name="Deadpond")
    hero.version = 5
    db.add(hero)
    await db.commit()
    response = await client.get(f"/heroes/{id_of(hero)}/delete")
    assert TRASH_NOTE in parse(response.text).by_id("hero-delete").text
    assert form_fields(response.text, "hero-delete")["version"] == "5"


async def test_confirm_delete_page_names_the_team(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", team=await make_team(db, name="Z-Force")))
    form = parse((await client.get(f"/heroes/{hero_id}/delete")).text).by_id("hero-delete")
    assert "Deadpond of Z-Force" in form.text


async def test_confirm_delete_page_cancel_goes_back_to_the_hero(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    form = parse((await client.get(f"/heroes/{hero_id}/delete")).text).by_id("hero-delete")
    assert form.find("a", href=f"/heroes/{hero_id}").text == "Cancel"


async def test_confirm_delete_page_does_not_delete(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    await client.get(f"/heroes/{hero_id}/delete")
    hero = await stored(db, hero_id)
    assert (hero.deleted_at, hero.version) == (None, 1)


async def test_confirm_delete_htmx_returns_the_confirmation_fragment(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await client.get(f"/heroes/{hero_id}/delete", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert parse(response.text).by_id("hero-delete").find("button").text == "Delete"


# --- plain browser: post/redirect/get -------------------------------------------------------------------------


async def test_delete_hero_redirects_303_to_the_list_and_moves_it_to_the_trash(
    client: Client, db: AsyncSession
) -> None:
    hero_id = id_of(await make_hero(db))
    response = await delete(client, hero_id)
    assert response.status_code == 303
    assert response.headers["location"] == "/heroes"
    hero = await stored(db, hero_id)
    assert hero.deleted_at is not None
    assert (hero.deleted_by, hero.version) == ("eddie", 2)
    entries = [(e.action, e.record_type, e.record_id, e.username) for e in await audit_entries(db)]
    assert entries == [("delete", "hero", hero_id, "eddie")]


async def test_delete_hero_leaves_the_list_and_the_count(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    other_id = id_of(await make_hero(db, name="Rusty-Man"))
    await delete(client, hero_id)
    page = parse((await client.get("/heroes")).text)
    assert [row.attrs["id"] for row in page.by_id("hero-rows").find_all("tr")] == [f"hero-{other_id}"]
    assert page.by_id("hero-summary").text == "1 hero"


async def test_delete_hero_toast_shows_once_after_the_redirect(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    response = await delete(client, hero_id)
    landing = await client.get(response.headers["location"])
    assert landing.status_code == 200
    assert toast(landing) == moved("Deadpond")
    assert not parse(landing.text).has(id=f"hero-{hero_id}")
    assert toast(await client.get("/heroes")) == ""


async def test_delete_hero_keeps_its_team_and_the_other_heroes(client: Client, db: AsyncSession) -> None:
    team = await make_team(db)
    team_id = id_of(team)
    hero_id = id_of(await make_hero(db, name="Deadpond", team=team))
    other_id = id_of(await make_hero(db, name="Rusty-Man", team=team))
    await delete(client, hero_id)
    # The trashed hero keeps its team, so a restore puts it back where it was.
    heroes = [(hero.id, hero.team_id, hero.deleted_at is None, hero.version) for hero in await all_heroes(db)]
    assert heroes == [(hero_id, team_id, False, 2), (other_id, team_id, True, 1)]
    kept_team = await fetch_team(db, team_id)
    assert kept_team is not None
    assert (kept_team.deleted_at, kept_team.version) == (None, 1)


async def test_delete_hero_already_in_the_trash_is_409_and_changes_nothing(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    assert (await delete(client, hero_id)).status_code == 303
    before = await database_state(db)
    # A fresh request (no one-time id of a sent form) at the version the trashed hero has now.
    second = await client.post(f"/heroes/{hero_id}/delete", data={"version": "2"}, follow_redirects=False)
    assert second.status_code == 409
    assert "<html" in second.text
    alert = parse(second.text).find(role="alert")
    assert "This hero was deleted" in alert.text
    assert alert.find("a", href="/trash").text == "Open the Trash"
    assert "flash" not in second.headers.get("set-cookie", "")
    assert await database_state(db) == before


async def test_delete_hero_without_its_current_version_is_409_and_keeps_it(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    for data in ({}, {"version": ""}, {"version": "abc"}, {"version": "0"}, {"version": "2"}):
        response = await client.post(f"/heroes/{hero_id}/delete", data=data, follow_redirects=False)
        assert response.status_code == 409, data
        assert form_fields(response.text, "hero-delete")["version"] == "1", data
    hero = await stored(db, hero_id)
    assert (hero.deleted_at, hero.version) == (None, 1)


async def test_deleted_hero_pages_are_404_pointing_to_the_trash(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    await delete(client, hero_id)
    for suffix in ("", "/edit", "/delete"):
        response = await client.get(f"/heroes/{hero_id}{suffix}")
        assert response.status_code == 404, suffix
        assert "It is in the Trash" in parse(response.text).find(role="alert").text, suffix


# --- htmx: the row goes, the count and the toast come out of band ---------------------------------------------


async def test_delete_hero_htmx_returns_200_without_a_row(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await delete_from_the_row(client, hero_id)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<tr" not in response.text
    hero = await stored(db, hero_id)
    assert (hero.deleted_at is not None, hero.deleted_by, hero.version) == (True, "eddie", 2)


async def test_delete_hero_htmx_updates_the_count_out_of_band(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    await make_hero(db, name="Rusty-Man")
    await make_hero(db, name="Spider-Boy")
    response = await delete_from_the_row(client, hero_id)
    summary = parse(response.text).by_id("hero-summary")
    assert summary.attrs["hx-swap-oob"] == "true"
    assert summary.text == "2 heroes"


async def test_delete_last_hero_htmx_shows_the_empty_state(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await delete_from_the_row(client, hero_id)
    assert "No heroes yet" in parse(response.text).by_id("hero-summary").text


async def test_delete_hero_htmx_sends_the_toast_out_of_band(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    response = await delete_from_the_row(client, hero_id)
    toasts = parse(response.text).by_id("toasts")
    assert toasts.attrs["hx-swap-oob"] == "innerHTML"
    assert toasts.text == moved("Deadpond")


async def test_delete_hero_htmx_does_not_leave_a_toast_for_the_next_page(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    await delete_from_the_row(client, hero_id)
    assert toast(await client.get("/heroes")) == ""


async def test_delete_hero_twice_htmx_is_409_alert_saying_it_is_in_the_trash(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    await delete_from_the_row(client, hero_id)
    response = await client.post(f"/heroes/{hero_id}/delete", data={"version": "2"}, headers=HTMX)
    assert response.status_code == 409
    assert "<html" not in response.text
    assert response.headers["hx-retarget"] == "#toasts"
    assert "This hero was deleted" in parse(response.text).find(role="alert").text
    assert (await stored(db, hero_id)).version == 2

"""One-time form ids: the same form sent twice (a double click, a retry) changes things once, and the second
answer leads where the first did and says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.concurrent import Overlap, concurrent_client
from tests.conftest import HTMX, Clock
from tests.markup import parse
from tests.support import (
    all_heroes,
    audit_entries,
    database_state,
    fetch_hero,
    form_fields,
    id_of,
    make_hero,
)

Client = AsyncTestClient[Litestar]

REPEAT = "That form had already been sent, so it was saved only once."
NEW_HERO = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": "48"}


async def _post(client: Client, path: str, data: dict[str, str], headers: dict[str, Any] | None = None) -> Any:
    return await client.post(path, data=data, headers=headers, follow_redirects=False)


async def _new_hero_form(client: Client, headers: dict[str, Any] | None = None) -> dict[str, str]:
    response = await client.get("/heroes/new", headers=headers)
    assert response.status_code == 200
    return form_fields(response.text, "hero-form") | NEW_HERO


async def _toast_after(client: Client, response: Any) -> str:
    """The status message on the page a redirect leads to (it travels in the flash cookie)."""
    page = await client.get(response.headers["location"])
    return parse(page.text).by_id("toasts").text


def _actions(entries: list[Any], record_type: str = "hero") -> list[str]:
    return [entry.action for entry in entries if entry.record_type == record_type]


# --- the same form twice ----------------------------------------------------------------------------------------


async def test_create_form_sent_twice_stores_one_hero_and_leads_to_it(client: Client, db: AsyncSession) -> None:
    form = await _new_hero_form(client)

    first = await _post(client, "/heroes", form)
    second = await _post(client, "/heroes", form)

    heroes = await all_heroes(db)
    assert [hero.name for hero in heroes] == ["Deadpond"]
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"] == f"/heroes/{id_of(heroes[0])}"
    assert REPEAT in await _toast_after(client, second)
    assert _actions(await audit_entries(db)) == ["create"]


async def test_create_form_sent_twice_with_htmx_leaves_the_page_and_says_so(client: Client, db: AsyncSession) -> None:
    form = await _new_hero_form(client, HTMX)

    first = await _post(client, "/heroes", form, HTMX)
    second = await _post(client, "/heroes", form, HTMX)

    assert first.status_code == 200
    assert (second.status_code, second.headers["HX-Reswap"]) == (200, "none")
    toasts = parse(second.text).by_id("toasts")
    assert (toasts.attrs["hx-swap-oob"], toasts.text) == ("innerHTML", REPEAT)
    assert [hero.name for hero in await all_heroes(db)] == ["Deadpond"]


async def test_edit_form_sent_twice_saves_once_and_the_second_is_no_conflict(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    form = form_fields((await client.get(f"/heroes/{hero_id}/edit")).text, "hero-form") | {"name": "Spider-Boy"}

    first = await _post(client, f"/heroes/{hero_id}", form)
    second = await _post(client, f"/heroes/{hero_id}", form)

    assert (first.status_code, second.status_code) == (303, 303)
    assert second.headers["location"] == f"/heroes/{hero_id}"
    assert REPEAT in await _toast_after(client, second)
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    assert (hero.name, hero.version) == ("Spider-Boy", 2)
    assert _actions(await audit_entries(db)) == ["update"]


async def test_form_sent_again_with_other_values_is_judged_as_a_new_change(client: Client, db: AsyncSession) -> None:
    """Back to the saved form, change a field, save: the same one-time id but other values. That is not a
    repeat to answer with the first result; it is a new edit on an old version, so the conflict view."""
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    form = form_fields((await client.get(f"/heroes/{hero_id}/edit")).text, "hero-form") | {"name": "Spider-Boy"}
    assert (await _post(client, f"/heroes/{hero_id}", form)).status_code == 303

    changed = await _post(client, f"/heroes/{hero_id}", form | {"age": "17"})

    assert changed.status_code == 409
    assert "Saved meanwhile" in changed.text
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    assert (hero.name, hero.age, hero.version) == ("Spider-Boy", None, 2)


async def test_delete_form_sent_twice_deletes_once(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    form = form_fields((await client.get(f"/heroes/{hero_id}/delete")).text, "hero-delete")

    first = await _post(client, f"/heroes/{hero_id}/delete", form)
    second = await _post(client, f"/heroes/{hero_id}/delete", form)

    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"] == "/heroes"
    assert REPEAT in await _toast_after(client, second)
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    assert (hero.deleted_at is not None, hero.version) == (True, 2)
    assert _actions(await audit_entries(db)) == ["delete"]


# --- twins arriving at the same moment --------------------------------------------------------------------------


@asynccontextmanager
async def _concurrent(
    app: Litestar, db: AsyncSession, clock: Clock
) -> AsyncIterator[tuple[httpx.AsyncClient, Overlap]]:
    async with concurrent_client(app, db, clock, username="twin") as concurrent:
        yield concurrent.http, concurrent.overlap


async def test_identical_creates_at_the_same_moment_store_one_hero(
    app: Litestar, db: AsyncSession, clock: Clock
) -> None:
    async with _concurrent(app, db, clock) as (http, overlap):
        form = form_fields((await http.get("/heroes/new")).text, "hero-form") | NEW_HERO
        responses = await asyncio.gather(*(http.post("/heroes", data=form) for _ in range(4)))

    heroes = await all_heroes(db)
    assert overlap.peak > 1
    assert [hero.name for hero in heroes] == ["Deadpond"]
    assert [r.status_code for r in responses] == [303] * 4
    assert {r.headers["location"] for r in responses} == {f"/heroes/{id_of(heroes[0])}"}
    assert _actions(await audit_entries(db)) == ["create"]


async def test_two_people_deleting_and_editing_at_once_the_loser_is_told_it_was_deleted(
    app: Litestar, db: AsyncSession, clock: Clock
) -> None:
    """Different forms, not twins: a delete and an edit of the same version race. Whichever loses is told the
    hero was deleted (on PostgreSQL the edit can lose after its version check, inside the UPDATE)."""
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    async with _concurrent(app, db, clock) as (http, overlap):
        edit = form_fields((await http.get(f"/heroes/{hero_id}/edit")).text, "hero-form") | {"name": "Spider-Boy"}
        delete = form_fields((await http.get(f"/heroes/{hero_id}/delete")).text, "hero-delete")
        deleted, edited = await asyncio.gather(
            http.post(f"/heroes/{hero_id}/delete", data=delete), http.post(f"/heroes/{hero_id}", data=edit)
        )

    assert overlap.peak > 1
    assert sorted((deleted.status_code, edited.status_code)) == [303, 409]
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    if hero.deleted_at is not None:  # the delete won; the edit that lost says so plainly
        assert (hero.name, deleted.status_code) == ("Deadpond", 303)
        assert "This hero was deleted" in parse(edited.text).find(role="alert").text
    else:  # the edit won; the delete was of a version that no longer exists
        assert (hero.name, edited.status_code) == ("Spider-Boy", 303)
        assert "was changed by someone else meanwhile" in deleted.text


# --- what does not count as sent --------------------------------------------------------------------------------


async def test_form_refused_for_invalid_input_can_be_sent_again_with_the_same_id(
    client: Client, db: AsyncSession
) -> None:
    form = await _new_hero_form(client)

    refused = await _post(client, "/heroes", form | {"name": ""})
    fixed = await _post(client, "/heroes", form)

    assert (refused.status_code, fixed.status_code) == (422, 303)
    assert [hero.name for hero in await all_heroes(db)] == ["Deadpond"]


async def test_malformed_form_id_is_400_and_saves_nothing(client: Client, db: AsyncSession) -> None:
    before = await database_state(db)
    for token in ("", "short", "x" * 65, "sixteen chars ok", "sixteen+chars/ok", "ünïcödé-tøken-0123"):
        response = await _post(client, "/heroes", NEW_HERO | {"_once": token})
        assert response.status_code == 400, f"_once {token!r}"
    assert await database_state(db) == before
    assert _actions(await audit_entries(db)) == []

"""One-time form ids: the same form sent twice (a double click, a retry) changes things once, and the second
answer leads where the first did and says so. Each test runs on every resource of the registry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.concurrent import Overlap, concurrent_client
from tests.markup import parse
from tests.support import (
    HTMX,
    Client,
    Clock,
    Subject,
    audit_entries,
    database_state,
    each_resource,
    form_fields,
    id_of,
)

REPEAT = "That form had already been sent, so it was saved only once."


async def _post(client: Any, path: str, data: dict[str, str], headers: dict[str, Any] | None = None) -> Any:
    return await client.post(path, data=data, headers=headers, follow_redirects=False)


async def _new_form(client: Any, subject: Subject, headers: dict[str, Any] | None = None) -> dict[str, str]:
    response = await client.get(f"{subject.path}/new", headers=headers)
    assert response.status_code == 200
    return form_fields(response.text, subject.form_id) | subject.valid()


async def _toast_after(client: Client, response: Any) -> str:
    """The status message on the page a redirect leads to (it travels in the flash cookie)."""
    page = await client.get(response.headers["location"])
    return parse(page.text).by_id("toasts").text


def _actions(entries: list[Any], record_type: str) -> list[str]:
    return [entry.action for entry in entries if entry.record_type == record_type]


# --- the same form twice ----------------------------------------------------------------------------------------


@each_resource
async def test_create_form_sent_twice_stores_one_record_and_leads_to_it(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    form = await _new_form(client, subject)

    first = await _post(client, subject.path, form)
    second = await _post(client, subject.path, form)

    records = await subject.all(db)
    assert [record.name for record in records] == [subject.valid()["name"]]
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"] == subject.url(id_of(records[0]))
    assert REPEAT in await _toast_after(client, second)
    assert _actions(await audit_entries(db), subject.name) == ["create"]


@each_resource
async def test_create_form_sent_twice_with_htmx_leaves_the_page_and_says_so(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    form = await _new_form(client, subject, HTMX)

    first = await _post(client, subject.path, form, HTMX)
    second = await _post(client, subject.path, form, HTMX)

    assert first.status_code == 200
    assert (second.status_code, second.headers["HX-Reswap"]) == (200, "none")
    toasts = parse(second.text).by_id("toasts")
    assert (toasts.attrs["hx-swap-oob"], toasts.text) == ("innerHTML", REPEAT)
    assert [record.name for record in await subject.all(db)] == [subject.valid()["name"]]


@each_resource
async def test_edit_form_sent_twice_saves_once_and_the_second_is_no_conflict(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    edit = form_fields((await client.get(subject.url(record_id, "/edit"))).text, subject.form_id)
    form = edit | {"name": "Renamed"}

    first = await _post(client, subject.url(record_id), form)
    second = await _post(client, subject.url(record_id), form)

    assert (first.status_code, second.status_code) == (303, 303)
    assert second.headers["location"] == subject.url(record_id)
    assert REPEAT in await _toast_after(client, second)
    record = await subject.stored(db, record_id)
    assert (record.name, record.version) == ("Renamed", 2)
    assert _actions(await audit_entries(db), subject.name) == ["update"]


@each_resource
async def test_form_sent_again_with_other_values_is_judged_as_a_new_change(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    """Back to the saved form, change a field, save: the same one-time id but other values. That is not a
    repeat to answer with the first result; it is a new edit on an old version, so the conflict view."""
    record_id = id_of(await subject.make(db))
    edit = form_fields((await client.get(subject.url(record_id, "/edit"))).text, subject.form_id)
    form = edit | {"name": "Renamed"}
    assert (await _post(client, subject.url(record_id), form)).status_code == 303

    changed = await _post(client, subject.url(record_id), form | {subject.other_field: "Changed"})

    assert changed.status_code == 409
    assert "Saved meanwhile" in changed.text
    assert await subject.values(db, record_id) == subject.valid() | {"name": "Renamed"}
    assert (await subject.stored(db, record_id)).version == 2


@each_resource
async def test_delete_form_sent_twice_deletes_once(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    confirm = await client.get(subject.url(record_id, "/delete"))
    form = form_fields(confirm.text, f"{subject.name}-delete")

    first = await _post(client, subject.url(record_id, "/delete"), form)
    second = await _post(client, subject.url(record_id, "/delete"), form)

    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"] == subject.path
    assert REPEAT in await _toast_after(client, second)
    record = await subject.stored(db, record_id)
    assert (record.deleted_at is not None, record.version) == (True, 2)
    assert _actions(await audit_entries(db), subject.name) == ["delete"]


# --- twins arriving at the same moment --------------------------------------------------------------------------


@asynccontextmanager
async def _concurrent(
    app: Litestar, db: AsyncSession, clock: Clock
) -> AsyncIterator[tuple[httpx.AsyncClient, Overlap]]:
    async with concurrent_client(app, db, clock, username="twin") as concurrent:
        yield concurrent.http, concurrent.overlap


@each_resource
async def test_identical_creates_at_the_same_moment_store_one_record(
    app: Litestar, db: AsyncSession, clock: Clock, subject: Subject
) -> None:
    async with _concurrent(app, db, clock) as (http, overlap):
        form = await _new_form(http, subject)
        responses = await asyncio.gather(*(http.post(subject.path, data=form) for _ in range(4)))

    records = await subject.all(db)
    assert overlap.peak > 1
    assert [record.name for record in records] == [subject.valid()["name"]]
    assert [r.status_code for r in responses] == [303] * 4
    assert {r.headers["location"] for r in responses} == {subject.url(id_of(records[0]))}
    assert _actions(await audit_entries(db), subject.name) == ["create"]


@each_resource
async def test_two_people_deleting_and_editing_at_once_the_loser_is_told_it_was_deleted(
    app: Litestar, db: AsyncSession, clock: Clock, subject: Subject
) -> None:
    """Different forms, not twins: a delete and an edit of the same version race. Whichever loses is told the
    record was deleted (on PostgreSQL the edit can lose after its version check, inside the UPDATE)."""
    record_id = id_of(await subject.make(db))
    async with _concurrent(app, db, clock) as (http, overlap):
        edit = form_fields((await http.get(subject.url(record_id, "/edit"))).text, subject.form_id)
        delete = form_fields((await http.get(subject.url(record_id, "/delete"))).text, f"{subject.name}-delete")
        deleted, edited = await asyncio.gather(
            http.post(subject.url(record_id, "/delete"), data=delete),
            http.post(subject.url(record_id), data=edit | {"name": "Renamed"}),
        )

    assert overlap.peak > 1
    assert sorted((deleted.status_code, edited.status_code)) == [303, 409]
    record = await subject.stored(db, record_id)
    if record.deleted_at is not None:  # the delete won; the edit that lost says so plainly
        assert (record.name, deleted.status_code) == (subject.valid()["name"], 303)
        assert f"This {subject.name} was deleted" in parse(edited.text).find(role="alert").text
    else:  # the edit won; the delete was of a version that no longer exists
        assert (record.name, edited.status_code) == ("Renamed", 303)
        assert "was changed by someone else meanwhile" in deleted.text


# --- what does not count as sent --------------------------------------------------------------------------------


@each_resource
async def test_form_refused_for_invalid_input_can_be_sent_again_with_the_same_id(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    form = await _new_form(client, subject)

    refused = await _post(client, subject.path, form | {"name": ""})
    fixed = await _post(client, subject.path, form)

    assert (refused.status_code, fixed.status_code) == (422, 303)
    assert [record.name for record in await subject.all(db)] == [subject.valid()["name"]]


@each_resource
async def test_malformed_form_id_is_400_and_saves_nothing(client: Client, db: AsyncSession, subject: Subject) -> None:
    before = await database_state(db)
    for token in ("", "short", "x" * 65, "sixteen chars ok", "sixteen+chars/ok", "ünïcödé-tøken-0123"):
        response = await _post(client, subject.path, subject.valid() | {"_once": token})
        assert response.status_code == 400, f"_once {token!r}"
    assert await database_state(db) == before
    assert _actions(await audit_entries(db), subject.name) == []

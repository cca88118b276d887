"""Deleting a record of any resource: the confirmation page, post/redirect/get with a toast, the htmx answer that
removes the row, and the 409s for a delete of an old version or of a record already in the trash. Each test runs
on every resource of the registry.

A delete moves the record to the trash (restore, purge and Undo are in test_trash.py); it sends the version the
confirmation form or the row's Delete button carries, as a browser would. What a team's delete does to its
heroes is in test_teams.py.
"""

from __future__ import annotations

import json

from httpx import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    HTMX,
    Client,
    Subject,
    audit_entries,
    database_state,
    each_resource,
    form_fields,
    id_of,
    is_full_page,
    toast,
)

TRASH_NOTE = "It goes to the trash, where it can be restored."


def moved(subject: Subject, name: str) -> str:
    """The status message after a delete, as read on the page: the message, then its Undo button."""
    return f"Moved {subject.name} {name} to the trash. Undo"


async def delete(client: Client, subject: Subject, record_id: int) -> Response:
    """Open the confirmation page and press Delete, as a browser without JavaScript does."""
    form = form_fields((await client.get(subject.url(record_id, "/delete"))).text, f"{subject.name}-delete")
    return await client.post(subject.url(record_id, "/delete"), data=form, follow_redirects=False)


async def delete_from_the_row(client: Client, subject: Subject, record_id: int) -> Response:
    """Press the list row's Delete button, as htmx does: it posts the values the button carries."""
    row = parse((await client.get(subject.path)).text).by_id(subject.row_id(record_id))
    button = row.find("a", hx_post=subject.url(record_id, "/delete"))
    return await client.post(button.attrs["hx-post"], data=json.loads(button.attrs["hx-vals"]), headers=HTMX)


def trash_state(record: object) -> tuple[bool, str | None, int]:
    return (record.deleted_at is not None, record.deleted_by, record.version)


# --- the confirmation page ------------------------------------------------------------------------------------


@each_resource
async def test_confirm_delete_page_has_a_delete_button_in_a_post_form(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    response = await client.get(subject.url(record_id, "/delete"))
    assert response.status_code == 200
    assert is_full_page(response.text)
    page = parse(response.text)
    assert page.find("h1").text == f"Delete {subject.name}"
    form = page.by_id(f"{subject.name}-delete")
    assert (form.tag, form.attrs["method"], form.attrs["action"]) == ("form", "post", subject.url(record_id, "/delete"))
    assert form.find("button", type="submit").text == "Delete"
    assert "Gone Soon" in form.text


@each_resource
async def test_confirm_delete_page_says_it_goes_to_the_trash_and_carries_the_version(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, version=5))
    response = await client.get(subject.url(record_id, "/delete"))
    assert TRASH_NOTE in parse(response.text).by_id(f"{subject.name}-delete").text
    assert form_fields(response.text, f"{subject.name}-delete")["version"] == "5"


@each_resource
async def test_confirm_delete_page_cancel_goes_back_to_the_record(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    form = parse((await client.get(subject.url(record_id, "/delete"))).text).by_id(f"{subject.name}-delete")
    assert form.find("a", href=subject.url(record_id)).text == "Cancel"


@each_resource
async def test_confirm_delete_page_does_not_delete(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    await client.get(subject.url(record_id, "/delete"))
    assert trash_state(await subject.stored(db, record_id)) == (False, None, 1)


@each_resource
async def test_confirm_delete_htmx_returns_the_confirmation_fragment(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    response = await client.get(subject.url(record_id, "/delete"), headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert parse(response.text).by_id(f"{subject.name}-delete").find("button").text == "Delete"


# --- plain browser: post/redirect/get -------------------------------------------------------------------------


@each_resource
async def test_delete_redirects_303_to_the_list_and_moves_it_to_the_trash(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    response = await delete(client, subject, record_id)
    assert response.status_code == 303
    assert response.headers["location"] == subject.path
    assert trash_state(await subject.stored(db, record_id)) == (True, "eddie", 2)
    entries = [(e.action, e.record_type, e.record_id, e.username) for e in await audit_entries(db)]
    assert entries == [("delete", subject.name, record_id, "eddie")]


@each_resource
async def test_delete_leaves_the_list_and_the_count(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    other_id = id_of(await subject.make(db, "Staying"))
    await delete(client, subject, record_id)
    page = parse((await client.get(subject.path)).text)
    assert [row.attrs["id"] for row in page.by_id(subject.rows_id).find_all("tr")] == [subject.row_id(other_id)]
    assert page.by_id(subject.summary_id).text == subject.resource.count(1)


@each_resource
async def test_delete_of_the_last_record_leaves_the_empty_state(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    await delete(client, subject, record_id)
    landing = parse((await client.get(subject.path)).text)
    assert not landing.has(id=subject.row_id(record_id))
    assert f"No {subject.resource.plural} yet" in landing.by_id(subject.summary_id).text


@each_resource
async def test_delete_toast_shows_once_after_the_redirect(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    response = await delete(client, subject, record_id)
    landing = await client.get(response.headers["location"])
    assert landing.status_code == 200
    assert toast(landing) == moved(subject, "Gone Soon")
    assert not parse(landing.text).has(id=subject.row_id(record_id))
    assert toast(await client.get(subject.path)) == ""


@each_resource
async def test_delete_already_in_the_trash_is_409_and_changes_nothing(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    assert (await delete(client, subject, record_id)).status_code == 303
    before = await database_state(db)
    # A fresh request (no one-time id of a sent form) at the version the trashed record has now.
    second = await client.post(subject.url(record_id, "/delete"), data={"version": "2"}, follow_redirects=False)
    assert second.status_code == 409
    assert is_full_page(second.text)
    alert = parse(second.text).find(role="alert")
    assert f"This {subject.name} was deleted" in alert.text
    assert alert.find("a", href="/trash").text == "Open the Trash"
    assert "flash" not in second.headers.get("set-cookie", "")
    assert await database_state(db) == before


@each_resource
async def test_delete_without_its_current_version_is_409_and_keeps_it(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    for data in ({}, {"version": ""}, {"version": "abc"}, {"version": "0"}, {"version": "2"}):
        response = await client.post(subject.url(record_id, "/delete"), data=data, follow_redirects=False)
        assert response.status_code == 409, data
        assert form_fields(response.text, f"{subject.name}-delete")["version"] == "1", data
    assert trash_state(await subject.stored(db, record_id)) == (False, None, 1)


# --- htmx: the row goes, the count and the toast come out of band ---------------------------------------------


@each_resource
async def test_delete_htmx_returns_200_without_a_row(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    response = await delete_from_the_row(client, subject, record_id)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<tr" not in response.text
    assert trash_state(await subject.stored(db, record_id)) == (True, "eddie", 2)


@each_resource
async def test_delete_htmx_updates_the_count_out_of_band(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    await subject.make(db, "Staying")
    await subject.make(db, "Staying Too")
    response = await delete_from_the_row(client, subject, record_id)
    summary = parse(response.text).by_id(subject.summary_id)
    assert summary.attrs["hx-swap-oob"] == "true"
    assert summary.text == subject.resource.count(2)


@each_resource
async def test_delete_last_record_htmx_shows_the_empty_state(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    response = await delete_from_the_row(client, subject, record_id)
    assert f"No {subject.resource.plural} yet" in parse(response.text).by_id(subject.summary_id).text


@each_resource
async def test_delete_htmx_sends_the_toast_out_of_band(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    response = await delete_from_the_row(client, subject, record_id)
    toasts = parse(response.text).by_id("toasts")
    assert toasts.attrs["hx-swap-oob"] == "innerHTML"
    assert toasts.text == moved(subject, "Gone Soon")


@each_resource
async def test_delete_htmx_does_not_leave_a_toast_for_the_next_page(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    await delete_from_the_row(client, subject, record_id)
    assert toast(await client.get(subject.path)) == ""


@each_resource
async def test_delete_twice_htmx_is_409_alert_saying_it_is_in_the_trash(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    await delete_from_the_row(client, subject, record_id)
    response = await client.post(subject.url(record_id, "/delete"), data={"version": "2"}, headers=HTMX)
    assert response.status_code == 409
    assert "<html" not in response.text
    assert response.headers["hx-retarget"] == "#toasts"
    assert f"This {subject.name} was deleted" in parse(response.text).find(role="alert").text
    assert (await subject.stored(db, record_id)).version == 2

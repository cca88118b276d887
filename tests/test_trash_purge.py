"""Purging from the trash and emptying it (admins only): a record goes for good and its history stays, only what
the admin saw is removed, and an id is never given again. Each test on every resource where it applies.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from httpx import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    Client,
    Clock,
    Subject,
    all_heroes,
    all_teams,
    audit_entries,
    database_state,
    each_resource,
    fetch_hero,
    form_fields,
    id_of,
    make_hero,
    make_team,
    move_to_trash,
    signed_in_as,
)
from webapp.models import Role


async def delete(client: Client, subject: Subject, record_id: int) -> Response:
    """Delete as the row's button does, at version 1 (a fresh record's)."""
    return await client.post(subject.url(record_id, "/delete"), data={"version": "1"}, follow_redirects=False)


# --- purge and empty (admins) ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.viewer, Role.editor])
@each_resource
async def test_purge_and_empty_trash_are_refused_403_to_non_admins(
    http: Client, db: AsyncSession, clock: Clock, subject: Subject, role: Role
) -> None:
    record = await subject.make(db)
    record_id = id_of(record)
    await move_to_trash(db, record)
    client = await signed_in_as(http, db, clock, role)
    before = await database_state(db)
    for method, path in [
        ("GET", subject.url(record_id, "/purge")),
        ("POST", subject.url(record_id, "/purge")),
        ("GET", "/trash/empty"),
        ("POST", "/trash/empty"),
    ]:
        assert (await client.request(method, path)).status_code == 403, (method, path)
    assert await database_state(db) == before
    trash = parse((await client.get("/trash")).text)
    assert not trash.has("a", href=subject.url(record_id, "/purge"))
    assert not trash.has("a", href="/trash/empty")


@each_resource
async def test_admin_purge_removes_the_record_for_good_and_keeps_its_history(
    http: Client, db: AsyncSession, clock: Clock, subject: Subject
) -> None:
    client = await signed_in_as(http, db, clock, Role.admin)
    record_id = id_of(await subject.make(db, "Gone Soon"))
    await delete(client, subject, record_id)
    page = await client.get(subject.url(record_id, "/purge"))
    assert page.status_code == 200
    purge_form = form_fields(page.text, "purge-form")
    assert purge_form["version"] == "2"
    response = await client.post(subject.url(record_id, "/purge"), data=purge_form, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/trash")
    assert await subject.fetch(db, record_id) is None
    entries = await audit_entries(db)
    ours = [entry.action for entry in entries if (entry.record_type, entry.record_id) == (subject.name, record_id)]
    assert ours == ["delete", "purge"]
    history = await client.get(subject.url(record_id, "/history"))
    assert history.status_code == 200
    assert "History of Gone Soon" in parse(history.text).find("h1").text


@each_resource
async def test_purge_of_a_live_record_is_refused(
    http: Client, db: AsyncSession, clock: Clock, subject: Subject
) -> None:
    client = await signed_in_as(http, db, clock, Role.admin)
    record_id = id_of(await subject.make(db))
    assert (await client.get(subject.url(record_id, "/purge"))).status_code == 404
    response = await client.post(subject.url(record_id, "/purge"), data={"version": "1"})
    assert response.status_code == 409
    assert "is not in the Trash any more" in parse(response.text).find(role="alert").text
    assert await subject.fetch(db, record_id) is not None


@each_resource
async def test_purge_of_a_record_restored_and_deleted_again_since_the_page_was_shown_is_refused(
    http: Client, db: AsyncSession, clock: Clock, subject: Subject
) -> None:
    """The purge page was opened for one deletion; the record came back and went again meanwhile: the admin
    has not seen this state, so nothing is removed for good."""
    client = await signed_in_as(http, db, clock, Role.admin)
    record_id = id_of(await subject.make(db))
    await delete(client, subject, record_id)
    purge_form = form_fields((await client.get(subject.url(record_id, "/purge"))).text, "purge-form")
    restored = await client.post(subject.url(record_id, "/restore"), data={"version": "2"}, follow_redirects=False)
    assert restored.status_code == 303
    deleted = await client.post(subject.url(record_id, "/delete"), data={"version": "3"}, follow_redirects=False)
    assert deleted.status_code == 303
    response = await client.post(subject.url(record_id, "/purge"), data=purge_form)
    assert response.status_code == 409
    assert "changed meanwhile" in parse(response.text).find(role="alert").text
    stored = await subject.stored(db, record_id)
    assert (stored.deleted_at is not None, stored.version) == (True, 4)


async def test_empty_trash_purges_everything_in_it_and_leaves_live_records(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    client = await signed_in_as(http, db, clock, Role.admin)
    trashed_hero, live_hero = await make_hero(db, name="Gone"), id_of(await make_hero(db, name="Here"))
    trashed_team, live_team = await make_team(db, name="Gone Team"), id_of(await make_team(db, name="Here Team"))
    gone = [("hero", id_of(trashed_hero)), ("team", id_of(trashed_team))]
    for record in (trashed_hero, trashed_team):
        await move_to_trash(db, record)
    clock.advance(timedelta(minutes=1))  # the app's clock, past move_to_trash's real-time stamps
    page = await client.get("/trash/empty")
    assert page.status_code == 200
    late = await make_hero(db, name="Deleted after the confirmation")
    clock.advance(timedelta(seconds=1))
    late.deleted_at, late.deleted_by = clock(), "eddie"
    db.add(late)
    await db.commit()
    late_id = id_of(late)
    response = await client.post(
        "/trash/empty", data=form_fields(page.text, "empty-trash-form"), follow_redirects=False
    )
    assert (response.status_code, response.headers["location"]) == (303, "/trash")
    stored_late = await fetch_hero(db, late_id)
    assert stored_late is not None  # not shown on the confirmation: still in the trash
    await db.delete(stored_late)
    await db.commit()
    assert [hero.id for hero in await all_heroes(db)] == [live_hero]
    assert [team.id for team in await all_teams(db)] == [live_team]
    entries = await audit_entries(db)
    assert sorted((entry.record_type, entry.record_id) for entry in entries if entry.action == "purge") == gone


@each_resource
async def test_a_new_record_never_takes_the_id_of_a_purged_one(
    http: Client, db: AsyncSession, clock: Clock, subject: Subject
) -> None:
    """History is kept by id: a new record given a purged one's id would show the old one's changes as its own."""
    client = await signed_in_as(http, db, clock, Role.admin)
    purged_id = id_of(await subject.make(db, "Old"))
    await delete(client, subject, purged_id)
    purge_form = form_fields((await client.get(subject.url(purged_id, "/purge"))).text, "purge-form")
    purged = await client.post(subject.url(purged_id, "/purge"), data=purge_form, follow_redirects=False)
    assert purged.status_code == 303
    created = await client.post(subject.path, data=subject.valid("New"), follow_redirects=False)
    assert created.status_code == 303
    assert created.headers["location"] != subject.url(purged_id)

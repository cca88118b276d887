"""Bulk delete on any resource's list: the list's bulk form, the preview (a dry run that changes nothing), and
applying it, version-aware and recorded in history like single deletes. Each test runs on every resource of the
registry. A hero's "Set team" is in test_bulk_set_team.py; what a team's bulk delete does to its heroes is in
test_bulk_teams.py.

Each test acts as a browser does: it asks for the preview with the values the list's bulk form sends, then
posts the preview's confirm form as served.
"""

from __future__ import annotations

from typing import Any

import pytest
from httpx import Response
from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    HEROES,
    Client,
    Clock,
    Subject,
    audit_entries,
    database_state,
    each_resource,
    form_fields,
    id_of,
    make_user,
    move_to_trash,
    sign_in,
)
from webapp.errors import REPEAT_MESSAGE
from webapp.listing import COUNT_CAP, SEARCH_COUNT_CAP
from webapp.models import Hero, Role

# What a delete records besides the fact: a team's lists the heroes it left without a team (none here).
DELETE_CHANGES = {"heroes": None, "teams": {"heroes": {}}}


def ticked(*records: Any) -> list[tuple[str, str]]:
    """The row checkboxes of these records, ticked: "id:version" as each row renders it."""
    return [("selected", f"{id_of(record)}:{record.version}") for record in records]


async def preview(client: Client, subject: Subject, selection: list[tuple[str, str]], criteria: str = "") -> Response:
    """Press "Delete selected" in the list's bulk form."""
    params: list[tuple[str, Any]] = [("list", criteria), *selection, ("action", "delete")]
    return await client.get(f"{subject.path}/bulk", params=params)


async def confirm(client: Client, subject: Subject, page: Response) -> Response:
    """Press the preview's Delete button."""
    form = form_fields(page.text, "bulk-confirm")
    return await client.post(f"{subject.path}/bulk/apply", data=form, follow_redirects=False)


async def landing_toast(client: Client, response: Response) -> str:
    """The status message on the page a redirect leads to."""
    assert response.status_code == 303, response.text
    return parse((await client.get(response.headers["location"])).text).by_id("toasts").text


def outcome(page: Response) -> list[str]:
    return [item.text for item in parse(page.text).by_id("bulk-outcome").find_all("li")]


def heading(page: Response) -> str:
    return parse(page.text).find("h1").text


async def edit_meanwhile(db: AsyncSession, subject: Subject, record: Any) -> None:
    """Someone else saves the record: its version moves on."""
    setattr(record, subject.other_field, getattr(record, subject.other_field) + " Jr.")
    record.version += 1
    db.add(record)
    await db.commit()


def trash_state(record: Any) -> tuple[bool, str | None, int]:
    return record.deleted_at is not None, record.deleted_by, record.version


# --- the list's bulk form -------------------------------------------------------------------------------------


@each_resource
async def test_list_bulk_form_carries_the_search_and_offers_all_matching(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    for name in ("Spider-Boy", "Spider-Girl", "Batman"):
        await subject.make(db, name)
    document = parse((await client.get(subject.path, params={"q": "Spider", "sort": "-name"})).text)
    form = document.by_id(f"{subject.name}-bulk")
    assert (form.attrs["method"], form.attrs["action"]) == ("get", f"{subject.path}/bulk")
    assert form.find("input", name="list").attrs["value"] == "q=Spider&sort=-name"
    assert document.find("label", **{"for": f"{subject.name}-all-matching"}).text == "Select all 2 matching"
    setting = [f"Set {subject.resource.targets[spec.name].name}" for spec in subject.resource.references]
    assert [b.text for b in form.find_all("button")] == [*setting, "Delete selected"]
    boxes = document.find_all("input", form=f"{subject.name}-bulk", name="selected")
    assert sorted(box.attrs["aria-label"] for box in boxes) == ["Select Spider-Boy", "Select Spider-Girl"]


@each_resource
async def test_viewer_sees_no_bulk_form_and_is_refused_both_steps(
    http: Client, db: AsyncSession, clock: Clock, subject: Subject
) -> None:
    selection = ticked(await subject.make(db))
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    document = parse((await http.get(subject.path)).text)
    assert not document.has(id=f"{subject.name}-bulk")
    assert not document.has("input", name="selected")
    before = await database_state(db)
    assert (await preview(http, subject, selection)).status_code == 403
    form = {"action": "delete", "selected": selection[0][1]}
    assert (await http.post(f"{subject.path}/bulk/apply", data=form, follow_redirects=False)).status_code == 403
    assert await database_state(db) == before


# --- delete ---------------------------------------------------------------------------------------------------


@each_resource
async def test_delete_preview_names_the_records_and_changes_nothing(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = [await subject.make(db, name) for name in ("Deadpond", "Rusty-Man", "Tarantula")]
    selection = ticked(*records[:2])
    before = await database_state(db)
    page = await preview(client, subject, selection)
    assert page.status_code == 200
    assert heading(page) == f"Move {subject.resource.count(2)} to the trash?"
    assert [li.text for li in parse(page.text).by_id("bulk-names").find_all("li")] == ["Deadpond", "Rusty-Man"]
    assert parse(page.text).by_id("bulk-confirm").find("button").text == "Delete"
    assert await database_state(db) == before


@each_resource
async def test_delete_moves_the_records_to_the_trash_each_with_its_history_entry(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = [await subject.make(db, name) for name in ("Deadpond", "Rusty-Man", "Tarantula")]
    ids = [id_of(record) for record in records]
    response = await confirm(client, subject, await preview(client, subject, ticked(*records[:2])))
    assert response.headers["location"] == subject.path
    assert await landing_toast(client, response) == f"Moved {subject.resource.count(2)} to the trash."
    assert [trash_state(await subject.stored(db, record_id)) for record_id in ids] == [
        (True, "eddie", 2),
        (True, "eddie", 2),
        (False, None, 1),
    ]
    entries = await audit_entries(db)
    changes = DELETE_CHANGES[subject.resource.plural]
    assert [(e.action, e.record_type, e.record_id, e.label, e.changes) for e in entries] == [
        ("delete", subject.name, ids[0], "Deadpond", changes),
        ("delete", subject.name, ids[1], "Rusty-Man", changes),
    ]
    assert len({entry.request_id for entry in entries}) == 1


@each_resource
async def test_delete_skips_records_changed_deleted_or_gone_since_selected_and_says_so(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    keep, edited, trashed = [await subject.make(db, name) for name in ("Deadpond", "Rusty-Man", "Tarantula")]
    keep_id, edited_id, trashed_id = id_of(keep), id_of(edited), id_of(trashed)
    selection = [*ticked(keep, edited, trashed), ("selected", "999999:1")]  # the last one was purged, say
    await edit_meanwhile(db, subject, edited)
    await move_to_trash(db, trashed, by="rita")
    page = await preview(client, subject, selection)
    one = subject.resource.count(1)
    assert outcome(page) == [
        f"{one} will move to the trash, where it can be restored.",
        f"{one} changed since you selected it, so it will be left alone: Rusty-Man.",
        f"{one} is already in the trash: Tarantula.",
        f"{one} no longer exists.",
    ]
    response = await confirm(client, subject, page)
    assert await landing_toast(client, response) == (
        f"Moved {one} to the trash. {one} changed since you selected them and was left alone. "
        f"{one} was already in the trash. {one} no longer exists."
    )
    assert (await subject.stored(db, edited_id)).deleted_at is None
    assert (await subject.stored(db, trashed_id)).deleted_by == "rita"
    assert [(e.action, e.record_id) for e in await audit_entries(db)] == [("delete", keep_id)]


@each_resource
async def test_bulk_deleted_record_is_restored_like_any_other(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    await confirm(client, subject, await preview(client, subject, [("selected", f"{record_id}:1")]))
    restore = await client.post(subject.url(record_id, "/restore"), data={"version": "2"}, follow_redirects=False)
    assert (restore.status_code, restore.headers["location"]) == (303, subject.url(record_id))
    record = await subject.stored(db, record_id)
    assert (record.deleted_at, record.version) == (None, 3)


# --- all matching ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("meanwhile", ["a record joins", "a record is edited", "a record leaves"])
@each_resource
async def test_all_matching_changed_since_the_preview_is_409_with_a_fresh_preview(
    client: Client, db: AsyncSession, subject: Subject, meanwhile: str
) -> None:
    records = [await subject.make(db, f"Spider {n}") for n in range(3)]
    page = await preview(client, subject, [("all_matching", "1")], criteria="q=Spider")
    assert heading(page) == f"Move {subject.resource.count(3)} to the trash?"
    if meanwhile == "a record joins":
        await subject.make(db, "Spider 3")
    elif meanwhile == "a record is edited":
        await edit_meanwhile(db, subject, records[0])
    else:
        await move_to_trash(db, records[0])
    before = await database_state(db)
    response = await confirm(client, subject, page)
    assert response.status_code == 409
    assert "changed after the preview" in parse(response.text).find(role="alert").text
    assert await database_state(db) == before
    # The fresh preview's own confirm form goes through.
    expected = {"a record joins": 4, "a record is edited": 3, "a record leaves": 2}[meanwhile]
    applied = await confirm(client, subject, response)
    assert await landing_toast(client, applied) == f"Moved {subject.resource.count(expected)} to the trash."


async def test_a_search_past_its_count_still_acts_on_all_matching(client: Client, db: AsyncSession) -> None:
    """A search counts to SEARCH_COUNT_CAP, fewer than a bulk action takes: past it the list offers "Select all
    matching" without a number, and the preview counts them. On heroes only: the caps are the list's."""
    await db.exec(insert(Hero), params=[{"name": f"Many {n:05d}", "secret_name": "S"} for n in range(SEARCH_COUNT_CAP)])
    await db.exec(insert(Hero), params=[{"name": "Other", "secret_name": "S"}])
    await db.commit()
    listing = parse((await client.get("/heroes", params={"q": "many"})).text)
    assert listing.by_id("hero-summary").text == "2,000 heroes match"
    assert listing.by_id("hero-bulk").find("label", **{"for": "hero-all-matching"}).text == "Select all 2,000 matching"
    await db.exec(insert(Hero), params=[{"name": "Many more", "secret_name": "S"}])
    await db.commit()
    listing = parse((await client.get("/heroes", params={"q": "many"})).text)
    assert listing.by_id("hero-summary").text == "More than 2,000 heroes match"
    form = listing.by_id("hero-bulk")
    assert form.find("label", **{"for": "hero-all-matching"}).text == "Select all matching"
    assert form.has("input", name="all_matching")
    assert "narrow the search" not in form.text
    assert form.by_id("hero-selection").text == "0 selected"
    page = await preview(client, HEROES, [("all_matching", "1")], criteria="q=many")
    assert page.status_code == 200
    assert outcome(page)[0] == "2,001 heroes will move to the trash, where each can be restored."
    applied = await confirm(client, HEROES, page)
    assert await landing_toast(client, applied) == "Moved 2,001 heroes to the trash."
    left = parse((await client.get("/heroes")).text)
    assert left.by_id("hero-summary").text == "1 hero"


async def test_all_matching_over_the_cap_is_refused_422(client: Client, db: AsyncSession) -> None:
    """On heroes only: the cap is the list's, the same for every resource, and it takes 10,001 rows to pass."""
    await db.exec(insert(Hero), params=[{"name": f"Many {n:05d}", "secret_name": "S"} for n in range(COUNT_CAP + 1)])
    await db.commit()
    listing = parse((await client.get("/heroes")).text).by_id("hero-bulk")
    assert not listing.has("input", name="all_matching")
    assert "More than 10,000 match: narrow the search to act on all of them." in listing.text
    page = await preview(client, HEROES, [("all_matching", "1")])
    assert page.status_code == 422
    assert "More than 10,000 heroes match" in page.text
    form = {"action": "delete", "all_matching": "1", "list": "", "fingerprint": "x"}
    response = await client.post("/heroes/bulk/apply", data=form, follow_redirects=False)
    assert response.status_code == 422
    assert len(await audit_entries(db)) == 0


# --- refusals and repeats ---------------------------------------------------------------------------------------


@each_resource
async def test_bare_bulk_address_leads_back_to_the_list(client: Client, subject: Subject) -> None:
    response = await client.get(f"{subject.path}/bulk", params={"list": "q=Spider"}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, f"{subject.path}?q=Spider")


@each_resource
async def test_nothing_selected_is_422_and_changes_nothing(client: Client, db: AsyncSession, subject: Subject) -> None:
    await subject.make(db)
    before = await database_state(db)
    page = await preview(client, subject, [])
    assert page.status_code == 422
    assert f"Select at least one {subject.name}" in parse(page.text).find(role="alert").text
    apply = f"{subject.path}/bulk/apply"
    response = await client.post(apply, data={"action": "delete", "list": ""}, follow_redirects=False)
    assert response.status_code == 422
    assert await database_state(db) == before


MALFORMED_SELECTED = ["abc", "1", "1:", ":1", "0:1", "1:x", "1:-1", "1:1,", "1:1,1:2", "٣:1", "99999999999:1", "1:1 "]


@each_resource
async def test_malformed_selected_value_is_a_400_page_and_changes_nothing(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    await subject.make(db)
    before = await database_state(db)
    for value in MALFORMED_SELECTED:
        page = await preview(client, subject, [("selected", value)])
        assert page.status_code == 400, value
        assert "could not be read" in page.text, value
        form = {"action": "delete", "selected": value}
        response = await client.post(f"{subject.path}/bulk/apply", data=form, follow_redirects=False)
        assert response.status_code == 400, value
    assert await database_state(db) == before


@each_resource
async def test_malformed_bulk_form_is_a_400_page(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    before = await database_state(db)
    for field, value in (("action", "purge"), ("list", "sort=secret")):
        form = {"action": "delete", "selected": f"{record_id}:1", "list": ""} | {field: value}
        response = await client.post(f"{subject.path}/bulk/apply", data=form, follow_redirects=False)
        assert response.status_code == 400, (field, value)
    assert await database_state(db) == before


@each_resource
async def test_apply_without_the_csrf_token_is_refused(client: Client, db: AsyncSession, subject: Subject) -> None:
    record = await subject.make(db)
    form = form_fields((await preview(client, subject, ticked(record))).text, "bulk-confirm")
    del form["_csrf"]
    del client.headers["X-CSRF-Token"]
    before = await database_state(db)
    response = await client.post(f"{subject.path}/bulk/apply", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert await database_state(db) == before


@each_resource
async def test_confirm_sent_twice_applies_once(client: Client, db: AsyncSession, subject: Subject) -> None:
    records = [await subject.make(db, name) for name in ("Deadpond", "Rusty-Man")]
    ids = [id_of(record) for record in records]
    form = form_fields((await preview(client, subject, ticked(*records))).text, "bulk-confirm")
    first = await client.post(f"{subject.path}/bulk/apply", data=form, follow_redirects=False)
    second = await client.post(f"{subject.path}/bulk/apply", data=form, follow_redirects=False)
    assert (first.status_code, second.status_code) == (303, 303)
    assert second.headers["location"] == first.headers["location"]
    assert await landing_toast(client, second) == REPEAT_MESSAGE
    assert [(await subject.stored(db, record_id)).version for record_id in ids] == [2, 2]
    assert [e.action for e in await audit_entries(db)] == ["delete"] * 2

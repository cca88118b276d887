"""Edit conflicts: a save or delete applies only on top of the version the user loaded; otherwise 409 with the
user's values kept beside what was saved meanwhile, and a second Save applies them on top. Each test runs on
every resource of the registry, on the full edit page and in the inline row."""

from __future__ import annotations

from typing import Any

import pytest
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
    make_user,
    subject,
)
from webapp.audit import Actor
from webapp.config import utcnow
from webapp.data import writes

htmx_or_not = pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])


async def edit_form(client: Client, subject: Subject, record_id: int, htmx: bool) -> dict[str, str]:
    """What the edit form (page or inline row) holds as served."""
    response = await client.get(subject.url(record_id, "/edit"), headers=HTMX if htmx else None)
    assert response.status_code == 200
    return form_fields(response.text, subject.form_of(record_id, htmx))


async def save(client: Client, subject: Subject, record_id: int, data: dict[str, str], htmx: bool) -> Any:
    headers = HTMX if htmx else None
    return await client.post(subject.url(record_id), data=data, headers=headers, follow_redirects=False)


async def changes_of_a_and_b(
    db: AsyncSession, subject_: Subject
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """For a record made by `make_full` (numbers 48, references to "Z-Force"): what A saves first (a name, every
    number 49), what B saves on top of the same version (another name, every reference to another record), and
    the "Saved meanwhile" value B then sees beside each field where B's value differs from what A saved."""
    a_changes, b_changes = {"name": "Changed by A"}, {"name": "Changed by B"}
    meanwhile = {"name": "Changed by A"}
    for spec in subject_.resource.fields:
        if spec.is_number:
            a_changes[spec.name] = meanwhile[spec.name] = "49"
        elif spec.references:
            other = await subject(subject_.resource.targets[spec.name]).make(db, "Other Choice")
            b_changes[spec.name] = str(id_of(other))
            meanwhile[spec.name] = "Z-Force"
    return a_changes, b_changes, meanwhile


# --- the conflict, the kept values, and saving again ------------------------------------------------------------


@htmx_or_not
@each_resource
async def test_second_save_of_one_version_is_409_with_both_values_and_saving_again_applies_it(
    client: Client, db: AsyncSession, subject: Subject, htmx: bool
) -> None:
    record_id = id_of(await subject.make_full(db))
    a_changes, b_changes, meanwhile = await changes_of_a_and_b(db, subject)
    form_a, form_b = (
        await edit_form(client, subject, record_id, htmx),
        await edit_form(client, subject, record_id, htmx),
    )
    assert form_a["version"] == form_b["version"] == "1"
    success = 200 if htmx else 303
    assert (await save(client, subject, record_id, form_a | a_changes, htmx)).status_code == success
    stored_by_a = await subject.values(db, record_id)
    b_values = form_b | b_changes

    response = await save(client, subject, record_id, b_values, htmx)

    assert response.status_code == 409
    document, prefix = parse(response.text), subject.prefix(record_id, htmx)
    again = form_fields(response.text, subject.form_of(record_id, htmx))
    for name in subject.fields:
        assert again[name] == b_values[name], f"{name}: B's value is kept"
        control = document.by_id(f"{prefix}-{name}")
        note_id = f"{prefix}-{name}-current"
        if name in meanwhile:
            assert document.by_id(note_id).text == f"Saved meanwhile: {meanwhile[name]}"
            assert note_id in control.attrs["aria-describedby"].split()
        else:
            assert not document.has(id=note_id)
    alert_scope = document.by_id("toasts") if htmx else document.by_id(subject.form_id)
    # Both forms were eddie's (two tabs of one user): the alert says so rather than naming eddie to himself.
    alert = alert_scope.find(role="alert").text
    assert f"You saved this {subject.name} in another tab or window" in alert
    assert "eddie" not in alert
    assert again["version"] == "2"
    assert await subject.values(db, record_id) == stored_by_a
    assert (await subject.stored(db, record_id)).version == 2

    assert (await save(client, subject, record_id, again, htmx)).status_code == success
    assert await subject.values(db, record_id) == {name: b_values[name] for name in subject.fields}
    assert (await subject.stored(db, record_id)).version == 3


@htmx_or_not
@each_resource
async def test_a_conflict_with_someone_else_names_them(
    client: Client, db: AsyncSession, subject: Subject, htmx: bool
) -> None:
    record_id = id_of(await subject.make(db))
    form = await edit_form(client, subject, record_id, htmx)
    rita = await make_user(db, username="rita")
    await writes.change(
        db,
        subject.resource,
        record_id,
        version=1,
        values={"name": "By Rita"},
        actor=Actor(rita.id, "rita", "t", utcnow()),
    )
    await db.commit()

    response = await save(client, subject, record_id, form | {"name": "By Eddie"}, htmx)

    assert response.status_code == 409
    scope = parse(response.text).by_id("toasts") if htmx else parse(response.text).by_id(subject.form_id)
    alert = scope.find(role="alert").text
    assert f"rita saved this {subject.name} while you were editing" in alert
    assert "another tab" not in alert


@htmx_or_not
@each_resource
async def test_cancel_after_a_conflict_leaves_the_values_saved_meanwhile(
    client: Client, db: AsyncSession, subject: Subject, htmx: bool
) -> None:
    record_id = id_of(await subject.make(db))
    form_a, form_b = (
        await edit_form(client, subject, record_id, htmx),
        await edit_form(client, subject, record_id, htmx),
    )
    await save(client, subject, record_id, form_a | {"name": "Changed by A"}, htmx)
    conflict = await save(client, subject, record_id, form_b | {"name": "Changed by B"}, htmx)
    assert conflict.status_code == 409
    (cancel,) = [a for a in parse(conflict.text).find_all("a", href=subject.url(record_id)) if a.text == "Cancel"]

    if htmx:
        response = await client.get(cancel.attrs["hx-get"], headers=HTMX)
        shown = parse(response.text).by_id(subject.row_id(record_id)).find_all("td")[0].text
    else:
        response = await client.get(cancel.attrs["href"])
        shown = parse(response.text).find("h1").text
    assert response.status_code == 200
    assert "Changed by A" in shown
    assert (await subject.stored(db, record_id)).name == "Changed by A"


# --- deleted meanwhile ------------------------------------------------------------------------------------------


@htmx_or_not
@each_resource
async def test_saving_a_record_deleted_meanwhile_is_409_with_a_link_to_the_trash(
    client: Client, db: AsyncSession, subject: Subject, htmx: bool
) -> None:
    record_id = id_of(await subject.make(db))
    form_a, form_b = (
        await edit_form(client, subject, record_id, htmx),
        await edit_form(client, subject, record_id, htmx),
    )
    deleted = await client.post(
        subject.url(record_id, "/delete"), data={"version": form_a["version"]}, follow_redirects=False
    )
    assert deleted.status_code == 303
    before = await database_state(db)

    response = await save(client, subject, record_id, form_b | {"name": "Changed by B"}, htmx)

    assert response.status_code == 409
    alert = parse(response.text).find(role="alert")
    assert f"This {subject.name} was deleted" in alert.text
    assert "Your change was not saved" in alert.text
    assert alert.find("a", href="/trash").text == "Open the Trash"
    if htmx:
        assert response.headers["HX-Retarget"] == "#toasts"
    else:
        assert parse(response.text).find("h1").text == f"This {subject.name} was deleted"
    assert await database_state(db) == before


# --- versions that do not match ---------------------------------------------------------------------------------


@each_resource
async def test_save_without_a_well_formed_current_version_is_409_and_saves_nothing(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    form = await edit_form(client, subject, record_id, htmx=False)
    before = await database_state(db)
    for version in (None, "", "abc", "1.0", "-1", " 1", "2", "0", "99999999999"):
        data = {name: value for name, value in form.items() if name not in {"version", "_once"}}
        data["name"] = "Changed"
        if version is not None:
            data["version"] = version
        response = await client.post(subject.url(record_id), data=data, follow_redirects=False)
        assert response.status_code == 409, f"version {version!r}"
        assert await database_state(db) == before, f"version {version!r}"
    assert [entry for entry in await audit_entries(db) if entry.record_type == subject.name] == []


@each_resource
async def test_saving_unchanged_values_keeps_the_version_and_writes_no_history(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make_full(db))
    form = await edit_form(client, subject, record_id, htmx=False)
    before = await database_state(db)

    response = await client.post(subject.url(record_id), data=form, follow_redirects=False)

    assert response.status_code == 303
    assert (await subject.stored(db, record_id)).version == 1
    assert [entry for entry in await audit_entries(db) if entry.record_type == subject.name] == []
    after = await database_state(db)
    assert (after["hero"], after["team"]) == (before["hero"], before["team"])


# --- a stale delete ---------------------------------------------------------------------------------------------


@htmx_or_not
@each_resource
async def test_deleting_a_record_changed_meanwhile_is_409_and_it_stays(
    client: Client, db: AsyncSession, subject: Subject, htmx: bool
) -> None:
    record_id = id_of(await subject.make(db))
    confirm = form_fields((await client.get(subject.url(record_id, "/delete"))).text, f"{subject.name}-delete")
    edit = await edit_form(client, subject, record_id, htmx=False)
    saved = await client.post(subject.url(record_id), data=edit | {"name": "Changed by A"}, follow_redirects=False)
    assert saved.status_code == 303

    response = await client.post(
        subject.url(record_id, "/delete"), data=confirm, headers=HTMX if htmx else None, follow_redirects=False
    )

    assert response.status_code == 409
    document = parse(response.text)
    alert = document.by_id("toasts") if htmx else document.by_id(f"{subject.name}-delete").find(role="alert")
    assert "Not deleted: Changed by A was changed by someone else meanwhile" in alert.text
    if htmx:
        assert "Changed by A" in document.by_id(subject.row_id(record_id)).text
    else:
        assert form_fields(response.text, f"{subject.name}-delete")["version"] == "2"
    record = await subject.stored(db, record_id)
    assert (record.deleted_at, record.version) == (None, 2)

"""Editing a record of any resource: the edit page, the inline row (htmx), saving with 303 or the saved row,
and invalid input (422). Each test runs on every resource of the registry.

Saves send the form back as served (its version and one-time id included); conflicts have their own file, and
what only heroes or teams have (a hero's team and age, a team's unique name) is in test_heroes_forms.py and
test_teams.py. Which values each field refuses, and with what message, is proven without a server in
tests/unit/test_record_forms.py; here a few go through HTTP to prove the page and the row show the refusal.
"""

from __future__ import annotations

import re

import pytest
from httpx import Response
from sqlalchemy import Engine, event
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    BOOSTED,
    HTMX,
    SUBJECTS,
    Client,
    Subject,
    cells,
    each_resource,
    field_message,
    form_fields,
    id_of,
    is_full_page,
    toast,
)
from webapp.submissions import TOKEN

# The cells of `make_full`'s record in a list row: its columns after the name.
FULL_ROW = {"heroes": ["Deadpond", "Dive Wilson", "48", "Z-Force"], "teams": ["Preventers", "Sharp Tower", "1"]}


def changes(subject: Subject) -> dict[str, str]:
    return {"name": "Renamed", subject.other_field: "Changed"}


async def edit_form(client: Client, subject: Subject, record_id: int, htmx: bool = False) -> dict[str, str]:
    """The edit form (full page, or the inline row) as a browser would send it back unchanged."""
    response = await client.get(subject.url(record_id, "/edit"), headers=HTMX if htmx else None)
    assert response.status_code == 200
    return form_fields(response.text, subject.form_of(record_id, htmx))


async def save(
    client: Client, subject: Subject, record_id: int, changed: dict[str, str], htmx: bool = False
) -> Response:
    """Open the edit form (page or inline row), change what is given, and send it as the browser would."""
    data = await edit_form(client, subject, record_id, htmx) | changed
    headers = HTMX if htmx else None
    return await client.post(subject.url(record_id), data=data, headers=headers, follow_redirects=False)


def fields_of(form: dict[str, str], subject: Subject) -> dict[str, str]:
    return {name: form[name] for name in subject.fields}


# --- the edit form: full page or inline row -------------------------------------------------------------------


@each_resource
async def test_edit_page_shows_the_current_values(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make_full(db))
    response = await client.get(subject.url(record_id, "/edit"))
    assert response.status_code == 200
    assert is_full_page(response.text)
    page = parse(response.text)
    assert page.find("h1").text == f"Edit {subject.name}"
    form = page.by_id(subject.form_id)
    assert (form.attrs["method"], form.attrs["action"]) == ("post", subject.url(record_id))
    served = form_fields(response.text, subject.form_id)
    assert fields_of(served, subject) == await subject.values(db, record_id)
    assert served["version"] == "1"


@each_resource
async def test_edit_htmx_returns_the_inline_row(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    response = await client.get(subject.url(record_id, "/edit"), headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    row = parse(response.text).by_id(subject.row_id(record_id))
    assert row.tag == "tr"
    form = row.find("form")
    url = subject.url(record_id)
    assert (form.attrs["method"], form.attrs["action"], form.attrs["hx-post"]) == ("post", url, url)
    assert form.find("button", type="submit").text == "Save"
    assert {button.text for button in parse(response.text).find_all("button")} == {"Save"}
    controls = {node.attrs["name"]: node for node in row.find_all(form=form.attrs["id"])}
    assert list(controls) == list(subject.fields)
    assert [node.attrs["aria-label"] for node in controls.values()] == [spec.label for spec in subject.resource.fields]
    assert [name for name, node in controls.items() if node.tag == "select"] == [
        spec.name for spec in subject.resource.references
    ]
    assert form_fields(response.text, subject.form_of(record_id, htmx=True))["version"] == "1"


@each_resource
async def test_edit_htmx_row_holds_the_current_values(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make_full(db))
    response = await client.get(subject.url(record_id, "/edit"), headers=HTMX)
    served = form_fields(response.text, subject.form_of(record_id, htmx=True))
    assert fields_of(served, subject) == await subject.values(db, record_id)
    row = parse(response.text).by_id(subject.row_id(record_id))
    for spec in subject.resource.references:
        none = row.find("select", name=spec.name).find("option", value="")
        assert none.text == subject.resource.targets[spec.name].none_label


@each_resource
async def test_edit_htmx_row_cancel_restores_the_row(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    response = await client.get(subject.url(record_id, "/edit"), headers=HTMX)
    cancel = parse(response.text).by_id(subject.row_id(record_id)).find("a", href=subject.url(record_id))
    assert cancel.text == "Cancel"
    assert cancel.attrs["hx-get"] == subject.url(record_id, "/row")
    assert cancel.attrs["hx-target"] == f"#{subject.row_id(record_id)}"


@each_resource
async def test_edit_boosted_returns_the_full_page(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    response = await client.get(subject.url(record_id, "/edit"), headers=BOOSTED)
    assert "<html" in response.text
    assert parse(response.text).has("form", id=subject.form_id)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
@each_resource
async def test_edit_form_carries_the_stored_version_and_a_one_time_id(
    client: Client, db: AsyncSession, subject: Subject, htmx: bool
) -> None:
    record = await subject.make(db, version=7)
    first = await edit_form(client, subject, id_of(record), htmx)
    second = await edit_form(client, subject, id_of(record), htmx)
    assert first["version"] == second["version"] == "7"
    assert TOKEN.match(first["_once"])
    assert TOKEN.match(second["_once"])
    assert first["_once"] != second["_once"]


# --- the read-only row (what Cancel swaps back) ---------------------------------------------------------------


@each_resource
async def test_row_htmx_returns_the_read_only_row(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make_full(db))
    response = await client.get(subject.url(record_id, "/row"), headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    row = parse(response.text).by_id(subject.row_id(record_id))
    assert row.tag == "tr"
    expected = FULL_ROW[subject.resource.plural]
    assert cells(row)[: len(expected)] == expected
    assert [field.attrs.get("name") for field in row.find_all("input")] == ["selected"]  # no edit fields


@each_resource
async def test_row_plain_request_redirects_303_to_detail(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    response = await client.get(subject.url(record_id, "/row"), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == subject.url(record_id)


# --- saving: plain browser ------------------------------------------------------------------------------------


@each_resource
async def test_update_redirects_303_to_detail_and_saves(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    before = await subject.values(db, record_id)
    response = await save(client, subject, record_id, changes(subject))
    assert response.status_code == 303
    assert response.headers["location"] == subject.url(record_id)
    assert await subject.values(db, record_id) == before | changes(subject)
    assert (await subject.stored(db, record_id)).version == 2


@each_resource
async def test_update_bumps_the_version_and_the_next_form_carries_it(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    await save(client, subject, record_id, changes(subject))
    again = await edit_form(client, subject, record_id)
    assert again["version"] == "2"
    response = await client.post(subject.url(record_id), data=again | {"name": "Again"}, follow_redirects=False)
    assert response.status_code == 303
    stored = await subject.stored(db, record_id)
    assert (stored.name, stored.version) == ("Again", 3)


@each_resource
async def test_update_toast_shows_once_after_the_redirect(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    response = await save(client, subject, record_id, changes(subject))
    landing = await client.get(response.headers["location"])
    assert landing.status_code == 200
    assert toast(landing) == f"Saved {subject.name} Renamed."
    assert parse(landing.text).find("h1").text == "Renamed"
    assert toast(await client.get(response.headers["location"])) == ""


@each_resource
async def test_update_strips_surrounding_whitespace(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    await save(client, subject, record_id, {"name": " Renamed\t", subject.other_field: "\nChanged "})
    stored = await subject.stored(db, record_id)
    assert (stored.name, getattr(stored, subject.other_field)) == ("Renamed", "Changed")


@each_resource
async def test_update_leaves_other_records_alone(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    other_id = id_of(await subject.make(db, "Other"))
    before = await subject.values(db, other_id)
    await save(client, subject, record_id, changes(subject))
    assert await subject.values(db, other_id) == before
    assert (await subject.stored(db, other_id)).version == 1


@each_resource
async def test_update_sets_the_changed_columns_only(client: Client, db: AsyncSession, subject: Subject) -> None:
    """The UPDATE a save sends names the fields it changes (and the version), not every field: on SQLite setting
    a hero's name, even to the name it has, rewrites its full-text index entry. The record still comes back by
    its name from a search afterwards."""
    record_id = id_of(await subject.make(db))
    before = await subject.values(db, record_id)
    sent: list[str] = []

    def heard(_connection: object, _cursor: object, statement: str, *_rest: object) -> None:
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", heard)
    try:
        response = await save(client, subject, record_id, {subject.other_field: "Changed"})
    finally:
        event.remove(Engine, "before_cursor_execute", heard)
    assert response.status_code == 303
    table = subject.resource.model.__tablename__
    updates = [statement for statement in sent if statement.startswith(f"UPDATE {table} SET")]
    assert len(updates) == 1, updates
    assigned = re.search(r" SET (.*?) WHERE ", updates[0], re.S)
    assert assigned is not None
    assert set(re.findall(r"(\w+)=", assigned.group(1))) == {subject.other_field, "version"}
    assert await subject.values(db, record_id) == before | {subject.other_field: "Changed"}
    found = await client.get(subject.path, params={"q": before["name"]})
    assert [row.attrs["id"] for row in parse(found.text).by_id(subject.rows_id).find_all("tr")] == [
        subject.row_id(record_id)
    ]


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "\"'&"])
@each_resource
async def test_update_stores_markup_exactly_and_renders_it_escaped(
    client: Client, db: AsyncSession, subject: Subject, text: str
) -> None:
    record_id = id_of(await subject.make(db))
    response = await save(client, subject, record_id, {"name": text}, htmx=True)
    assert response.status_code == 200
    assert text not in response.text
    assert cells(parse(response.text).by_id(subject.row_id(record_id)))[0] == text
    assert (await subject.stored(db, record_id)).name == text


# --- saving: htmx inline row ----------------------------------------------------------------------------------


@each_resource
async def test_update_htmx_returns_the_saved_read_only_row(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make_full(db))
    response = await save(client, subject, record_id, changes(subject), htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.text
    row = parse(response.text).by_id(subject.row_id(record_id))
    assert row.tag == "tr"
    expected = ["Renamed", "Changed", *FULL_ROW[subject.resource.plural][2:]]
    assert cells(row)[: len(expected)] == expected
    assert [field.attrs.get("name") for field in row.find_all("input")] == ["selected"]
    stored = await subject.stored(db, record_id)
    assert (stored.name, getattr(stored, subject.other_field), stored.version) == ("Renamed", "Changed", 2)


@each_resource
async def test_update_htmx_updates_the_count_line_and_select_all_out_of_band(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    """The saved record left the list's search: the count line and "Select all N matching" both drop to 1."""
    await subject.make(db, name="Alpha One")
    leaving = id_of(await subject.make(db, name="Alpha Two"))
    data = await edit_form(client, subject, leaving, True) | {"name": "Gamma"}
    headers = HTMX | {"HX-Current-URL": f"http://testserver.local/{subject.resource.plural}?q=alpha"}
    response = await client.post(subject.url(leaving), data=data, headers=headers, follow_redirects=False)
    assert response.status_code == 200
    page = parse(response.text)
    name = subject.resource.name
    summary, bulk = page.by_id(f"{name}-summary"), page.by_id(f"{name}-bulk")
    assert (summary.attrs.get("hx-swap-oob"), bulk.attrs.get("hx-swap-oob")) == ("true", "true")
    assert summary.text.split() == ["1", name, "matches"]
    assert "Select all 1 matching" in bulk.text


@each_resource
async def test_update_htmx_sends_the_toast_out_of_band(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    response = await save(client, subject, record_id, changes(subject), htmx=True)
    toasts = parse(response.text).by_id("toasts")
    assert toasts.attrs["hx-swap-oob"] == "innerHTML"
    assert toasts.text == f"Saved {subject.name} Renamed."


@each_resource
async def test_update_htmx_does_not_leave_a_toast_for_the_next_page(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    await save(client, subject, record_id, changes(subject), htmx=True)
    assert toast(await client.get(subject.path)) == ""


# --- invalid input: 422, the message beside the field, what was typed kept, nothing saved ----------------------


# A required field left blank, on each resource: its name, and its other text field.
BLANK = [pytest.param(each, field, id=f"{each}-{field}") for each in SUBJECTS for field in ("name", each.other_field)]


def required(subject: Subject, field: str) -> str:
    return f"{subject.resource.spec(field).label} is required."


@pytest.mark.parametrize(("subject", "field"), BLANK)
async def test_update_blank_required_field_rerenders_form_422(
    client: Client, db: AsyncSession, subject: Subject, field: str
) -> None:
    record_id = id_of(await subject.make(db))
    before = await subject.values(db, record_id)
    response = await save(client, subject, record_id, {field: ""})
    assert response.status_code == 422
    assert "<html" in response.text
    form = parse(response.text).by_id(subject.form_id)
    assert form.attrs["action"] == subject.url(record_id)
    assert field_message(form, field) == required(subject, field)
    assert await subject.values(db, record_id) == before
    assert (await subject.stored(db, record_id)).version == 1


@pytest.mark.parametrize(("subject", "field"), BLANK)
async def test_update_htmx_blank_required_field_returns_row_with_error_422(
    client: Client, db: AsyncSession, subject: Subject, field: str
) -> None:
    record_id = id_of(await subject.make(db))
    before = await subject.values(db, record_id)
    response = await save(client, subject, record_id, {field: ""}, htmx=True)
    assert response.status_code == 422
    assert "<html" not in response.text
    row = parse(response.text).by_id(subject.row_id(record_id))
    assert row.tag == "tr"
    assert field_message(row, field) == required(subject, field)
    assert await subject.values(db, record_id) == before
    assert (await subject.stored(db, record_id)).version == 1


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
@each_resource
async def test_update_invalid_keeps_what_was_typed_and_marks_only_the_invalid_field(
    client: Client, db: AsyncSession, subject: Subject, htmx: bool
) -> None:
    record_id = id_of(await subject.make(db))
    typed = {"name": "", subject.other_field: ' Pedro "P" <i> '}
    response = await save(client, subject, record_id, typed, htmx)
    scope = parse(response.text).by_id(subject.form_of(record_id, htmx))
    kept = form_fields(response.text, subject.form_of(record_id, htmx))
    assert (kept["name"], kept[subject.other_field]) == ("", 'Pedro "P" <i>')
    controls = [*scope.descendants(), *parse(response.text).find_all(form=subject.form_of(record_id, htmx))]
    assert [node.attrs["name"] for node in controls if node.attrs.get("aria-invalid") == "true"] == ["name"]


@each_resource
async def test_update_invalid_sets_no_toast(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    response = await save(client, subject, record_id, {"name": ""})
    assert "flash" not in response.headers.get("set-cookie", "")
    assert toast(response) == ""


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
@each_resource
async def test_update_invalid_form_keeps_the_version_so_the_corrected_form_saves(
    client: Client, db: AsyncSession, subject: Subject, htmx: bool
) -> None:
    record_id = id_of(await subject.make(db))
    refused = await save(client, subject, record_id, {"name": ""}, htmx)
    assert refused.status_code == 422
    again = form_fields(refused.text, subject.form_of(record_id, htmx))
    assert again["version"] == "1"
    response = await client.post(
        subject.url(record_id), data=again | {"name": "Renamed"}, headers=HTMX if htmx else None, follow_redirects=False
    )
    assert response.status_code == (200 if htmx else 303)
    stored = await subject.stored(db, record_id)
    assert (stored.name, stored.version) == ("Renamed", 2)

"""Creating a record of any resource: the new form, post/redirect/get with a toast, the htmx fragment (the new
row, a fresh form, the count and the toast out of band), and invalid input (422). Each test runs on every
resource of the registry.

What only heroes or teams have (a hero's team and age, a team's unique name) is in test_heroes_forms.py and
test_teams.py. Which values each field refuses is proven without a server in tests/unit/test_record_forms.py.
"""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    BOOSTED,
    HTMX,
    SUBJECTS,
    Client,
    Subject,
    each_resource,
    field_message,
    form_fields,
    id_of,
    is_full_page,
    subject,
    toast,
)


async def full_form(db: AsyncSession, subject_: Subject) -> dict[str, str]:
    """A valid form with every field filled in: numbers 48, references to a new record named "Z-Force"."""
    form = subject_.valid()
    for spec in subject_.resource.fields:
        if spec.is_number:
            form[spec.name] = "48"
        elif spec.references:
            target = subject(subject_.resource.targets[spec.name])
            form[spec.name] = str(id_of(await target.make(db, "Z-Force")))
    return form


async def the_only(db: AsyncSession, subject: Subject) -> object:
    records = await subject.all(db)
    assert len(records) == 1, records
    return records[0]


# --- the form -------------------------------------------------------------------------------------------------


@each_resource
async def test_new_page_has_labelled_empty_fields(client: Client, subject: Subject) -> None:
    response = await client.get(f"{subject.path}/new")
    assert response.status_code == 200
    assert is_full_page(response.text)
    page = parse(response.text)
    assert page.find("h1").text == f"New {subject.name}"
    form = page.by_id(subject.form_id)
    assert (form.attrs["method"], form.attrs["action"]) == ("post", subject.path)
    labels = {label.text: label.attrs["for"] for label in form.find_all("label")}
    assert list(labels) == [spec.label for spec in subject.resource.fields]
    for label, name in zip(labels, subject.fields, strict=True):
        control = form.by_id(labels[label])
        assert control.attrs["name"] == name
        assert control.attrs.get("value", "") == ""
    assert form.find_all("button", type="submit")[0].text == "Save"
    # A one-time id (a double submit creates one record) and no version: nothing is stored yet to be stale.
    assert sorted(form_fields(response.text, subject.form_id)) == sorted(["_csrf", "_once", *subject.fields])


@each_resource
async def test_new_htmx_returns_the_form_fragment(client: Client, subject: Subject) -> None:
    response = await client.get(f"{subject.path}/new", headers=HTMX)
    assert response.status_code == 200
    assert not is_full_page(response.text)
    form = parse(response.text).by_id(subject.form_id)
    assert form.attrs["hx-post"] == subject.path
    assert form.find("h2").text == f"New {subject.name}"
    assert form.by_id(f"{subject.form_id}-name").attrs["value"] == ""


# --- plain browser: post/redirect/get -------------------------------------------------------------------------


@each_resource
async def test_create_redirects_303_to_the_new_record(client: Client, db: AsyncSession, subject: Subject) -> None:
    response = await client.post(subject.path, data=subject.valid(), follow_redirects=False)
    assert response.status_code == 303
    record = await the_only(db, subject)
    assert response.headers["location"] == subject.url(id_of(record))


@each_resource
async def test_create_stores_every_field(client: Client, db: AsyncSession, subject: Subject) -> None:
    form = await full_form(db, subject)
    await client.post(subject.path, data=form, follow_redirects=False)
    record = await the_only(db, subject)
    assert await subject.values(db, id_of(record)) == form
    assert (record.version, record.deleted_at, record.deleted_by) == (1, None, None)


@each_resource
async def test_create_strips_surrounding_whitespace(client: Client, db: AsyncSession, subject: Subject) -> None:
    typed = {name: f"  {value} \t" for name, value in subject.valid().items() if value}
    response = await client.post(subject.path, data=typed, follow_redirects=False)
    assert response.status_code == 303
    record = await the_only(db, subject)
    assert await subject.values(db, id_of(record)) == subject.valid()


@each_resource
async def test_create_accepts_text_of_the_longest_length(client: Client, db: AsyncSession, subject: Subject) -> None:
    """Lengths count characters, not bytes, on both databases."""
    longest = {spec.name: "é" * (spec.max_length or 0) for spec in subject.resource.fields if spec.max_length}
    response = await client.post(subject.path, data=subject.valid() | longest, follow_redirects=False)
    assert response.status_code == 303
    stored = await subject.values(db, id_of(await the_only(db, subject)))
    assert {name: stored[name] for name in longest} == longest


@each_resource
async def test_create_toast_shows_once_after_the_redirect(client: Client, subject: Subject) -> None:
    response = await client.post(subject.path, data=subject.valid("Created One"), follow_redirects=False)
    landing = await client.get(response.headers["location"])
    assert landing.status_code == 200
    assert toast(landing) == f"Created {subject.name} Created One."
    assert parse(landing.text).find("h1").text == "Created One"
    assert toast(await client.get(response.headers["location"])) == ""


@each_resource
async def test_create_boosted_redirects_303(client: Client, db: AsyncSession, subject: Subject) -> None:
    response = await client.post(subject.path, data=subject.valid(), headers=BOOSTED, follow_redirects=False)
    assert response.status_code == 303
    assert len(await subject.all(db)) == 1


@each_resource
async def test_create_stores_markup_exactly_and_renders_it_escaped(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    for text in ("<script>alert(1)</script>", "\"'&", "<b>Bold</b> & 'co'"):
        data = subject.valid(text) | {subject.other_field: text}
        response = await client.post(subject.path, data=data, follow_redirects=True)
        assert response.status_code == 200, text
        assert text not in response.text, text
        page = parse(response.text)
        assert page.find("h1").text == text
        assert all("src" in script.attrs for script in page.find_all("script"))
        assert not page.has("b")
    stored = [(record.name, getattr(record, subject.other_field)) for record in await subject.all(db)]
    assert stored == [(text, text) for text in ("<script>alert(1)</script>", "\"'&", "<b>Bold</b> & 'co'")]


# --- htmx: the new row, a fresh form, the count and the toast -------------------------------------------------


@each_resource
async def test_create_htmx_returns_the_new_row_out_of_band(client: Client, db: AsyncSession, subject: Subject) -> None:
    response = await client.post(subject.path, data=subject.valid(), headers=HTMX)
    assert response.status_code == 200
    assert not is_full_page(response.text)
    record_id = id_of(await the_only(db, subject))
    row = parse(response.text).by_id(subject.row_id(record_id))
    assert row.tag == "tr"
    assert row.find("td", data_label="Name").text == subject.valid()["name"]
    assert f"afterbegin:#{subject.rows_id}" in [node.attrs.get("hx-swap-oob") for node in row.ancestors()]


@each_resource
async def test_create_htmx_returns_a_fresh_empty_form(client: Client, db: AsyncSession, subject: Subject) -> None:
    response = await client.post(subject.path, data=await full_form(db, subject), headers=HTMX)
    form = parse(response.text).by_id(subject.form_id)
    assert (form.attrs["hx-post"], form.attrs["action"]) == (subject.path, subject.path)
    for name in subject.fields:
        control = form.find(name=name)
        if control.tag == "input":
            assert control.attrs["value"] == "", name
    assert not [option for option in form.find_all("option") if "selected" in option.attrs]
    assert not form.find_all(aria_invalid="true")


@each_resource
async def test_create_htmx_updates_the_count_out_of_band(client: Client, db: AsyncSession, subject: Subject) -> None:
    await subject.make(db, "Already There")
    response = await client.post(subject.path, data=subject.valid(), headers=HTMX)
    summary = parse(response.text).by_id(subject.summary_id)
    assert summary.attrs["hx-swap-oob"] == "true"
    assert summary.text == subject.resource.count(2)


@each_resource
async def test_create_htmx_sends_the_toast_out_of_band(client: Client, subject: Subject) -> None:
    response = await client.post(subject.path, data=subject.valid("Created One"), headers=HTMX)
    toasts = parse(response.text).by_id("toasts")
    assert toasts.attrs["hx-swap-oob"] == "innerHTML"
    assert toasts.text == f"Created {subject.name} Created One."


@each_resource
async def test_create_htmx_does_not_leave_a_toast_for_the_next_page(client: Client, subject: Subject) -> None:
    await client.post(subject.path, data=subject.valid(), headers=HTMX)
    assert toast(await client.get(subject.path)) == ""


# --- invalid input: 422, message beside the field, values kept, nothing stored --------------------------------

# A required field left blank, on each resource: its name, and its other text field.
BLANK = [pytest.param(each, field, id=f"{each}-{field}") for each in SUBJECTS for field in ("name", each.other_field)]


def required(subject: Subject, field: str) -> str:
    return f"{subject.resource.spec(field).label} is required."


@pytest.mark.parametrize(("subject", "field"), BLANK)
async def test_create_blank_required_field_rerenders_form_422(
    client: Client, db: AsyncSession, subject: Subject, field: str
) -> None:
    await subject.make(db, "Already There")
    response = await client.post(subject.path, data=subject.valid() | {field: "   "}, follow_redirects=False)
    assert response.status_code == 422
    assert is_full_page(response.text)
    form = parse(response.text).by_id(subject.form_id)
    assert field_message(form, field) == required(subject, field)
    assert form.find(role="alert").text
    assert len(await subject.all(db)) == 1


@pytest.mark.parametrize(("subject", "field"), BLANK)
async def test_create_htmx_blank_required_field_returns_form_fragment_422(
    client: Client, db: AsyncSession, subject: Subject, field: str
) -> None:
    response = await client.post(subject.path, data=subject.valid() | {field: ""}, headers=HTMX)
    assert response.status_code == 422
    assert not is_full_page(response.text)
    assert field_message(parse(response.text).by_id(subject.form_id), field) == required(subject, field)
    assert await subject.all(db) == []


@each_resource
async def test_create_htmx_invalid_form_still_posts_with_htmx(client: Client, subject: Subject) -> None:
    response = await client.post(subject.path, data=subject.valid() | {"name": ""}, headers=HTMX)
    form = parse(response.text).by_id(subject.form_id)
    assert (form.attrs["hx-post"], form.attrs["hx-target"]) == (subject.path, "this")


@each_resource
async def test_create_invalid_keeps_what_was_typed_and_marks_only_the_invalid_field(
    client: Client, subject: Subject
) -> None:
    typed = subject.valid() | {"name": "", subject.other_field: '  Dive "Wilson" <b> & “Co”'}
    response = await client.post(subject.path, data=typed)
    assert response.status_code == 422
    form = parse(response.text).by_id(subject.form_id)
    assert form.find(name=subject.other_field).attrs["value"] == 'Dive "Wilson" <b> & “Co”'
    assert [node.attrs["name"] for node in form.find_all(aria_invalid="true")] == ["name"]


@each_resource
async def test_create_invalid_sets_no_toast(client: Client, subject: Subject) -> None:
    response = await client.post(subject.path, data=subject.valid() | {"name": ""}, follow_redirects=False)
    assert "flash" not in response.headers.get("set-cookie", "")
    assert toast(response) == ""


@each_resource
async def test_create_empty_body_is_422_not_json(client: Client, db: AsyncSession, subject: Subject) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = await client.post(subject.path, content=b"", headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert await subject.all(db) == []

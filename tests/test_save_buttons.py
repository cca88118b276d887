"""The full-page create and edit forms offer "Save and add another" and "Save and continue editing" beside "Save":
plain submit buttons (name `then`), so they work without JavaScript; each leads (303) where it says, with the
status message. Each test runs on every resource of the registry."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import HTMX, Client, Subject, each_resource, form_fields, id_of, toast

BUTTONS = ["Save", "Save and add another", "Save and continue editing"]


def buttons(html: str, form_id: str) -> list[tuple[str, str, str]]:
    return [
        (button.text, button.attrs.get("name", ""), button.attrs.get("value", ""))
        for button in parse(html).by_id(form_id).find_all("button")
    ]


@each_resource
@pytest.mark.parametrize("page", ["/new", "/{id}/edit"])
async def test_full_page_forms_offer_the_three_saves_save_first(
    client: Client, db: AsyncSession, subject: Subject, page: str
) -> None:
    record_id = id_of(await subject.make(db))
    response = await client.get(subject.path + page.format(id=record_id))
    assert buttons(response.text, subject.form_id) == [
        ("Save", "", ""),  # first: what Enter in a field presses
        ("Save and add another", "then", "add"),
        ("Save and continue editing", "then", "edit"),
    ]


@each_resource
async def test_the_inline_new_form_has_only_save(client: Client, subject: Subject) -> None:
    response = await client.get(f"{subject.path}/new", headers=HTMX)
    assert [text for text, _name, _value in buttons(response.text, subject.form_id)] == ["Save"]


async def new_form(client: Client, subject: Subject, name: str) -> dict[str, str]:
    served = form_fields((await client.get(f"{subject.path}/new")).text, subject.form_id)
    return served | subject.valid(name)


@each_resource
async def test_save_and_add_another_leads_to_a_new_form_with_the_message(client: Client, subject: Subject) -> None:
    data = await new_form(client, subject, "First One") | {"then": "add"}
    response = await client.post(subject.path, data=data, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, f"{subject.path}/new")
    page = await client.get(response.headers["location"])
    assert toast(page) == f"Created {subject.name} First One."
    assert form_fields(page.text, subject.form_id)["name"] == ""  # a fresh form


@each_resource
async def test_save_and_continue_editing_a_new_record_leads_to_its_edit_form(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    data = await new_form(client, subject, "Kept Open") | {"then": "edit"}
    response = await client.post(subject.path, data=data, follow_redirects=False)
    assert response.status_code == 303
    record_id = id_of((await subject.all(db))[-1])
    assert response.headers["location"] == subject.url(record_id, "/edit")
    page = await client.get(response.headers["location"])
    assert toast(page) == f"Created {subject.name} Kept Open."
    assert form_fields(page.text, subject.form_id)["name"] == "Kept Open"


@each_resource
async def test_save_and_continue_editing_comes_back_to_the_edit_form_at_the_new_version(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    served = form_fields((await client.get(subject.url(record_id, "/edit"))).text, subject.form_id)
    data = served | {"name": "Renamed", "then": "edit"}
    response = await client.post(subject.url(record_id), data=data, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, subject.url(record_id, "/edit"))
    page = await client.get(response.headers["location"])
    assert toast(page) == f"Saved {subject.name} Renamed."
    again = form_fields(page.text, subject.form_id)
    assert (again["name"], again["version"]) == ("Renamed", "2")
    assert (await subject.stored(db, record_id)).name == "Renamed"


@each_resource
@pytest.mark.parametrize(("then", "goes_to"), [("add", "/new"), ("", "/{id}"), ("elsewhere", "/{id}")])
async def test_saving_an_edit_leads_where_its_button_says(
    client: Client, db: AsyncSession, subject: Subject, then: str, goes_to: str
) -> None:
    record_id = id_of(await subject.make(db))
    served = form_fields((await client.get(subject.url(record_id, "/edit"))).text, subject.form_id)
    response = await client.post(subject.url(record_id), data=served | {"then": then}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, subject.path + goes_to.format(id=record_id))

"""Breadcrumbs on every page below home: a navigation landmark named "Breadcrumb" whose links lead up the trail
(Home › Heroes › Deadpond › Edit), the last being the page itself (aria-current="page"). A resource's trails come
from the registry, so each runs on every resource."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import Client, Clock, Subject, each_resource, id_of, signed_in_as
from webapp.models import Role


def trail(html: str) -> list[tuple[str, str]]:
    """The breadcrumbs as (text, href) pairs; the last, the current page, is checked to be marked so."""
    nav = parse(html).find("nav", aria_label="Breadcrumb")
    items = nav.find("ol").find_all("li")
    current = items[-1].find(aria_current="page")
    assert [item for item in nav.descendants() if item.attrs.get("aria-current")] == [current]
    return [(item.find().text, item.find().attrs.get("href", "")) for item in items]


@each_resource
async def test_list_trail_is_home_then_the_list(client: Client, subject: Subject) -> None:
    response = await client.get(subject.path, params={"q": "x"})
    assert trail(response.text) == [("Home", "/"), (subject.resource.title, f"{subject.path}?q=x")]


@each_resource
@pytest.mark.parametrize(
    ("suffix", "last"), [("", None), ("/edit", "Edit"), ("/delete", "Delete"), ("/history", "History")]
)
async def test_record_page_trail_leads_up_to_the_list(
    client: Client, db: AsyncSession, subject: Subject, suffix: str, last: str | None
) -> None:
    record_id = id_of(await subject.make(db, "Deadpond"))
    response = await client.get(subject.url(record_id, suffix))
    assert response.status_code == 200
    expected = [("Home", "/"), (subject.resource.title, subject.path), ("Deadpond", subject.url(record_id))]
    if last:
        expected.append((last, subject.url(record_id, suffix)))
    assert trail(response.text) == expected


@each_resource
async def test_edit_page_trail_names_the_stored_record_after_a_refusal(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, "Deadpond"))
    form = parse((await client.get(subject.url(record_id, "/edit"))).text).by_id(subject.form_id)
    data = {field.attrs["name"]: field.attrs.get("value", "") for field in form.find_all("input")}
    response = await client.post(subject.url(record_id), data=data | {"name": ""})
    assert response.status_code == 422
    # A POST has no address to come back to: the page itself is named, not linked.
    assert trail(response.text)[2:] == [("Deadpond", subject.url(record_id)), ("Edit", "")]


@each_resource
async def test_new_record_trail(client: Client, subject: Subject) -> None:
    response = await client.get(f"{subject.path}/new")
    expected = [("Home", "/"), (subject.resource.title, subject.path), (f"New {subject.name}", f"{subject.path}/new")]
    assert trail(response.text) == expected


@pytest.mark.parametrize(("path", "title"), [("/activity", "Activity"), ("/trash", "Trash")])
async def test_top_level_pages_trail_is_home_then_the_page(client: Client, path: str, title: str) -> None:
    assert trail((await client.get(path)).text) == [("Home", "/"), (title, path)]


async def test_user_pages_trail_through_users(http: Client, db: AsyncSession, clock: Clock) -> None:
    admin = await signed_in_as(http, db, clock, Role.admin)
    assert trail((await admin.get("/users")).text) == [("Home", "/"), ("Users", "/users")]
    assert trail((await admin.get("/users/new")).text) == [
        ("Home", "/"),
        ("Users", "/users"),
        ("New user", "/users/new"),
    ]


@each_resource
async def test_history_of_a_record_in_the_trash_leads_to_the_list(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, "Deadpond"))
    await client.post(subject.url(record_id, "/delete"), data={"version": "1"})
    response = await client.get(subject.url(record_id, "/history"))
    assert trail(response.text) == [
        ("Home", "/"),
        (subject.resource.title, subject.path),
        ("History of Deadpond", subject.url(record_id, "/history")),
    ]


async def test_account_and_import_pages_have_trails(client: Client) -> None:
    assert trail((await client.get("/account/password")).text) == [
        ("Home", "/"),
        ("Change your password", "/account/password"),
    ]
    assert trail((await client.get("/heroes/import")).text) == [
        ("Home", "/"),
        ("Heroes", "/heroes"),
        ("Import heroes", "/heroes/import"),
    ]

"""Undo after a delete from a list stays on that list, its search, sort and page kept (defect: it went to the
record's page). The status message's Undo form carries the list's address when it is shown on the list, or for
htmx on the page that asked; the restore leads back there. Each test runs on every resource."""

from __future__ import annotations

from httpx import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import Element, parse
from tests.support import HTMX, Client, Subject, each_resource, id_of, toast


def undo_form(response: Response) -> Element:
    (form,) = parse(response.text).by_id("toasts").find_all("form")
    return form


async def submit(client: Client, form: Element) -> Response:
    data = {field.attrs["name"]: field.attrs.get("value", "") for field in form.find_all("input")}
    return await client.post(form.attrs["action"], data=data, follow_redirects=False)


def list_query(subject: Subject) -> str:
    """A list state other than the default: a search, a descending sort and the largest page size."""
    return f"q=Gone&sort=-{subject.resource.sorts[1].key}&size=100"


@each_resource
async def test_undo_of_an_htmx_delete_on_a_list_comes_back_to_that_list(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    seen = f"http://testserver.local{subject.path}?{list_query(subject)}"
    deleted = await client.post(
        subject.url(record_id, "/delete"), data={"version": "1"}, headers=HTMX | {"HX-Current-URL": seen}
    )
    form = undo_form(deleted)
    assert form.find("input", name="list").attrs["value"] == list_query(subject)

    restored = await submit(client, form)

    assert restored.status_code == 303
    assert restored.headers["location"] == f"{subject.path}?{list_query(subject)}"
    landing = await client.get(restored.headers["location"])
    assert toast(landing).startswith(f"Restored {subject.name} Gone Soon.")
    assert (await subject.stored(db, record_id)).deleted_at is None


@each_resource
async def test_undo_without_javascript_comes_back_to_the_list(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    deleted = await client.post(subject.url(record_id, "/delete"), data={"version": "1"}, follow_redirects=False)
    landing = await client.get(deleted.headers["location"])
    restored = await submit(client, undo_form(landing))
    assert (restored.status_code, restored.headers["location"]) == (303, subject.path)


@each_resource
async def test_undo_with_a_list_address_the_list_cannot_read_comes_back_to_its_start(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    form = {"version": "2", "list": "sort=nonsense&q=x"}
    await client.post(subject.url(record_id, "/delete"), data={"version": "1"})
    restored = await client.post(subject.url(record_id, "/restore"), data=form, follow_redirects=False)
    assert (restored.status_code, restored.headers["location"]) == (303, subject.path)


@each_resource
async def test_an_htmx_delete_asked_from_elsewhere_offers_an_undo_to_the_record(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    elsewhere = f"http://testserver.local{subject.url(record_id)}"
    deleted = await client.post(
        subject.url(record_id, "/delete"), data={"version": "1"}, headers=HTMX | {"HX-Current-URL": elsewhere}
    )
    form = undo_form(deleted)
    assert not form.has("input", name="list")
    restored = await submit(client, form)
    assert (restored.status_code, restored.headers["location"]) == (303, subject.url(record_id))

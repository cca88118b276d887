"""A record's page and every address under it, for any resource: the detail page and fragment, 404 for ids that
name no live record (unknown, malformed, in the trash), 405 for methods a route does not take, and Vary on
HX-Request. Each test runs on every resource of the registry; one cheap request per case, in a loop.

What only one resource's detail page shows (a hero's facts, a team's heroes) is in test_heroes_pages.py and
test_teams.py. Every path parameter of every route is also tried with hostile segments in
test_hostile_requests.py.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    HTMX,
    Client,
    Subject,
    each_resource,
    id_of,
    is_full_page,
    move_to_trash,
    vary,
)

MALFORMED_IDS = ["abc", "-1", "0", "1.5", "99999999999999999999", "2147483648", "1e3", "%20"]
ROUTES = [("GET", ""), ("GET", "/edit"), ("POST", ""), ("GET", "/delete"), ("POST", "/delete"), ("GET", "/row")]


# --- the detail page ------------------------------------------------------------------------------------------


@each_resource
async def test_detail_heading_and_title_name_the_record_and_the_page_offers_its_history(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    response = await client.get(subject.url(record_id))
    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("h1").text == "Gone Soon"
    assert page.find("title").text == "Gone Soon · Hero admin"
    history = page.by_id("history-panel").find("a", href=subject.url(record_id, "/history"))
    assert history.attrs["hx-get"] == subject.url(record_id, "/history")


@each_resource
async def test_detail_htmx_returns_the_detail_fragment(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db, **{subject.other_field: "Shown Here"}))
    response = await client.get(subject.url(record_id), headers=HTMX)
    assert response.status_code == 200
    assert not is_full_page(response.text)
    assert "Shown Here" in parse(response.text).by_id(f"{subject.name}-detail").text


# --- ids that name no live record -----------------------------------------------------------------------------


@each_resource
async def test_unknown_id_is_a_404_not_found_page(client: Client, db: AsyncSession, subject: Subject) -> None:
    await subject.make(db)
    for method, suffix in ROUTES:
        data = subject.valid("Changed") | {"version": "1"} if method == "POST" else None
        response = await client.request(method, subject.url(4242, suffix), data=data, follow_redirects=False)
        assert response.status_code == 404, (method, suffix)
        assert response.headers["content-type"].startswith("text/html"), (method, suffix)
        assert is_full_page(response.text), (method, suffix)
        assert "Not found" in [h1.text for h1 in parse(response.text).find_all("h1")], (method, suffix)
    assert [record.name for record in await subject.all(db)] == [subject.valid()["name"]]


@each_resource
async def test_malformed_id_is_a_404_page_and_changes_nothing(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    await subject.make(db)
    for record_id in MALFORMED_IDS:
        for method, suffix in ROUTES:
            data = subject.valid("Changed") | {"version": "1"} if method == "POST" else None
            response = await client.request(method, subject.url(record_id, suffix), data=data)
            assert response.status_code == 404, (record_id, method, suffix)
            assert response.headers["content-type"].startswith("text/html"), (record_id, method, suffix)
            assert is_full_page(response.text), (record_id, method, suffix)
            assert "Not found" in [h1.text for h1 in parse(response.text).find_all("h1")], (record_id, method, suffix)
    assert [(record.name, record.version) for record in await subject.all(db)] == [(subject.valid()["name"], 1)]


@each_resource
async def test_unknown_id_htmx_gets_the_alert_fragment_404(client: Client, subject: Subject) -> None:
    for suffix in ("", "/edit"):
        response = await client.get(subject.url(4242, suffix), headers=HTMX)
        assert response.status_code == 404, suffix
        assert not is_full_page(response.text), suffix
        assert [div.attrs.get("role") for div in parse(response.text).find_all("div")] == ["alert"], suffix
        assert "Not found" in parse(response.text).find(role="alert").text, suffix
        assert response.headers["hx-retarget"] == "#toasts", suffix


@each_resource
async def test_pages_of_a_record_in_the_trash_answer_404_pointing_to_the_trash(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record = await subject.make(db)
    await move_to_trash(db, record)
    for suffix, headers in (("", None), ("/edit", None), ("/delete", None), ("/row", HTMX)):
        response = await client.get(subject.url(id_of(record), suffix), headers=headers)
        assert response.status_code == 404, suffix
        assert "It is in the Trash" in parse(response.text).find(role="alert").text, suffix


# --- methods --------------------------------------------------------------------------------------------------


@each_resource
async def test_unsupported_method_is_a_405_page(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    for method in ("PUT", "DELETE", "PATCH"):
        for path in (subject.path, *(subject.url(record_id, suffix) for suffix in ("", "/edit", "/delete", "/row"))):
            response = await client.request(method, path)
            assert response.status_code == 405, (method, path)
            assert response.headers["content-type"].startswith("text/html"), (method, path)
            assert parse(response.text).find("h1").text == "Method not allowed", (method, path)


@each_resource
async def test_http_delete_method_does_not_delete_the_record(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    await client.delete(subject.url(record_id))
    record = await subject.stored(db, record_id)
    assert (record.deleted_at, record.version) == (None, 1)


@each_resource
async def test_responses_vary_on_hx_request(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    requests = [
        ("GET", subject.path, {}),
        ("GET", subject.path, HTMX),
        ("GET", subject.url(record_id), {}),
        ("GET", subject.url(record_id), HTMX),
        ("GET", subject.url(record_id, "/edit"), HTMX),
        ("GET", subject.url(record_id, "/row"), HTMX),
        ("GET", subject.url(record_id, "/row"), {}),
        ("GET", f"{subject.path}/new", {}),
        ("POST", subject.path, {}),
        ("POST", subject.path, HTMX),
        ("GET", subject.url(4242), {}),
        ("GET", subject.url(4242), HTMX),
        ("PUT", subject.url(record_id), {}),
    ]
    for method, path, headers in requests:
        response = await client.request(method, path, headers=headers, follow_redirects=False)
        assert "hx-request" in vary(response), (method, path, headers)

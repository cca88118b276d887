"""The list page of any resource: its heading, columns and rows, the selection checkbox and row actions, keyset
pages, and the htmx fragment or the whole page. Each test runs on every resource of the registry.

Records in the trash are left out of the list, its count and its pages (the trash has its own file). Search,
filters, sorting and the list's parameters have files of their own (test_list_*.py); what only one resource's
rows show (a hero's team, a team's hero count) is in test_heroes_pages.py and test_teams.py.
"""

from __future__ import annotations

import json

from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import Element, parse
from tests.support import (
    HTMX,
    Client,
    Clock,
    Subject,
    each_resource,
    id_of,
    is_full_page,
    link,
    make_user,
    move_to_trash,
    named_link,
    sign_in,
    subject,
    token,
    vary,
)
from webapp.models import Role

# What the Delete button's question says a delete does besides moving the record to the trash.
CONSEQUENCE = {"heroes": "", "teams": "No heroes are in this team. "}


def header_names(table: Element) -> list[str]:
    """A table's column headers as announced: a sortable one by its link (its order mark is aria-hidden)."""
    names = []
    for header in table.find_all("th", scope="col"):
        links = header.find_all("a")
        names.append(links[0].text if links else header.text)
    return names


def row_ids(page: Element, subject: Subject) -> list[str]:
    return [row.attrs["id"] for row in page.by_id(subject.rows_id).find_all("tr")]


def headers(subject: Subject) -> list[str]:
    return ["Name", *(column.label for column in subject.resource.columns)]


# --- the list page ----------------------------------------------------------------------------------------


@each_resource
async def test_list_page_has_heading_table_and_column_headers(client: Client, subject: Subject) -> None:
    response = await client.get(subject.path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert is_full_page(response.text)
    page = parse(response.text)
    assert [h1.text for h1 in page.find_all("h1")] == [subject.resource.title]
    table = page.find("table", aria_label=subject.resource.title)
    # Editors' rows also carry a selection checkbox (bulk actions); where it sits is not the point here.
    shown = [name for name in header_names(table) if name != "Selected"]
    assert shown[: len(headers(subject))] == headers(subject)


@each_resource
async def test_list_for_viewers_has_no_selection_column(
    http: Client, db: AsyncSession, clock: Clock, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    page = parse((await http.get(subject.path)).text)
    assert page.has("tr", id=subject.row_id(record_id))
    shown = header_names(page.find("table", aria_label=subject.resource.title))
    assert shown[: len(headers(subject))] == headers(subject)
    assert not page.has("input", type="checkbox")


@each_resource
async def test_list_row_for_editors_has_a_labelled_selection_checkbox(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    row = parse((await client.get(subject.path)).text).by_id(subject.row_id(record_id))
    assert row.find("input", type="checkbox").attrs["aria-label"] == "Select Gone Soon"


@each_resource
async def test_list_offers_the_new_record_link(client: Client, subject: Subject) -> None:
    page = parse((await client.get(subject.path)).text)
    assert page.find("a", href=f"{subject.path}/new").text == f"New {subject.name}"


@each_resource
async def test_list_row_links_to_detail_edit_and_delete(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    row = parse((await client.get(subject.path)).text).by_id(subject.row_id(record_id))
    assert row.find("a", href=subject.url(record_id)).text == "Gone Soon"
    assert row.find("a", aria_label="Edit Gone Soon").attrs["href"] == subject.url(record_id, "/edit")
    delete = row.find("a", aria_label="Delete Gone Soon")
    assert delete.attrs["href"] == subject.url(record_id, "/delete")
    assert delete.attrs["hx-post"] == subject.url(record_id, "/delete")
    consequence = CONSEQUENCE[subject.resource.plural]
    assert delete.attrs["hx-confirm"] == (
        f"Delete {subject.name} “Gone Soon”? {consequence}It goes to the trash, where it can be restored."
    )


@each_resource
async def test_list_row_delete_carries_the_stored_version(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon", version=4))
    row = parse((await client.get(subject.path)).text).by_id(subject.row_id(record_id))
    sent = json.loads(row.find("a", aria_label="Delete Gone Soon").attrs["hx-vals"])
    assert sent["version"] == "4"
    assert sent["_once"]


@each_resource
async def test_list_renders_markup_in_names_escaped(client: Client, db: AsyncSession, subject: Subject) -> None:
    text = "<script>alert(1)</script>\"'&"
    pointers = {
        spec.name: id_of(await subject_of(subject, spec.name).make(db, text)) for spec in subject.resource.references
    }
    record_id = id_of(await subject.make(db, text, **{subject.other_field: text}, **pointers))
    response = await client.get(subject.path)
    assert text not in response.text
    row = parse(response.text).by_id(subject.row_id(record_id))
    shown = [
        row.find("td", data_label=label).text for label in ("Name", subject.resource.spec(subject.other_field).label)
    ]
    assert shown == [text, text]
    for spec in subject.resource.references:
        assert row.find("td", data_label=spec.label).text == text
    assert row.find("a", aria_label=f"Edit {text}").text == "Edit"
    assert text in row.find("a", aria_label=f"Delete {text}").attrs["hx-confirm"]
    assert all("src" in script.attrs for script in parse(response.text).find_all("script"))


def subject_of(of: Subject, field: str) -> Subject:
    return subject(of.resource.targets[field])


@each_resource
async def test_list_empty_state_says_none_yet(client: Client, subject: Subject) -> None:
    page = parse((await client.get(subject.path)).text)
    assert f"No {subject.resource.plural} yet" in page.by_id(subject.summary_id).text
    assert not page.by_id(subject.rows_id).find_all("tr")


@each_resource
async def test_list_summary_counts_the_records(client: Client, db: AsyncSession, subject: Subject) -> None:
    await subject.make_many(db, 3)
    page = parse((await client.get(subject.path)).text)
    assert page.by_id(subject.summary_id).text == subject.resource.count(3)


@each_resource
async def test_list_leaves_records_in_the_trash_out_of_rows_count_and_pages(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = await subject.make_many(db, 26)
    await move_to_trash(db, records[0])
    page = parse((await client.get(subject.path)).text)
    assert row_ids(page, subject) == [subject.row_id(id_of(record)) for record in records[1:]]
    assert page.by_id(subject.summary_id).text == subject.resource.count(25)
    assert not page.has("a", rel="next")


@each_resource
async def test_list_orders_records_by_name(client: Client, db: AsyncSession, subject: Subject) -> None:
    zed = id_of(await subject.make(db, "Zed"))
    abe = id_of(await subject.make(db, "Abe"))
    page = parse((await client.get(subject.path)).text)
    assert row_ids(page, subject) == [subject.row_id(abe), subject.row_id(zed)]


# --- pages (keyset: the links say where the next page starts, not its number) -------------------------------


def ids(subject: Subject, records: list[object]) -> list[str]:
    return [subject.row_id(id_of(record)) for record in records]


@each_resource
async def test_list_first_page_shows_25_and_links_next_after_its_last_row(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = await subject.make_many(db, 30)
    response = await client.get(subject.path)
    assert row_ids(parse(response.text), subject) == ids(subject, records[:25])
    assert link(response.text, "next") == f"{subject.path}?after={token(['Item 25', id_of(records[24])])}"
    assert link(response.text, "prev") is None
    assert named_link(response.text, "First page") is None


@each_resource
async def test_list_next_page_shows_the_rest_and_links_previous_and_first_page(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = await subject.make_many(db, 30)
    following = link((await client.get(subject.path)).text, "next")
    assert following is not None
    response = await client.get(following)
    assert response.status_code == 200
    assert row_ids(parse(response.text), subject) == ids(subject, records[25:])
    assert link(response.text, "prev") == f"{subject.path}?before={token(['Item 26', id_of(records[25])])}"
    assert link(response.text, "next") is None
    first = named_link(response.text, "First page")
    assert first is not None
    assert first.attrs["href"] == subject.path


@each_resource
async def test_list_previous_link_leads_back_to_the_first_page(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = await subject.make_many(db, 30)
    after = token(["Item 25", id_of(records[24])])
    previous = link((await client.get(f"{subject.path}?after={after}")).text, "prev")
    assert previous is not None
    response = await client.get(previous)
    assert row_ids(parse(response.text), subject) == ids(subject, records[:25])
    assert link(response.text, "prev") is None
    assert link(response.text, "next") == f"{subject.path}?after={after}"


@each_resource
async def test_list_pages_have_no_page_numbers(client: Client, db: AsyncSession, subject: Subject) -> None:
    await subject.make_many(db, 60)
    nav = parse((await client.get(subject.path)).text).find("nav", aria_label=f"{subject.resource.title} pages")
    assert [a.text for a in nav.find_all("a")] == ["Next"]
    assert not nav.find_all(aria_current="page")


@each_resource
async def test_list_single_page_has_no_page_links(client: Client, db: AsyncSession, subject: Subject) -> None:
    await subject.make_many(db, 25)
    response = await client.get(subject.path)
    page = parse(response.text)
    assert len(row_ids(page, subject)) == 25
    assert not page.has("nav", aria_label=f"{subject.resource.title} pages")
    assert link(response.text, "next") is None
    assert link(response.text, "prev") is None


@each_resource
async def test_list_old_page_number_links_show_the_first_page(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = await subject.make_many(db, 30)
    for raw in ("2", "abc", "0", "-1", "-3", "99", "", "99999999999999999999"):
        response = await client.get(subject.path, params={"page": raw})
        assert response.status_code == 200, raw
        assert row_ids(parse(response.text), subject) == ids(subject, records[:25]), raw


@each_resource
async def test_list_page_links_carry_htmx_attributes(client: Client, db: AsyncSession, subject: Subject) -> None:
    await subject.make_many(db, 30)
    following = parse((await client.get(subject.path)).text).find("a", rel="next")
    assert following.attrs["hx-get"] == following.attrs["href"]
    assert following.attrs["hx-target"] == f"#{subject.name}-list"
    assert following.attrs["hx-push-url"] == "true"


# --- htmx: fragment or full page ----------------------------------------------------------------------------


@each_resource
async def test_list_htmx_returns_only_the_list_fragment(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    response = await client.get(subject.path, headers=HTMX)
    assert response.status_code == 200
    assert not is_full_page(response.text)
    page = parse(response.text)
    assert [node.attrs.get("id") for node in page.children] == [f"{subject.name}-list"]
    assert page.has("tr", id=subject.row_id(record_id))
    assert "hx-request" in vary(response)


@each_resource
async def test_list_htmx_next_page_returns_that_page(client: Client, db: AsyncSession, subject: Subject) -> None:
    records = await subject.make_many(db, 30)
    following = link((await client.get(subject.path)).text, "next")
    assert following is not None
    response = await client.get(following, headers=HTMX)
    assert "<html" not in response.text
    assert row_ids(parse(response.text), subject) == ids(subject, records[25:])


@each_resource
async def test_list_boosted_or_history_restore_returns_the_full_page(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        response = await client.get(subject.path, headers={**HTMX, header: "true"})
        assert response.status_code == 200, header
        assert is_full_page(response.text), header
        page = parse(response.text)
        assert page.find("h1").text == subject.resource.title, header
        assert page.has("tr", id=subject.row_id(record_id)), header
        assert "hx-request" in vary(response), header

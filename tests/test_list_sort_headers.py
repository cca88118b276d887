"""A list's sort headers: the order shown is announced with aria-sort on its column only, each sortable header
links to its column's sort (the other direction when it is the current one), keeping the search, filters and
size but starting from the first page; a column that cannot be sorted has no link. Each test runs on every
resource of the registry, over every sort it allows."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import Client, Subject, each_resource, link, make_roster


def sort_headers(html: str, table: str) -> dict[str, dict[str, str]]:
    """{column link name: {"href": ..., "aria-sort": ...}} for the sortable headers."""
    found = {}
    for header in parse(html).find("table", aria_label=table).find_all("th", scope="col"):
        for anchor in header.find_all("a"):
            found[anchor.text] = {"href": anchor.attrs["href"], "aria-sort": header.attrs.get("aria-sort", "")}
    return found


async def headers_for(client: Client, subject: Subject, sort: str | None = None) -> dict[str, dict[str, str]]:
    params = {"sort": sort} if sort else None
    return sort_headers((await client.get(subject.path, params=params)).text, subject.resource.title)


def sort_url(subject: Subject, sort: str) -> str:
    return subject.path if sort == "name" else f"{subject.path}?sort={sort}"


@each_resource
async def test_default_order_is_announced_on_the_name_header_only(client: Client, subject: Subject) -> None:
    headers = await headers_for(client, subject)
    expected = {sort.label: "ascending" if sort.key == "name" else "" for sort in subject.resource.sorts}
    assert {name: header["aria-sort"] for name, header in headers.items()} == expected


@each_resource
async def test_current_sort_is_announced_with_aria_sort(client: Client, subject: Subject) -> None:
    for sort in subject.resource.sorts:
        for prefix, announced in (("", "ascending"), ("-", "descending")):
            if prefix + sort.key == "name":
                continue  # the default, above
            headers = await headers_for(client, subject, prefix + sort.key)
            assert {name for name, header in headers.items() if header["aria-sort"]} == {sort.label}, prefix + sort.key
            assert headers[sort.label]["aria-sort"] == announced, prefix + sort.key


@each_resource
async def test_header_link_sorts_by_its_column_and_toggles_the_direction(client: Client, subject: Subject) -> None:
    for current in [prefix + sort.key for sort in subject.resource.sorts for prefix in ("", "-")]:
        headers = await headers_for(client, subject, current)
        for sort in subject.resource.sorts:
            target = (
                ("" if current.startswith("-") else "-") + sort.key if current.lstrip("-") == sort.key else sort.key
            )
            assert headers[sort.label]["href"] == sort_url(subject, target), (current, sort.key)


@each_resource
async def test_columns_that_cannot_be_sorted_have_no_link(client: Client, subject: Subject) -> None:
    headers = await headers_for(client, subject)
    assert set(headers) == {sort.label for sort in subject.resource.sorts}
    for column in subject.resource.columns:
        assert (column.label in headers) is (column.sort is not None), column.label


async def test_header_links_keep_search_filters_and_size_but_start_from_the_first_page(
    client: Client, db: AsyncSession
) -> None:
    await make_roster(db)
    params = {"q": "Hero", "min_age": "1", "size": "50", "sort": "age"}
    following = link((await client.get("/heroes", params=params)).text, "next")
    assert following is not None
    headers = sort_headers((await client.get(following)).text, "Heroes")
    query = parse_qs(urlsplit(headers["Age"]["href"]).query)
    assert query == {"q": ["Hero"], "min_age": ["1"], "size": ["50"], "sort": ["-age"]}


@each_resource
async def test_sort_links_carry_htmx_attributes(client: Client, subject: Subject) -> None:
    other = subject.resource.sorts[1].key
    anchor = parse((await client.get(subject.path)).text).find("a", href=sort_url(subject, other))
    assert anchor.attrs["hx-get"] == sort_url(subject, other)
    assert anchor.attrs["hx-target"] == f"#{subject.name}-list"
    assert anchor.attrs["hx-push-url"] == "true"

"""Hostile list parameters: a sort, size, position, search or filter that is not on the allow-list or not well
formed is refused with a 400 HTML page (an alert fragment for htmx) that says what is wrong, never a 500 and never
the database's error; repeated parameters use the first value and unknown ones are ignored.

Which addresses the list's parser refuses, and why, is proven without a server in tests/unit/test_list_addresses.py
(every address these tests once sent) and tests/unit/test_cursors.py; here one of each reason goes through HTTP.
"""

from __future__ import annotations

import base64

import pytest
from httpx import QueryParams, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    HTMX,
    Client,
    Subject,
    all_heroes,
    each_resource,
    is_full_page,
    link,
    make_hero,
    make_team,
    rows,
    token,
    vary,
)

REFUSED_TITLE = "This list address is not valid"
# Words from the drivers' and databases' own errors: none may reach the user.
LEAKS = ("sqlite3", "asyncpg", "psycopg", "sqlalchemy", "traceback", "operationalerror", "dataerror", "syntax error")


def raw_token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def assert_refused(response: Response) -> str:
    """A 400 page that explains itself; returns its message."""
    assert response.status_code == 400, response.text[-500:]
    assert response.headers["content-type"].startswith("text/html")
    assert is_full_page(response.text)
    page = parse(response.text)
    assert page.find("h1").text == REFUSED_TITLE
    message = page.find(role="alert").text
    assert message
    lowered = response.text.lower()
    assert not [leak for leak in LEAKS if leak in lowered]
    return message


@pytest.fixture
async def heroes(db: AsyncSession) -> None:
    await make_hero(db, name="Deadpond", age=48, team=await make_team(db, name="Z-Force"))
    await make_hero(db, name="Rusty-Man", age=None)


MALFORMED = "The position in the list is malformed. Start again from the first page."
NOT_THIS_SORT = "The position in the list does not belong to this sort order. Start again from the first page."
# A few positions no page link could hold, one for each reason a position is refused, on each resource (the whole
# table of forged positions is read by the parser alone in tests/unit/test_list_addresses.py).
POSITIONS = [
    ("", "!!!!", MALFORMED),
    ("", raw_token(b"hello"), MALFORMED),
    ("", token(["Deadpond"]), MALFORMED),
    ("", token([5, 1]), NOT_THIS_SORT),
    ("", token(["Deadpond", 2**31]), NOT_THIS_SORT),
    ("-name", token(["Dead\x00pond", 1]), NOT_THIS_SORT),
]


@each_resource
@pytest.mark.usefixtures("heroes")
async def test_list_refuses_a_malformed_position_400(client: Client, subject: Subject) -> None:
    for sort, position, reason in POSITIONS:
        for direction in ("after", "before"):
            params = {direction: position} | ({"sort": sort} if sort else {})
            assert reason in assert_refused(await client.get(subject.path, params=params)), (params, reason)


@pytest.mark.usefixtures("heroes")
async def test_hero_list_refuses_a_position_out_of_the_age_range_400(client: Client) -> None:
    response = await client.get("/heroes", params={"sort": "age", "after": token([10_001, 1])})
    assert "The position in the list is out of range." in assert_refused(response)


@pytest.mark.usefixtures("heroes")
async def test_a_position_both_after_and_before_a_row_is_refused_400(client: Client) -> None:
    position = token(["Deadpond", 1])
    message = assert_refused(await client.get("/heroes", params={"after": position, "before": position}))
    assert "both after and before" in message


@pytest.mark.usefixtures("heroes")
async def test_a_well_formed_position_for_another_sort_is_refused_not_guessed(client: Client) -> None:
    response = await client.get("/heroes", params={"sort": "age", "after": token(["Deadpond", 1])})
    assert "does not belong to this sort order" in assert_refused(response)


# A few sorts off each list's allow-list (every one the HTTP tests once sent: tests/unit/test_list_addresses.py).
SORTS = {
    "heroes": ["zzz", "-zzz", "NAME", "id", "name;DROP TABLE hero", "x" * 10_000],
    "teams": ["age", "hero_count", "--name"],
}


@each_resource
@pytest.mark.usefixtures("heroes")
async def test_list_refuses_a_sort_off_its_allow_list_400(client: Client, db: AsyncSession, subject: Subject) -> None:
    for sort in SORTS[subject.resource.plural]:
        message = assert_refused(await client.get(subject.path, params={"sort": sort}))
        assert "cannot be sorted by" in message, sort
    assert len(await all_heroes(db)) == 2


async def test_refused_sort_is_shown_escaped(client: Client) -> None:
    response = await client.get("/heroes", params={"sort": "<script>alert(1)</script>"})
    assert_refused(response)
    assert "<script>alert(1)" not in response.text


@each_resource
async def test_list_refuses_a_page_size_off_the_allow_list_400(client: Client, subject: Subject) -> None:
    for size in ("0", "7", "1000", "-1", "abc", "٢٥"):
        response = await client.get(subject.path, params={"size": size})
        assert "Per page must be one of 25, 50, 100." in assert_refused(response), size


async def test_list_accepts_a_blank_or_padded_page_size(client: Client) -> None:
    for size in ("", " ", " 50 ", "050"):
        assert (await client.get("/heroes", params={"size": size})).status_code == 200, size


# One search or filter for each reason it is refused (every one the HTTP tests once sent, and the message each
# reason gives: tests/unit/test_list_addresses.py and tests/unit/test_list_state.py).
SEARCHES = {
    "heroes": [
        ({"q": "x" * 201}, "Search is longer than 200 characters."),
        ({"q": "Dead\x00pond"}, "Search contains control characters."),
        ({"team": "x" * 101}, "Filter by team is longer than 100 characters."),
        ({"team": "Z-\x00Force"}, "Filter by team contains control characters."),
        ({"min_age": "１２"}, "Min age must be a whole number from 0 to 10,000."),
        ({"max_age": "-5"}, "Max age must be a whole number from 0 to 10,000."),
    ],
    "teams": [
        ({"q": "x" * 201}, "Search is longer than 200 characters."),
        ({"has_heroes": "maybe"}, "Has heroes must be yes, no or blank."),
    ],
}


@each_resource
@pytest.mark.usefixtures("heroes")
async def test_list_refuses_a_malformed_search_or_filter_400(client: Client, subject: Subject) -> None:
    for params, message in SEARCHES[subject.resource.plural]:
        assert message in assert_refused(await client.get(subject.path, params=params)), params


@pytest.mark.usefixtures("heroes")
async def test_hero_list_accepts_parameters_at_the_limits(client: Client) -> None:
    for params in (
        {"q": "x" * 200},
        {"team": "x" * 100},  # an unknown team: 422, the list's own answer
        {"min_age": "0", "max_age": "10000"},
        {"min_age": " 7 ", "max_age": ""},
        {"after": "", "before": ""},
    ):
        assert (await client.get("/heroes", params=params)).status_code in {200, 422}, params


async def test_htmx_request_with_a_hostile_parameter_gets_a_400_alert_fragment(client: Client) -> None:
    for params in ({"sort": "zzz"}, {"size": "7"}, {"after": "!!!!"}, {"min_age": "abc"}):
        response = await client.get("/heroes", params=params, headers=HTMX)
        assert response.status_code == 400, params
        assert not is_full_page(response.text), params
        assert response.headers["hx-retarget"] == "#toasts", params
        assert parse(response.text).find(role="alert").text, params
        assert "hx-request" in vary(response), params


@pytest.mark.usefixtures("heroes")
async def test_sql_in_a_sort_or_search_changes_nothing(client: Client, db: AsyncSession) -> None:
    assert (await client.get("/heroes", params={"sort": "name; DROP TABLE hero; --"})).status_code == 400
    assert (await client.get("/heroes", params={"q": "'; DROP TABLE hero; --"})).status_code == 200
    assert (await client.get("/teams", params={"q": '"); DROP TABLE team; --'})).status_code == 200
    assert len(await all_heroes(db)) == 2
    assert len(rows((await client.get("/heroes")).text)) == 2


# --- repeated and unknown parameters -------------------------------------------------------------------------


@pytest.mark.usefixtures("heroes")
async def test_a_repeated_parameter_counts_by_its_first_value(client: Client) -> None:
    for params, expected in (
        ([("q", "Deadpond"), ("q", "Rusty")], ["Deadpond"]),
        ([("sort", "-name"), ("sort", "zzz")], ["Rusty-Man", "Deadpond"]),
        ([("min_age", "40"), ("min_age", "abc")], ["Deadpond"]),
        ([("team", "No team"), ("team", "Z-Force")], ["Rusty-Man"]),
    ):
        response = await client.get("/heroes", params=QueryParams(tuple(params)))
        assert response.status_code == 200, params
        assert [cell.text for cell in parse(response.text).find_all("td", data_label="Name")] == expected, params


@pytest.mark.usefixtures("heroes")
async def test_a_repeated_parameter_whose_first_value_is_hostile_is_refused(client: Client) -> None:
    assert_refused(await client.get("/heroes", params=QueryParams([("sort", "zzz"), ("sort", "name")])))


@pytest.mark.usefixtures("heroes")
async def test_unknown_parameters_are_ignored_and_left_out_of_the_links(client: Client, db: AsyncSession) -> None:
    for n in range(30):
        await make_hero(db, name=f"Extra {n:02d}")
    params = {"page": "2", "foo": "<b>bar</b>", "has_heroes": "maybe", "utm_source": "x", "sort_by": "id"}
    response = await client.get("/heroes", params=params)
    assert response.status_code == 200
    assert rows(response.text) == rows((await client.get("/heroes")).text)
    following = link(response.text, "next")
    assert following is not None
    assert not [name for name in params if f"{name}=" in following]
    assert "<b>bar</b>" not in response.text


async def test_team_list_ignores_the_hero_lists_filters(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers")
    response = await client.get("/teams", params={"team": "Nobody", "min_age": "abc", "max_age": "-1"})
    assert response.status_code == 200
    assert len(rows(response.text, "team-rows")) == 1

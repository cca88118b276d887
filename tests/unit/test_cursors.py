"""Positions in a list (keyset cursors, webapp.listing): what a URL's `after`/`before` may hold, checked against
the sort it belongs to. A client can send anything there, so every shape it could forge is refused with a
message, never passed to the database."""

from __future__ import annotations

import base64

import pytest

from webapp.listing import CURSOR_MAX, BadList, Cursor, ListState, parse
from webapp.registry import HEROES, TEAMS
from webapp.resource import Resource

MALFORMED = "The position in the list is malformed. Start again from the first page."
NOT_THIS_SORT = "The position in the list does not belong to this sort order. Start again from the first page."
OUT_OF_RANGE = "The position in the list is out of range."


def forged(raw: str | bytes) -> str:
    """A cursor as a client could make one: any bytes, base64 (URL-safe, unpadded, as ours are)."""
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def at(token: str, sort: str = "name", resource: Resource = HEROES, key: str = "after") -> ListState:
    return parse(resource, {"sort": sort, key: token}, default_size=25)


def refusal(token: str, sort: str = "name", resource: Resource = HEROES) -> str:
    with pytest.raises(BadList) as caught:
        at(token, sort, resource)
    return str(caught.value)


# --- round trips --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "sort", "cursor"),
    [
        (HEROES, "name", Cursor("Ann", 7)),
        (HEROES, "name", Cursor("Zoë «Ж» 🦸", 7)),
        (HEROES, "secret_name", Cursor("", 1)),
        (HEROES, "team", Cursor("Avengers", 2**31 - 1)),
        (HEROES, "age", Cursor(30, 7)),
        (HEROES, "age", Cursor(0, 7)),
        (HEROES, "age", Cursor(10_000, 7)),
        (HEROES, "age", Cursor(None, 7)),
        (HEROES, "team", Cursor(None, 7)),
        (TEAMS, "headquarters", Cursor("x" * 200, 7)),
    ],
)
def test_cursor_token_round_trips(resource: Resource, sort: str, cursor: Cursor) -> None:
    assert at(cursor.token, sort, resource).after == cursor
    assert at(cursor.token, sort, resource, key="before").before == cursor


def test_cursor_token_is_url_safe_and_unpadded() -> None:
    token = Cursor("??>>~~ÿ", 1).token
    assert "=" not in token
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_cursor_is_written_back_in_the_url_as_read() -> None:
    token = Cursor(30, 7).token
    assert at(token, "-age").url("/heroes") == f"/heroes?sort=-age&after={token}"


def test_descending_sort_takes_the_same_cursor() -> None:
    assert at(Cursor(30, 7).token, "-age").after == Cursor(30, 7)


# --- values of the wrong kind for the sort ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "sort", "cursor"),
    [
        (HEROES, "name", Cursor(None, 7)),
        (HEROES, "secret_name", Cursor(None, 7)),
        (TEAMS, "name", Cursor(None, 7)),
        (TEAMS, "headquarters", Cursor(None, 7)),
    ],
)
def test_none_is_refused_for_a_sort_that_is_never_null(resource: Resource, sort: str, cursor: Cursor) -> None:
    assert refusal(cursor.token, sort, resource) == NOT_THIS_SORT


@pytest.mark.parametrize(
    ("sort", "json_text"),
    [
        ("name", "[5,7]"),
        ("name", "[true,7]"),
        ("name", '[["Ann"],7]'),
        ("name", '[{"a":1},7]'),
        ("team", "[5,7]"),
        ("age", '["30",7]'),
        ("age", "[30.0,7]"),
        ("age", "[true,7]"),
        ("age", "[NaN,7]"),
        ("age", "[[30],7]"),
    ],
)
def test_cursor_of_another_sort_is_refused(sort: str, json_text: str) -> None:
    assert refusal(forged(json_text), sort) == NOT_THIS_SORT


@pytest.mark.parametrize("row_id", ["0", "-1", "2147483648", "99999999999999999999", '"7"', "7.0", "true", "null"])
def test_cursor_with_an_id_no_row_can_have_is_refused(row_id: str) -> None:
    assert refusal(forged(f'["Ann",{row_id}]')) == NOT_THIS_SORT


@pytest.mark.parametrize("value", ["-1", "10001", "2147483648"])
def test_cursor_with_a_number_out_of_range_is_refused(value: str) -> None:
    assert refusal(forged(f"[{value},7]"), "age") == OUT_OF_RANGE


@pytest.mark.parametrize(
    "value",
    [r'"Ann\u0000"', r'"A\u001fnn"', r'"\n"', r'"Ann\u007f"', r'"\ud800"', r'"a\udfffb"'],
    ids=["nul", "unit-separator", "newline", "delete", "lone-high-surrogate", "lone-low-surrogate"],
)
def test_cursor_text_no_name_could_hold_is_refused(value: str) -> None:
    assert refusal(forged(f"[{value},7]")) == NOT_THIS_SORT


def test_cursor_text_longer_than_any_name_is_refused() -> None:
    assert refusal(forged(f'["{"x" * 201}",7]'), "secret_name") == NOT_THIS_SORT


# --- tokens that are not a cursor at all --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("a", id="one-character"),
        pytest.param("%%%%", id="not-base64"),
        pytest.param("!", id="only-invalid-characters"),
        pytest.param("WyJBbm4iLDdd\u00e9", id="non-ascii"),
        pytest.param(forged("hello"), id="not-json"),
        pytest.param(forged(b"\xff\xfe[1,2]"), id="not-utf8"),
        pytest.param(forged(" "), id="blank-json"),
        pytest.param(forged("[]"), id="empty-list"),
        pytest.param(forged('["Ann"]'), id="one-item"),
        pytest.param(forged('["Ann",7,8]'), id="three-items"),
        pytest.param(forged("7"), id="a-number"),
        pytest.param(forged("null"), id="null"),
        pytest.param(forged('{"value":"Ann"}'), id="one-key-object"),
        pytest.param(forged("[" * 500 + "]" * 500), id="deeply-nested"),
        pytest.param(forged('["Ann",7'), id="truncated-json"),
    ],
)
def test_malformed_cursor_is_refused(token: str) -> None:
    assert refusal(token) == MALFORMED


def test_cursor_token_over_the_length_limit_is_refused_unread() -> None:
    token = forged(f'["{"x" * CURSOR_MAX}",7]')
    assert len(token) > CURSOR_MAX
    assert refusal(token) == MALFORMED


def test_empty_position_means_the_first_page() -> None:
    state = parse(HEROES, {"after": "", "before": ""}, default_size=25)
    assert (state.after, state.before) == (None, None)


def test_before_is_checked_like_after() -> None:
    with pytest.raises(BadList, match="does not belong to this sort order"):
        at(forged('["Ann",0]'), key="before")


def test_cursor_is_checked_against_the_requested_sort_not_the_default() -> None:
    # A name cursor is fine for the default sort, but not for the age sort the URL asks for.
    token = Cursor("Ann", 7).token
    assert at(token).after == Cursor("Ann", 7)
    assert refusal(token, "-age") == NOT_THIS_SORT

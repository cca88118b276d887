"""A list's state as read from its URL and written back (webapp.listing), without a server or a database.
Cursors (the position in a list) have their own file, test_cursors.py."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl

import pytest
from litestar.datastructures import Headers

from webapp.listing import BadList, Cursor, ListState, parse, seen_list
from webapp.registry import HEROES, TEAMS
from webapp.resource import Resource


def heroes(**query: str) -> ListState:
    return parse(HEROES, query, default_size=25)


def teams(**query: str) -> ListState:
    return parse(TEAMS, query, default_size=25)


def refusal(resource: Resource, query: dict[str, str], default_size: int = 25) -> str:
    with pytest.raises(BadList) as caught:
        parse(resource, query, default_size=default_size)
    return str(caught.value)


# --- defaults and canonical URLs ---------------------------------------------------------------------------------


def test_heroes_list_defaults_to_first_page_by_name_unfiltered() -> None:
    state = heroes()
    assert (state.q, state.sort, state.descending, state.size) == ("", "name", False, 25)
    assert (state.after, state.before) == (None, None)
    assert dict(state.filters) == {"team": "", "min_age": None, "max_age": None}


def test_teams_list_defaults_to_first_page_by_name_unfiltered() -> None:
    state = teams()
    assert (state.q, state.sort, state.descending, state.size) == ("", "name", False, 25)
    assert dict(state.filters) == {"has_heroes": ""}


@pytest.mark.parametrize("resource", [HEROES, TEAMS], ids=["heroes", "teams"])
def test_default_list_url_is_the_bare_path(resource: Resource) -> None:
    state = parse(resource, {}, default_size=25)
    assert state.url(f"/{resource.plural}") == f"/{resource.plural}"
    assert state.criteria() == []


def test_defaults_spelt_out_are_left_out_of_the_url() -> None:
    state = heroes(q="  ", sort="name", size="25", team="", min_age="", max_age="")
    assert state.url("/heroes") == "/heroes"


def test_unknown_parameters_are_ignored() -> None:
    assert heroes(page="3", utm_source="mail").url("/heroes") == "/heroes"


def test_url_keeps_search_filters_sort_and_size_in_a_fixed_order() -> None:
    state = heroes(size="50", sort="-age", max_age="40", min_age="18", team="Avengers", q=" ann ")
    assert state.url("/heroes") == "/heroes?q=ann&team=Avengers&min_age=18&max_age=40&sort=-age&size=50"


def test_criteria_leave_out_size_and_position() -> None:
    state = heroes(q="ann", size="100", after=Cursor("Ann", 3).token)
    assert state.criteria() == [("q", "ann")]
    assert state.url("/heroes") == f"/heroes?q=ann&size=100&after={Cursor('Ann', 3).token}"


def test_teams_filter_is_kept_in_the_url() -> None:
    assert teams(has_heroes="no").url("/teams") == "/teams?has_heroes=no"


def test_zero_age_filter_counts_as_a_filter() -> None:
    state = heroes(min_age="0")
    assert state.filter("min_age") == 0
    assert state.filtered
    assert state.criteria() == [("min_age", "0")]


def test_url_takes_changes_without_changing_the_state() -> None:
    state = heroes(q="ann")
    assert state.url("/heroes", size=100) == "/heroes?q=ann&size=100"
    assert state.size == 25


def test_a_default_size_not_offered_elsewhere_is_accepted_and_left_out() -> None:
    state = parse(HEROES, {"size": "10"}, default_size=10)
    assert state.size == 10
    assert state.sizes == [10, 25, 50, 100]
    assert state.url("/heroes") == "/heroes"


def test_an_offered_size_other_than_the_default_is_kept() -> None:
    assert heroes(size="100").url("/heroes") == "/heroes?size=100"


# --- sorting ------------------------------------------------------------------------------------------------------


def test_minus_sort_is_descending() -> None:
    state = heroes(sort="-age")
    assert (state.sort, state.descending, state.sort_param) == ("age", True, "-age")
    assert state.column.key == "age"


def test_descending_name_sort_stays_in_the_url() -> None:
    assert heroes(sort="-name").url("/heroes") == "/heroes?sort=-name"


@pytest.mark.parametrize(
    ("start", "key", "expected"),
    [
        ({}, "age", "age"),
        ({"sort": "age"}, "age", "-age"),
        ({"sort": "-age"}, "age", "age"),
        ({"sort": "-age"}, "name", "name"),
        ({}, "name", "-name"),
    ],
)
def test_sorted_by_toggles_direction_on_the_same_column(start: dict[str, str], key: str, expected: str) -> None:
    assert heroes(**start).sorted_by(key).sort_param == expected


def test_sorted_by_drops_the_position() -> None:
    state = heroes(sort="age", after=Cursor(30, 4).token).sorted_by("age")
    assert (state.after, state.before) == (None, None)


def test_sorted_by_keeps_search_filters_and_size() -> None:
    state = heroes(q="ann", min_age="3", size="50").sorted_by("team")
    assert state.url("/heroes") == "/heroes?q=ann&min_age=3&sort=team&size=50"


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": "Ann & Bob = 100% ü", "team": "Night+Owls #1", "max_age": "40"},
        {"q": "x", "sort": "-age", "size": "100", "after": Cursor(30, 4).token},
        {"sort": "secret_name", "before": Cursor('Zoë / "Z"', 9).token},
        {"team": "No team", "min_age": "0", "sort": "-team", "size": "50"},
    ],
)
@pytest.mark.parametrize("key", ["name", "secret_name", "age", "team"])
def test_every_link_a_list_writes_reads_back_as_the_list_it_names(query: dict[str, str], key: str) -> None:
    # The links of a list page (sort headers, pages) are written from their parts; each must lead to the list
    # the state says, whatever the search holds.
    state = heroes(**query)
    next_page = Cursor(30 if state.column.numeric else "Quinn", 12)

    def read(url: str) -> ListState:
        path, _, query = url.partition("?")
        assert path == "/heroes"
        return parse(HEROES, dict(parse_qsl(query, keep_blank_values=True)), default_size=25)

    assert read(state.url("/heroes")) == state
    assert read(state.sorted_url("/heroes", key)) == state.sorted_by(key)
    assert read(state.url("/heroes", after=next_page, before=None)) == replace(state, after=next_page, before=None)
    assert read(state.url("/heroes", after=None, before=None)) == state.first_page()
    assert read(state.url("/heroes", size=100)) == replace(state, size=100)


def test_first_page_drops_after_and_before_only() -> None:
    state = heroes(q="ann", sort="-age", before=Cursor(30, 4).token)
    first = state.first_page()
    assert (first.after, first.before) == (None, None)
    assert first.url("/heroes") == "/heroes?q=ann&sort=-age"


@pytest.mark.parametrize(
    ("sort", "key", "expected"),
    [("age", "age", "ascending"), ("-age", "age", "descending"), ("age", "name", None), ("-name", "age", None)],
)
def test_aria_sort_marks_only_the_sorted_column(sort: str, key: str, expected: str | None) -> None:
    assert heroes(sort=sort).aria_sort(key) == expected


# --- filtered -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, False),
        ({"sort": "-age", "size": "50"}, False),
        ({"q": "ann"}, True),
        ({"team": "Avengers"}, True),
        ({"max_age": "40"}, True),
    ],
)
def test_heroes_list_is_filtered_by_a_search_or_a_filter_only(query: dict[str, str], expected: bool) -> None:
    assert heroes(**query).filtered is expected


@pytest.mark.parametrize(("value", "expected"), [("", False), ("yes", True), ("no", True)])
def test_teams_list_is_filtered_by_has_heroes(value: str, expected: bool) -> None:
    assert teams(has_heroes=value).filtered is expected


# --- refusals -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"sort": "power"}, "This list cannot be sorted by “power”. It sorts by name, secret_name, age, team."),
        ({"sort": "-power"}, "This list cannot be sorted by “-power”. It sorts by name, secret_name, age, team."),
        ({"sort": "--age"}, "This list cannot be sorted by “--age”. It sorts by name, secret_name, age, team."),
        ({"sort": "x" * 50}, f"This list cannot be sorted by “{'x' * 40}”. It sorts by name, secret_name, age, team."),
        ({"size": "30"}, "Per page must be one of 25, 50, 100."),
        ({"size": "big"}, "Per page must be one of 25, 50, 100."),
        ({"size": "-25"}, "Per page must be one of 25, 50, 100."),
        ({"after": "abc", "before": "abc"}, "A list position cannot be both after and before a row."),
        ({"q": "x" * 201}, "Search is longer than 200 characters."),
        ({"q": "ann\x00"}, "Search contains control characters."),
        ({"q": "a\x1bb"}, "Search contains control characters."),
        ({"q": "a\x7fb"}, "Search contains control characters."),
        ({"team": "x" * 101}, "Filter by team is longer than 100 characters."),
        ({"team": "a\nb"}, "Filter by team contains control characters."),
        ({"min_age": "abc"}, "Min age must be a whole number from 0 to 10,000."),
        ({"min_age": "10001"}, "Min age must be a whole number from 0 to 10,000."),
        ({"min_age": "-1"}, "Min age must be a whole number from 0 to 10,000."),
        ({"max_age": "1.5"}, "Max age must be a whole number from 0 to 10,000."),
        ({"max_age": "٤٢"}, "Max age must be a whole number from 0 to 10,000."),
    ],
)
def test_heroes_list_refuses_a_bad_address_with_its_reason(query: dict[str, str], message: str) -> None:
    assert refusal(HEROES, query) == message


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"sort": "age"}, "This list cannot be sorted by “age”. It sorts by name, headquarters."),
        ({"has_heroes": "maybe"}, "Has heroes must be yes, no or blank."),
        ({"has_heroes": "YES"}, "Has heroes must be yes, no or blank."),
    ],
)
def test_teams_list_refuses_a_bad_address_with_its_reason(query: dict[str, str], message: str) -> None:
    assert refusal(TEAMS, query) == message


def test_size_message_lists_a_default_size_not_offered_elsewhere() -> None:
    assert refusal(HEROES, {"size": "30"}, default_size=10) == "Per page must be one of 10, 25, 50, 100."


def test_search_of_the_longest_length_is_accepted() -> None:
    assert heroes(q="x" * 200).q == "x" * 200


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("10000", 10000), (" 18 ", 18)])
def test_age_filter_reads_whole_numbers_in_range(raw: str, expected: int) -> None:
    assert heroes(min_age=raw).filter("min_age") == expected


# --- the list an htmx request was made from ----------------------------------------------------------------------


def test_seen_list_reads_the_list_from_the_current_url_header() -> None:
    headers = Headers({"HX-Current-URL": "http://test/heroes?q=ann&sort=-age&size=50"})
    state = seen_list(HEROES, headers, default_size=25)
    assert state.url("/heroes") == "/heroes?q=ann&sort=-age&size=50"


@pytest.mark.parametrize(
    "current",
    ["http://test/heroes?sort=power", "http://test/heroes?min_age=abc&q=ann", "http://test/heroes?size=7"],
)
def test_seen_list_falls_back_to_the_plain_list_when_the_url_is_bad(current: str) -> None:
    state = seen_list(HEROES, Headers({"HX-Current-URL": current}), default_size=25)
    assert state.url("/heroes") == "/heroes"


@pytest.mark.parametrize("current", ["http://[", "http://[::1/heroes?q=ann", "//[not-an-address]/heroes?q=ann"])
def test_seen_list_falls_back_to_the_plain_list_when_the_url_cannot_be_split(current: str) -> None:
    # The header is the client's to send: a URL urlsplit cannot read is as bad as one with a bad query.
    state = seen_list(HEROES, Headers({"HX-Current-URL": current}), default_size=25)
    assert state.url("/heroes") == "/heroes"


def test_seen_list_without_the_header_is_the_plain_list() -> None:
    assert seen_list(TEAMS, Headers({}), default_size=25).url("/teams") == "/teams"

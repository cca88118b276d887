"""Every hostile list address the HTTP tests once sent one request at a time, read here by the list's parser alone
(webapp.listing.parse, as the list, bulk and export handlers read a request's query): each is refused with a
reason (BadList, which errors.py turns into the 400 page), and the addresses at the limits are taken.
tests/test_list_parameters.py still sends a few of each kind through HTTP, one for each message, to prove the
wiring: the 400 page, the htmx alert, nothing reaching the database."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from webapp.listing import BadList, parse
from webapp.registry import HEROES, TEAMS
from webapp.resource import Resource


def token(value: Any) -> str:
    """A cursor as the app writes them: unpadded base64url of compact JSON."""
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def raw_token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def refusal(resource: Resource, query: dict[str, str]) -> str:
    with pytest.raises(BadList) as caught:
        parse(resource, query, default_size=25)
    return str(caught.value)


HERO_CURSORS = {
    "not-base64": ("", "!!!!"),
    "one-char": ("", "a"),
    "base64-not-json": ("", raw_token(b"hello")),
    "base64-not-utf8": ("", raw_token(b"\xff\xfe\xfd")),
    "json-object": ("", token({"value": "a", "id": 1})),
    "json-number": ("", token(1)),
    "json-null": ("", token(None)),
    "json-string": ("", token("Deadpond")),
    "empty-list": ("", token([])),
    "one-item": ("", token(["Deadpond"])),
    "three-items": ("", token(["Deadpond", 1, 2])),
    "name-as-number": ("", token([5, 1])),
    "name-null": ("", token([None, 1])),
    "name-bool": ("", token([True, 1])),
    "name-list": ("", token([["Deadpond"], 1])),
    "name-object": ("", token([{"a": 1}, 1])),
    "name-201-chars": ("", token(["x" * 201, 1])),
    "name-with-nul": ("", token(["Dead\x00pond", 1])),
    "name-lone-surrogate": ("", raw_token(b'["\\ud800",1]')),
    "age-as-string": ("age", token(["48", 1])),
    "age-float": ("age", token([48.0, 1])),
    "age-bool": ("age", token([True, 1])),
    "age-negative": ("age", token([-1, 1])),
    "age-above-limit": ("age", token([10_001, 1])),
    "age-huge": ("age", token([10**30, 1])),
    "age-nan": ("age", raw_token(b"[NaN,1]")),
    "age-infinity": ("-age", raw_token(b"[Infinity,1]")),
    "team-as-number": ("team", token([7, 1])),
    "secret-name-null": ("-secret_name", token([None, 1])),
    "id-string": ("", token(["Deadpond", "1"])),
    "id-zero": ("", token(["Deadpond", 0])),
    "id-negative": ("", token(["Deadpond", -1])),
    "id-2-31": ("", token(["Deadpond", 2**31])),
    "id-huge": ("", token(["Deadpond", 10**100])),
    "id-float": ("", token(["Deadpond", 1.0])),
    "id-bool": ("", token(["Deadpond", True])),
    "id-null": ("", token(["Deadpond", None])),
    "nested": ("", token([[[["Deadpond"]]], 1])),
    "deeply-nested": ("", raw_token(b"[" * 500 + b"]" * 500)),
    "10k-chars": ("", token(["x" * 10_000, 1])),
    "10k-chars-garbage": ("", "A" * 10_000),
}
TEAM_CURSORS = {
    "name-as-number": ("", token([5, 1])),
    "headquarters-null": ("headquarters", token([None, 1])),
    "not-base64": ("", "!!!!"),
    "id-2-31": ("-name", token(["Team", 2**31])),
    "name-with-nul": ("", token(["Team\x00", 1])),
}


@pytest.mark.parametrize("direction", ["after", "before"])
@pytest.mark.parametrize(("sort", "position"), HERO_CURSORS.values(), ids=HERO_CURSORS.keys())
def test_heroes_list_refuses_a_malformed_position(sort: str, position: str, direction: str) -> None:
    assert refusal(HEROES, {direction: position} | ({"sort": sort} if sort else {})).startswith("The position")


@pytest.mark.parametrize(("sort", "position"), TEAM_CURSORS.values(), ids=TEAM_CURSORS.keys())
def test_teams_list_refuses_a_malformed_position(sort: str, position: str) -> None:
    assert refusal(TEAMS, {"after": position} | ({"sort": sort} if sort else {})).startswith("The position")


HERO_SORTS = [
    "zzz",
    "--name",
    "-",
    "-zzz",
    "NAME",
    "Name",
    "id",
    "-id",
    "deleted_at",
    "version",
    "team_id",
    "hero.name",
    "name desc",
    "name,age",
    "name;DROP TABLE hero",
    "name--",
    "(SELECT 1)",
    "1",
    "name\x00",
    "<script>alert(1)</script>",
    "x" * 10_000,
]


@pytest.mark.parametrize("sort", HERO_SORTS, ids=lambda s: repr(s[:30]))
def test_heroes_list_refuses_a_sort_off_the_allow_list(sort: str) -> None:
    assert "cannot be sorted by" in refusal(HEROES, {"sort": sort})


@pytest.mark.parametrize("sort", ["age", "-team", "secret_name", "hero_count", "heroes", "id", "--name"])
def test_teams_list_refuses_a_sort_off_its_allow_list(sort: str) -> None:
    assert "cannot be sorted by" in refusal(TEAMS, {"sort": sort})


SIZES = ["0", "7", "24", "26", "1000", "-1", "abc", "25.0", "1e2", "+25", "0x19", "٢٥", "99999999999999999999"]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("resource", [HEROES, TEAMS], ids=["heroes", "teams"])
def test_list_refuses_a_page_size_off_the_allow_list(resource: Resource, size: str) -> None:
    assert refusal(resource, {"size": size}) == "Per page must be one of 25, 50, 100."


HERO_SEARCHES = {
    "q-201": {"q": "x" * 201},
    "q-10000": {"q": "x" * 10_000},
    "q-nul": {"q": "Dead\x00pond"},
    "q-soh": {"q": "Dead\x01pond"},
    "q-newline-inside": {"q": "Dead\npond"},
    "q-escape": {"q": "Dead\x1bpond"},
    "q-delete": {"q": "Dead\x7fpond"},
    "team-101": {"team": "x" * 101},
    "team-nul": {"team": "Z-\x00Force"},
    "min-age-letters": {"min_age": "abc"},
    "min-age-negative": {"min_age": "-1"},
    "min-age-above-limit": {"min_age": "10001"},
    "min-age-exponent": {"min_age": "1e9"},
    "min-age-arabic-indic-digits": {"min_age": "١٢"},
    "min-age-fullwidth-digits": {"min_age": "１２"},
    "min-age-fraction": {"min_age": "1.5"},
    "min-age-plus": {"min_age": "+1"},
    "min-age-hex": {"min_age": "0x10"},
    "min-age-huge": {"min_age": "99999999999999999999"},
    "max-age-letters": {"max_age": "abc"},
    "max-age-negative": {"max_age": "-5"},
    "max-age-above-limit": {"max_age": "10001"},
    "max-age-space-inside": {"max_age": "1 2"},
}


@pytest.mark.parametrize("query", HERO_SEARCHES.values(), ids=HERO_SEARCHES.keys())
def test_heroes_list_refuses_a_malformed_search_or_filter(query: dict[str, str]) -> None:
    assert refusal(HEROES, query)


TEAM_SEARCHES = {
    "q-201": {"q": "x" * 201},
    "q-nul": {"q": "\x00"},
    "has-heroes-maybe": {"has_heroes": "maybe"},
    "has-heroes-upper-case": {"has_heroes": "YES"},
    "has-heroes-1": {"has_heroes": "1"},
    "has-heroes-true": {"has_heroes": "true"},
}


@pytest.mark.parametrize("query", TEAM_SEARCHES.values(), ids=TEAM_SEARCHES.keys())
def test_teams_list_refuses_a_malformed_search_or_filter(query: dict[str, str]) -> None:
    assert refusal(TEAMS, query)


@pytest.mark.parametrize("size", ["", " ", " 50 ", "050"])
def test_list_takes_a_blank_or_padded_page_size(size: str) -> None:
    assert parse(HEROES, {"size": size}, default_size=25).size in {25, 50}

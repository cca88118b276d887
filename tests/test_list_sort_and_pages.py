"""Sorting and keyset pages: every allowed column of every resource both ways, rows without a value placed
consistently (after the others ascending, before them descending), ties broken by id, and Next / Previous walks
that visit every row exactly once, in order, for every sort, with and without filters; a page's link stays put
when rows come and go. The sort headers are in test_list_sort_headers.py."""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    Client,
    Row,
    Subject,
    each_resource,
    id_of,
    link,
    make_hero,
    make_roster,
    move_to_trash,
    named_link,
    rows,
    token,
)
from webapp.data import search
from webapp.models import Hero, Team


class TeamRow(NamedTuple):
    """What a sort looks at in one team."""

    id: int
    name: str
    headquarters: str


async def make_teams(db: AsyncSession, count: int = 60) -> list[TeamRow]:
    """Teams with unique names (inserted out of order) and headquarters shared by several."""
    teams = [Team(name=f"Team {(n * 7) % count:02d}", headquarters=f"Base {(n * 5) % 9}") for n in range(count)]
    db.add_all(teams)
    await db.commit()
    return [TeamRow(team.id or 0, team.name, team.headquarters) for team in teams]


async def roster(db: AsyncSession, subject: Subject, count: int = 80) -> list[Any]:
    """Records with repeated values in every sortable column (and missing ones where a column may be empty)."""
    if subject.resource.plural == "heroes":
        return await make_roster(db, count)
    return await make_teams(db, count)


def sorts(subject: Subject) -> list[str]:
    return [prefix + sort.key for sort in subject.resource.sorts for prefix in ("", "-")]


def expected_order(roster: list[Row], sort: str) -> list[int]:
    """The ids in the order `sort` must show them: values ascending with ties by id, then the rows without a
    value by id; a "-" sort is exactly the reverse."""
    attribute = sort.lstrip("-")
    present = sorted(
        (r for r in roster if getattr(r, attribute) is not None), key=lambda r: (getattr(r, attribute), r.id)
    )
    missing = sorted((r for r in roster if getattr(r, attribute) is None), key=lambda r: r.id)
    ids = [r.id for r in present + missing]
    return ids[::-1] if sort.startswith("-") else ids


async def walk(client: Client, url: str, rel: str = "next", tbody: str = "hero-rows") -> tuple[list[list[int]], str]:
    """Follow the `rel` links ("next" or "prev") from `url` to the end: each page's rows in the order visited,
    and the last page's address."""
    pages: list[list[int]] = []
    while True:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        pages.append(rows(response.text, tbody))
        following = link(response.text, rel)
        if following is None:
            return pages, url
        assert len(pages) < 50, f"{rel} never ends"
        url = following


async def back(client: Client, last: str, tbody: str = "hero-rows") -> list[list[int]]:
    """Follow Previous from the last page to the first: the pages in order, the first one first."""
    pages, _first = await walk(client, last, "prev", tbody)
    return pages[::-1]


def chunks(ids: list[int], size: int = 25) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def matches(row: Row, params: dict[str, str]) -> bool:
    """What the hero list's search and filters select, restated for the test data."""
    q = params.get("q", "").casefold()
    if q and not any(q in (text or "").casefold() for text in (row.name, row.secret_name, row.team)):
        return False
    team = params.get("team")
    if team is not None and row.team != (None if team == "No team" else team):
        return False
    if "min_age" in params and (row.age is None or row.age < int(params["min_age"])):
        return False
    return "max_age" not in params or (row.age is not None and row.age <= int(params["max_age"]))


# --- one page: the order itself ----------------------------------------------------------------------------


@each_resource
async def test_sort_puts_rows_without_a_value_last_ascending_first_descending_ties_by_id(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = await roster(db, subject, 24)
    for sort in sorts(subject):
        response = await client.get(subject.path, params={"sort": sort})
        assert response.status_code == 200, sort
        assert rows(response.text, subject.rows_id) == expected_order(records, sort), sort


async def test_hero_sort_by_age_lists_heroes_without_an_age_after_the_oldest(client: Client, db: AsyncSession) -> None:
    young, unknown, old = [
        await make_hero(db, name=n, age=a) for n, a in (("Young", 1), ("Unknown", None), ("Old", 90))
    ]
    ascending = rows((await client.get("/heroes?sort=age")).text)
    descending = rows((await client.get("/heroes?sort=-age")).text)
    assert ascending == [young.id, old.id, unknown.id]
    assert descending == [unknown.id, old.id, young.id]


async def test_hero_sort_by_team_lists_teamless_heroes_after_the_teams(client: Client, db: AsyncSession) -> None:
    alpha, zulu = Team(name="Alpha", headquarters="A"), Team(name="Zulu", headquarters="Z")
    db.add_all([alpha, zulu])
    await db.commit()
    teamless = await make_hero(db, name="Loner")
    in_zulu = await make_hero(db, name="Zed", team=zulu)
    in_alpha = await make_hero(db, name="Al", team=alpha)
    assert rows((await client.get("/heroes?sort=team")).text) == [in_alpha.id, in_zulu.id, teamless.id]
    assert rows((await client.get("/heroes?sort=-team")).text) == [teamless.id, in_zulu.id, in_alpha.id]


async def test_hero_sort_breaks_ties_between_equal_names_by_id(client: Client, db: AsyncSession) -> None:
    twins = [await make_hero(db, name="Twin", secret_name=f"S{n}") for n in range(3)]
    ids = [hero.id for hero in twins]
    assert rows((await client.get("/heroes")).text) == ids
    assert rows((await client.get("/heroes?sort=-name")).text) == ids[::-1]


# --- walking the pages -------------------------------------------------------------------------------------


@each_resource
async def test_walking_next_and_previous_visits_every_record_once_in_order_for_every_sort(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = await roster(db, subject)
    for sort in sorts(subject):
        forward, last = await walk(client, f"{subject.path}?sort={sort}", tbody=subject.rows_id)
        assert forward == chunks(expected_order(records, sort)), sort
        assert await back(client, last, subject.rows_id) == forward, sort


FILTERED = [
    {"team": "No team", "sort": "-age"},
    {"team": "Team A", "sort": "name"},
    {"team": "Team B", "sort": "-secret_name"},
    {"max_age": "25", "sort": "-team"},
    {"min_age": "10", "sort": "age"},
    {"min_age": "5", "max_age": "30", "sort": "team"},
    {"q": "hero 1", "sort": "secret_name"},
    {"q": "ecret", "sort": "-name", "min_age": "3"},
    {"q": "1", "sort": "-team"},
    {"q": "team", "sort": "-age", "max_age": "35"},
]


async def test_filtered_walks_next_and_previous_visit_every_match_once_in_order(
    client: Client, db: AsyncSession
) -> None:
    records = await make_roster(db)
    for params in FILTERED:
        wanted = expected_order([row for row in records if matches(row, params)], params["sort"])
        assert len(wanted) > 25, f"{params}: the filter should leave more than one page"
        first = await client.get("/heroes", params=params)
        forward, last = await walk(client, str(first.url))
        assert forward == chunks(wanted), params
        assert await back(client, last) == forward, params


async def test_search_walks_are_the_same_when_the_matches_count_as_many(
    client: Client, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past SEARCH_FEW matches a search's page walks the sort's index and tests each hero instead of fetching
    the matches and sorting them. With the threshold at 0 this roster takes that plan: the same pages result."""
    monkeypatch.setattr(search, "SEARCH_FEW", 0)
    records = await make_roster(db)
    for params in [params for params in FILTERED if "q" in params]:
        wanted = expected_order([row for row in records if matches(row, params)], params["sort"])
        first = await client.get("/heroes", params=params)
        forward, last = await walk(client, str(first.url))
        assert forward == chunks(wanted), params
        assert await back(client, last) == forward, params


async def test_team_walks_with_the_has_heroes_filter(client: Client, db: AsyncSession) -> None:
    teams = await make_teams(db)
    manned = {team.id for team in teams[::2]}
    db.add_all(Hero(name=f"Member {team_id}", secret_name="Secret", team_id=team_id) for team_id in manned)
    await db.commit()
    for has_heroes in ("yes", "no"):
        wanted = [team for team in teams if (team.id in manned) == (has_heroes == "yes")]
        url = f"/teams?has_heroes={has_heroes}&sort=-headquarters"
        forward, last = await walk(client, url, tbody="team-rows")
        assert forward == chunks(expected_order(wanted, "-headquarters")), has_heroes
        assert await back(client, last, "team-rows") == forward, has_heroes


@pytest.mark.parametrize(
    "params",
    [
        {"q": "hero", "team": "Team A", "sort": "-age"},
        {"q": "Hero", "min_age": "0", "max_age": "39", "sort": "team", "size": "50"},
    ],
    ids=["search-team-sort", "ages-sort-size"],
)
async def test_page_links_keep_the_search_filters_sort_and_size(
    client: Client, db: AsyncSession, params: dict[str, str]
) -> None:
    await make_roster(db)
    state = {name: [value] for name, value in params.items()}
    following = link((await client.get("/heroes", params=params)).text, "next")
    assert following is not None
    assert {name: values for name, values in parse_qs(urlsplit(following).query).items() if name != "after"} == state
    second = await client.get(following)
    previous, first_page = link(second.text, "prev"), named_link(second.text, "First page")
    assert previous is not None
    assert first_page is not None
    assert {name: values for name, values in parse_qs(urlsplit(previous).query).items() if name != "before"} == state
    assert parse_qs(urlsplit(first_page.attrs["href"]).query) == state


async def test_walking_with_page_size_50_and_100(client: Client, db: AsyncSession) -> None:
    roster = await make_roster(db)
    by_age = expected_order(roster, "age")
    fifty, _last = await walk(client, "/heroes?sort=age&size=50")
    hundred, _last = await walk(client, "/heroes?sort=age&size=100")
    assert fifty == chunks(by_age, 50)
    assert hundred == [by_age]


# --- keyset pages stay put when rows come and go ------------------------------------------------------------


@each_resource
async def test_next_page_is_not_shifted_by_a_record_added_before_it(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = await subject.make_many(db, 30)
    following = link((await client.get(subject.path)).text, "next")
    assert following is not None
    await subject.make(db, "Aardvark")
    response = await client.get(following)
    assert rows(response.text, subject.rows_id) == [id_of(record) for record in records[25:]]


@each_resource
async def test_next_page_still_starts_after_a_record_moved_to_the_trash(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = await subject.make_many(db, 30)
    following = link((await client.get(subject.path)).text, "next")
    assert following is not None
    await move_to_trash(db, records[24])  # the row the link starts after
    response = await client.get(following)
    assert rows(response.text, subject.rows_id) == [id_of(record) for record in records[25:]]


@each_resource
async def test_position_past_the_end_shows_no_rows_and_offers_the_first_page(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = await subject.make_many(db, 30)
    response = await client.get(f"{subject.path}?after={token(['Zzz', 999])}")
    assert response.status_code == 200
    assert rows(response.text, subject.rows_id) == []
    # No row carries the list's count here: it is counted on its own.
    assert parse(response.text).by_id(f"{subject.name}-summary").text == subject.resource.count(30)
    assert link(response.text, "next") is None
    assert link(response.text, "prev") is None
    first = named_link(response.text, "First page")
    assert first is not None
    assert rows((await client.get(first.attrs["href"])).text, subject.rows_id)[0] == id_of(records[0])

"""The list's state lives in the URL: page links, sort links and the search form carry it, the same address
gives the same rows again (bookmarks, shared links, Back), htmx gets the #hero-list fragment while boosted and
history-restore requests get the whole page, the page size chooser, and the count line with its cap."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    HEROES,
    HTMX,
    Client,
    Clock,
    Subject,
    each_resource,
    form_fields,
    is_full_page,
    link,
    make_roster,
    make_user,
    rows,
    sign_in,
    vary,
)
from webapp.app import create_app
from webapp.config import Settings
from webapp.models import Hero, Role, Team

# --- the URL round-trips -----------------------------------------------------------------------------------


async def test_search_form_holds_the_whole_state_so_submitting_it_gives_the_same_list(
    client: Client, db: AsyncSession
) -> None:
    await make_roster(db)
    params = {"q": "hero", "team": "No team", "min_age": "3", "max_age": "30", "sort": "-team", "size": "50"}
    response = await client.get("/heroes", params=params)
    sent = form_fields(response.text, "hero-search")
    assert sent == params
    again = await client.get("/heroes", params=sent)
    assert rows(again.text) == rows(response.text)


async def test_search_form_is_a_plain_get_form_to_the_list(client: Client) -> None:
    form = parse((await client.get("/heroes")).text).by_id("hero-search")
    assert form.attrs["method"] == "get"
    assert form.attrs["action"] == "/heroes"
    assert form.find("input", name="q").attrs["type"] == "search"
    assert form.find("label", **{"for": "hero-q"}).text == "Search"


async def test_search_form_sends_the_order_shown(client: Client) -> None:
    """The "Sort by" control belongs to the search form (phones show it in place of the header links), so a search
    keeps the order, the default one included; htmx pushes the canonical address, which leaves the default out."""
    assert form_fields((await client.get("/heroes")).text, "hero-search") == {
        "q": "",
        "team": "",
        "min_age": "",
        "max_age": "",
        "size": "25",
        "sort": "name",
    }
    assert form_fields((await client.get("/heroes?sort=-age")).text, "hero-search")["sort"] == "-age"


async def test_the_same_address_gives_the_same_page_again(client: Client, db: AsyncSession) -> None:
    await make_roster(db)
    first = await client.get("/heroes", params={"sort": "team", "min_age": "1"})
    following = link(first.text, "next")
    assert following is not None
    second = await client.get(following)
    assert rows((await client.get(following)).text) == rows(second.text)
    assert set(rows(second.text)).isdisjoint(rows(first.text))


async def test_a_shared_page_address_shows_the_same_rows_to_another_user(
    client: Client, app: Litestar, db: AsyncSession, clock: Clock
) -> None:
    await make_roster(db)
    following = link((await client.get("/heroes", params={"sort": "-secret_name"})).text, "next")
    assert following is not None
    mine = rows((await client.get(following)).text)
    async with AsyncTestClient(app=app) as other:
        await sign_in(other, db, await make_user(db, username="vic", role=Role.viewer), clock)
        assert rows((await other.get(following)).text) == mine


async def test_team_search_form_holds_the_whole_state(client: Client, db: AsyncSession) -> None:
    params = {"q": "base", "has_heroes": "no", "sort": "-headquarters", "size": "100"}
    sent = form_fields((await client.get("/teams", params=params)).text, "team-search")
    assert sent == params


# --- htmx: fragment, or the whole page ---------------------------------------------------------------------


@each_resource
async def test_htmx_page_request_returns_only_the_list_fragment(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    await subject.make_many(db, 30)
    following = link((await client.get(subject.path, params={"sort": "-name", "q": "item"})).text, "next")
    assert following is not None
    plain = await client.get(following)
    response = await client.get(following, headers=HTMX)
    assert response.status_code == 200
    assert not is_full_page(response.text)
    assert [node.attrs.get("id") for node in parse(response.text).children] == [f"{subject.name}-list"]
    assert rows(response.text, subject.rows_id) == rows(plain.text, subject.rows_id)
    assert "hx-request" in vary(response)
    assert "hx-request" in vary(plain)


async def test_htmx_search_returns_the_fragment_with_the_count(client: Client, db: AsyncSession) -> None:
    await make_roster(db)
    response = await client.get("/heroes", params={"q": "team b"}, headers=HTMX)
    fragment = parse(response.text)
    assert [node.attrs.get("id") for node in fragment.children] == ["hero-list"]
    assert fragment.by_id("hero-summary").text.endswith("heroes match")
    assert not fragment.has("form", id="hero-search")  # the form keeps its focus: it is not swapped


@pytest.mark.parametrize("header", ["HX-History-Restore-Request", "HX-Boosted"])
async def test_history_restore_or_boosted_request_for_a_list_page_gets_the_whole_page(
    client: Client, db: AsyncSession, header: str
) -> None:
    await make_roster(db)
    following = link((await client.get("/heroes", params={"q": "hero", "sort": "-team"})).text, "next")
    assert following is not None
    fragment = await client.get(following, headers=HTMX)
    response = await client.get(following, headers={**HTMX, header: "true"})
    assert response.status_code == 200
    assert is_full_page(response.text)
    page = parse(response.text)
    assert page.find("h1").text == "Heroes"
    assert form_fields(response.text, "hero-search")["q"] == "hero"
    assert rows(response.text) == rows(fragment.text)
    assert "hx-request" in vary(response)


async def test_search_form_swaps_the_list_and_pushes_the_url(client: Client) -> None:
    form = parse((await client.get("/heroes")).text).by_id("hero-search")
    assert form.attrs["hx-get"] == "/heroes"
    assert form.attrs["hx-target"] == "#hero-list"
    assert form.attrs["hx-push-url"] == "true"


# --- page size ---------------------------------------------------------------------------------------------


@each_resource
async def test_page_size_chooser_sets_the_rows_per_page(client: Client, db: AsyncSession, subject: Subject) -> None:
    await subject.make_many(db, 80)
    for size, shown in (("25", 25), ("50", 50), ("100", 80)):
        response = await client.get(subject.path, params={"size": size})
        assert len(rows(response.text, subject.rows_id)) == shown, size
        chooser = parse(response.text).by_id(f"{subject.name}-size")
        assert parse(response.text).find("label", **{"for": f"{subject.name}-size"}).text == "Per page"
        assert [option.attrs["value"] for option in chooser.find_all("option")] == ["25", "50", "100"]
        assert chooser.find("option", selected="").attrs["value"] == size
        following = link(response.text, "next")
        assert (following is None) == (shown == 80), size
        if following is not None:
            assert (f"size={size}" in following) is (size != "25"), size
            assert len(rows((await client.get(following)).text, subject.rows_id)) == min(shown, 80 - shown), size


async def test_default_page_size_stays_out_of_the_links(client: Client, db: AsyncSession) -> None:
    await HEROES.make_many(db, 30)
    following = link((await client.get("/heroes?size=25")).text, "next")
    assert following is not None
    assert "size" not in following


async def test_page_size_setting_is_the_default_and_one_of_the_choices(
    settings: Settings, db: AsyncSession, clock: Clock
) -> None:
    await HEROES.make_many(db, 12)
    app = create_app(replace(settings, page_size=10))
    async with AsyncTestClient(app=app) as http:
        await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
        response = await http.get("/heroes")
        assert len(rows(response.text)) == 10
        options = parse(response.text).by_id("hero-size").find_all("option")
        assert [option.attrs["value"] for option in options] == ["10", "25", "50", "100"]
        following = link(response.text, "next")
        assert following is not None
        assert "size" not in following
        assert len(rows((await http.get(following)).text)) == 2
        assert len(rows((await http.get("/heroes?size=25")).text)) == 12


# --- the count line ----------------------------------------------------------------------------------------


async def insert_heroes(db: AsyncSession, count: int, start: int = 0) -> None:
    """Heroes "Bulk 00000", "Bulk 00001", ... made by the database itself in one statement: ten thousand take
    well under a second, where sending them row by row takes several."""
    if db.get_bind().dialect.name == "postgresql":
        numbers = "SELECT generate_series(:start, :stop - 1) AS i"
        name = "'Bulk ' || lpad(i::text, 5, '0')"
    else:
        numbers = (
            "WITH RECURSIVE n(i) AS (SELECT :start UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :stop) SELECT i FROM n"
        )
        name = "printf('Bulk %05d', i)"
    statement = f"INSERT INTO hero (name, secret_name, version) SELECT {name}, 'Many', 1 FROM ({numbers}) AS numbers"
    connection = await db.connection()
    await connection.execute(text(statement).bindparams(start=start, stop=start + count))
    if db.get_bind().dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load. Without statistics PostgreSQL takes 10k heroes for a
        # handful and plans the search's id list as a nested loop: seconds instead of milliseconds.
        await connection.execute(text("ANALYZE hero"))
    await db.commit()


def count_line(html: str, region: str = "hero-summary") -> str:
    return parse(html).by_id(region).text


async def test_count_line_is_exact_up_to_ten_thousand_then_says_more_than(client: Client, db: AsyncSession) -> None:
    await insert_heroes(db, 10_000)
    assert count_line((await client.get("/heroes")).text) == "10,000 heroes"
    await insert_heroes(db, 1, start=10_000)
    response = await client.get("/heroes")
    assert count_line(response.text) == "More than 10,000 heroes"
    assert len(rows(response.text)) == 25
    assert count_line((await client.get("/heroes", params={"team": "No team"})).text) == "More than 10,000 heroes match"
    # A search counts to 2,000 (listing.SEARCH_COUNT_CAP).
    assert count_line((await client.get("/heroes", params={"q": "bulk"})).text) == "More than 2,000 heroes match"
    assert count_line((await client.get("/heroes", params={"q": "bulk 01"})).text) == "1,000 heroes match"
    assert count_line((await client.get("/heroes", params={"q": "bulk 0000"})).text) == "10 heroes match"


async def test_a_search_count_is_exact_up_to_two_thousand_then_says_more_than(client: Client, db: AsyncSession) -> None:
    await insert_heroes(db, 2_000)
    # Heroes whose team's name holds the text match too, counted once even where their own names match.
    team = Team(name="Bulk Brigade", headquarters="Depot")
    db.add(team)
    await db.commit()
    await db.exec(update(Hero).where(col(Hero.name) == "Bulk 00007").values(team_id=team.id))
    await db.commit()
    # Text of two letters is too short for the full-text index (SQLite counts it in one pass over the table).
    for q in ("bulk", "ul"):
        assert count_line((await client.get("/heroes", params={"q": q})).text) == "2,000 heroes match", q
    db.add(Hero(name="Teammate", secret_name="Quiet", team_id=team.id))
    await db.commit()
    for q in ("bulk", "ul"):
        assert count_line((await client.get("/heroes", params={"q": q})).text) == "More than 2,000 heroes match", q
    assert count_line((await client.get("/heroes", params={"q": "bulk 019"})).text) == "100 heroes match"
    assert count_line((await client.get("/heroes", params={"q": "brigade"})).text) == "2 heroes match"


async def test_count_line_after_filters_counts_the_matches_not_the_page(client: Client, db: AsyncSession) -> None:
    roster = await make_roster(db)
    teamless = sum(1 for row in roster if row.team is None)
    response = await client.get("/heroes", params={"team": "No team"})
    assert count_line(response.text) == f"{teamless} heroes match"
    following = link(response.text, "next")
    assert following is not None
    assert count_line((await client.get(following)).text) == f"{teamless} heroes match"


async def test_team_count_line(client: Client, db: AsyncSession) -> None:
    db.add_all(Team(name=f"Team {n:02d}", headquarters="Base") for n in range(30))
    await db.commit()
    assert count_line((await client.get("/teams")).text, "team-summary") == "30 teams"
    assert count_line((await client.get("/teams?q=team 1")).text, "team-summary") == "10 teams match"
    assert count_line((await client.get("/teams?has_heroes=no")).text, "team-summary") == "30 teams match"


async def test_list_urls_are_canonical(client: Client, db: AsyncSession) -> None:
    """Defaults are left out and the order of parameters is fixed, so one list has one address."""
    await make_roster(db)
    shuffled = urlencode({"size": "25", "sort": "name", "max_age": "39", "q": "hero", "min_age": ""})
    following = link((await client.get(f"/heroes?{shuffled}")).text, "next")
    assert following is not None
    assert following.startswith("/heroes?q=hero&max_age=39&after=")

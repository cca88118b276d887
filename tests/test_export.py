"""CSV export: exactly the rows and order the list shows across all its pages, spreadsheet formulas neutralised,
streamed in chunks, for editors only; the list's "Export CSV" link carries its search, filters and sort."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any
from urllib.parse import urlencode

from httpx import Response
from litestar import Litestar
from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.concurrent import concurrent_client
from tests.hostile_checks import assert_refused
from tests.markup import Element, parse
from tests.support import (
    HEROES,
    HTMX,
    Client,
    Clock,
    Subject,
    asgi_get,
    each_resource,
    id_of,
    make_hero,
    make_team,
    make_user,
    move_to_trash,
    sign_in,
)
from webapp.app import create_app
from webapp.config import Settings
from webapp.models import Hero, Role, Team

HERO_HEADER = ["ID", "Name", "Secret name", "Age", "Team", "Version"]
TEAM_HEADER = ["ID", "Name", "Headquarters", "Heroes", "Version"]
HEADERS = {"heroes": HERO_HEADER, "teams": TEAM_HEADER}


def table(response: Response) -> list[list[str]]:
    """The CSV's rows, header first (after the byte order mark that tells Excel it is UTF-8)."""
    assert response.status_code == 200, response.text[:500]
    assert response.text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"), newline="")))


def exported_ids(response: Response) -> list[int]:
    return [int(row[0]) for row in table(response)[1:]]


async def listed_ids(client: Client, path: str, params: dict[str, str], rows_id: str) -> list[int]:
    """The ids of every row the list shows, following its Next links from the first page to the last."""
    url: str | None = f"{path}?{urlencode(params)}"
    ids: list[int] = []
    while url is not None:
        response = await client.get(url)
        assert response.status_code == 200
        page = parse(response.text)
        ids += [int(row.attrs["id"].rpartition("-")[2]) for row in page.by_id(rows_id).find_all("tr")]
        following = page.find_all("a", rel="next")
        url = following[0].attrs["href"] if following else None
    return ids


def export_link(page: Element) -> str | None:
    links = [link.attrs["href"] for link in page.find_all("a") if link.text == "Export CSV"]
    assert len(links) <= 1
    return links[0] if links else None


async def arrange_heroes(db: AsyncSession) -> None:
    """Sixty heroes with ties everywhere (names, ages, teams, blanks), and some in the trash."""
    teams = [await make_team(db, name=name, headquarters=f"{name} HQ") for name in ("Avengers", "Z-Force", "Mutants")]
    heroes = [
        Hero(
            name=["Deadpond", "Rusty-Man", "Spider-Boy", "Tarantula", "deadpond"][n % 5],
            secret_name=f"Secret {n % 7}",
            age=None if n % 4 == 0 else 10 + n % 9,
            team_id=None if n % 3 == 0 else teams[n % 3].id,
        )
        for n in range(60)
    ]
    db.add_all(heroes)
    await db.commit()
    for hero in heroes[:5]:
        await move_to_trash(db, hero)


# --- what is exported ---------------------------------------------------------------------------------------


# What `make_full`'s record and a plain sample record of each resource export as, after their ids, by name.
EXPORTED = {
    "heroes": [["Deadpond", "Dive Wilson", "48", "Z-Force", "1"], ["Plain", "Dive Wilson", "", "", "1"]],
    "teams": [["Plain", "Sharp Tower", "0", "1"], ["Preventers", "Sharp Tower", "1", "1"]],
}


@each_resource
async def test_export_is_a_csv_attachment_with_a_header_row(client: Client, db: AsyncSession, subject: Subject) -> None:
    full = id_of(await subject.make_full(db))
    plain = id_of(await subject.make(db, "Plain"))
    response = await client.get(f"{subject.path}/export.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="{subject.resource.plural}.csv"'
    ids = sorted([full, plain], key=lambda record_id: record_id != (full if subject is HEROES else plain))
    expected = [
        [str(record_id), *cells] for record_id, cells in zip(ids, EXPORTED[subject.resource.plural], strict=True)
    ]
    assert table(response) == [HEADERS[subject.resource.plural], *expected]


@each_resource
async def test_export_of_an_empty_list_is_just_the_header(client: Client, subject: Subject) -> None:
    assert table(await client.get(f"{subject.path}/export.csv")) == [HEADERS[subject.resource.plural]]


HERO_VIEWS = {
    "default": {},
    "name descending": {"sort": "-name"},
    "age": {"sort": "age"},
    "age descending": {"sort": "-age"},
    "team, searched": {"sort": "team", "q": "man"},
    "team descending, age range": {"sort": "-team", "min_age": "12", "max_age": "16"},
    "no team, by secret name": {"team": "No team", "sort": "secret_name"},
    "one team, searched by its name": {"team": "Z-Force", "q": "force"},
    "nothing matches": {"q": "Nobody at all"},
}


async def test_hero_export_has_the_rows_and_order_of_paging_through_the_list(client: Client, db: AsyncSession) -> None:
    await arrange_heroes(db)
    for name, view in HERO_VIEWS.items():  # one test over the table: the same data, read in each view
        listed = await listed_ids(client, "/heroes", view | {"size": "25"}, "hero-rows")
        exported = exported_ids(await client.get("/heroes/export.csv", params=view))
        assert exported == listed, name
        assert len(exported) == len(set(exported)), name


TEAM_VIEWS = {
    "default": {},
    "headquarters descending": {"sort": "-headquarters"},
    "with heroes, searched": {"has_heroes": "yes", "q": "o"},
    "without heroes": {"has_heroes": "no", "sort": "-name"},
}


async def test_team_export_has_the_rows_and_order_of_paging_through_the_list(client: Client, db: AsyncSession) -> None:
    teams = [Team(name=f"Team {n:02d}", headquarters=["Tower", "Cave", "Boat"][n % 3]) for n in range(40)]
    db.add_all(teams)
    await db.commit()
    db.add_all(Hero(name=f"Member {n}", secret_name="Someone", team_id=teams[n].id) for n in range(0, 40, 3))
    await db.commit()
    for name, view in TEAM_VIEWS.items():
        listed = await listed_ids(client, "/teams", view | {"size": "25"}, "team-rows")
        assert exported_ids(await client.get("/teams/export.csv", params=view)) == listed, name


FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1:A2)", "\t=cmd", "\r=cmd", "'=quoted"]


async def test_cells_a_spreadsheet_would_run_as_formulas_get_a_leading_quote(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name='=HYPERLINK("http://evil.test")')
    for n, text in enumerate(FORMULAS):
        await make_hero(db, name=text, secret_name=f"{text} secret", age=n, team=team)
    rows = table(await client.get("/heroes/export.csv", params={"sort": "age"}))[1:]
    assert [row[1:4] for row in rows] == [["'" + text, f"'{text} secret", str(n)] for n, text in enumerate(FORMULAS)]
    assert {row[4] for row in rows} == {'\'=HYPERLINK("http://evil.test")'}
    # Ids, ages and versions are numbers the app writes, not text anyone typed: they stay plain numbers.
    assert all(row[0].isdigit() and row[3].isdigit() and row[5] == "1" for row in rows)


async def test_team_cells_are_neutralised_too(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="@SUM(1+1)", headquarters="-2+3")
    assert table(await client.get("/teams/export.csv"))[1][1:3] == ["'@SUM(1+1)", "'-2+3"]


async def test_ordinary_text_is_exported_as_it_is(client: Client, db: AsyncSession) -> None:
    await make_hero(db, name="Señor Müller, “the 2nd”", secret_name='Say "hi"; 1-2')
    assert table(await client.get("/heroes/export.csv"))[1][1:3] == ["Señor Müller, “the 2nd”", 'Say "hi"; 1-2']


# --- streaming ------------------------------------------------------------------------------------------------


async def streamed(app: Litestar, path: str, session_token: str) -> tuple[dict[str, Any], list[bytes]]:
    """Call the app as an ASGI server would and keep each body message apart (the test client joins them)."""
    requested, finished = False, asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()  # the client stays connected until the whole file is sent
        return {"type": "http.disconnect"}

    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            finished.set()

    cookie = f"session={session_token}".encode()
    scope = asgi_get(path, [(b"host", b"testserver.local"), (b"cookie", cookie)], ("testserver.local", 80))
    await app(scope, receive, send)  # type: ignore[arg-type]
    start = next(message for message in messages if message["type"] == "http.response.start")
    return start, [message.get("body", b"") for message in messages if message["type"] == "http.response.body"]


async def test_export_of_25000_heroes_is_streamed_in_chunks(settings: Settings, db: AsyncSession, clock: Clock) -> None:
    await db.exec(insert(Hero), params=[{"name": f"Hero {n:05d}", "secret_name": "Secret"} for n in range(25_000)])
    await db.commit()
    # An app of its own on this test's event loop: the test client's runs on another loop, in another thread, and
    # its pooled connections (asyncpg's are bound to their loop) must not be used from this one.
    app = create_app(settings)
    async with concurrent_client(app, db, clock) as client:
        start, bodies = await streamed(app, "/heroes/export.csv", client.http.cookies["session"])
    assert start["status"] == 200
    assert b"content-length" not in dict(start["headers"])  # sent as it is made, not measured first
    chunks = [body for body in bodies if body]
    assert len(chunks) >= 25  # the header, then about a thousand rows at a time
    assert max(len(chunk) for chunk in chunks) < 100_000
    rows = list(csv.reader(io.StringIO(b"".join(bodies).decode("utf-8-sig"), newline="")))
    assert rows[0] == HERO_HEADER
    assert len(rows) == 25_001
    assert [rows[1][1], rows[-1][1]] == ["Hero 00000", "Hero 24999"]


# --- refusals -------------------------------------------------------------------------------------------------


@each_resource
async def test_viewer_may_not_export(http: Client, db: AsyncSession, clock: Clock, subject: Subject) -> None:
    await make_hero(db, team=await make_team(db))
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    assert_refused(await http.get(f"{subject.path}/export.csv"), 403)


MALFORMED = {
    "heroes": [{"sort": "power"}, {"min_age": "old"}, {"q": "x" * 500}],
    "teams": [{"has_heroes": "maybe"}, {"sort": "-age"}],
}


@each_resource
async def test_export_with_a_malformed_list_address_is_a_400_page(client: Client, subject: Subject) -> None:
    for params in MALFORMED[subject.resource.plural]:
        assert_refused(await client.get(f"{subject.path}/export.csv", params=params), 400)


async def test_export_filtered_by_an_unknown_team_is_a_422_page(client: Client, db: AsyncSession) -> None:
    await make_hero(db)
    page = assert_refused(await client.get("/heroes/export.csv", params={"team": "Nobodies"}), 422)
    assert "No team is named “Nobodies”" in page.find(role="alert").text


# --- the link on the lists ------------------------------------------------------------------------------------


async def test_hero_list_export_link_carries_search_filters_and_sort_but_not_the_page(
    client: Client, db: AsyncSession
) -> None:
    await make_hero(db, team=await make_team(db, name="Z-Force"))
    params = {"q": "dead pond", "team": "Z-Force", "min_age": "1", "sort": "-age", "size": "50"}
    page = parse((await client.get("/heroes", params=params)).text)
    assert export_link(page) == "/heroes/export.csv?q=dead+pond&team=Z-Force&min_age=1&sort=-age"


async def test_hero_list_fragment_has_the_export_link_of_the_new_search(client: Client) -> None:
    response = await client.get("/heroes", params={"q": "pond"}, headers=HTMX)
    assert export_link(parse(response.text)) == "/heroes/export.csv?q=pond"


async def test_team_list_export_link_carries_its_criteria(client: Client) -> None:
    page = parse((await client.get("/teams", params={"has_heroes": "no", "sort": "-headquarters"})).text)
    assert export_link(page) == "/teams/export.csv?has_heroes=no&sort=-headquarters"


async def test_unfiltered_list_links_to_the_plain_export(client: Client) -> None:
    assert export_link(parse((await client.get("/heroes")).text)) == "/heroes/export.csv"


@each_resource
async def test_viewer_sees_no_export_link(http: Client, db: AsyncSession, clock: Clock, subject: Subject) -> None:
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    assert export_link(parse((await http.get(subject.path)).text)) is None


async def test_an_export_while_every_export_slot_streams_is_429_with_retry_after(
    client: Client, app: Litestar, db: AsyncSession, settings: Settings
) -> None:
    """Each export holds a connection while its client reads; past `export_slots` at once the answer is a
    readable 429, so slow downloads cannot take the pool from everyone else's pages. Freed slots serve again."""
    await make_hero(db, name="Deadpond")
    slots: asyncio.Semaphore = app.state.export_slots
    for _ in range(settings.export_slots):
        await slots.acquire()  # exports in flight, as far as the server can tell
    try:
        busy = await client.get("/heroes/export.csv")
        assert busy.status_code == 429
        assert busy.headers["retry-after"] == "10"
        assert "Other exports are running" in busy.text
    finally:
        for _ in range(settings.export_slots):
            slots.release()
    served = await client.get("/heroes/export.csv")
    assert served.status_code == 200
    assert "Deadpond" in served.text

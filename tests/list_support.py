"""Helpers for the list tests: rows and links as served, cursors as a client could forge them, a data set with
duplicate names, missing ages and teamless heroes, the order a sort must give it, and walks through the pages.

Names differ only in digits after a shared prefix, so the order is the same under any collation (byte order on
SQLite and on the test server's C.UTF-8, dictionary order elsewhere)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import Element, parse
from webapp.models import Hero, Team

Client = AsyncTestClient[Litestar]


def rows(html: str, tbody: str = "hero-rows") -> list[int]:
    """The ids of the rows a list shows, in order."""
    return [int(row.attrs["id"].rsplit("-", 1)[1]) for row in parse(html).by_id(tbody).find_all("tr")]


async def names_found(client: Client, q: str, path: str = "/heroes", tbody: str = "hero-rows") -> list[str]:
    """The names a search lists, in order."""
    response = await client.get(path, params={"q": q})
    assert response.status_code == 200, response.text
    return [row.find("td", data_label="Name").text for row in parse(response.text).by_id(tbody).find_all("tr")]


async def summary(client: Client, params: dict[str, str], path: str = "/heroes", region: str = "hero-summary") -> str:
    """The list's count line."""
    return parse((await client.get(path, params=params)).text).by_id(region).text


def link(html: str, rel: str) -> str | None:
    """The href of the page link with this rel (next / prev), or None when there is none."""
    found = parse(html).find_all("a", rel=rel)
    assert len(found) <= 1
    return found[0].attrs["href"] if found else None


def named_link(html: str, text: str) -> Element | None:
    found = [a for a in parse(html).find_all("a") if a.text == text]
    assert len(found) <= 1
    return found[0] if found else None


def header_names(table: Element) -> list[str]:
    """A table's column headers as announced: a sortable one by its link (its order mark is aria-hidden)."""
    names = []
    for header in table.find_all("th", scope="col"):
        links = header.find_all("a")
        names.append(links[0].text if links else header.text)
    return names


def token(value: Any) -> str:
    """A cursor as the app writes them: unpadded base64url of compact JSON."""
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def raw_token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def is_full_page(html: str) -> bool:
    document = parse(html)
    return document.has("html") and document.has("body")


def vary(response: Any) -> list[str]:
    return [value.strip().lower() for line in response.headers.get_list("vary") for value in line.split(",")]


@dataclass(frozen=True)
class Row:
    """What a sort looks at in one hero."""

    id: int
    name: str
    secret_name: str
    age: int | None
    team: str | None


async def make_roster(db: AsyncSession, count: int = 80) -> list[Row]:
    """`count` heroes, inserted out of name order: about 23 distinct names (duplicates), every 4th without an
    age (other ages repeat), every 3rd without a team, the rest in "Team A" or "Team B"."""
    teams = [Team(name="Team A", headquarters="Alpha Base"), Team(name="Team B", headquarters="Bravo Base")]
    db.add_all(teams)
    await db.commit()
    heroes = [
        Hero(
            name=f"Hero {(n * 7) % 23:02d}",
            secret_name=f"Secret {(n * 11) % 31:02d}",
            age=None if n % 4 == 0 else (n * 13) % 40,
            team_id=None if n % 3 == 0 else teams[n % 2].id,
        )
        for n in range(count)
    ]
    db.add_all(heroes)
    await db.commit()
    names = {team.id: team.name for team in teams}
    roster = [
        Row(id=h.id or 0, name=h.name, secret_name=h.secret_name, age=h.age, team=names.get(h.team_id or 0))
        for h in heroes
    ]
    # Ends the arranging session's transaction (SQLite: so the app's writers are not kept waiting).
    await db.commit()
    return roster


KEYS = {"name": "name", "secret_name": "secret_name", "age": "age", "team": "team"}


def expected_order(roster: list[Row], sort: str) -> list[int]:
    """The ids in the order `sort` must show them: values ascending with ties by id, then the rows without a
    value by id; a "-" sort is exactly the reverse."""
    descending = sort.startswith("-")
    attribute = KEYS[sort.lstrip("-")]
    present = sorted(
        (r for r in roster if getattr(r, attribute) is not None), key=lambda r: (getattr(r, attribute), r.id)
    )
    missing = sorted((r for r in roster if getattr(r, attribute) is None), key=lambda r: r.id)
    ids = [r.id for r in present + missing]
    return ids[::-1] if descending else ids


async def walk_forward(client: Client, url: str, tbody: str = "hero-rows") -> tuple[list[list[int]], str]:
    """Follow Next from `url` to the end: each page's rows, and the last page's address."""
    pages: list[list[int]] = []
    while True:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        pages.append(rows(response.text, tbody))
        following = link(response.text, "next")
        if following is None:
            return pages, url
        assert len(pages) < 50, "Next never ends"
        url = following


async def walk_back(client: Client, url: str, tbody: str = "hero-rows") -> list[list[int]]:
    """Follow Previous from `url` to the start: each page's rows, the first one first."""
    pages: list[list[int]] = []
    while True:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        pages.append(rows(response.text, tbody))
        previous = link(response.text, "prev")
        if previous is None:
            return pages[::-1]
        assert len(pages) < 50, "Previous never ends"
        url = previous

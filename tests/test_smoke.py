"""The app starts on each database and answers its front door, and the pages its navigation links to."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import Client, make_hero


async def test_root_is_the_home_page(client: Client) -> None:
    response = await client.get("/", follow_redirects=False)
    assert response.status_code == 200
    assert parse(response.text).find("h1").text == "Home"


async def test_hero_list_shows_a_stored_hero(client: Client, db: AsyncSession) -> None:
    await make_hero(db, name="Rusty-Man")
    response = await client.get("/heroes")
    assert response.status_code == 200
    assert "Rusty-Man" in response.text


async def test_every_page_in_the_navigation_answers_with_its_heading(client: Client) -> None:
    nav = parse((await client.get("/heroes")).text).find("nav", aria_label="Main")
    links = {a.text: a.attrs["href"] for a in nav.find("ul").find_all("a")}
    assert links == {"Heroes": "/heroes", "Teams": "/teams", "Activity": "/activity", "Trash": "/trash"}
    for heading, path in links.items():
        response = await client.get(path)
        assert response.status_code == 200, path
        assert parse(response.text).find("h1").text == heading, path

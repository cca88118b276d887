"""The app starts on each database and answers its front door."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.factories import make_hero


async def test_root_redirects_to_heroes_with_303(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/heroes"


async def test_hero_list_shows_a_stored_hero(client: AsyncTestClient[Litestar], db: AsyncSession) -> None:
    await make_hero(db, name="Rusty-Man")
    response = await client.get("/heroes")
    assert response.status_code == 200
    assert "Rusty-Man" in response.text

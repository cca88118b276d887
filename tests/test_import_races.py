"""An import applied while someone edits one of its heroes: one of them wins, the other is told (409), and
nothing is lost or half applied, on both databases."""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.concurrent import concurrent_client
from tests.support import Clock, all_heroes, form_fields, id_of, make_hero


@pytest.mark.parametrize("round_", range(3))
async def test_import_racing_an_edit_of_the_same_hero_leaves_one_winner(
    app: Litestar, db: AsyncSession, clock: Clock, round_: int
) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=30))
    await db.commit()
    async with concurrent_client(app, db, clock) as racer:
        file = f"ID,Name,Secret name,Age\r\n{hero_id},Deadpond,Dive Wilson,31\r\n,Newcomer,Someone,\r\n".encode()
        checked = await racer.http.post("/heroes/import", files={"file": ("heroes.csv", file, "text/csv")})
        assert checked.status_code == 200
        fields = form_fields(checked.text, "import-apply")
        edit = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": "45", "version": "1"}
        applied, edited = await asyncio.gather(
            racer.http.post("/heroes/import/apply", files={name: (None, value) for name, value in fields.items()}),
            racer.http.post(f"/heroes/{hero_id}", data=edit),
        )
    assert sorted([applied.status_code, edited.status_code]) == [303, 409]
    stored = [(hero.name, hero.age, hero.version) for hero in await all_heroes(db)]
    await db.commit()
    if applied.status_code == 303:
        assert stored == [("Deadpond", 31, 2), ("Newcomer", None, 1)]
    else:  # the edit came first: the whole import is refused, the new hero of row 3 too
        assert stored == [("Deadpond", 45, 2)]

"""A worker keeps a select's choices (a hero's teams) between requests and offers them again while the teams'
change count (models.ChangeCount, read along with the session) is the count they were read with: the same
count means the same teams. Every kind of change to the teams, made anywhere (here by another connection, as
another worker would), shows on the next page; a request that writes reads them afresh."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from sqlalchemy import delete, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import HTMX, Client, make_hero, make_team
from tests.test_work_shape import statements
from webapp.models import Team

CHOICES = "SELECT team.id, team.name"
TRASHED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def team_filter(html: str) -> list[str]:
    """The names the heroes list's team filter offers (after "Any team" and "No team")."""
    return [option.text for option in parse(html).by_id("hero-team-filter").find_all("option")][2:]


def form_choices(html: str) -> list[str]:
    """The names an edit form's team select offers (after "No team")."""
    return [option.text for option in parse(html).find("select").find_all("option")][1:]


async def rename(db: AsyncSession) -> None:
    await db.exec(update(Team).where(col(Team.name) == "Alpha").values(name="Aleph", version=Team.version + 1))


async def create(db: AsyncSession) -> None:
    await make_team(db, name="Gamma", headquarters="Gamma Base")


async def trash(db: AsyncSession) -> None:
    await db.exec(update(Team).where(col(Team.name) == "Alpha").values(deleted_at=TRASHED_AT))


async def purge(db: AsyncSession) -> None:
    await db.exec(update(Team).where(col(Team.name) == "Alpha").values(deleted_at=TRASHED_AT))
    await db.commit()
    await db.exec(delete(Team).where(col(Team.name) == "Alpha"))


async def restore(db: AsyncSession) -> None:
    await db.exec(update(Team).where(col(Team.name) == "Old").values(deleted_at=None))


CHANGES: dict[str, tuple[Callable[[AsyncSession], Awaitable[None]], list[str]]] = {
    "renamed": (rename, ["Aleph", "Beta"]),
    "created": (create, ["Alpha", "Beta", "Gamma"]),
    "trashed": (trash, ["Beta"]),
    "purged": (purge, ["Beta"]),
    "restored": (restore, ["Alpha", "Beta", "Old"]),
}


async def teams(db: AsyncSession) -> None:
    await make_team(db, name="Alpha", headquarters="A Base")
    await make_team(db, name="Beta", headquarters="B Base")
    old = await make_team(db, name="Old", headquarters="O Base")
    await db.exec(update(Team).where(col(Team.id) == old.id).values(deleted_at=TRASHED_AT))
    await db.commit()


async def test_a_list_page_reads_the_choices_once_while_the_teams_stay_the_same(
    client: Client, app: Litestar, db: AsyncSession
) -> None:
    await teams(db)
    with statements(app) as seen:
        first = await client.get("/heroes")
    assert sum(statement.startswith(CHOICES) for statement in seen) == 1
    await make_hero(db)  # heroes change: the teams' count does not
    with statements(app) as seen:
        again = await client.get("/heroes")
    assert not any(statement.startswith(CHOICES) for statement in seen)
    assert team_filter(again.text) == team_filter(first.text) == ["Alpha", "Beta"]


@pytest.mark.parametrize("change", list(CHANGES))
async def test_every_change_to_the_teams_shows_on_the_next_page(client: Client, db: AsyncSession, change: str) -> None:
    await teams(db)
    hero = await make_hero(db)
    make_change, expected = CHANGES[change]
    assert team_filter((await client.get("/heroes")).text) == ["Alpha", "Beta"]
    assert form_choices((await client.get(f"/heroes/{hero.id}/edit", headers=HTMX)).text) == ["Alpha", "Beta"]
    await make_change(db)
    await db.commit()
    assert team_filter((await client.get("/heroes")).text) == expected
    assert form_choices((await client.get(f"/heroes/{hero.id}/edit", headers=HTMX)).text) == expected


async def test_a_request_that_writes_reads_the_choices_afresh(client: Client, app: Litestar, db: AsyncSession) -> None:
    """A form sent back with an error shows its choices again: read in that request, not taken from before."""
    await teams(db)
    await client.get("/heroes/new")
    with statements(app) as seen:
        refused = await client.post("/heroes", data={"name": "", "secret_name": "x", "age": "", "team_id": ""})
    assert refused.status_code == 422
    assert sum(statement.startswith(CHOICES) for statement in seen) == 1
    assert form_choices(refused.text) == ["Alpha", "Beta"]

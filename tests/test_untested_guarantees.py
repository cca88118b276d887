"""Guarantees the audit found untested: a team moved to the trash while heroes are saved into it (real concurrent
transactions), and the session middleware's own refusal of a deactivated user's session."""

from __future__ import annotations

import asyncio

from litestar import Litestar
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import session_rows, user_id
from tests.concurrent import concurrent_client
from tests.conftest import Clock, sign_in
from tests.support import Client, id_of, make_hero, make_team, make_user
from webapp.models import Hero, Team, User

ROUNDS = 4
SAVERS = 12


async def heroes_in_trashed_teams(db: AsyncSession) -> list[str]:
    """Live heroes whose team is in the trash: the rule "a live hero's team is live" broken."""
    db.expire_all()
    statement = (
        select(Hero.name)
        .join(Team, col(Team.id) == Hero.team_id)
        .where(col(Hero.deleted_at).is_(None), col(Team.deleted_at).is_not(None))
    )
    names = list((await db.exec(statement)).all())
    await db.commit()
    return names


async def test_a_team_trashed_while_heroes_are_saved_into_it_leaves_no_live_hero_in_it(
    app: Litestar, db: AsyncSession, clock: Clock
) -> None:
    """Each save checks the team is live and holds it (a share lock on PostgreSQL) until it commits: the delete
    waits for the saves that checked first, then detaches them; saves that check after it are refused."""
    async with concurrent_client(app, db, clock) as concurrent:
        for round_ in range(ROUNDS):
            team = await make_team(db, name=f"Team {round_}", headquarters="HQ")
            heroes = [await make_hero(db, name=f"Hero {round_}-{n}", secret_name="S") for n in range(SAVERS)]
            team_id = id_of(team)
            forms = [
                (
                    id_of(hero),
                    {"name": hero.name, "secret_name": "S", "age": "", "team_id": str(team_id), "version": "1"},
                )
                for hero in heroes
            ]
            concurrent.overlap.peak = 0
            saves = [concurrent.http.post(f"/heroes/{hero_id}", data=form) for hero_id, form in forms]
            trash = concurrent.http.post(f"/teams/{team_id}/delete", data={"version": "1"})
            # The delete goes in the middle of the saves, so some check the team before it and commit after it.
            responses = await asyncio.gather(*saves[: SAVERS // 2], trash, *saves[SAVERS // 2 :])
            assert concurrent.overlap.peak > 1
            assert {response.status_code for response in responses} <= {303, 409, 422}, [
                r.status_code for r in responses
            ]
            assert await heroes_in_trashed_teams(db) == []


async def test_the_middleware_refuses_a_deactivated_users_session_by_itself(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    """Deactivated straight in the database (not through the Users screen, which also ends the sessions): the
    session row is still there, and the middleware itself refuses it and ends it."""
    vera = await make_user(db, username="vera")
    vera_id = user_id(vera)
    await sign_in(http, db, vera, clock)
    assert (await http.get("/heroes")).status_code == 200
    await db.exec(update(User).where(col(User.id) == vera_id).values(is_active=False))
    await db.commit()
    assert len(await session_rows(db, vera_id)) == 1
    response = await http.get("/heroes", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?")
    assert await session_rows(db, vera_id) == []

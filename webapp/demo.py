"""Demo data: a few well-known teams and heroes, added only to an empty database."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.db import session_factories
from webapp.models import Hero, Team

TEAMS = [
    ("Preventers", "Sharp Tower"),
    ("Z-Force", "Sister Margaret's Bar"),
    ("Avengers", "Avengers Tower, New York"),
    ("Justice League", "Hall of Justice, Washington"),
    ("X-Men", "Xavier's School, Westchester"),
    ("Fantastic Four", "Baxter Building, New York"),
]

HEROES = [
    ("Deadpond", "Dive Wilson", None, "Z-Force"),
    ("Spider-Boy", "Pedro Parqueador", None, None),
    ("Rusty-Man", "Tommy Sharp", 48, "Preventers"),
    ("Tarantula", "Natalia Roman-on", 32, "Preventers"),
    ("Black Lion", "Trevor Challa", 35, None),
    ("Dr. Weird", "Steve Weird", 36, "Preventers"),
    ("Captain North America", "Esteban Rogelios", 93, "Preventers"),
    ("Iron Knight", "Antonio Stork", 45, "Avengers"),
    ("Widow Maker", "Natasha Romanova", 34, "Avengers"),
    ("Thunder God", "Donald Blake", 1500, "Avengers"),
    ("Green Giant", "Bruno Banner", 42, "Avengers"),
    ("Hawk Eye", "Clinton Barton", 39, "Avengers"),
    ("Night Bat", "Brody Wane", 40, "Justice League"),
    ("Super Person", "Clark Kant", 35, "Justice League"),
    ("Wonder Warrior", "Diana Prinz", 5000, "Justice League"),
    ("The Blur", "Barry Alan", 28, "Justice League"),
    ("Aqua Lad", "Arthur Curie", 33, "Justice League"),
    ("Ring Bearer", "Hal Jordain", 38, "Justice League"),
    ("Cyclops Jr", "Scott Summer", 30, "X-Men"),
    ("Storm Front", "Ororo Monroe", 36, "X-Men"),
    ("Claw", "James Howlette", 197, "X-Men"),
    ("Frost Queen", "Emma Frosty", 35, "X-Men"),
    ("Beastly", "Henry McCoyne", 41, "X-Men"),
    ("Mister Stretch", "Reed Richardson", 44, "Fantastic Four"),
    ("Invisible Lady", "Susan Storme", 38, "Fantastic Four"),
    ("Torch Boy", "Johnny Storme", 26, "Fantastic Four"),
    ("Rocky", "Ben Grimes", 46, "Fantastic Four"),
    ("Lone Ranger", "John Reed", 31, None),
    ("Moon Knightly", "Marc Spectre", 37, None),
    ("Daredevilish", "Matthew Murdok", 33, None),
]


async def seed_demo(engine: AsyncEngine) -> bool:
    """Add the demo teams and heroes if the database has none; returns whether it did."""
    _reader, writer = session_factories(engine)
    async with writer() as session:
        if await _has_data(session):
            return False
        teams = {name: Team(name=name, headquarters=hq) for name, hq in TEAMS}
        session.add_all(teams.values())
        await session.flush()
        session.add_all(
            Hero(name=name, secret_name=secret, age=age, team_id=teams[team].id if team else None)
            for name, secret, age, team in HEROES
        )
        await session.commit()
        return True


async def _has_data(session: AsyncSession) -> bool:
    heroes = (await session.exec(select(func.count()).select_from(Hero))).one()
    teams = (await session.exec(select(func.count()).select_from(Team))).one()
    return bool(heroes or teams)

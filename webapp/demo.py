"""Demo data, added only to an empty database: a few well-known teams and heroes, or (for measuring) as many
generated ones as asked for, the same every time for the same seed."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from itertools import islice

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
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


# --- generated data at scale: `python -m webapp demo --heroes N --teams M` ---------------------------------------


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


ADJECTIVES = _words(
    "Amber Arctic Atomic Azure Blazing Bold Brass Bright Cobalt Copper Cosmic Crimson Crystal Dark Dawn Desert "
    "Diamond Dusk Eclipse Electric Emerald Ember Fierce Frost Galactic Ghost Giant Gilded Golden Granite Gray "
    "Hidden Hollow Indigo Iron Ivory Jade Jet Keen Lunar Lucky Marble Midnight Mighty Misty Neon Noble Obsidian "
    "Onyx Phantom Polar Primal Quantum Quick Radiant Rapid Red Royal Ruby Rust Sable Scarlet Shadow Silent Silver "
    "Sky Solar Sonic Steel Stone Storm Sun Swift Thunder Tidal Titan Twilight Ultra Velvet Violet Vivid Wild "
    "Winter Wise Zen Zero Nova Astral Blue Green Black White Orange Pale Proud Rogue Brave True Valiant"
)
NOUNS = _words(
    "Anchors Arrows Avengers Badgers Bears Blades Bolts Cobras Comets Condors Coyotes Crows Cyclones Dragons "
    "Eagles Embers Falcons Foxes Giants Griffins Guardians Hawks Hornets Hounds Hurricanes Jaguars Knights "
    "Lancers Legion Lions Lynxes Mantises Meteors Monarchs Navigators Ospreys Owls Panthers Phoenixes Pilots "
    "Pioneers Raiders Rangers Ravens Rebels Rockets Sabres Scouts Sentinels Sharks Spartans Sparks Spectres "
    "Sphinxes Stallions Stars Strikers Squadron Tempests Tigers Titans Tornadoes Tridents Vanguard Vipers "
    "Voyagers Wardens Wasps Wolves Wolverines Wraiths Wyverns Yetis Zephyrs Alliance Brigade Collective Corps "
    "Council Crew Division Force Guild League Order Patrol Society Syndicate Union Unit Watch Wing Circle Clan"
)
CITIES = _words(
    "Metro City, Gotham, Star City, Central City, Coast City, Bludhaven, Keystone, Hub City, Midway City, "
    "Opal City, Ivy Town, Fawcett City, Smallville, Riverdale, Emerald Bay, Harbor Point, Silver Falls, "
    "North Haven, Stone Ridge, Lakeshore, Port Royal, Summit, Westfield, Eastgate",
    sep=", ",
)
HERO_FIRST = _words(
    "Captain Doctor Mister Miss Lady Lord Agent Professor Major Sergeant Night Iron Silver Golden Shadow Black "
    "White Red Blue Green Dark Bright Super Ultra Mega Hyper Atomic Cosmic Quantum Sonic Thunder Storm Frost "
    "Fire Ice Steel Stone Star Moon Sun"
)
HERO_SECOND = _words(
    "Falcon Hawk Owl Raven Wolf Fox Lynx Tiger Panther Cobra Viper Spider Scorpion Mantis Hornet Wasp Beetle "
    "Comet Meteor Nova Pulse Flash Bolt Spark Blaze Flame Frost Storm Tempest Cyclone Quake Shield Sword Arrow "
    "Lance Hammer Knight Ranger Sentinel Guardian Phantom Specter Ghost Shade Titan Giant Atom Vector Cipher"
)
GIVEN = _words(
    "Alex Avery Blake Cameron Casey Charlie Dana Drew Eden Emery Finley Frankie Harper Hayden Jamie Jesse Jordan "
    "Jules Kai Kendall Lee Logan Morgan Noel Parker Quinn Reese Riley Robin Rowan Sage Sam Sasha Sky Taylor "
    "Toni Val Wren Ada Ben Clara Dev Elena Felix Grace Hugo Iris Jonas Kira Leo Maya Nico Omar Pia Ravi Sofia"
)
FAMILY = _words(
    "Abbott Baker Chen Diaz Evans Fischer Garcia Hughes Ito Jensen Kim Larsen Moreau Nakamura Okafor Patel "
    "Quinn Rossi Silva Tanaka Ueda Vargas Walsh Xu Young Zimmer Novak Ivanova Costa Murphy Schmidt Dubois "
    "Haddad Kowalski Lindqvist Mendes Nguyen Olsen Petrov Ramos Sato Torres Weber Yilmaz Alvarez Brooks"
)
BATCH = 10_000


def generated_team(n: int) -> tuple[str, str]:
    """Team n (0-based): a unique name (adjective and noun, then numbered once those run out) and a city."""
    combos = len(ADJECTIVES) * len(NOUNS)
    name = f"{ADJECTIVES[n % len(ADJECTIVES)]} {NOUNS[(n // len(ADJECTIVES)) % len(NOUNS)]}"
    if n >= combos:
        name += f" {n // combos + 1}"
    return name, CITIES[n % len(CITIES)]


def generated_heroes(count: int, teams: int, seed: int) -> Iterator[tuple[str, str, int | None, int | None]]:
    """`count` heroes (name, secret name, age, team number or None), the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311  (made-up names, not secrets: the point is that they repeat)
    for _ in range(count):
        name = f"{rng.choice(HERO_FIRST)} {rng.choice(HERO_SECOND)}"
        secret = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
        age = None if rng.random() < 0.05 else rng.randint(16, 95)
        team = None if teams == 0 or rng.random() < 0.1 else rng.randrange(teams)
        yield name, secret, age, team


Progress = Callable[[str, int, int], None]


async def seed_generated(engine: AsyncEngine, *, heroes: int, teams: int, seed: int, progress: Progress) -> bool:
    """Fill an empty database with `teams` teams and `heroes` heroes in batches; returns whether it did.
    Teams get ids 1..teams, so heroes can name their team without a lookup."""
    _reader, writer = session_factories(engine)
    async with writer() as session:
        if await _has_data(session):
            return False
    async with engine.begin() as connection:
        for start in range(0, teams, BATCH):
            rows = []
            for n in range(start, min(start + BATCH, teams)):
                name, city = generated_team(n)
                rows.append({"id": n + 1, "name": name, "headquarters": city})
            await connection.execute(insert(Team).returning(col(Team.id)), rows)  # see the heroes below
            progress("teams", start + len(rows), teams)
        if connection.dialect.name == "postgresql" and teams:
            # Ids were given explicitly: move the sequence past them for the teams people create later.
            await connection.execute(text("SELECT setval(pg_get_serial_sequence('team', 'id'), :top)"), {"top": teams})
        generated = generated_heroes(heroes, teams, seed)
        done = 0
        while done < heroes:
            batch = [
                {"name": name, "secret_name": secret, "age": age, "team_id": None if team is None else team + 1}
                for name, secret, age, team in islice(generated, BATCH)
            ]
            # RETURNING makes SQLAlchemy send the rows as multi-row INSERTs (its "insertmanyvalues"), where asyncpg's
            # executemany would run one INSERT per row, each firing PostgreSQL's statement-level live-count
            # trigger: 100,000 heroes took 60 s that way, 4 s this way (2026-12-07).
            await connection.execute(insert(Hero).returning(col(Hero.id)), batch)
            done += len(batch)
            progress("heroes", done, heroes)
    if engine.dialect.name == "postgresql":
        # Statistics now, not when autovacuum gets round to it: without them the planner takes a fresh million
        # rows for a few and may pick, say, a nested loop for a search that then runs for seconds.
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE hero, team"))
    return True

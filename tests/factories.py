"""Arrange data straight in the database (tests act through HTTP and assert by re-reading)."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from webapp.config import utcnow
from webapp.models import AppSecret, AuditEntry, Hero, Role, Team, Throttle, User
from webapp.usernames import skeleton_key


async def make_team(db: AsyncSession, name: str = "Preventers", headquarters: str = "Sharp Tower") -> Team:
    team = Team(name=name, headquarters=headquarters)
    db.add(team)
    await db.commit()
    return team


async def make_hero(
    db: AsyncSession,
    name: str = "Deadpond",
    secret_name: str = "Dive Wilson",
    age: int | None = None,
    team: Team | None = None,
) -> Hero:
    hero = Hero(name=name, secret_name=secret_name, age=age, team_id=team.id if team else None)
    db.add(hero)
    await db.commit()
    return hero


async def fetch_hero(db: AsyncSession, hero_id: int) -> Hero | None:
    """Re-read a hero from the database, bypassing the session's identity map."""
    db.expire_all()
    return (await db.exec(select(Hero).where(Hero.id == hero_id))).first()


async def fetch_team(db: AsyncSession, team_id: int) -> Team | None:
    db.expire_all()
    return (await db.exec(select(Team).where(Team.id == team_id))).first()


async def all_heroes(db: AsyncSession) -> list[Hero]:
    db.expire_all()
    return list((await db.exec(select(Hero).order_by(col(Hero.id)))).all())


async def all_teams(db: AsyncSession) -> list[Team]:
    db.expire_all()
    return list((await db.exec(select(Team).order_by(col(Team.id)))).all())


def field_error(html: str, input_id: str) -> str | None:
    """The message tied to an invalid field by aria-describedby, or None if the field is not marked invalid."""
    document = parse(html)
    control = document.by_id(input_id)
    if control.attrs.get("aria-invalid") != "true":
        return None
    return document.by_id(control.attrs["aria-describedby"]).text


async def make_heroes(db: AsyncSession, count: int, prefix: str = "Hero") -> list[Hero]:
    """`count` teamless heroes named "<prefix> 01", "<prefix> 02", ... (so name order is creation order)."""
    heroes = [Hero(name=f"{prefix} {n:02d}", secret_name=f"Secret {n:02d}") for n in range(1, count + 1)]
    db.add_all(heroes)
    await db.commit()
    return heroes


async def count_heroes(db: AsyncSession) -> int:
    """How many heroes are stored. Ends its read transaction: on SQLite the test session begins IMMEDIATE,
    and an open one would keep the app's writers waiting."""
    ids = (await db.exec(select(Hero.id))).all()
    await db.commit()
    return len(ids)


async def move_to_trash(db: AsyncSession, record: Hero | Team, by: str = "eddie") -> None:
    """Put a record in the trash as a delete would (without the history entry or a team's heroes leaving)."""
    record.deleted_at, record.deleted_by, record.version = utcnow(), by, record.version + 1
    db.add(record)
    await db.commit()


async def audit_entries(db: AsyncSession) -> list[AuditEntry]:
    """The audit log, oldest first. Ends its read transaction (see count_heroes)."""
    db.expire_all()
    entries = list((await db.exec(select(AuditEntry).order_by(col(AuditEntry.id)))).all())
    await db.commit()
    return entries


def id_of(model: Hero | Team) -> int:
    """A stored row's id as a plain int (the models type it optional until inserted)."""
    assert model.id is not None
    return model.id


# --- accounts -------------------------------------------------------------------------------------------------

TEST_PASSWORD = "correct horse battery"
_HASHES: dict[str, str] = {}


def password_hash(password: str = TEST_PASSWORD) -> str:
    """argon2 costs tens of milliseconds by design; hash each test password once per run."""
    if password not in _HASHES:
        _HASHES[password] = PasswordHasher.from_parameters(profiles.CHEAPEST).hash(password)
    return _HASHES[password]


async def make_user(
    db: AsyncSession,
    username: str = "eddie",
    role: Role = Role.editor,
    password: str = TEST_PASSWORD,
    is_active: bool = True,
) -> User:
    user = User(
        username=username,
        username_skeleton=skeleton_key(username),
        password_hash=password_hash(password),
        role=role.value,
        is_active=is_active,
        created_at=utcnow(),
    )
    db.add(user)
    await db.commit()
    return user


async def fetch_user(db: AsyncSession, user_id: int) -> User | None:
    db.expire_all()
    return (await db.exec(select(User).where(User.id == user_id))).first()


async def database_state(db: AsyncSession) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the audit log, re-read (order-independent): equal before and after means
    nothing changed. The audit log is left out because a refused request is itself recorded there (tests of
    refusals check that entry on its own), and so are the counters that limit how many refusals are recorded
    and how many sign-ins are tried, and the key the app makes for itself on first use. Ends its read
    transaction, so the app's writers are not kept waiting on SQLite."""
    db.expire_all()
    state: dict[str, list[tuple[object, ...]]] = {}
    connection = await db.connection()
    for table in SQLModel.metadata.sorted_tables:
        if table.name in {AuditEntry.__tablename__, Throttle.__tablename__, AppSecret.__tablename__}:
            continue
        rows = (await connection.execute(sa_select(table))).all()
        state[table.name] = sorted((tuple(row) for row in rows), key=repr)
    await db.commit()
    return state


def form_fields(html: str, form_id: str) -> dict[str, str]:
    """What submitting form `form_id` sends as served: its named controls and those tied to it by the form
    attribute (an inline row's inputs), a select's chosen option (else its first), hidden fields included."""
    document = parse(html)
    controls = [*document.by_id(form_id).descendants(), *document.find_all(form=form_id)]
    data: dict[str, str] = {}
    for control in controls:
        name = control.attrs.get("name")
        if not name or control.tag not in {"input", "select", "textarea"}:
            continue
        if control.tag == "select":
            options = control.find_all("option")
            chosen = [option for option in options if "selected" in option.attrs] or options[:1]
            data[name] = chosen[0].attrs.get("value", "") if chosen else ""
        elif control.tag == "textarea":
            data[name] = control.text
        elif control.attrs.get("type") not in {"checkbox", "radio"} or "checked" in control.attrs:
            data[name] = control.attrs.get("value", "")
    return data

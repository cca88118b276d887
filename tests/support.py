"""What the HTTP tests share: the client, htmx headers and signing in; arranging data in the database and re-reading
it (a re-read ends its transaction: on SQLite the test session begins IMMEDIATE, which would keep the app's writers
waiting); forms, lists and pages as served; and `Subject`, one entry per resource of the registry, so a behaviour
every resource has is written once and runs on each (`@each_resource`)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

import httpx
import pytest
from argon2 import PasswordHasher, profiles
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import Element, parse
from webapp import accounts
from webapp.config import utcnow
from webapp.models import AppSecret, AuditEntry, Hero, Role, Team, Throttle, User
from webapp.registry import RESOURCES
from webapp.resource import Resource
from webapp.usernames import skeleton_key

Client = AsyncTestClient[Litestar]
HTMX: dict[str, Any] = {"HX-Request": "true"}
BOOSTED: dict[str, Any] = HTMX | {"HX-Boosted": "true"}


@dataclass(eq=False)
class Clock:
    """The app's clock in tests: real time at the start, moved on only by `advance`."""

    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


async def sign_in(client: httpx.AsyncClient, db: AsyncSession, user: User, clock: Clock) -> str:
    """Sign `client` in with a session made directly; like htmx, it then sends the CSRF token on every request."""
    token, row = await accounts.start_session(db, user=user, now=clock())
    await db.commit()
    client.cookies.set("session", token)
    client.headers["X-CSRF-Token"] = row.csrf_token
    return row.csrf_token


# --- arranging data -----------------------------------------------------------------------------------------------
async def make_team(db: AsyncSession, name: str = "Preventers", headquarters: str = "Sharp Tower") -> Team:
    return await TEAMS.make(db, name, headquarters=headquarters)


async def make_hero(
    db: AsyncSession,
    name: str = "Deadpond",
    secret_name: str = "Dive Wilson",
    age: int | None = None,
    team: Team | None = None,
) -> Hero:
    fields = {"secret_name": secret_name, "age": age, "team_id": team.id if team else None}
    return await HEROES.make(db, name, **fields)


async def move_to_trash(db: AsyncSession, record: Hero | Team, by: str = "eddie") -> None:
    """Put a record in the trash as a delete would (without the history entry or a team's heroes leaving)."""
    record.deleted_at, record.deleted_by, record.version = utcnow(), by, record.version + 1
    db.add(record)
    await db.commit()


TEST_PASSWORD = "correct horse battery"


def password_hash(password: str = TEST_PASSWORD) -> str:
    """argon2 costs tens of milliseconds by design; hash each test password once per run (keyed by the password
    itself: `cache` on this function would key `password_hash()` and `password_hash(TEST_PASSWORD)` apart)."""
    return _hashed(password)


@cache
def _hashed(password: str) -> str:
    return PasswordHasher.from_parameters(profiles.CHEAPEST).hash(password)


async def make_user(
    db: AsyncSession,
    username: str = "eddie",
    role: Role = Role.editor,
    password: str = TEST_PASSWORD,
    is_active: bool = True,
) -> User:
    hashed, now = password_hash(password), utcnow()
    names = {"username": username, "username_skeleton": skeleton_key(username)}
    user = User(**names, password_hash=hashed, role=role.value, is_active=is_active, created_at=now)
    db.add(user)
    await db.commit()
    return user


async def signed_in_as(http: Client, db: AsyncSession, clock: Clock, role: Role) -> Client:
    """`http` signed in as a new user of `role` (named after it: "viewer1", "admin1")."""
    await sign_in(http, db, await make_user(db, username=f"{role.value}1", role=role), clock)
    return http


# --- re-reading the database --------------------------------------------------------------------------------------
def id_of(model: Any) -> int:
    """A stored row's id as a plain int (the models type it optional until inserted)."""
    return int(model.id)


async def fetch_user(db: AsyncSession, user_id: int) -> User | None:
    db.expire_all()
    return (await db.exec(select(User).where(User.id == user_id))).first()


async def audit_entries(db: AsyncSession) -> list[AuditEntry]:
    """The audit log, oldest first (the read ended)."""
    db.expire_all()
    entries = list((await db.exec(select(AuditEntry).order_by(col(AuditEntry.id)))).all())
    await db.commit()
    return entries


async def database_state(db: AsyncSession) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, re-read (order-independent): equal before and after means nothing changed. Left
    out: what a refused request writes itself (the audit log, whose entry tests of refusals check on their own; the
    counters limiting recorded refusals and sign-in attempts) and the key the app makes on first use. Read ended."""
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


# --- pages as served ----------------------------------------------------------------------------------------------
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


def _described(scope: Element, control: Element) -> str | None:
    """The message of an invalid control: the first thing describing it (help, if any, follows)."""
    invalid = control.attrs.get("aria-invalid") == "true"
    return scope.by_id(control.attrs["aria-describedby"].split()[0]).text if invalid else None


def field_error(html: str, input_id: str) -> str | None:
    """The message tied to an invalid field by aria-describedby, or None if the field is not marked invalid."""
    document = parse(html)
    return _described(document, document.by_id(input_id))


def field_message(scope: Element, name: str) -> str:
    """The message the control named `name` points to with aria-describedby ("" when it is not marked invalid)."""
    return _described(scope, scope.find(name=name)) or ""


def toast(response: httpx.Response) -> str:
    """The status message region's text."""
    return parse(response.text).by_id("toasts").text


def is_full_page(html: str) -> bool:
    return (document := parse(html)).has("html") and document.has("body")


def vary(response: httpx.Response) -> list[str]:
    return [value.strip().lower() for line in response.headers.get_list("vary") for value in line.split(",")]


def cells(row: Element) -> list[str]:
    return [cell.text for cell in row.find_all("td")]


def rows(html: str, tbody: str = "hero-rows") -> list[int]:
    """The ids of the rows a list shows, in order."""
    return [int(row.attrs["id"].rsplit("-", 1)[1]) for row in parse(html).by_id(tbody).find_all("tr")]


def link(html: str, rel: str) -> str | None:
    """The href of the page link with this rel (next / prev), or None when there is none."""
    found = parse(html).find_all("a", rel=rel)
    assert len(found) <= 1
    return found[0].attrs["href"] if found else None


def named_link(html: str, text: str) -> Element | None:
    found = [a for a in parse(html).find_all("a") if a.text == text]
    assert len(found) <= 1
    return found[0] if found else None


async def names_found(client: Client, q: str, path: str = "/heroes", tbody: str = "hero-rows") -> list[str]:
    """The names a search lists, in order."""
    response = await client.get(path, params={"q": q})
    assert response.status_code == 200, response.text
    return [row.find("td", data_label="Name").text for row in parse(response.text).by_id(tbody).find_all("tr")]


async def summary(client: Client, params: dict[str, str], path: str = "/heroes", region: str = "hero-summary") -> str:
    """The list's count line."""
    return parse((await client.get(path, params=params)).text).by_id(region).text


def token(value: Any) -> str:
    """A cursor as the app writes them: unpadded base64url of compact JSON."""
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Row(NamedTuple):
    """What a sort looks at in one hero."""

    id: int
    name: str
    secret_name: str
    age: int | None
    team: str | None


async def make_roster(db: AsyncSession, count: int = 80) -> list[Row]:
    """`count` heroes, inserted out of name order: about 23 distinct names (duplicates), every 4th without an
    age (other ages repeat), every 3rd without a team, the rest in "Team A" or "Team B". Names differ only in
    digits after a shared prefix, so the order is the same under any collation."""
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
    roster = [Row(h.id or 0, h.name, h.secret_name, h.age, names.get(h.team_id or 0)) for h in heroes]
    await db.commit()  # ends the arranging session's transaction (SQLite: the app's writers would wait for it)
    return roster


# --- one entry per resource ---------------------------------------------------------------------------------------

# What a record of each resource is made of in the tests (by plural). The registry gives the rest.
SAMPLES: dict[str, dict[str, Any]] = {
    "heroes": {"name": "Deadpond", "secret_name": "Dive Wilson"},
    "teams": {"name": "Preventers", "headquarters": "Sharp Tower"},
}


@dataclass(frozen=True)
class Subject:
    """A resource as the tests drive it: its addresses and element ids (from the registry: "/heroes",
    "hero-rows", "hero-summary", "hero-form"), and how to make, re-read and fill in a record of it."""

    resource: Resource
    name: str
    path: str
    rows_id: str
    summary_id: str
    form_id: str
    fields: tuple[str, ...]

    def __str__(self) -> str:
        return self.resource.plural

    def url(self, record_id: int | str, suffix: str = "") -> str:
        return f"{self.path}/{record_id}{suffix}"

    def row_id(self, record_id: int) -> str:
        return f"{self.name}-{record_id}"

    def form_of(self, record_id: int | None, htmx: bool) -> str:
        """The id of the edit form: the full page's, or the inline row's."""
        return f"{self.name}-{record_id}-form" if htmx else self.form_id

    def prefix(self, record_id: int | None, htmx: bool) -> str:
        """What the edit form's field ids start with: "hero-form-name", or "hero-7-name" in the inline row."""
        return f"{self.name}-{record_id}" if htmx else self.form_id

    @property
    def other_field(self) -> str:
        """A required text field besides the name (a hero's secret name, a team's headquarters)."""
        return [spec.name for spec in self.resource.fields if spec.required and spec.max_length][1]

    def valid(self, name: str | None = None) -> dict[str, str]:
        """A form that creates a record (optional fields blank), named `name` or as the sample."""
        sample = {field: str(value) for field, value in SAMPLES[self.resource.plural].items()}
        return dict.fromkeys(self.fields, "") | sample | ({"name": name} if name else {})

    def new(self, name: str | None = None, **fields: Any) -> Any:
        """A record not stored yet: the sample, with `name` and `fields` instead of its own."""
        return self.resource.model(**SAMPLES[self.resource.plural] | ({"name": name} if name else {}) | fields)

    async def make(self, db: AsyncSession, name: str | None = None, **fields: Any) -> Any:
        record = self.new(name, **fields)
        db.add(record)
        await db.commit()
        return record

    async def make_full(self, db: AsyncSession, name: str | None = None) -> Any:
        """A record with everything set: numbers at 48, each reference to a new record named "Z-Force", and one
        record of each resource that points at it (a team's hero, "Member")."""
        fields: dict[str, Any] = {}
        for spec in self.resource.fields:
            if spec.is_number:
                fields[spec.name] = 48
            elif spec.references:
                fields[spec.name] = id_of(await subject(self.resource.targets[spec.name]).make(db, "Z-Force"))
        record = await self.make(db, name, **fields)
        for referencing in self.resource.referenced_by:
            pointers = {spec.name: id_of(record) for spec in referencing.pointers(self.resource)}
            await subject(referencing).make(db, "Member", **pointers)
        return record

    async def make_many(self, db: AsyncSession, count: int, prefix: str = "Item") -> list[Any]:
        """`count` records named "<prefix> 01", "<prefix> 02", ... (so name order is creation order)."""
        records = [self.new(f"{prefix} {n:02d}") for n in range(1, count + 1)]
        db.add_all(records)
        await db.commit()
        return records

    async def all(self, db: AsyncSession, record_id: int | None = None) -> list[Any]:
        """Every record (or the one with `record_id`), in the trash or not, by id (the read ended)."""
        db.expire_all()
        model = self.resource.model
        statement = select(model).order_by(col(model.id))
        records = list(
            (await db.exec(statement if record_id is None else statement.where(model.id == record_id))).all()
        )
        await db.commit()
        return records

    async def fetch(self, db: AsyncSession, record_id: int) -> Any | None:
        """The record as stored, in the trash or not, or None (the read ended)."""
        return next(iter(await self.all(db, record_id)), None)

    async def stored(self, db: AsyncSession, record_id: int) -> Any:
        record = await self.fetch(db, record_id)
        assert record is not None
        return record

    async def values(self, db: AsyncSession, record_id: int) -> dict[str, str]:
        """The record's fields as a form shows them ("" for none)."""
        record = await self.stored(db, record_id)
        return {name: "" if getattr(record, name) is None else str(getattr(record, name)) for name in self.fields}


SUBJECTS = tuple(
    Subject(each, n, f"/{each.plural}", f"{n}-rows", f"{n}-summary", f"{n}-form", each.field_names)
    for each, n in ((resource, resource.name) for resource in RESOURCES)
)
_BY_RESOURCE = {each.resource.name: each for each in SUBJECTS}
HEROES, TEAMS = _BY_RESOURCE["hero"], _BY_RESOURCE["team"]


def subject(resource: Resource) -> Subject:
    return _BY_RESOURCE[resource.name]


# Re-reads of heroes and teams (bypassing the session's identity map), by id or all of them by id.
fetch_hero, fetch_team, all_heroes, all_teams = HEROES.fetch, TEAMS.fetch, HEROES.all, TEAMS.all
each_resource = pytest.mark.parametrize("subject", SUBJECTS, ids=str)


def asgi_get(path: str, headers: list[tuple[bytes, bytes]], server: tuple[str, int]) -> dict[str, Any]:
    """The ASGI scope of a plain GET of `path`, for tests that call the app directly (to watch its messages)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": server,
        "state": {},
    }

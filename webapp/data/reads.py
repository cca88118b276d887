"""What the screens read besides the lists: one record, choices and suggestions for fields that point at another
record, a record's referencing records, history, Activity and the trash. Keyword-only where it helps reading."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from math import ceil
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import BigInteger, ColumnElement, Select, bindparam, func
from sqlalchemy import cast as sa_cast
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.data.ids import valid_id
from webapp.data.plain import RECORD_ID, PlainRow, by_id, kept, rows
from webapp.data.search import contains, starts_with
from webapp.models import CHANGE_COUNTED, AuditEntry, ChangeCount, User
from webapp.resource import Resource


async def in_parts(
    engine: AsyncEngine, statement: Select[Any], *, size: int
) -> AsyncGenerator[Sequence[Row[Any]], None]:
    """Every row of `statement`, `size` at a time, from one statement on a connection of its own (one consistent
    snapshot, and memory flat however many rows): for a reader that takes its time, like a download."""
    async with engine.connect() as connection:
        result = await connection.stream(statement.execution_options(yield_per=size))
        async for part in result.partitions():
            yield part


def live(resource: Resource) -> ColumnElement[bool]:
    return cast("ColumnElement[bool]", col(resource.model.deleted_at).is_(None))


async def find(session: AsyncSession, resource: Resource, record_id: int) -> Any | None:
    """The stored record as it is now (whatever the session saw before), in the trash or not: its columns as
    attributes (a plain object, not the ORM's: a change is a plain statement, webapp.data.writes). Read by one
    kept statement (on a reader, on the driver: plain.rows); the ORM's load of it was a tenth of an edit form and
    of a save (2026-12-07). Unsaved changes in the session are flushed first, as the ORM's own read would."""
    found = await by_id(session, _stored(resource), record_id)
    return None if found is None else SimpleNamespace(**found._asdict())


@cache
def _stored(resource: Resource) -> Select[Any]:
    table = resource.model.__table__
    return kept(select(*table.columns).where(table.c.id == bindparam(RECORD_ID)))


async def id_by_name(session: AsyncSession, resource: Resource, *, name: str) -> int | None:
    """The live record with exactly this name (names are unique among live records where they are referenced)."""
    statement = select(resource.model.id).where(resource.model.name == name, live(resource))
    return cast("int | None", (await session.exec(statement)).first())


async def is_live(session: AsyncSession, resource: Resource, *, record_id: int, lock: bool = False) -> bool:
    """Whether a live record has this id. `lock` holds a share lock (PostgreSQL) until commit, so the record
    cannot go to the trash between this check and the record that points at it being saved."""
    if not valid_id(record_id):
        return False
    # Run without a flush first (plain.rows): every caller checks before it changes anything in the session. On the
    # driver in the writer's transaction where plain.rows may (FOR SHARE is PostgreSQL's; SQLite's write lock holds
    # the row).
    return bool(await rows(session, _live_id(resource, lock), {RECORD_ID: record_id}))


@cache
def _live_id(resource: Resource, lock: bool) -> Select[Any]:
    """is_live's statement, built once per resource: built per save with its ORM execution, it was a twentieth of
    an inline save (2026-12-07)."""
    statement = select(resource.model.id).where(resource.model.id == bindparam(RECORD_ID), live(resource))
    return kept(statement.with_for_update(read=True) if lock else statement)


def choices_changed() -> Any:
    """How many changes the tables whose rows are choices have had (models.ChangeCount): a scalar subquery, for
    a statement to read along with what it reads."""
    # A whole number on both databases (PostgreSQL's sum of bigints is numeric).
    total = sa_cast(func.coalesce(func.sum(ChangeCount.changes), 0), BigInteger)
    return select(total).scalar_subquery()


# The column in which choices carry the change count they were read with.
CHOICES_CHANGED = "choices_changed"


@cache
def _choices_statement(resource: Resource, limit: int) -> Any:
    # Built once: the same statement on every list and form page (its cache key is kept on it).
    model = resource.model
    statement = select(model.id, model.name, choices_changed().label(CHOICES_CHANGED))
    return kept(statement.where(live(resource)).order_by(col(model.name), col(model.id)).limit(limit))


class ChoiceRows(list[PlainRow]):
    """Choices as read, with room (`made`) for what a page makes of them: a worker offers the same rows to many
    pages (Choices), and what is made of them once (a select's hundred options) serves each of those pages."""

    def __init__(self, found: Sequence[PlainRow]) -> None:
        super().__init__(found)
        self.made: dict[str, Any] = {}


class Choices:
    """Live records' ids and names, by name: a select's options. A worker keeps each resource's (one per app,
    not per module: each app has its own database) and offers them again while the change count they were read
    with is the count a request read (models.ChangeCount; the session lookup reads it, webapp.accounts): the
    same count means the same rows, so no page shows choices older than its request. The query and its hundred
    rows were a sixth of a heroes list page (2026-12-07)."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, int], ChoiceRows] = {}

    async def __call__(
        self, session: AsyncSession, resource: Resource, *, limit: int, changed: int | None
    ) -> ChoiceRows:
        """`limit` choices at most. `changed`: the change count this request read, or None to read them in any
        case (a request that writes may have changed them since)."""
        key = (resource.name, limit)
        held = self._kept.get(key)
        if changed is not None and held and getattr(held[0], CHOICES_CHANGED) == changed:
            return held
        found = ChoiceRows(await rows(session, _choices_statement(resource, limit)))
        # Kept with the count read in their own statement. Not from a request that may write: what it read may be
        # its own change, not committed (yet, or ever). Nor for a table whose changes go uncounted.
        if found and changed is not None and resource.model.__tablename__ in CHANGE_COUNTED:
            self._kept[key] = found
        return found


OPTIONS_SHOWN = 20


async def options(session: AsyncSession, resource: Resource, *, typed: str, limit: int = OPTIONS_SHOWN) -> list[str]:
    """Names of live records for a searchable picker: those starting with `typed` first, then those containing
    it."""
    name = resource.model.name
    statement = (
        select(name)
        .where(live(resource), contains(session, name, typed))
        .order_by(starts_with(session, name, typed).desc(), col(name))
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


MEMBERS_SHOWN = 100


async def members(
    session: AsyncSession, resource: Resource, *, field: str, record_id: int, limit: int = MEMBERS_SHOWN
) -> list[PlainRow]:
    """The first `limit` live records of `resource` whose `field` points at `record_id`, by name (a team's
    heroes; the page says how many there are in all)."""
    model = resource.model
    columns = [col(model.id), col(model.name), *(col(getattr(model, name)) for name in resource.field_names)]
    statement = (
        select(*columns)
        .where(getattr(model, field) == record_id, live(resource))
        .order_by(col(model.name), col(model.id))
        .limit(limit)
    )
    return cast("list[Row[Any]]", list((await session.exec(statement)).all()))


# --- history ----------------------------------------------------------------------------------------------------

HISTORY_PAGE = 50


@dataclass(frozen=True)
class Entries:
    """A page of history, newest first; `older` is the id to continue from (keyset: no OFFSET on a log)."""

    items: list[AuditEntry]
    older: int | None


async def _entries(session: AsyncSession, statement: Any, *, before: int | None, limit: int) -> Entries:
    if before is not None:
        statement = statement.where(col(AuditEntry.id) < before)
    rows = list((await session.exec(statement.order_by(col(AuditEntry.id).desc()).limit(limit + 1))).all())
    older = rows[limit - 1].id if len(rows) > limit else None
    return Entries(items=rows[:limit], older=older)


async def history(
    session: AsyncSession, resource: Resource, *, record_id: int, before: int | None = None, limit: int = HISTORY_PAGE
) -> Entries:
    """One record's history, newest first."""
    statement = select(AuditEntry).where(AuditEntry.record_type == resource.name, AuditEntry.record_id == record_id)
    return await _entries(session, statement, before=before, limit=limit)


@dataclass(frozen=True)
class ActivityFilter:
    """Which entries Activity shows: of these record types, optionally by one user, at or after `since` and
    before `until`."""

    record_types: tuple[str, ...]
    user_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    def statement(self) -> Select[Any]:
        """The filtered entries (in no order: a page or an export orders them)."""
        statement = select(AuditEntry).where(col(AuditEntry.record_type).in_(self.record_types))
        if self.user_id is not None:
            statement = statement.where(AuditEntry.user_id == self.user_id)
        if self.since is not None:
            statement = statement.where(col(AuditEntry.at) >= self.since)
        if self.until is not None:
            statement = statement.where(col(AuditEntry.at) < self.until)
        return statement


async def activity(
    session: AsyncSession,
    *,
    record_types: tuple[str, ...],
    user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
    limit: int = HISTORY_PAGE,
) -> Entries:
    """Recent entries across the app, of the given record types, optionally by one user and within a time range."""
    chosen = ActivityFilter(record_types, user_id, since, until)
    return await _entries(session, chosen.statement(), before=before, limit=limit)


async def history_entry(session: AsyncSession, *, entry_id: int) -> AuditEntry | None:
    if not valid_id(entry_id):
        return None
    return await session.get(AuditEntry, entry_id)


async def last_change_by(session: AsyncSession, resource: Resource, *, record_id: int) -> tuple[int | None, str]:
    """Who made the newest change to a record: (user id, name as it was)."""
    statement = (
        select(AuditEntry.user_id, AuditEntry.username)
        .where(AuditEntry.record_type == resource.name, AuditEntry.record_id == record_id)
        .order_by(col(AuditEntry.id).desc())
        .limit(1)
    )
    row = (await session.exec(statement)).first()
    return (row[0], row[1]) if row is not None else (None, "someone")


async def live_ids(
    session: AsyncSession, resources: Sequence[Resource], *, entries: list[AuditEntry]
) -> dict[str, set[int]]:
    """{record type: ids} of the records `entries` are about that are live now (one query per resource named), so
    a list of changes links a live record to its page and the others to their history."""
    found: dict[str, set[int]] = {}
    for resource in resources:
        ids = {entry.record_id for entry in entries if entry.record_type == resource.name and entry.record_id}
        if ids:
            statement = select(resource.model.id).where(col(resource.model.id).in_(ids), live(resource))
            found[resource.name] = set((await session.exec(statement)).all())
    return found


Names = dict[str, dict[int, tuple[str, bool]]]


async def referenced_names(
    session: AsyncSession, references: Mapping[str, Resource], *, entries: list[AuditEntry]
) -> Names:
    """{field: {id: (name, is live)}} for every record an entry's changes point at through one of `references`
    (field name -> the resource it points at), so history shows names, not ids."""
    found: Names = {}
    for field, referenced in references.items():
        ids = {
            value
            for item in entries
            for value in ((item.changes or {}).get(field) or [])
            if isinstance(value, int) and valid_id(value)
        }
        if not ids:
            continue
        model = referenced.model
        statement = select(model.id, model.name, model.deleted_at).where(col(model.id).in_(ids))
        rows: list[Any] = list((await session.exec(statement)).all())
        found[field] = {row.id: (row.name, row.deleted_at is None) for row in rows}
    return found


async def name_of(session: AsyncSession, resource: Resource, *, record_id: int) -> str | None:
    """A record's name, in the trash or not (None once purged)."""
    statement = select(resource.model.name).where(resource.model.id == record_id)
    return cast("str | None", (await session.exec(statement)).first())


async def user_choices(session: AsyncSession) -> list[Row[Any]]:
    statement = select(User.id, User.username).order_by(col(User.username))
    return cast("list[Row[Any]]", list((await session.exec(statement)).all()))


# --- the trash --------------------------------------------------------------------------------------------------

TRASH_SHOWN = 100


@dataclass(frozen=True)
class Page:
    """A numbered page (the trash pages by number: it is short, and ordered by deletion time)."""

    items: list[Row[Any]]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.number * self.size, self.total)


async def trashed(session: AsyncSession, resource: Resource, *, page: int = 1, size: int = TRASH_SHOWN) -> Page:
    """A page of a resource's records in the trash, most recently deleted first (size 0: just the count)."""
    model = resource.model
    in_trash = col(model.deleted_at).is_not(None)
    total = (await session.exec(select(func.count()).select_from(model).where(in_trash))).one()
    if size == 0:
        return Page(items=[], number=1, size=1, total=total)
    number = min(max(page, 1), max(1, ceil(total / size)))
    columns: tuple[Any, ...] = (model.id, model.name, model.version, model.deleted_at, model.deleted_by)
    statement = (
        select(*columns)
        .where(in_trash)
        .order_by(col(model.deleted_at).desc(), col(model.id).desc())
        .limit(size)
        .offset((number - 1) * size)
    )
    rows = list((await session.exec(statement)).all())
    return Page(items=rows, number=number, size=size, total=total)

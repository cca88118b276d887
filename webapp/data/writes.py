"""Every change to one record, in one place: version-checked, recorded in the history in the same
transaction, and deletes to the trash. The caller commits.

A write succeeds only if the row still has the version the user saw: the UPDATE carries `version = :seen`
in its WHERE clause and bumps it. Without that, two people editing one record both get "saved" and the last
silently wins. PostgreSQL re-checks the WHERE clause of an UPDATE that waited for another transaction's row
lock, so of two racing writers exactly one matches; SQLite writers run one at a time (BEGIN IMMEDIATE).

What a record's trip to the trash does to the records that point at it (a team's heroes) is read from the
resources' reference fields: they are left pointing at nothing, each change in their own history, and a
restore puts back those nobody has changed since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import ColumnElement, bindparam, delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import audit
from webapp.audit import Actor
from webapp.data.ids import chunks
from webapp.data.plain import kept, run
from webapp.data.reads import find, is_live, live
from webapp.models import AuditEntry
from webapp.resource import Resource

# The actions whose history entries hold {field: [before, after]}: what a revert undoes.
FIELD_CHANGES = frozenset({"create", "update", "revert"})
# The changes a revert may go back to before (a create has no "before" to go back to).
REVERTIBLE = frozenset({"update", "revert"})


@dataclass(frozen=True)
class Snapshot:
    """A record as stored when a change was refused: what the refusal shows, in the fields it shows, whatever the
    caller does with the session afterwards (it rolls back)."""

    id: int
    name: str
    version: int
    deleted_at: datetime | None
    deleted_by: str | None
    values: dict[str, Any]


def snapshot(resource: Resource, record: Any) -> Snapshot:
    return Snapshot(
        record.id or 0, record.name, record.version, record.deleted_at, record.deleted_by, values_of(resource, record)
    )


class Refusal(Exception):
    """A change refused because of how the record is stored now (`current`)."""

    def __init__(self, resource: Resource, current: Snapshot) -> None:
        super().__init__(f"{resource.name} {current.id} at version {current.version}")
        self.resource, self.current = resource, current


class Stale(Refusal):
    """The record changed since the user loaded it."""


class TrashChanged(Refusal):
    """A restore ("restore") or purge ("purge") of a trash item that is no longer as the user saw it there."""

    def __init__(self, resource: Resource, current: Snapshot, action: str) -> None:
        super().__init__(resource, current)
        self.action = action


class InTrash(Refusal):
    """The record was deleted meanwhile (it waits in the trash)."""


class Missing(Exception):
    """No such record (never was, or purged)."""


class RevertBlocked(Exception):
    """A revert would point at something that is gone (a team in the trash or purged)."""


def values_of(resource: Resource, record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in resource.field_names}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for every field whose value changes."""
    return {name: [before[name], after[name]] for name in after if before.get(name) != after[name]}


async def load(session: AsyncSession, resource: Resource, record_id: int) -> Any:
    record = await find(session, resource, record_id)
    if record is None:
        raise Missing()
    return record


async def live_record(session: AsyncSession, resource: Resource, record_id: int) -> Any:
    """The record a change starts from: Missing, or InTrash when it was deleted meanwhile."""
    record = await load(session, resource, record_id)
    if record.deleted_at is not None:
        raise InTrash(resource, snapshot(resource, record))
    return record


async def _checked(session: AsyncSession, resource: Resource, record_id: int, version: int | None) -> Any:
    record = await live_record(session, resource, record_id)
    if version != record.version:
        raise Stale(resource, snapshot(resource, record))
    return record


async def _conditional_update(
    session: AsyncSession, resource: Resource, record: Any, values: dict[str, Any], *, live_row: bool = True
) -> None:
    """UPDATE ... WHERE id = :id AND version = :seen: the one statement that decides who wins. It returns the
    row as it leaves it, so the record needs no second read (on SQLite every statement holds the write lock
    through a round trip to the event loop). `record` is a plain object as reads.find gives it: the returned
    values are set on it, which on an ORM instance would mark it changed, and the commit's flush would then
    write it again without the version check."""
    assert isinstance(record, SimpleNamespace), "a stored record as reads.find gives it, not an ORM instance"
    statement = _update_statement(resource, tuple(values), live_row)
    parameters = {UPDATED_ID: record.id, SEEN_VERSION: record.version} | {_new(name): v for name, v in values.items()}
    returned = await run(session, statement, parameters)
    if not returned:
        # Another transaction got there first (PostgreSQL re-checks the WHERE clause once it commits).
        current = await load(session, resource, record.id)
        if live_row and current.deleted_at is not None:
            raise InTrash(resource, snapshot(resource, current))
        raise Stale(resource, snapshot(resource, current))
    for name, value in returned[0]._asdict().items():
        setattr(record, name, value)


# The parameters of a conditional UPDATE (_update_statement): the record's id and the version the user saw; each
# new value is its column's `_new` name.
UPDATED_ID, SEEN_VERSION = "updated_id", "seen_version"


def _new(column: str) -> str:
    return f"new_{column}"


@cache
def _update_statement(resource: Resource, columns: tuple[str, ...], live_row: bool) -> Any:
    """The conditional UPDATE of `columns`, built once per resource, columns and liveness: its values are
    parameters. Built for each save, the statement and its cache key were about a twentieth of an inline save."""
    # On the table, not the model: the ORM's bulk update path around it was a tenth of an inline save
    # (2026-12-07). The returned row is put on the record (`_conditional_update`).
    table = resource.model.__table__
    in_trash = table.c.deleted_at.is_not(None)
    # Kept: on SQLite it runs on the driver in the writer's transaction (plain.run).
    return kept(
        update(table)
        .where(
            table.c.id == bindparam(UPDATED_ID),
            table.c.version == bindparam(SEEN_VERSION),
            ~in_trash if live_row else in_trash,
        )
        .values({name: bindparam(_new(name)) for name in columns} | {"version": table.c.version + 1})
        .returning(*table.columns)
    )


def _entry(actor: Actor, resource: Resource, action: str, record_id: int, label: str, **more: Any) -> dict[str, Any]:
    return audit.entry(actor, action=action, record_type=resource.name, record_id=record_id, label=label, **more)


async def create(session: AsyncSession, resource: Resource, values: dict[str, Any], actor: Actor) -> Any:
    record = resource.model(**values)
    session.add(record)
    await session.flush()
    changes = {name: [None, value] for name, value in values.items() if value is not None}
    await audit.write(session, [_entry(actor, resource, "create", record.id, record.name, changes=changes)])
    return record


async def change(
    session: AsyncSession,
    resource: Resource,
    record_id: int,
    *,
    version: int | None,
    values: dict[str, Any],
    actor: Actor,
) -> Any:
    """Apply `values` on top of `version`; a save that changes nothing writes nothing (and keeps the version)."""
    record = await _checked(session, resource, record_id, version)
    await _apply(session, resource, record, values, actor, action="update")
    return record


async def _apply(
    session: AsyncSession,
    resource: Resource,
    record: Any,
    values: dict[str, Any],
    actor: Actor,
    *,
    action: str,
    note: str = "",
) -> dict[str, list[Any]]:
    changes = diff(values_of(resource, record), values)
    if changes:
        # The changed columns only: on SQLite a name's full-text index is rewritten whenever the UPDATE sets the
        # name, even to the value it has (hero_search_update fires on SET name), about half of a save's time in
        # the database when only the age changed.
        await _conditional_update(session, resource, record, {name: values[name] for name in changes})
        # Labelled with the name the change leaves (the record is refreshed by the update).
        entry = _entry(actor, resource, action, record.id, record.name, changes=changes, note=note)
        await audit.write(session, [entry])
    return changes


# --- the trash ---------------------------------------------------------------------------------------------------


@dataclass
class Detached:
    """What sending records to the trash did to the records pointing at them: per trashed id, the detached
    records' versions right after (by the referencing resource's plural, what a restore reads back), their own
    history entries, and how many of them are live."""

    left: dict[int, dict[str, dict[str, int]]]
    entries: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    live: dict[str, int] = field(default_factory=dict)  # by the pointing resource's plural


async def detach(
    session: AsyncSession, resource: Resource, trashed: Iterable[tuple[int, str]], actor: Actor
) -> Detached:
    """Leave every record that points at these (in the trash or not) pointing at nothing, as a purge would.
    The pointing records are locked first, in id order (so concurrent changes queue instead of deadlocking),
    then changed in one statement a slice."""
    names = dict(trashed)
    result = Detached(left={record_id: {} for record_id in names}, entries={record_id: [] for record_id in names})
    for referencing in resource.referenced_by:
        for spec in referencing.pointers(resource):
            model, pointer = referencing.model, col(getattr(referencing.model, spec.name))
            for record_id in names:
                result.left[record_id][referencing.plural] = {}
            owner: dict[int, int] = {}
            for ids in chunks(sorted(names)):
                pointing = select(col(model.id), pointer).where(pointer.in_(ids)).order_by(col(model.id))
                owner |= dict(cast("list[tuple[int, int]]", (await session.exec(pointing.with_for_update())).all()))
            for ids in chunks(sorted(owner)):
                statement = (
                    update(model)
                    .where(col(model.id).in_(ids))
                    .values({spec.name: None, "version": col(model.version) + 1})
                    .returning(col(model.id), col(model.name), col(model.version), col(model.deleted_at))
                    .execution_options(synchronize_session=False)
                )
                for row in (await session.exec(statement)).all():
                    record_id = owner[row.id]
                    result.left[record_id][referencing.plural][str(row.id)] = row.version
                    note = f"{resource.name.capitalize()} {names[record_id]} was deleted."
                    changes = {spec.name: [record_id, None]}
                    entry = _entry(actor, referencing, "update", row.id, row.name, changes=changes, note=note)
                    result.entries[record_id].append(entry)
                    result.live[referencing.plural] = result.live.get(referencing.plural, 0) + (row.deleted_at is None)
    return result


@dataclass
class Outcome:
    """What a delete or restore did beyond the record itself, for the status message: how many records that
    point at it were detached (delete) or put back (restore), and the live ones a restore left alone."""

    record: Any
    detached: dict[str, int] = field(default_factory=dict)  # by the pointing resource's plural
    back: dict[str, int] = field(default_factory=dict)  # likewise
    left_alone: list[str] = field(default_factory=list)


async def trash(
    session: AsyncSession, resource: Resource, record_id: int, *, version: int | None, actor: Actor
) -> Outcome:
    """Move a record to the trash; what points at it is detached (see `detach`), and the record's entry
    remembers those records so a restore can bring them back."""
    record = await _checked(session, resource, record_id, version)
    await _conditional_update(session, resource, record, {"deleted_at": actor.at, "deleted_by": actor.username})
    detached = await detach(session, resource, [(record_id, record.name)], actor)
    changes = detached.left[record_id] or None
    trashed = _entry(actor, resource, "delete", record_id, record.name, changes=changes)
    await audit.write(session, [trashed, *detached.entries[record_id]])
    return Outcome(record=record, detached=detached.live)


async def restore(
    session: AsyncSession, resource: Resource, record_id: int, *, version: int | None, actor: Actor
) -> Outcome:
    """Take a record out of the trash. Records its delete detached come back to it where nobody has touched
    them since."""
    record = await load(session, resource, record_id)
    if record.deleted_at is None or version != record.version:
        raise TrashChanged(resource, snapshot(resource, record), "restore")
    try:
        await _conditional_update(session, resource, record, {"deleted_at": None, "deleted_by": None}, live_row=False)
    except Stale as stale:
        raise TrashChanged(resource, stale.current, "restore") from None
    outcome = Outcome(record=record)
    entries = [_entry(actor, resource, "restore", record_id, record.name)]
    if resource.referenced_by:
        entries += await _reattach(session, resource, record, actor, outcome)
    await audit.write(session, entries)
    return outcome


async def _reattach(
    session: AsyncSession, resource: Resource, record: Any, actor: Actor, outcome: Outcome
) -> list[dict[str, Any]]:
    """Point back at `record` the records its last delete detached, where nobody has changed them since.
    Returns their history entries; `outcome` counts the live ones and names the live ones left alone."""
    last_delete = (
        await session.exec(
            select(AuditEntry.changes)
            .where(
                AuditEntry.record_type == resource.name,
                AuditEntry.record_id == record.id,
                AuditEntry.action == "delete",
            )
            .order_by(col(AuditEntry.id).desc())
            .limit(1)
        )
    ).first() or {}
    entries: list[dict[str, Any]] = []
    note = f"{resource.name.capitalize()} {record.name} was restored."
    for referencing in resource.referenced_by:
        model = referencing.model
        left_at = {int(key): version for key, version in (last_delete.get(referencing.plural) or {}).items()}
        rows: list[Any] = []
        for ids in chunks(sorted(left_at)):
            columns = (model.id, model.name, model.version, model.deleted_at)
            locking = select(*columns).where(col(model.id).in_(ids)).order_by(col(model.id)).with_for_update()
            rows += (await session.exec(locking)).all()
        untouched = [row for row in rows if row.version == left_at[row.id]]
        outcome.left_alone += sorted(
            row.name for row in rows if row.version != left_at[row.id] and row.deleted_at is None
        )
        outcome.back[referencing.plural] = sum(1 for row in untouched if row.deleted_at is None)
        for spec in referencing.pointers(resource):
            for ids in chunks([row.id for row in untouched]):
                values = {spec.name: record.id, "version": col(model.version) + 1}
                await session.exec(update(model).where(col(model.id).in_(ids)).values(values))
            changes = {spec.name: [None, record.id]}
            entries += [
                _entry(actor, referencing, "update", row.id, row.name, changes=changes, note=note) for row in untouched
            ]
    outcome.left_alone.sort()
    return entries


async def purge(session: AsyncSession, resource: Resource, record_id: int, *, version: int | None, actor: Actor) -> Any:
    """Remove a record in the trash for good (its history stays), if it is still as the admin saw it there."""
    record = await load(session, resource, record_id)
    if record.deleted_at is None or version != record.version:
        raise TrashChanged(resource, snapshot(resource, record), "purge")
    label, model = record.name, resource.model
    result = await session.exec(
        delete(model).where(col(model.id) == record_id, col(model.version) == version, ~live(resource))
    )
    if result.rowcount != 1:  # restored (or purged) by someone else meanwhile
        current = await find(session, resource, record_id)
        if current is None:
            raise Missing()
        raise TrashChanged(resource, snapshot(resource, current), "purge")
    await audit.write(session, [_entry(actor, resource, "purge", record_id, label)])
    return record


async def empty_trash(
    session: AsyncSession, resources: Iterable[Resource], *, through: datetime, actor: Actor
) -> dict[str, int]:
    """Purge what was in the trash when the admin confirmed (deleted up to `through`); returns how many of each
    resource went, by plural. Anything deleted after the confirmation page was shown stays in the trash."""
    purged: dict[str, int] = {}
    for resource in resources:
        model = resource.model
        in_scope: tuple[ColumnElement[bool], ...] = (~live(resource), col(model.deleted_at) <= through)
        statement = delete(model).where(*in_scope).returning(col(model.id), col(model.name))
        rows = (await session.exec(statement)).all()
        purged[resource.plural] = len(rows)
        await audit.write(session, [_entry(actor, resource, "purge", row[0], row[1]) for row in rows])
    return purged


# --- revert -------------------------------------------------------------------------------------------------------


async def state_before(session: AsyncSession, resource: Resource, record: Any, entry_id: int) -> dict[str, Any]:
    """The record's fields as they were just before history entry `entry_id`: the current values with every
    change from the newest back to that entry undone."""
    statement = (
        select(AuditEntry.action, AuditEntry.changes)
        .where(
            AuditEntry.record_type == resource.name,
            AuditEntry.record_id == record.id,
            col(AuditEntry.id) >= entry_id,
        )
        .order_by(col(AuditEntry.id).desc())
    )
    state = values_of(resource, record)
    for action, changes in (await session.exec(statement)).all():
        if action not in FIELD_CHANGES:
            continue  # deletes, restores and purges change no field (a team's delete lists its heroes instead)
        for name, values in (changes or {}).items():
            if name in state and isinstance(values, list) and len(values) == 2:
                state[name] = values[0]
    return state


async def revert(
    session: AsyncSession, resource: Resource, record_id: int, *, entry_id: int, version: int | None, actor: Actor
) -> tuple[Any, dict[str, list[Any]]]:
    record = await _checked(session, resource, record_id, version)
    target = await state_before(session, resource, record, entry_id)
    # What the old values point at must be live, and is locked like a save's (reads.is_live): it cannot go to
    # the trash meanwhile.
    for spec in resource.references:
        pointed = resource.targets[spec.name]
        value = target[spec.name]
        if value is not None and not await is_live(session, pointed, record_id=value, lock=True):
            raise RevertBlocked(
                f"The {pointed.name} this {resource.name} was in then has been deleted. "
                f"Restore the {pointed.name} first."
            )
    note = f"Back to before change #{entry_id}."
    changes = await _apply(session, resource, record, target, actor, action="revert", note=note)
    return record, changes

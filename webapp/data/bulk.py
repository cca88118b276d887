"""Changes to many records at once: moving them to the trash, or pointing them all at one record (a team).

A bulk change is many single changes made at once: each record is changed only at the version the user
selected it at, and gets the history entry a single change would write, so History, Revert and Restore work
on it as on any other. Reads and writes are set-based (a statement per slice of ids, not per record).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, tuple_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import audit
from webapp.audit import Actor
from webapp.data.ids import IN_CHUNK, chunks
from webapp.data.reads import live
from webapp.data.writes import detach
from webapp.resource import Resource


@dataclass(frozen=True)
class Selected:
    """A selected record as stored now: what a bulk change decides on and reports. `values` holds its
    reference fields (a hero's team_id), which "set team" compares with."""

    id: int
    name: str
    version: int
    deleted_at: datetime | None
    values: tuple[tuple[str, Any], ...] = ()

    def value(self, name: str) -> Any:
        return dict(self.values).get(name)


@dataclass(frozen=True)
class BulkAction:
    """Move to the trash ("delete"), or point every record's `field` at `target` ("set_<resource>", None for
    nothing)."""

    name: str
    field: str | None = None
    target: int | None = None


@dataclass
class BulkPlan:
    """What a bulk action does to each selected record: change it, or leave it alone and why."""

    ready: list[Selected] = field(default_factory=list)
    unchanged: list[Selected] = field(default_factory=list)  # already as asked (a hero already in the team)
    changed: list[Selected] = field(default_factory=list)  # changed since the user selected it
    in_trash: list[Selected] = field(default_factory=list)
    gone: int = 0  # purged since (or never existed)


def _columns(resource: Resource) -> tuple[Any, ...]:
    model = resource.model
    pointers = tuple(col(getattr(model, spec.name)) for spec in resource.references)
    return (col(model.id), col(model.name), col(model.version), col(model.deleted_at), *pointers)


def _selected(resource: Resource, row: Any) -> Selected:
    names = [spec.name for spec in resource.references]
    return Selected(row[0], row[1], row[2], row[3], tuple(zip(names, row[4:], strict=True)))


async def stored(
    session: AsyncSession, resource: Resource, ids: list[int], *, lock: bool = False
) -> dict[int, Selected]:
    """The records with these ids as stored now, in the trash or not. `lock` holds them (PostgreSQL; SQLite's
    writers already take turns) until commit, so nobody changes them between this read and the change."""
    found: dict[int, Selected] = {}
    model = resource.model
    for chunk in chunks(sorted(ids)):
        statement = select(*_columns(resource)).where(col(model.id).in_(chunk)).order_by(col(model.id))
        if lock:
            statement = statement.with_for_update()
        found |= {row.id: row for row in (_selected(resource, row) for row in (await session.exec(statement)).all())}
    return found


async def matching(
    session: AsyncSession, resource: Resource, conditions: list[ColumnElement[bool]], *, limit: int, lock: bool = False
) -> list[Selected]:
    """Up to `limit` records meeting a list's conditions (see webapp.data.lists), by id. Locked in id order, so
    two bulk changes over overlapping rows queue rather than deadlock."""
    statement = select(*_columns(resource)).where(*conditions).order_by(col(resource.model.id)).limit(limit)
    if lock:
        statement = statement.with_for_update(of=resource.model)
    return [_selected(resource, row) for row in (await session.exec(statement)).all()]


def matching_digest(rows: list[Selected]) -> str:
    """Which records at which versions: equal digests mean the same rows, none changed in between."""
    pairs = " ".join(f"{row.id}:{row.version}" for row in sorted(rows, key=lambda row: row.id))
    return f"{len(rows)}-{hashlib.sha256(pairs.encode()).hexdigest()[:32]}"


def sort_out(rows: dict[int, Selected], selected: dict[int, int], action: BulkAction) -> BulkPlan:
    """Decide, for each selected id (and the version the user saw), whether the action changes it."""
    plan = BulkPlan()
    for record_id, seen in selected.items():
        row = rows.get(record_id)
        if row is None:
            plan.gone += 1
        elif row.deleted_at is not None:
            plan.in_trash.append(row)
        elif row.version != seen:
            plan.changed.append(row)
        elif action.field is not None and row.value(action.field) == action.target:
            plan.unchanged.append(row)
        else:
            plan.ready.append(row)
    for part in (plan.ready, plan.unchanged, plan.changed, plan.in_trash):
        part.sort(key=lambda row: (row.name, row.id))
    return plan


async def pointing(session: AsyncSession, resource: Resource, ids: list[int]) -> dict[str, int]:
    """How many live records of each pointing resource (by plural) point at these: a team's heroes, who would be
    left without a team."""
    counts: dict[str, int] = {}
    for referencing in resource.referenced_by:
        model = referencing.model
        for spec in referencing.pointers(resource):
            pointer = col(getattr(model, spec.name))
            for chunk in chunks(ids):
                statement = select(func.count()).select_from(model).where(pointer.in_(chunk), live(referencing))
                counts[referencing.plural] = counts.get(referencing.plural, 0) + (await session.exec(statement)).one()
    return counts


async def _bulk_update(
    session: AsyncSession, resource: Resource, rows: list[Selected], values: dict[str, Any]
) -> list[Selected]:
    """UPDATE ... WHERE (id, version) IN (...) AND live: each row changes only at the version it was read at.
    Returns the rows changed (as they were before)."""
    model = resource.model
    changed: set[int] = set()
    # Two parameters per row: half a slice of ids keeps a statement under PostgreSQL's parameter limit.
    for pairs in chunks([(row.id, row.version) for row in rows], IN_CHUNK // 2):
        statement = (
            update(model)
            .where(tuple_(col(model.id), col(model.version)).in_(pairs), live(resource))
            .values(**values, version=col(model.version) + 1)
            .returning(col(model.id))
            .execution_options(synchronize_session=False)
        )
        changed.update((await session.exec(statement)).scalars().all())
    return [row for row in rows if row.id in changed]


async def set_pointer(
    session: AsyncSession, resource: Resource, rows: list[Selected], action: BulkAction, *, actor: Actor, note: str = ""
) -> list[Selected]:
    """Point these records' `action.field` at `action.target` (None: nothing), each recorded as the edit of
    that field would be. The caller has checked (and locked, see reads.is_live) that the target is live.
    Returns the records changed."""
    assert action.field is not None
    name = action.field
    changed = await _bulk_update(session, resource, rows, {name: action.target})
    entries = [
        audit.entry(
            actor,
            action="update",
            record_type=resource.name,
            record_id=row.id,
            label=row.name,
            changes={name: [row.value(name), action.target]},
            note=note,
        )
        for row in changed
    ]
    await audit.write(session, entries)
    return changed


@dataclass
class BulkOutcome:
    """What a bulk delete did: the records moved to the trash, and the live records that pointed at them and
    were detached."""

    trashed: list[Selected]
    detached: dict[str, int] = field(default_factory=dict)  # by the pointing resource's plural


async def trash(
    session: AsyncSession, resource: Resource, rows: list[Selected], *, actor: Actor, note: str = ""
) -> BulkOutcome:
    """Move these records to the trash as writes.trash moves one."""
    trashed = await _bulk_update(session, resource, rows, {"deleted_at": actor.at, "deleted_by": actor.username})
    detached = await detach(session, resource, [(row.id, row.name) for row in trashed], actor)
    entries: list[dict[str, Any]] = []
    for row in trashed:
        # Each record's entry, then those of the records it detached, as a single delete writes them.
        trashed_entry = audit.entry(
            actor,
            action="delete",
            record_type=resource.name,
            record_id=row.id,
            label=row.name,
            changes=detached.left[row.id] or None,
            note=note,
        )
        entries += [trashed_entry, *detached.entries[row.id]]
    await audit.write(session, entries)
    return BulkOutcome(trashed=trashed, detached=detached.live)

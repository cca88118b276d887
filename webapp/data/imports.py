"""The CSV import's database work: what a file is checked against (the records it names, the live records its
reference columns name), and the checked plan's writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import audit, csvio
from webapp.audit import Actor
from webapp.data.ids import chunks
from webapp.data.reads import live
from webapp.resource import Resource


async def _live_ids(session: AsyncSession, resource: Resource, names: list[str], *, lock: bool) -> dict[str, int]:
    """{name: id} of the live records with these names; `lock` share-locks them until commit (PostgreSQL), as
    reads.is_live does, so none goes to the trash before the records pointing at it are saved."""
    model = resource.model
    found: dict[str, int] = {}
    for part in chunks(names):
        lookup = select(model.id, model.name).where(col(model.name).in_(part), live(resource))
        if lock:
            lookup = lookup.with_for_update(read=True)
        rows: list[Any] = list((await session.exec(lookup)).all())
        found |= {row.name: row.id for row in rows}
    return found


async def checked(
    session: AsyncSession,
    resource: Resource,
    sheet: csvio.Sheet,
    *,
    versions: dict[int, int] | None,
    lock: bool = False,
) -> csvio.ImportPlan:
    """Check the file against the records it names and the live records its reference columns name.

    `lock` (applying) holds them until commit on PostgreSQL (SQLite's writers already take turns): the
    referenced records first, as a single edit locks them, then the named records in id order, as bulk actions
    do, so concurrent changes queue instead of deadlocking, and the versions read here are still theirs when
    the changes are written.
    """
    names = {
        field: await _live_ids(session, resource.targets[field], sorted(typed), lock=lock)
        for field, typed in csvio.named(resource, sheet).items()
    }
    model = resource.model
    columns = (
        model.id,
        model.name,
        model.version,
        model.deleted_at,
        *(col(getattr(model, name)) for name in resource.field_names),
    )
    stored: dict[int, csvio.StoredRecord] = {}
    for part in chunks(sorted(csvio.named_ids(sheet))):
        statement = select(*columns).where(col(model.id).in_(part)).order_by(col(model.id))
        if lock:
            statement = statement.with_for_update()
        for row in (await session.exec(statement)).all():
            values = dict(zip(resource.field_names, row[4:], strict=True))
            stored[row.id] = csvio.StoredRecord(row.name, values, row.version, in_trash=row.deleted_at is not None)
    return csvio.plan(resource, sheet, stored=stored, names=names, versions=versions)


async def apply(session: AsyncSession, resource: Resource, plan: csvio.ImportPlan, by: Actor) -> None:
    """A checked import's changes in the caller's transaction, each with the history entry create or change
    would write, but a statement per kind of change rather than several per row: ten thousand rows one at a
    time take tens of seconds. The records were read under lock (`checked`), so each update's version holds."""
    creates = [change for change in plan.changes if change.record_id is None]
    updates = [change for change in plan.changes if change.record_id is not None]
    model = resource.model
    ids: list[int] = []
    if creates:
        # RETURNING in the order of the rows sent, so each id is paired with its row.
        inserting = insert(model).returning(col(model.id), sort_by_parameter_order=True)
        ids = list((await session.exec(inserting, params=[change.values for change in creates])).scalars())
    if updates:
        table = model.__table__
        # A Core executemany: one round trip for all the rows.
        updating = (
            update(table)
            .where(
                table.c.id == bindparam("record_id"), table.c.version == bindparam("seen"), table.c.deleted_at.is_(None)
            )
            .values(
                {name: bindparam(f"new_{name}") for name in resource.field_names} | {"version": table.c.version + 1}
            )
        )
        rows: list[dict[str, Any]] = [
            {"record_id": change.record_id, "seen": change.version}
            | {f"new_{name}": value for name, value in change.values.items()}
            for change in updates
        ]
        await (await session.connection()).execute(updating, rows)
    # History in the file's row order, as one change after another would have written it.
    new_ids = {change.row: record_id for record_id, change in zip(ids, creates, strict=True)}
    entries = [
        audit.entry(
            by,
            action="update" if change.record_id is not None else "create",
            record_type=resource.name,
            record_id=change.record_id if change.record_id is not None else new_ids[change.row],
            label=change.values["name"],
            changes=change.changes,
        )
        for change in plan.changes
    ]
    await audit.write(session, entries)

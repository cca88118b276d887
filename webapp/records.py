"""Every change to heroes and teams, in one place: version-checked, recorded in the history in the same
transaction, and deletes to the trash.

A write succeeds only if the row still has the version the user saw: the UPDATE carries `version = :seen`
in its WHERE clause and bumps it. Without that, two people editing one record both get "saved" and the last
silently wins. PostgreSQL re-checks the WHERE clause of an UPDATE
that waited for another transaction's row lock, so of two racing writers exactly one matches; SQLite writers
run one at a time (BEGIN IMMEDIATE). The caller commits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, tuple_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import audit, csvio
from webapp.audit import Actor
from webapp.forms import HERO_FIELDS, TEAM_FIELDS
from webapp.models import AuditEntry, Hero, Team
from webapp.queries import IN_CHUNK, team_exists, valid_id

Record = Hero | Team


@dataclass(frozen=True)
class Kind:
    """A kind of record the admin edits: its table, the fields a user sets, and its names."""

    name: str
    plural: str
    model: type[Hero] | type[Team]
    fields: tuple[str, ...]

    def label(self, record: Record | None) -> str:
        return record.name if record is not None else ""

    def count(self, number: int) -> str:
        """A count with its noun: "1 hero", "1,200 heroes"."""
        return f"{number:,} {self.name if number == 1 else self.plural}"


# The actions whose history entries hold {field: [before, after]}: what a revert undoes.
FIELD_CHANGES = frozenset({"create", "update", "revert"})

HERO = Kind("hero", "heroes", Hero, HERO_FIELDS)
TEAM = Kind("team", "teams", Team, TEAM_FIELDS)


@dataclass(frozen=True)
class Snapshot:
    """A record as stored when a change was refused. Plain values: the caller rolls back, which expires the
    ORM object, and still has to show what is stored."""

    id: int
    name: str
    version: int
    deleted_at: datetime | None
    deleted_by: str | None
    values: dict[str, Any]


def snapshot(kind: Kind, record: Record) -> Snapshot:
    return Snapshot(
        record.id or 0, record.name, record.version, record.deleted_at, record.deleted_by, values_of(kind, record)
    )


class Stale(Exception):
    """The record changed since the user loaded it: `current` is what is stored now."""

    def __init__(self, current: Snapshot) -> None:
        super().__init__(f"record {current.id} is at version {current.version}")
        self.current = current


class InTrash(Exception):
    """The record was deleted meanwhile (it waits in the trash)."""

    def __init__(self, current: Snapshot) -> None:
        super().__init__(f"record {current.id} is in the trash")
        self.current = current


class Missing(Exception):
    """No such record (never was, or purged)."""


class RevertBlocked(Exception):
    """A revert would point at something that is gone (a team in the trash or purged)."""


def values_of(kind: Kind, record: Record) -> dict[str, Any]:
    return {name: getattr(record, name) for name in kind.fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for every field whose value changes."""
    return {name: [before[name], after[name]] for name in after if before.get(name) != after[name]}


def _id(kind: Kind) -> Any:
    return col(kind.model.id)


def _live(kind: Kind) -> ColumnElement[bool]:
    return col(kind.model.deleted_at).is_(None)


async def find(session: AsyncSession, kind: Kind, record_id: int) -> Record | None:
    """The stored row as it is now (whatever the session saw before), in the trash or not."""
    if not valid_id(record_id):
        return None
    return cast("Record | None", await session.get(kind.model, record_id, populate_existing=True))


async def load(session: AsyncSession, kind: Kind, record_id: int) -> Record:
    record = await find(session, kind, record_id)
    if record is None:
        raise Missing()
    return record


async def _checked(session: AsyncSession, kind: Kind, record_id: int, version: int | None) -> Record:
    record = await load(session, kind, record_id)
    if record.deleted_at is not None:
        raise InTrash(snapshot(kind, record))
    if version != record.version:
        raise Stale(snapshot(kind, record))
    return record


async def _conditional_update(
    session: AsyncSession, kind: Kind, record: Record, version: int, values: dict[str, Any], *, live: bool = True
) -> None:
    """UPDATE ... WHERE id = :id AND version = :seen: the one statement that decides who wins."""
    where = [_id(kind) == record.id, col(kind.model.version) == version, _live(kind) if live else ~_live(kind)]
    statement = update(kind.model).where(*where).values(**values, version=col(kind.model.version) + 1)
    result = await session.exec(statement)
    if result.rowcount != 1:
        # Another transaction got there first (PostgreSQL re-checks the WHERE clause once it commits).
        current = await load(session, kind, record.id or 0)
        if live and current.deleted_at is not None:
            raise InTrash(snapshot(kind, current))
        raise Stale(snapshot(kind, current))
    await session.refresh(record)


async def create(session: AsyncSession, kind: Kind, values: dict[str, Any], actor: Actor) -> Record:
    record = kind.model(**values)
    session.add(record)
    await session.flush()
    changes = {name: [None, value] for name, value in values.items() if value is not None}
    await audit.write(
        session,
        [
            audit.entry(
                actor,
                action="create",
                record_type=kind.name,
                record_id=record.id,
                label=kind.label(record),
                changes=changes,
            )
        ],
    )
    return record


async def change(
    session: AsyncSession,
    kind: Kind,
    record_id: int,
    *,
    version: int | None,
    values: dict[str, Any],
    actor: Actor,
) -> tuple[Record, dict[str, list[Any]]]:
    """Apply `values` on top of `version`; a save that changes nothing writes nothing (and keeps the version)."""
    record = await _checked(session, kind, record_id, version)
    return record, await _apply(session, kind, record, values, actor, action="update")


async def _apply(
    session: AsyncSession,
    kind: Kind,
    record: Record,
    values: dict[str, Any],
    actor: Actor,
    *,
    action: str,
    note: str = "",
) -> dict[str, list[Any]]:
    changes = diff(values_of(kind, record), values)
    if changes:
        await _conditional_update(session, kind, record, record.version, values)
        entry = audit.entry(
            actor,
            action=action,
            record_type=kind.name,
            record_id=record.id,
            label=kind.label(record),
            changes=changes,
            note=note,
        )
        await audit.write(session, [entry])
    return changes


@dataclass
class Outcome:
    """What a delete or restore did beyond the record itself, for the status message."""

    record: Record
    heroes_detached: int = 0
    heroes_back: int = 0
    heroes_left: list[str] = field(default_factory=list)


async def trash(session: AsyncSession, kind: Kind, record_id: int, *, version: int | None, actor: Actor) -> Outcome:
    """Move a record to the trash. A team's heroes are left without a team (as a purge would), each change
    in their own history, and the team's entry remembers them so a restore can bring them back."""
    record = await _checked(session, kind, record_id, version)
    await _conditional_update(
        session, kind, record, record.version, {"deleted_at": actor.at, "deleted_by": actor.username}
    )
    changes: dict[str, Any] | None = None
    entries: list[dict[str, Any]] = []
    rows: list[Any] = []
    if kind is TEAM:
        detached = await session.exec(
            update(Hero)
            .where(col(Hero.team_id) == record_id)
            .values(team_id=None, version=col(Hero.version) + 1)
            .returning(col(Hero.id), col(Hero.name), col(Hero.version), col(Hero.deleted_at))
        )
        # Heroes in the trash leave the team too, so restoring one never shows a team that is gone.
        rows = list(detached.all())
        # Which version each hero had right after leaving: a restore re-attaches only heroes untouched since.
        changes = {"heroes": {str(row.id): row.version for row in rows}}
        note = f"Team {record.name} was deleted."
        entries = [_team_change(actor, row, [record_id, None], note) for row in rows]
    trashed = audit.entry(
        actor, action="delete", record_type=kind.name, record_id=record_id, label=kind.label(record), changes=changes
    )
    await audit.write(session, [trashed, *entries])
    return Outcome(record=record, heroes_detached=sum(1 for row in rows if row.deleted_at is None))


def _team_change(actor: Actor, hero: Any, team_ids: list[int | None], note: str) -> dict[str, Any]:
    """A hero's history entry for leaving or rejoining its team because of what happened to the team."""
    changes = {"team_id": team_ids}
    return audit.entry(
        actor, action="update", record_type="hero", record_id=hero.id, label=hero.name, changes=changes, note=note
    )


async def restore(session: AsyncSession, kind: Kind, record_id: int, *, version: int | None, actor: Actor) -> Outcome:
    """Take a record out of the trash. A team gets back those of its heroes nobody has touched since."""
    record = await load(session, kind, record_id)
    if record.deleted_at is None or version != record.version:
        raise Stale(snapshot(kind, record))
    await _conditional_update(
        session, kind, record, record.version, {"deleted_at": None, "deleted_by": None}, live=False
    )
    outcome = Outcome(record=record)
    entries: list[dict[str, Any]] = []
    if kind is TEAM:
        entries, outcome.heroes_back, outcome.heroes_left = await _reattach(session, record_id, actor, record.name)
    restored = audit.entry(
        actor, action="restore", record_type=kind.name, record_id=record_id, label=kind.label(record)
    )
    await audit.write(session, [restored, *entries])
    return outcome


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start : start + IN_CHUNK] for start in range(0, len(ids), IN_CHUNK)]


async def _reattach(
    session: AsyncSession, team_id: int, actor: Actor, team_name: str
) -> tuple[list[dict[str, Any]], int, list[str]]:
    """Put back the heroes the team's last delete detached, where nobody has changed them since. Returns their
    history entries, how many of them are live, and the names of the live ones left alone."""
    last_delete = (
        await session.exec(
            select(AuditEntry.changes)
            .where(AuditEntry.record_type == "team", AuditEntry.record_id == team_id, AuditEntry.action == "delete")
            .order_by(col(AuditEntry.id).desc())
            .limit(1)
        )
    ).first()
    left_at = {int(hero_id): version for hero_id, version in ((last_delete or {}).get("heroes") or {}).items()}
    heroes: list[Any] = []
    for ids in _chunks(sorted(left_at)):
        statement = (
            select(Hero.id, Hero.name, Hero.version, Hero.deleted_at).where(col(Hero.id).in_(ids)).with_for_update()
        )
        heroes.extend((await session.exec(statement)).all())
    untouched = [hero for hero in heroes if hero.version == left_at[hero.id]]
    changed = sorted(hero.name for hero in heroes if hero.version != left_at[hero.id] and hero.deleted_at is None)
    for ids in _chunks([hero.id for hero in untouched]):
        await session.exec(
            update(Hero).where(col(Hero.id).in_(ids)).values(team_id=team_id, version=col(Hero.version) + 1)
        )
    note = f"Team {team_name} was restored."
    entries = [_team_change(actor, hero, [None, team_id], note) for hero in untouched]
    return entries, sum(1 for hero in untouched if hero.deleted_at is None), changed


async def purge(session: AsyncSession, kind: Kind, record_id: int, *, version: int | None, actor: Actor) -> Record:
    """Remove a record in the trash for good (its history stays), if it is still as the admin saw it there."""
    record = await load(session, kind, record_id)
    if record.deleted_at is None or version != record.version:
        raise Stale(snapshot(kind, record))
    label = kind.label(record)
    result = await session.exec(
        delete(kind.model).where(_id(kind) == record_id, col(kind.model.version) == version, ~_live(kind))
    )
    if result.rowcount != 1:  # restored (or purged) by someone else meanwhile
        current = await find(session, kind, record_id)
        if current is None:
            raise Missing()
        raise Stale(snapshot(kind, current))
    await audit.write(
        session, [audit.entry(actor, action="purge", record_type=kind.name, record_id=record_id, label=label)]
    )
    return record


async def empty_trash(session: AsyncSession, *, through: datetime, actor: Actor) -> dict[str, int]:
    """Purge what was in the trash when the admin confirmed (deleted up to `through`); returns how many of each
    kind went. Anything deleted after the confirmation page was shown stays in the trash."""
    purged: dict[str, int] = {}
    for kind in (HERO, TEAM):
        in_scope = (~_live(kind), col(kind.model.deleted_at) <= through)
        rows = (
            await session.exec(delete(kind.model).where(*in_scope).returning(_id(kind), col(kind.model.name)))
        ).all()
        purged[kind.plural] = len(rows)
        await audit.write(
            session,
            [audit.entry(actor, action="purge", record_type=kind.name, record_id=row[0], label=row[1]) for row in rows],
        )
    return purged


async def state_before(session: AsyncSession, kind: Kind, record: Record, entry_id: int) -> dict[str, Any]:
    """The record's fields as they were just before history entry `entry_id`: the current values with every
    change from the newest back to that entry undone."""
    statement = (
        select(AuditEntry.action, AuditEntry.changes)
        .where(AuditEntry.record_type == kind.name, AuditEntry.record_id == record.id, col(AuditEntry.id) >= entry_id)
        .order_by(col(AuditEntry.id).desc())
    )
    state = values_of(kind, record)
    for action, changes in (await session.exec(statement)).all():
        if action not in FIELD_CHANGES:
            continue  # deletes, restores and purges change no field (a team's delete lists its heroes instead)
        for name, values in (changes or {}).items():
            if name in state and isinstance(values, list) and len(values) == 2:
                state[name] = values[0]
    return state


async def revert(
    session: AsyncSession, kind: Kind, record_id: int, *, entry_id: int, version: int | None, actor: Actor
) -> tuple[Record, dict[str, list[Any]]]:
    record = await _checked(session, kind, record_id, version)
    target = await state_before(session, kind, record, entry_id)
    # The team is locked like any hero's new team (see queries.team_exists): it cannot go to the trash meanwhile.
    if (
        kind is HERO
        and target["team_id"] is not None
        and not await team_exists(session, team_id=target["team_id"], lock=True)
    ):
        raise RevertBlocked("The team this hero was in then has been deleted. Restore the team first.")
    changes = await _apply(
        session, kind, record, target, actor, action="revert", note=f"Back to before change #{entry_id}."
    )
    return record, changes


# --- bulk changes ---------------------------------------------------------------------------------------------
# A bulk change is many single changes made at once: each record is changed only at the version the user
# selected it at, and gets the history entry a single change would write, so History, Revert and Restore work
# on it as on any other. Reads and writes are set-based (a statement per slice of ids, not per record).


@dataclass(frozen=True)
class Stored:
    """A selected record as stored now: what a bulk change decides on and reports."""

    id: int
    name: str
    version: int
    deleted_at: datetime | None
    team_id: int | None = None  # heroes only


@dataclass(frozen=True)
class BulkAction:
    """Move to the trash ("delete"), or put heroes in a team ("set_team"; `team_id` None for no team)."""

    name: str
    team_id: int | None = None


@dataclass
class Plan:
    """What a bulk action does to each selected record: change it, or leave it alone and why."""

    ready: list[Stored] = field(default_factory=list)
    unchanged: list[Stored] = field(default_factory=list)  # already as asked (a hero already in the team)
    changed: list[Stored] = field(default_factory=list)  # changed since the user selected it
    in_trash: list[Stored] = field(default_factory=list)
    gone: int = 0  # purged since (or never existed)


def _stored_columns(kind: Kind) -> tuple[Any, ...]:
    columns: tuple[Any, ...] = (kind.model.id, kind.model.name, kind.model.version, kind.model.deleted_at)
    return (*columns, Hero.team_id) if kind is HERO else columns


def _as_stored(row: Any) -> Stored:
    return Stored(*row)


async def stored(session: AsyncSession, kind: Kind, ids: list[int], *, lock: bool = False) -> dict[int, Stored]:
    """The records with these ids as stored now, in the trash or not. `lock` holds them (PostgreSQL; SQLite's
    writers already take turns) until commit, so nobody changes them between this read and the change."""
    found: dict[int, Stored] = {}
    for chunk in _chunks(sorted(ids)):
        statement = select(*_stored_columns(kind)).where(_id(kind).in_(chunk)).order_by(_id(kind))
        if lock:
            statement = statement.with_for_update()
        found |= {row.id: row for row in map(_as_stored, (await session.exec(statement)).all())}
    return found


async def matching(
    session: AsyncSession, kind: Kind, conditions: list[ColumnElement[bool]], *, limit: int, lock: bool = False
) -> list[Stored]:
    """Up to `limit` records meeting a list's conditions (see queries.hero_conditions), by id. Locked in id
    order, so two bulk changes over overlapping rows queue rather than deadlock."""
    statement = select(*_stored_columns(kind)).where(*conditions).order_by(_id(kind)).limit(limit)
    if lock:
        statement = statement.with_for_update(of=kind.model)
    return [_as_stored(row) for row in (await session.exec(statement)).all()]


def fingerprint(rows: list[Stored]) -> str:
    """Which records at which versions: equal fingerprints mean the same rows, none changed in between."""
    pairs = " ".join(f"{row.id}:{row.version}" for row in sorted(rows, key=lambda row: row.id))
    return f"{len(rows)}-{hashlib.sha256(pairs.encode()).hexdigest()[:32]}"


def sort_out(rows: dict[int, Stored], selected: dict[int, int], action: BulkAction) -> Plan:
    """Decide, for each selected id (and the version the user saw), whether the action changes it."""
    plan = Plan()
    for record_id, seen in selected.items():
        row = rows.get(record_id)
        if row is None:
            plan.gone += 1
        elif row.deleted_at is not None:
            plan.in_trash.append(row)
        elif row.version != seen:
            plan.changed.append(row)
        elif action.name == "set_team" and row.team_id == action.team_id:
            plan.unchanged.append(row)
        else:
            plan.ready.append(row)
    for rows_of_a_kind in (plan.ready, plan.unchanged, plan.changed, plan.in_trash):
        rows_of_a_kind.sort(key=lambda row: (row.name, row.id))
    return plan


async def members(session: AsyncSession, team_ids: list[int]) -> int:
    """How many live heroes these teams have (who would be left without a team)."""
    count = 0
    for chunk in _chunks(team_ids):
        statement = select(func.count()).select_from(Hero).where(col(Hero.team_id).in_(chunk), _live(HERO))
        count += (await session.exec(statement)).one()
    return count


async def _bulk_update(session: AsyncSession, kind: Kind, rows: list[Stored], values: dict[str, Any]) -> list[Stored]:
    """UPDATE ... WHERE (id, version) IN (...) AND live: each row changes only at the version it was read at.
    Returns the rows changed (as they were before)."""
    changed: set[int] = set()
    # Two parameters per row: half a slice of ids keeps a statement under PostgreSQL's parameter limit.
    pairs = [(row.id, row.version) for row in rows]
    for start in range(0, len(pairs), IN_CHUNK // 2):
        statement = (
            update(kind.model)
            .where(tuple_(_id(kind), col(kind.model.version)).in_(pairs[start : start + IN_CHUNK // 2]), _live(kind))
            .values(**values, version=col(kind.model.version) + 1)
            .returning(_id(kind))
            .execution_options(synchronize_session=False)
        )
        changed.update((await session.exec(statement)).scalars().all())
    return [row for row in rows if row.id in changed]


async def bulk_set_team(
    session: AsyncSession, rows: list[Stored], *, team_id: int | None, actor: Actor, note: str = ""
) -> list[Stored]:
    """Put these heroes in a team (None: no team), each recorded as the edit of its team would be. The caller
    has checked (and locked, see queries.team_exists) that the team is live. Returns the heroes changed."""
    changed = await _bulk_update(session, HERO, rows, {"team_id": team_id})
    await audit.write(
        session,
        [
            audit.entry(
                actor,
                action="update",
                record_type=HERO.name,
                record_id=row.id,
                label=row.name,
                changes={"team_id": [row.team_id, team_id]},
                note=note,
            )
            for row in changed
        ],
    )
    return changed


@dataclass
class BulkOutcome:
    """What a bulk delete did: the records moved to the trash, and (teams) the live heroes left teamless."""

    trashed: list[Stored]
    heroes_detached: int = 0


async def bulk_trash(
    session: AsyncSession, kind: Kind, rows: list[Stored], *, actor: Actor, note: str = ""
) -> BulkOutcome:
    """Move these records to the trash as `trash` moves one: a team's heroes leave it, each change in their own
    history, and the team's entry remembers them so a restore can bring them back."""
    trashed = await _bulk_update(session, kind, rows, {"deleted_at": actor.at, "deleted_by": actor.username})
    left: dict[int, list[Any]] = {row.id: [] for row in trashed}
    if kind is TEAM and trashed:
        left = await _detach(session, left)
    entries: list[dict[str, Any]] = []
    for row in trashed:
        heroes = left[row.id]
        changes = {"heroes": {str(hero.id): hero.version for hero in heroes}} if kind is TEAM else None
        entries.append(
            audit.entry(
                actor,
                action="delete",
                record_type=kind.name,
                record_id=row.id,
                label=row.name,
                changes=changes,
                note=note,
            )
        )
        entries += [_team_change(actor, hero, [row.id, None], f"Team {row.name} was deleted.") for hero in heroes]
    await audit.write(session, entries)
    detached = sum(1 for heroes in left.values() for hero in heroes if hero.deleted_at is None)
    return BulkOutcome(trashed=trashed, heroes_detached=detached)


async def _detach(session: AsyncSession, teams: dict[int, list[Any]]) -> dict[int, list[Any]]:
    """Leave the heroes of these teams (in the trash or not) without a team; `teams` gets each team's heroes
    as they are after leaving it. The heroes are locked first, so the ones read are the ones changed."""
    team_of: dict[int, int] = {}
    for chunk in _chunks(sorted(teams)):
        in_teams = select(col(Hero.id), col(Hero.team_id)).where(col(Hero.team_id).in_(chunk)).order_by(col(Hero.id))
        team_of |= dict(cast("list[tuple[int, int]]", (await session.exec(in_teams.with_for_update())).all()))
    for chunk in _chunks(sorted(team_of)):
        statement = (
            update(Hero)
            .where(col(Hero.id).in_(chunk))
            .values(team_id=None, version=col(Hero.version) + 1)
            .returning(col(Hero.id), col(Hero.name), col(Hero.version), col(Hero.deleted_at))
            .execution_options(synchronize_session=False)
        )
        for hero in (await session.exec(statement)).all():
            teams[team_of[hero.id]].append(hero)
    return teams


async def import_heroes(session: AsyncSession, plan: csvio.Plan, by: Actor) -> None:
    """A checked CSV import's changes in the caller's transaction, each with the history entry create or change
    would write, but a statement per kind of change rather than several per row: ten thousand rows one at a
    time take tens of seconds. The heroes were read under lock (controllers/transfer.py, _plan), so each
    update's version holds."""
    creates = [change for change in plan.changes if change.hero_id is None]
    updates = [change for change in plan.changes if change.hero_id is not None]
    ids: list[int] = []
    if creates:
        # RETURNING in the order of the rows sent, so each id is paired with its row.
        inserting = insert(Hero).returning(col(Hero.id), sort_by_parameter_order=True)
        ids = list((await session.exec(inserting, params=[change.values for change in creates])).scalars())
    if updates:
        table = Hero.__table__  # type: ignore[attr-defined]
        # A Core executemany: one round trip for all the rows.
        updating = (
            update(table)
            .where(
                table.c.id == bindparam("hero_id"),
                table.c.version == bindparam("seen"),
                table.c.deleted_at.is_(None),
            )
            .values({name: bindparam(f"new_{name}") for name in HERO_FIELDS} | {"version": table.c.version + 1})
        )
        await (await session.connection()).execute(
            updating,
            [
                {"hero_id": change.hero_id, "seen": change.version}
                | {f"new_{name}": value for name, value in change.values.items()}
                for change in updates
            ],
        )
    # History in the file's row order, as one change after another would have written it.
    new_ids = {change.row: hero_id for hero_id, change in zip(ids, creates, strict=True)}
    entries = [
        audit.entry(
            by,
            action="update" if change.hero_id is not None else "create",
            record_type=HERO.name,
            record_id=change.hero_id if change.hero_id is not None else new_ids[change.row],
            label=change.values["name"],
            changes=change.changes,
        )
        for change in plan.changes
    ]
    await audit.write(session, entries)

"""What heroes and teams share around a change: the conflict view's data, history, revert, restore and purge.

The resource controllers keep their own routes and call these, so each URL is still declared where its
resource is.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.response import Template
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import queries, records
from webapp.controllers.common import actor, done, once, query_number, read_form
from webapp.forms import Conflict, Form, version_of
from webapp.htmx import redirect, render
from webapp.models import AuditEntry, Team
from webapp.records import Kind
from webapp.refusal import Refused

REVERTIBLE = frozenset({"update", "revert"})


def in_trash(
    request: Request[Any, Any, Any], kind: Kind, record: records.Record | records.Snapshot, *, status_code: int = 409
) -> Refused:
    """The answer to changing (409) or opening (404) a record that is in the trash: why, and where it is."""
    when = f"{record.deleted_at:%Y-%m-%d %H:%M} UTC" if record.deleted_at else "earlier"
    message = (
        f"The {kind.name} “{record.name}” was deleted by {record.deleted_by or 'someone'} on {when}. "
        "It is in the Trash, where an editor can restore it."
    )
    if status_code == 409:
        message = "Your change was not saved. " + message
    return Refused(
        status_code, f"This {kind.name} was deleted", message, (request.app.route_reverse("trash"), "Open the Trash")
    )


async def not_here(
    request: Request[Any, Any, Any], session: AsyncSession, kind: Kind, record_id: int
) -> Refused | NotFoundException:
    """Why a record cannot be shown: it is in the trash (say so), or it does not exist."""
    record = await records.find(session, kind, record_id)
    if record is not None and record.deleted_at is not None:
        return in_trash(request, kind, record, status_code=404)
    return NotFoundException()


async def last_change_by(session: AsyncSession, kind: Kind, record_id: int) -> str:
    statement = (
        select(AuditEntry.username)
        .where(AuditEntry.record_type == kind.name, AuditEntry.record_id == record_id)
        .order_by(col(AuditEntry.id).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first() or "someone"


async def shown_value(session: AsyncSession, name: str, value: Any) -> str:
    """A stored value as a person reads it (a team's name rather than its id)."""
    if value is None:
        return "No team" if name == "team_id" else "(blank)"
    if name == "team_id":
        team = await session.get(Team, value)
        return team.name if team is not None else f"team #{value}"
    return str(value)


async def conflict_form(session: AsyncSession, kind: Kind, form: Form[Any], current: records.Snapshot) -> Form[Any]:
    """The user's form again, now on top of the stored version, with what is stored where it differs."""
    differing = {}
    for name, value in current.values.items():
        as_typed = "" if value is None else str(value)
        if form.values.get(name, "") != as_typed:
            differing[name] = await shown_value(session, name, value)
    by = await last_change_by(session, kind, current.id)
    form.version, form.conflict = current.version, Conflict(by=by, current=differing)
    return form


async def edit_values(kind: Kind, record: records.Record) -> Form[Any]:
    values = {name: "" if value is None else str(value) for name, value in records.values_of(kind, record).items()}
    return Form(values=values, version=record.version)


async def record_for_edit(request: Request[Any, Any, Any], session: AsyncSession, kind: Kind, record_id: int) -> Any:
    """The record an edit starts from; one in the trash is refused with the reason, not a bare 404."""
    record = await records.find(session, kind, record_id)
    if record is None or record.deleted_at is not None:
        raise await not_here(request, session, kind, record_id)
    return record


# --- history ----------------------------------------------------------------------------------------------------


async def history(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    kind: Kind,
    record_id: int,
    *,
    status_code: int = 200,
    alert: str | None = None,
) -> Template:
    """A record's changes, newest first: the History page, or the panel on its detail page (htmx)."""
    if not queries.valid_id(record_id):
        raise NotFoundException()
    record = await records.find(session, kind, record_id)
    entries = await queries.record_history(
        session, record_type=kind.name, record_id=record_id, before=query_number(request, "before")
    )
    if record is None and not entries.items:
        raise NotFoundException()
    context = {
        "kind": kind,
        "record": record,
        "record_id": record_id,
        "label": record.name if record is not None else entries.items[0].label,
        "entries": entries,
        "teams": await queries.team_names(session, entries=entries.items),
        "revertible": REVERTIBLE,
        "alert": alert,
    }
    return render(
        request, page="history/record.html", fragment="history/_panel.html", context=context, status_code=status_code
    )


async def revert(
    request: Request[Any, Any, Any], session: AsyncSession, kind: Kind, record_id: int, entry_id: int
) -> Response[Any]:
    data = await read_form(request)
    if repeat := await once(request, session, data):
        return repeat
    entry = await queries.history_entry(session, entry_id=entry_id)
    ours = entry is not None and (entry.record_type, entry.record_id) == (kind.name, record_id)
    if entry is None or not ours or entry.action not in REVERTIBLE:
        raise NotFoundException()
    history_path = request.app.route_reverse(f"{kind.plural}:history", **{f"{kind.name}_id": record_id})
    try:
        record, changes = await records.revert(
            session, kind, record_id, entry_id=entry_id, version=version_of(data), actor=actor(request)
        )
    except records.Missing:
        raise NotFoundException() from None
    except records.InTrash as gone:
        raise in_trash(request, kind, gone.current) from None
    except records.Stale:
        await session.rollback()
        alert = f"The {kind.name} changed after you opened its history. Check the newest changes, then revert again."
        return await history(request, session, kind, record_id, status_code=409, alert=alert)
    except records.RevertBlocked as blocked:
        raise Refused(409, "Cannot revert", str(blocked)) from None
    except IntegrityError:  # only a team's name can clash
        await session.rollback()
        raise Refused(409, "Cannot revert", f"Another {kind.name} now has the name this one had then.") from None
    await done(request, session, history_path)
    message = (
        f"Reverted {record.name} to how it was before change #{entry_id}."
        if changes
        else f"{record.name} already matches how it was before change #{entry_id}; nothing changed."
    )
    return redirect(history_path, flash=message)


# --- trash ----------------------------------------------------------------------------------------------------


def _trash_changed(request: Request[Any, Any, Any], title: str, current: records.Snapshot, outcome: str) -> Refused:
    """409 for a restore or purge of an item the trash no longer shows as the user saw it."""
    state = "is not in the Trash any more" if current.deleted_at is None else "changed meanwhile"
    trash = (request.app.route_reverse("trash"), "Open the Trash")
    return Refused(409, title, f"“{current.name}” {state}{outcome}.", trash)


async def restore(request: Request[Any, Any, Any], session: AsyncSession, kind: Kind, record_id: int) -> Response[Any]:
    data = await read_form(request)
    if repeat := await once(request, session, data):
        return repeat
    try:
        outcome = await records.restore(session, kind, record_id, version=version_of(data), actor=actor(request))
    except records.Missing:
        raise NotFoundException() from None
    except records.Stale as stale:
        await session.rollback()
        raise _trash_changed(request, "Not restored", stale.current, "") from None
    except IntegrityError:  # a live team took the name meanwhile
        await session.rollback()
        raise Refused(
            409,
            "Not restored",
            "Another team now has this team's name. Rename that team first, then restore this one.",
            (request.app.route_reverse("trash"), "Open the Trash"),
        ) from None
    detail = request.app.route_reverse(f"{kind.plural}:detail", **{f"{kind.name}_id": record_id})
    await done(request, session, detail)
    return redirect(detail, flash=restored_message(kind, outcome))


def restored_message(kind: Kind, outcome: records.Outcome) -> str:
    message = f"Restored {kind.name} {outcome.record.name}."
    if outcome.heroes_back:
        back = outcome.heroes_back
        message += f" {back} of its heroes {'is' if back == 1 else 'are'} back in it."
    if outcome.heroes_left:
        names = ", ".join(outcome.heroes_left[:5]) + (" and others" if len(outcome.heroes_left) > 5 else "")
        message += f" Left as they are, because they were changed after the delete: {names}."
    return message


async def confirm_purge(request: Request[Any, Any, Any], session: AsyncSession, kind: Kind, record_id: int) -> Template:
    record = await records.find(session, kind, record_id)
    if record is None or record.deleted_at is None:
        raise NotFoundException()
    return render(request, page="trash/purge.html", context={"kind": kind, "record": record})


async def purge(request: Request[Any, Any, Any], session: AsyncSession, kind: Kind, record_id: int) -> Response[Any]:
    data = await read_form(request)
    if repeat := await once(request, session, data):
        return repeat
    trash_path = request.app.route_reverse("trash")
    try:
        record = await records.purge(session, kind, record_id, version=version_of(data), actor=actor(request))
    except records.Missing:
        raise NotFoundException() from None
    except records.Stale as stale:
        await session.rollback()
        raise _trash_changed(request, "Not deleted", stale.current, ", so it was not deleted for good") from None
    await done(request, session, trash_path)
    return redirect(trash_path, flash=f"Deleted {kind.name} {record.name} for good.")

"""A record's history and its way back: the History page (or panel), revert to before a change, restore from
the trash, and delete for good. Served for every resource (see records.for_resource)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.auth import ADMINS, EDITORS, VIEWERS
from webapp.controllers import pages
from webapp.controllers.common import Posted, ResourceController, Session, actor, query_number
from webapp.data import reads, writes
from webapp.data.ids import valid_id
from webapp.errors import Refused
from webapp.htmx import redirect, render
from webapp.numbers import version_of
from webapp.registry import REFERENCES
from webapp.resource import Resource


def _trash_link(request: Request[Any, Any, Any]) -> tuple[str, str]:
    return (request.app.route_reverse("trash"), "Open the Trash")


def restored_message(resource: Resource, outcome: writes.Outcome) -> str:
    message = f"Restored {resource.name} {outcome.record.name}."
    for referencing in resource.referenced_by:
        if back := outcome.back.get(referencing.plural):
            message += f" {back} of its {referencing.plural} {'is' if back == 1 else 'are'} back in it."
    if outcome.left_alone:
        names = ", ".join(outcome.left_alone[:5]) + (" and others" if len(outcome.left_alone) > 5 else "")
        message += f" Left as they are, because they were changed after the delete: {names}."
    return message


async def _revertible(session: AsyncSession, resource: Resource, record_id: int, entry_id: int) -> None:
    """A revert names a field change of this record's own history; anything else is not found."""
    entry = await reads.history_entry(session, entry_id=entry_id)
    ours = entry is not None and (entry.record_type, entry.record_id) == (resource.name, record_id)
    if entry is None or not ours or entry.action not in writes.REVERTIBLE:
        raise NotFoundException()


def _reverted_message(name: str, entry_id: int, *, changed: bool) -> str:
    if changed:
        return f"Reverted {name} to how it was before change #{entry_id}."
    return f"{name} already matches how it was before change #{entry_id}; nothing changed."


class ChangesController(ResourceController):
    opt = VIEWERS

    async def _history(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        record_id: int,
        *,
        status_code: int = 200,
        alert: str | None = None,
    ) -> Template:
        """A record's changes, newest first: the History page, or the panel on its page (htmx)."""
        resource = self.resource
        if not valid_id(record_id):
            raise NotFoundException()
        record = await reads.find(session, resource, record_id)
        entries = await reads.history(session, resource, record_id=record_id, before=query_number(request, "before"))
        if record is None and not entries.items:
            raise NotFoundException()
        context = {
            "resource": resource,
            "record": record,
            "record_id": record_id,
            "label": record.name if record is not None else entries.items[0].label,
            "entries": entries,
            "names": await reads.referenced_names(session, REFERENCES, entries=entries.items),
            "revertible": writes.REVERTIBLE,
            "alert": alert,
        }
        return render(
            request,
            page="history/record.html",
            fragment="history/_panel.html",
            context=context,
            status_code=status_code,
        )

    @get("/{record_id:int}/history", name="history", status_code=200)
    async def history(self, request: Request[Any, Any, Any], session: Session, record_id: FromPath[int]) -> Template:
        return await self._history(request, session, record_id)

    @post("/{record_id:int}/history/{entry_id:int}/revert", name="revert", status_code=303, opt=EDITORS)
    async def revert(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        submitted: Posted,
        record_id: FromPath[int],
        entry_id: FromPath[int],
    ) -> Response[Any]:
        resource = self.resource
        await _revertible(session, resource, record_id, entry_id)
        version = version_of(submitted.data)
        try:
            record, changes = await writes.revert(
                session, resource, record_id, entry_id=entry_id, version=version, actor=actor(request)
            )
        except writes.Stale:
            await session.rollback()
            alert = (
                f"The {resource.name} changed after you opened its history. Check the newest changes, then revert "
                "again."
            )
            return await self._history(request, session, record_id, status_code=409, alert=alert)
        except writes.RevertBlocked as blocked:
            raise Refused(409, "Cannot revert", str(blocked)) from None
        except IntegrityError:  # only a unique field (a team's name) can clash
            await session.rollback()
            raise Refused(
                409, "Cannot revert", f"Another {resource.name} now has the name this one had then."
            ) from None
        history_path = pages.links(request).to(resource, "history", record_id)
        await submitted.leads_to(history_path)
        await session.commit()
        return redirect(history_path, flash=_reverted_message(record.name, entry_id, changed=bool(changes)))

    @post("/{record_id:int}/restore", name="restore", status_code=303, opt=EDITORS)
    async def restore(
        self, request: Request[Any, Any, Any], session: Session, submitted: Posted, record_id: FromPath[int]
    ) -> Response[Any]:
        resource = self.resource
        version = version_of(submitted.data)
        try:
            outcome = await writes.restore(session, resource, record_id, version=version, actor=actor(request))
        except IntegrityError:  # a live record took the unique name meanwhile
            await session.rollback()
            message = (
                f"Another {resource.name} now has this {resource.name}'s name. Rename that {resource.name} first, "
                "then restore this one."
            )
            raise Refused(409, "Not restored", message, _trash_link(request)) from None
        # An Undo from a list goes back to that list; a restore from the trash to the record.
        back = submitted.data.get("list")
        after = (
            pages.links(request).to(resource, "detail", record_id)
            if back is None
            else pages.list_at(request, resource, back)
        )
        await submitted.leads_to(after)
        await session.commit()
        return redirect(after, flash=restored_message(resource, outcome))

    @get("/{record_id:int}/purge", name="confirm_purge", status_code=200, opt=ADMINS)
    async def confirm_purge(
        self, request: Request[Any, Any, Any], session: Session, record_id: FromPath[int]
    ) -> Template:
        record = await reads.find(session, self.resource, record_id)
        if record is None or record.deleted_at is None:
            raise NotFoundException()
        return render(request, page="trash/purge.html", context={"resource": self.resource, "record": record})

    @post("/{record_id:int}/purge", name="purge", status_code=303, opt=ADMINS)
    async def purge(
        self, request: Request[Any, Any, Any], session: Session, submitted: Posted, record_id: FromPath[int]
    ) -> Response[Any]:
        resource = self.resource
        version = version_of(submitted.data)
        record = await writes.purge(session, resource, record_id, version=version, actor=actor(request))
        trash_path = request.app.route_reverse("trash")
        await submitted.leads_to(trash_path)
        await session.commit()
        return redirect(trash_path, flash=f"Deleted {resource.name} {record.name} for good.")

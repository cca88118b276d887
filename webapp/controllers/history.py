"""The Activity page (recent changes across the app, and for admins sign-in events) and the Trash."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ClientException, PermissionDeniedException
from litestar.response import Stream, Template
from sqlmodel import col

from webapp import audit, csvio
from webapp.auth import ADMINS, VIEWERS, as_sent, current_user, record_refusal
from webapp.controllers.common import Posted, Session, actor, page_number, query_number
from webapp.controllers.downloads import csv_stream
from webapp.data import reads, writes
from webapp.errors import Refused
from webapp.htmx import redirect, render
from webapp.limits import SendTimeout
from webapp.models import AuditEntry
from webapp.registry import REFERENCES, RESOURCES

RECORD_TYPES = {resource.name: resource.title for resource in RESOURCES}
ACCOUNT_TYPES = {"account": "Sign-ins"}


def _moment(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ClientException("malformed time") from None
    if moment.tzinfo is None:
        raise ClientException("malformed time")
    return moment


class ActivityController(Controller):
    opt = VIEWERS

    @get("/activity", name="activity", status_code=200)
    async def activity(self, request: Request[Any, Any, Any], session: Session) -> Template:
        """Recent changes, newest first, filterable by user, record type and dates. Sign-in events are for admins."""
        chosen, types = await _chosen(request)
        entries = await reads.activity(
            session,
            record_types=chosen.record_types,
            user_id=chosen.user_id,
            since=chosen.since,
            until=chosen.until,
            before=query_number(request, "before"),
        )
        criteria = _criteria(request)
        context = {
            "entries": entries,
            "types": types,
            "chosen": criteria["type"],
            "user_id": chosen.user_id,
            "criteria": criteria,
            "users": await reads.user_choices(session),
            "names": await reads.referenced_names(session, REFERENCES, entries=entries.items),
            "revertible": writes.REVERTIBLE,
        }
        return render(request, page="history/activity.html", fragment="history/_activity.html", context=context)

    @get("/activity/export.csv", name="activity:export", status_code=200, middleware=[SendTimeout])
    async def export(self, request: Request[Any, Any, Any], session: Session) -> Stream:
        """The filtered activity, every entry, newest first (a streamed file). The export itself is recorded."""
        chosen, _types = await _chosen(request)
        await session.close()  # one connection at a time: the record's write, then the stream's own
        user = current_user(request)
        assert user is not None
        shown = {name: value for name, value in _criteria(request).items() if value}
        note = "Activity export" + (f" of {as_sent(urlencode(shown))}" if shown else "")
        entry = audit.entry(
            actor(request), action="export", record_type="account", record_id=user.id, label=user.username, note=note
        )
        async with request.app.state.writer() as writer:
            await audit.write(writer, [entry])
            await writer.commit()
        statement = chosen.statement().order_by(col(AuditEntry.id).desc())
        return csv_stream(request, statement, header=ACTIVITY_HEADER, cells=_activity_cells, filename="activity.csv")


ACTIVITY_HEADER = ("ID", "Time (UTC)", "User", "Action", "Record type", "Record ID", "Record", "Changes", "Note")


def _activity_cells(row: Any) -> tuple[object, ...]:
    changes = json.dumps(row.changes, ensure_ascii=False, sort_keys=True) if row.changes else ""
    texts = (row.username, row.action, row.record_type)
    return (
        row.id,
        row.at.astimezone(UTC).isoformat(),
        *(csvio.neutralise(text) for text in texts),
        "" if row.record_id is None else row.record_id,
        *(csvio.neutralise(text) for text in (row.label, changes, row.note)),
    )


def _criteria(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The filter as the query gave it (what the form and the links show again)."""
    return {name: request.query_params.get(name, "") for name in ("type", "user", "from", "to")}


async def _chosen(request: Request[Any, Any, Any]) -> tuple[reads.ActivityFilter, dict[str, str]]:
    """The Activity filter in the query, checked (a bad one is refused with what is wrong), and the record types
    this user may choose from."""
    user = current_user(request)
    types = RECORD_TYPES | (ACCOUNT_TYPES if user is not None and user.is_admin else {})
    chosen = request.query_params.get("type", "")
    if chosen and chosen not in types:
        if chosen in ACCOUNT_TYPES:
            await record_refusal(request, user, "sign-in events are for admins")
            raise PermissionDeniedException()
        raise ClientException("unknown record type")
    since, last = _day(request, "from", "From"), _day(request, "to", "To")
    if since is not None and last is not None and since > last:
        raise _bad_filter(request, "“From” is after “To”: choose a From date on or before the To date.")
    filter_ = reads.ActivityFilter(
        record_types=(chosen,) if chosen else tuple(types),
        user_id=query_number(request, "user"),
        since=None if since is None else datetime.combine(since, time(), UTC),
        # Up to the end of the To day; the last day there is has no end to give.
        until=None if last is None or last == date.max else datetime.combine(last + timedelta(days=1), time(), UTC),
    )
    return filter_, types


DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(request: Request[Any, Any, Any], name: str, label: str) -> date | None:
    raw = request.query_params.get(name, "")
    if not raw:
        return None
    try:
        if not DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad_filter(request, f"“{label}” must be a date written like 2026-12-31.") from None


def _bad_filter(request: Request[Any, Any, Any], message: str) -> Refused:
    link = (request.app.route_reverse("activity"), "Show all activity")
    return Refused(400, "This Activity filter is not valid", message, link)


class TrashController(Controller):
    path = "/trash"
    opt = VIEWERS

    @get("/", name="trash", status_code=200)
    async def trash(self, request: Request[Any, Any, Any], session: Session) -> Template:
        # Each resource's list pages on its own (heroes_page, teams_page); a link keeps the others where they are.
        sections = [
            (resource, await reads.trashed(session, resource, page=page_number(request, f"{resource.plural}_page")))
            for resource in RESOURCES
        ]
        context = {"sections": sections, "total": sum(page.total for _resource, page in sections)}
        return render(request, page="trash/list.html", context=context)

    @get("/empty", name="trash:confirm_empty", status_code=200, opt=ADMINS)
    async def confirm_empty(self, request: Request[Any, Any, Any], session: Session) -> Template:
        context = {
            "sections": [(resource, await reads.trashed(session, resource, size=0)) for resource in RESOURCES],
            # The POST empties only what was in the trash now, not what others delete in the meantime.
            "through": request.app.state.settings.clock().isoformat(),
        }
        return render(request, page="trash/empty.html", context=context)

    @post("/empty", name="trash:empty", status_code=303, opt=ADMINS)
    async def empty(self, request: Request[Any, Any, Any], session: Session, submitted: Posted) -> Response[Any]:
        through = _moment(submitted.data.get("through", ""))
        purged = await writes.empty_trash(session, RESOURCES, through=through, actor=actor(request))
        trash_path = request.app.route_reverse("trash")
        await submitted.leads_to(trash_path)
        await session.commit()
        counts = " and ".join(f"{purged[resource.plural]} {resource.plural}" for resource in RESOURCES)
        return redirect(trash_path, flash=f"Emptied the trash: {counts} deleted for good.")

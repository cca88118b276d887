"""The Activity page (recent changes across the app, and for admins sign-in events) and the Trash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ClientException, PermissionDeniedException
from litestar.response import Template

from webapp.auth import ADMINS, VIEWERS, current_user, record_refusal
from webapp.controllers.common import Posted, Session, actor, page_number, query_number
from webapp.data import reads, writes
from webapp.htmx import redirect, render
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
        """Recent changes, newest first, filterable by user and record type. Sign-in events are for admins."""
        user = current_user(request)
        types = RECORD_TYPES | (ACCOUNT_TYPES if user is not None and user.is_admin else {})
        chosen = request.query_params.get("type", "")
        if chosen and chosen not in types:
            if chosen in ACCOUNT_TYPES:
                await record_refusal(request, user, "sign-in events are for admins")
                raise PermissionDeniedException()
            raise ClientException("unknown record type")
        user_id = query_number(request, "user")
        entries = await reads.activity(
            session,
            record_types=(chosen,) if chosen else tuple(types),
            user_id=user_id,
            before=query_number(request, "before"),
        )
        context = {
            "entries": entries,
            "types": types,
            "chosen": chosen,
            "user_id": user_id,
            "users": await reads.user_choices(session),
            "names": await reads.referenced_names(session, REFERENCES, entries=entries.items),
            "revertible": writes.REVERTIBLE,
        }
        return render(request, page="history/activity.html", fragment="history/_activity.html", context=context)


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
        submitted.leads_to(trash_path)
        await session.commit()
        counts = " and ".join(f"{purged[resource.plural]} {resource.plural}" for resource in RESOURCES)
        return redirect(trash_path, flash=f"Emptied the trash: {counts} deleted for good.")

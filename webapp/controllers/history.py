"""The Activity page (recent changes across the app, and for admins sign-in events) and the Trash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, PermissionDeniedException
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import queries, records
from webapp.auth import ADMINS, VIEWERS, current_user, record_refusal
from webapp.controllers.changes import REVERTIBLE
from webapp.controllers.common import actor, done, once, page_number, query_number, read_form
from webapp.htmx import redirect, render
from webapp.models import Hero, Team

RECORD_TYPES = {"hero": "Heroes", "team": "Teams"}
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
    async def activity(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Template:
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
        entries = await queries.activity(
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
            "users": await queries.user_choices(session),
            "teams": await queries.team_names(session, entries=entries.items),
            "revertible": REVERTIBLE,
        }
        return render(request, page="history/activity.html", fragment="history/_activity.html", context=context)


class TrashController(Controller):
    path = "/trash"
    opt = VIEWERS

    @get("/", name="trash", status_code=200)
    async def trash(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Template:
        # Each list pages on its own (heroes_page, teams_page); a link keeps the other list where it is.
        pages = {kind: page_number(request, f"{kind}_page") for kind in ("heroes", "teams")}
        context = {
            "heroes": await queries.trashed(session, model=Hero, page=pages["heroes"]),
            "teams": await queries.trashed(session, model=Team, page=pages["teams"]),
        }
        return render(request, page="trash/list.html", context=context)

    @get("/empty", name="trash:confirm_empty", status_code=200, opt=ADMINS)
    async def confirm_empty(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Template:
        context = {
            "heroes": await queries.trashed(session, model=Hero, size=0),
            "teams": await queries.trashed(session, model=Team, size=0),
            # The POST empties only what was in the trash now, not what others delete in the meantime.
            "through": request.app.state.settings.clock().isoformat(),
        }
        return render(request, page="trash/empty.html", context=context)

    @post("/empty", name="trash:empty", status_code=303, opt=ADMINS)
    async def empty(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Response[Any]:
        data = await read_form(request)
        if repeat := await once(request, session, data):
            return repeat
        purged = await records.empty_trash(session, through=_moment(data.get("through", "")), actor=actor(request))
        trash_path = request.app.route_reverse("trash")
        await done(request, session, trash_path)
        message = f"Emptied the trash: {purged['heroes']} heroes and {purged['teams']} teams deleted for good."
        return redirect(trash_path, flash=message)

"""Teams: list with hero counts, detail with its heroes, create, edit (full page or inline row), delete."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import queries
from webapp.auth import EDITORS, VIEWERS
from webapp.controllers.common import found, page_number, read_form
from webapp.forms import Form, team_form
from webapp.htmx import redirect, render, wants_fragment
from webapp.models import Team, TeamCreate


async def _save(session: NamedDependency[AsyncSession], team: Team, form: Form[TeamCreate]) -> int | None:
    """Commit the team: None when saved, 409 when the name is taken (the only unique rule), as a field error."""
    session.add(team)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        form.errors["name"] = f"A team named “{form.values['name']}” already exists."
        return 409
    return None


class TeamController(Controller):
    path = "/teams"
    opt = VIEWERS

    @get("/", name="teams:list", status_code=200)
    async def list_teams(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Template:
        teams = await queries.list_teams(session, page=page_number(request), size=request.app.state.settings.page_size)
        return render(request, page="teams/list.html", fragment="teams/_table.html", context={"teams": teams})

    @get("/new", name="teams:new", status_code=200, opt=EDITORS)
    async def new_team(self, request: Request[Any, Any, Any]) -> Template:
        context: dict[str, Any] = {"form": Form(values={}), "team_id": None}
        return render(request, page="teams/form.html", fragment="teams/_form.html", context=context)

    @post("/", name="teams:create", status_code=303, opt=EDITORS)
    async def create_team(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Template | Redirect:
        form = team_form(await read_form(request))
        team = Team.model_validate(form.model) if form.model is not None else None
        status = 422 if team is None else await _save(session, team, form)
        if team is None or status:
            return render(
                request,
                page="teams/form.html",
                fragment="teams/_form.html",
                context={"form": form, "team_id": None},
                status_code=status or 422,
            )
        message = f"Created team {team.name}."
        if not wants_fragment(request):
            return redirect(request.app.route_reverse("teams:detail", team_id=team.id), flash=message)
        context: dict[str, Any] = {
            "form": Form(values={}),
            "team_id": None,
            "created": await queries.team_row(session, team_id=found(team.id)),
            "total": await queries.count_teams(session),
        }
        return render(request, page="teams/form.html", fragment="teams/_created.html", context=context, toast=message)

    @get("/{team_id:int}", name="teams:detail", status_code=200)
    async def team_detail(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Template:
        team = found(await queries.team_row(session, team_id=team_id))
        context: dict[str, Any] = {"team": team, "heroes": await queries.team_heroes(session, team_id=team_id)}
        return render(request, page="teams/detail.html", fragment="teams/_detail.html", context=context)

    @get("/{team_id:int}/row", name="teams:row", status_code=200)
    async def team_table_row(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Template | Redirect:
        """The read-only row (what Cancel restores in an inline edit); a browser without htmx goes to the detail."""
        team = found(await queries.team_row(session, team_id=team_id))
        if not wants_fragment(request):
            return redirect(request.app.route_reverse("teams:detail", team_id=team_id))
        return render(request, page="teams/detail.html", fragment="teams/_row.html", context={"team": team})

    @get("/{team_id:int}/edit", name="teams:edit", status_code=200, opt=EDITORS)
    async def edit_team(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Template:
        team = found(await queries.get_team(session, team_id=team_id))
        form: Form[TeamCreate] = Form(values={"name": team.name, "headquarters": team.headquarters})
        context: dict[str, Any] = {"form": form, "team_id": team_id}
        return render(request, page="teams/form.html", fragment="teams/_row_form.html", context=context)

    @post("/{team_id:int}", name="teams:update", status_code=303, opt=EDITORS)
    async def update_team(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Template | Redirect:
        team = found(await queries.get_team(session, team_id=team_id, for_update=True))
        form = team_form(await read_form(request))
        status = 422
        if form.model is not None:
            team.sqlmodel_update(form.model.model_dump())
            status = await _save(session, team, form) or 0
        if status:
            return render(
                request,
                page="teams/form.html",
                fragment="teams/_row_form.html",
                context={"form": form, "team_id": team_id},
                status_code=status,
            )
        message = f"Saved team {team.name}."
        if not wants_fragment(request):
            return redirect(request.app.route_reverse("teams:detail", team_id=team_id), flash=message)
        row = await queries.team_row(session, team_id=team_id)
        return render(
            request, page="teams/detail.html", fragment="teams/_saved.html", context={"team": row}, toast=message
        )

    @get("/{team_id:int}/delete", name="teams:confirm_delete", status_code=200, opt=EDITORS)
    async def confirm_delete(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Template:
        team = found(await queries.team_row(session, team_id=team_id))
        return render(request, page="teams/delete.html", fragment="teams/_delete.html", context={"team": team})

    @post("/{team_id:int}/delete", name="teams:delete", status_code=303, opt=EDITORS)
    async def delete_team(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Template | Redirect:
        team = found(await queries.get_team(session, team_id=team_id, for_update=True))
        await session.delete(team)
        await session.commit()
        message = f"Deleted team {team.name}."
        if not wants_fragment(request):
            return redirect(request.app.route_reverse("teams:list"), flash=message)
        context: dict[str, Any] = {"total": await queries.count_teams(session)}
        return render(request, page="teams/list.html", fragment="teams/_deleted.html", context=context, toast=message)

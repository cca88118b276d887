"""Teams: list with hero counts, detail with its heroes, create, edit (full page or inline row), delete to the
trash, history, restore, purge."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import listing, queries, records
from webapp.auth import ADMINS, EDITORS, VIEWERS
from webapp.controllers import changes
from webapp.controllers.common import actor, done, found, once, read_form
from webapp.forms import Form, team_form, version_of
from webapp.htmx import Undo, redirect, render, wants_fragment
from webapp.models import TeamCreate
from webapp.records import TEAM


def _name_taken(form: Form[TeamCreate]) -> None:
    form.errors["name"] = f"A team named “{form.values['name']}” already exists."


async def _count_line(request: Request[Any, Any, Any], session: AsyncSession) -> dict[str, Any]:
    """The count of the list the user is on, after a create or delete there (htmx updates it in place)."""
    state = listing.seen_list(request.headers, listing.team_list, default_size=request.app.state.settings.page_size)
    return {"count": await queries.count_teams(session, state=state), "filtered": state.filtered}


def _detail_path(request: Request[Any, Any, Any], team_id: int) -> str:
    return request.app.route_reverse("teams:detail", team_id=team_id)


def _form(
    request: Request[Any, Any, Any], form: Form[TeamCreate], team_id: int | None, status_code: int, *, inline: bool
) -> Template:
    """The create form, or the edit form (full page, or the inline row for htmx), again."""
    return render(
        request,
        page="teams/form.html",
        fragment="teams/_row_form.html" if inline else "teams/_form.html",
        context={"form": form, "team_id": team_id},
        status_code=status_code,
    )


class TeamController(Controller):
    path = "/teams"
    opt = VIEWERS

    @get("/", name="teams:list", status_code=200)
    async def list_teams(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Template:
        state = listing.team_list(request.query_params, default_size=request.app.state.settings.page_size)
        context = {"state": state, "teams": await queries.list_teams(session, state=state)}
        headers = listing.pushed_url(state, request.app.route_reverse("teams:list"))
        return render(request, page="teams/list.html", fragment="teams/_table.html", context=context, headers=headers)

    @get("/options", name="teams:options", status_code=200)
    async def team_options(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Template:
        """Suggestions for a searchable team field (a <datalist>'s options): what the field's `team` value
        holds so far is matched anywhere in the name. Without htmx nobody asks; the field takes typed names."""
        typed = listing.typed_team(request.query_params)
        names = await queries.team_options(session, typed=typed)
        context = {"names": names, "no_team": listing.NO_TEAM}
        return render(request, page="teams/options.html", fragment="teams/_options.html", context=context)

    @get("/new", name="teams:new", status_code=200, opt=EDITORS)
    async def new_team(self, request: Request[Any, Any, Any]) -> Template:
        return _form(request, Form(values={}), None, 200, inline=False)

    @post("/", name="teams:create", status_code=303, opt=EDITORS)
    async def create_team(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        data = await read_form(request)
        if repeat := await once(request, session, data):
            return repeat
        form = team_form(data)
        if form.model is None:
            return _form(request, form, None, 422, inline=False)
        try:
            team = await records.create(session, TEAM, form.model.model_dump(), actor(request))
        except IntegrityError:  # the name is the only unique rule
            await session.rollback()
            _name_taken(form)
            return _form(request, form, None, 409, inline=False)
        await done(request, session, _detail_path(request, found(team.id)))
        message = f"Created team {team.name}."
        if not wants_fragment(request):
            return redirect(_detail_path(request, found(team.id)), flash=message)
        context: dict[str, Any] = {
            "form": Form(values={}),
            "team_id": None,
            "created": await queries.team_row(session, team_id=found(team.id)),
            **await _count_line(request, session),
        }
        return render(request, page="teams/form.html", fragment="teams/_created.html", context=context, toast=message)

    @get("/{team_id:int}", name="teams:detail", status_code=200)
    async def team_detail(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Template:
        team = await queries.team_row(session, team_id=team_id)
        if team is None:
            raise await changes.not_here(request, session, TEAM, team_id)
        context: dict[str, Any] = {"team": team, "heroes": await queries.team_heroes(session, team_id=team_id)}
        return render(request, page="teams/detail.html", fragment="teams/_detail.html", context=context)

    @get("/{team_id:int}/row", name="teams:row", status_code=200)
    async def team_table_row(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Template | Redirect:
        """The read-only row (what Cancel restores in an inline edit); a browser without htmx goes to the detail."""
        team = await queries.team_row(session, team_id=team_id)
        if team is None:
            raise await changes.not_here(request, session, TEAM, team_id)
        if not wants_fragment(request):
            return redirect(_detail_path(request, team_id))
        return render(request, page="teams/detail.html", fragment="teams/_row.html", context={"team": team})

    @get("/{team_id:int}/edit", name="teams:edit", status_code=200, opt=EDITORS)
    async def edit_team(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Template:
        team = await changes.record_for_edit(request, session, TEAM, team_id)
        return _form(request, await changes.edit_values(TEAM, team), team_id, 200, inline=True)

    @post("/{team_id:int}", name="teams:update", status_code=303, opt=EDITORS)
    async def update_team(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Response[Any]:
        data = await read_form(request)
        if repeat := await once(request, session, data):
            return repeat
        form = team_form(data)
        form.version = version_of(data)
        if form.model is None:
            return _form(request, form, team_id, 422, inline=True)
        try:
            team, _changed = await records.change(
                session, TEAM, team_id, version=form.version, values=form.model.model_dump(), actor=actor(request)
            )
        except records.Missing:
            raise NotFoundException() from None
        except records.InTrash as gone:
            raise changes.in_trash(request, TEAM, gone.current) from None
        except records.Stale as stale:
            await session.rollback()
            form = await changes.conflict_form(session, TEAM, form, stale.current)
            return _form(request, form, team_id, 409, inline=True)
        except IntegrityError:
            await session.rollback()
            _name_taken(form)
            return _form(request, form, team_id, 409, inline=True)
        await done(request, session, _detail_path(request, team_id))
        message = f"Saved team {team.name}."
        if not wants_fragment(request):
            return redirect(_detail_path(request, team_id), flash=message)
        row = await queries.team_row(session, team_id=team_id)
        return render(
            request, page="teams/detail.html", fragment="teams/_saved.html", context={"team": row}, toast=message
        )

    @get("/{team_id:int}/delete", name="teams:confirm_delete", status_code=200, opt=EDITORS)
    async def confirm_delete(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Template:
        team = await queries.team_row(session, team_id=team_id)
        if team is None:
            raise await changes.not_here(request, session, TEAM, team_id)
        context = {"team": team, "alert": None}
        return render(request, page="teams/delete.html", fragment="teams/_delete.html", context=context)

    @post("/{team_id:int}/delete", name="teams:delete", status_code=303, opt=EDITORS)
    async def delete_team(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Response[Any]:
        data = await read_form(request)
        if repeat := await once(request, session, data):
            return repeat
        try:
            outcome = await records.trash(session, TEAM, team_id, version=version_of(data), actor=actor(request))
        except records.Missing:
            raise NotFoundException() from None
        except records.InTrash as gone:
            raise changes.in_trash(request, TEAM, gone.current) from None
        except records.Stale:
            await session.rollback()
            return await self._changed_before_delete(request, session, team_id)
        list_path = request.app.route_reverse("teams:list")
        await done(request, session, list_path)
        team = outcome.record
        message = f"Moved team {team.name} to the trash."
        if outcome.heroes_detached:
            count = outcome.heroes_detached
            message += f" {count} hero{'' if count == 1 else 'es'} left without a team; Undo puts them back."
        undo = Undo("team", found(team.id), team.version)
        if not wants_fragment(request):
            return redirect(list_path, flash=message, undo=undo)
        context = await _count_line(request, session)
        return render(
            request, page="teams/list.html", fragment="teams/_deleted.html", context=context, toast=message, undo=undo
        )

    async def _changed_before_delete(
        self, request: Request[Any, Any, Any], session: AsyncSession, team_id: int
    ) -> Template:
        """409: the team changed since the user chose to delete it. They see it as it is now and decide again."""
        team = found(await queries.team_row(session, team_id=team_id))
        message = f"Not deleted: {team.name} was changed by someone else meanwhile. Check it, then delete again."
        return render(
            request,
            page="teams/delete.html",
            fragment="teams/_saved.html",
            context={"team": team, "alert": message},
            status_code=409,
            toast=message,
        )

    @get("/{team_id:int}/history", name="teams:history", status_code=200)
    async def team_history(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Template:
        return await changes.history(request, session, TEAM, team_id)

    @post("/{team_id:int}/history/{entry_id:int}/revert", name="teams:revert", status_code=303, opt=EDITORS)
    async def revert_team(
        self,
        request: Request[Any, Any, Any],
        session: NamedDependency[AsyncSession],
        team_id: FromPath[int],
        entry_id: FromPath[int],
    ) -> Response[Any]:
        return await changes.revert(request, session, TEAM, team_id, entry_id)

    @post("/{team_id:int}/restore", name="teams:restore", status_code=303, opt=EDITORS)
    async def restore_team(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Response[Any]:
        return await changes.restore(request, session, TEAM, team_id)

    @get("/{team_id:int}/purge", name="teams:confirm_purge", status_code=200, opt=ADMINS)
    async def confirm_purge(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Template:
        return await changes.confirm_purge(request, session, TEAM, team_id)

    @post("/{team_id:int}/purge", name="teams:purge", status_code=303, opt=ADMINS)
    async def purge_team(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], team_id: FromPath[int]
    ) -> Response[Any]:
        return await changes.purge(request, session, TEAM, team_id)

"""Heroes: list, detail, create, edit (full page or inline row), delete to the trash, history, restore, purge."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import listing, queries, records
from webapp.auth import ADMINS, EDITORS, VIEWERS
from webapp.controllers import changes
from webapp.controllers.common import actor, done, found, once, read_form
from webapp.forms import Form, hero_form, version_of, whole_number
from webapp.htmx import Undo, redirect, render, wants_fragment
from webapp.models import HeroCreate
from webapp.records import HERO

TEAM_GONE = "That team no longer exists. Choose another."


def unknown_team(typed: str) -> str:
    """What a team field or filter says of a name no live team has (suggestions appear as you type)."""
    return f"No team is named “{typed}”. Type a team’s exact name, or “{listing.NO_TEAM}”."


async def _check_team(session: AsyncSession, form: Form[HeroCreate]) -> None:
    """The hero's team must be live. A name from the searchable picker is looked up first (blank or "No team":
    none); once found it stands in `team_id` as if chosen in the select, where a conflict view compares it."""
    typed = form.values.get("team")
    if typed is not None and "team_id" not in form.errors and typed.casefold() not in {"", listing.NO_TEAM.casefold()}:
        named = await queries.team_by_name(session, name=typed)
        if named is None:
            form.errors["team_id"], form.model = unknown_team(typed), None
        else:
            form.values["team_id"] = str(named)
            if form.model is not None:
                form.model.team_id = named
    team_id = form.model.team_id if form.model is not None else None
    if team_id is not None and not await queries.team_exists(session, team_id=team_id, lock=True):
        form.errors["team_id"], form.model = TEAM_GONE, None


async def _form_context(
    request: Request[Any, Any, Any], session: AsyncSession, form: Form[HeroCreate], hero_id: int | None = None
) -> dict[str, Any]:
    """Up to `team_select_limit` live teams the team field is a select of them all. Past it, `teams` is None and
    the field is the searchable picker, holding the name of the form's team (`chosen_team`) unless one was typed."""
    context: dict[str, Any] = {"form": form, "hero_id": hero_id}
    all_teams = listing.ListState(sorts=listing.TEAM_SORTS)
    if await queries.count_teams(session, state=all_teams) <= request.app.state.settings.team_select_limit:
        return context | {"teams": await queries.team_choices(session)}
    team_id = whole_number(form.values.get("team_id", ""))
    team = await queries.get_team(session, team_id=team_id) if team_id is not None else None
    chosen = team.name if team is not None and team.deleted_at is None else ""
    form.values.setdefault("team", chosen)
    return context | {"teams": None, "chosen_team": chosen}


async def _edit_form(
    request: Request[Any, Any, Any], session: AsyncSession, form: Form[HeroCreate], hero_id: int, status_code: int
) -> Template:
    """The edit form again (full page, or the inline row for htmx): invalid input, or an edit conflict."""
    context = await _form_context(request, session, form, hero_id=hero_id)
    return render(
        request, page="heroes/form.html", fragment="heroes/_row_form.html", context=context, status_code=status_code
    )


async def _count_line(request: Request[Any, Any, Any], session: AsyncSession) -> dict[str, Any]:
    """The count of the list the user is on, after a create or delete there (htmx updates it in place)."""
    state = listing.seen_list(request.headers, listing.hero_list, default_size=request.app.state.settings.page_size)
    try:
        team = await queries.team_filter(session, typed=state.team)
    except queries.UnknownTeam:
        return {"count": 0, "filtered": True}
    return {"count": await queries.count_heroes(session, state=state, team=team), "filtered": state.filtered}


def _detail_path(request: Request[Any, Any, Any], hero_id: int) -> str:
    return request.app.route_reverse("heroes:detail", hero_id=hero_id)


class HeroController(Controller):
    path = "/heroes"
    opt = VIEWERS

    @get("/", name="heroes:list", status_code=200)
    async def list_heroes(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Template:
        state = listing.hero_list(request.query_params, default_size=request.app.state.settings.page_size)
        context: dict[str, Any] = {"state": state, "team_error": None, "no_team": listing.NO_TEAM}
        status_code = 200
        try:
            team = await queries.team_filter(session, typed=state.team)
            context["heroes"] = await queries.list_heroes(session, state=state, team=team)
        except queries.UnknownTeam:
            context |= {"heroes": queries.Window.empty(), "team_error": unknown_team(state.team)}
            status_code = 422
        return render(
            request,
            page="heroes/list.html",
            fragment="heroes/_table.html",
            context=context,
            status_code=status_code,
            headers=listing.pushed_url(state, request.app.route_reverse("heroes:list")),
        )

    @get("/new", name="heroes:new", status_code=200, opt=EDITORS)
    async def new_hero(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Template:
        context = await _form_context(request, session, Form(values={}))
        return render(request, page="heroes/form.html", fragment="heroes/_form.html", context=context)

    @post("/", name="heroes:create", status_code=303, opt=EDITORS)
    async def create_hero(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        data = await read_form(request)
        if repeat := await once(request, session, data):
            return repeat
        form = hero_form(data)
        await _check_team(session, form)
        if form.model is None:
            context = await _form_context(request, session, form)
            return render(
                request, page="heroes/form.html", fragment="heroes/_form.html", context=context, status_code=422
            )
        hero = await records.create(session, HERO, form.model.model_dump(), actor(request))
        await done(request, session, _detail_path(request, found(hero.id)))
        message = f"Created hero {hero.name}."
        if not wants_fragment(request):
            return redirect(_detail_path(request, found(hero.id)), flash=message)
        context = await _form_context(request, session, Form(values={}))
        context |= {
            "created": await queries.hero_row(session, hero_id=found(hero.id)),
            **await _count_line(request, session),
        }
        return render(request, page="heroes/form.html", fragment="heroes/_created.html", context=context, toast=message)

    @get("/{hero_id:int}", name="heroes:detail", status_code=200)
    async def hero_detail(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Template:
        hero = await queries.hero_row(session, hero_id=hero_id)
        if hero is None:
            raise await changes.not_here(request, session, HERO, hero_id)
        return render(request, page="heroes/detail.html", fragment="heroes/_detail.html", context={"hero": hero})

    @get("/{hero_id:int}/row", name="heroes:row", status_code=200)
    async def hero_table_row(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Template | Redirect:
        """The read-only row (what Cancel restores in an inline edit); a browser without htmx goes to the detail."""
        hero = await queries.hero_row(session, hero_id=hero_id)
        if hero is None:
            raise await changes.not_here(request, session, HERO, hero_id)
        if not wants_fragment(request):
            return redirect(_detail_path(request, hero_id))
        return render(request, page="heroes/detail.html", fragment="heroes/_row.html", context={"hero": hero})

    @get("/{hero_id:int}/edit", name="heroes:edit", status_code=200, opt=EDITORS)
    async def edit_hero(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Template:
        hero = await changes.record_for_edit(request, session, HERO, hero_id)
        form = await changes.edit_values(HERO, hero)
        context = await _form_context(request, session, form, hero_id=hero_id)
        return render(request, page="heroes/form.html", fragment="heroes/_row_form.html", context=context)

    @post("/{hero_id:int}", name="heroes:update", status_code=303, opt=EDITORS)
    async def update_hero(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Response[Any]:
        data = await read_form(request)
        if repeat := await once(request, session, data):
            return repeat
        form = hero_form(data)
        form.version = version_of(data)
        await _check_team(session, form)
        if form.model is None:
            return await _edit_form(request, session, form, hero_id, 422)
        try:
            hero, _changed = await records.change(
                session, HERO, hero_id, version=form.version, values=form.model.model_dump(), actor=actor(request)
            )
        except records.Missing:
            raise NotFoundException() from None
        except records.InTrash as gone:
            raise changes.in_trash(request, HERO, gone.current) from None
        except records.Stale as stale:
            await session.rollback()
            form = await changes.conflict_form(session, HERO, form, stale.current)
            return await _edit_form(request, session, form, hero_id, 409)
        await done(request, session, _detail_path(request, hero_id))
        message = f"Saved hero {hero.name}."
        if not wants_fragment(request):
            return redirect(_detail_path(request, hero_id), flash=message)
        row = await queries.hero_row(session, hero_id=hero_id)
        return render(
            request, page="heroes/detail.html", fragment="heroes/_saved.html", context={"hero": row}, toast=message
        )

    @get("/{hero_id:int}/delete", name="heroes:confirm_delete", status_code=200, opt=EDITORS)
    async def confirm_delete(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Template:
        hero = await queries.hero_row(session, hero_id=hero_id)
        if hero is None:
            raise await changes.not_here(request, session, HERO, hero_id)
        context = {"hero": hero, "alert": None}
        return render(request, page="heroes/delete.html", fragment="heroes/_delete.html", context=context)

    @post("/{hero_id:int}/delete", name="heroes:delete", status_code=303, opt=EDITORS)
    async def delete_hero(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Response[Any]:
        data = await read_form(request)
        if repeat := await once(request, session, data):
            return repeat
        try:
            outcome = await records.trash(session, HERO, hero_id, version=version_of(data), actor=actor(request))
        except records.Missing:
            raise NotFoundException() from None
        except records.InTrash as gone:
            raise changes.in_trash(request, HERO, gone.current) from None
        except records.Stale:
            await session.rollback()
            return await self._changed_before_delete(request, session, hero_id)
        list_path = request.app.route_reverse("heroes:list")
        await done(request, session, list_path)
        hero = outcome.record
        message, undo = f"Moved hero {hero.name} to the trash.", Undo("hero", found(hero.id), hero.version)
        if not wants_fragment(request):
            return redirect(list_path, flash=message, undo=undo)
        # htmx 2 does not swap a 204: an empty 200 body removes the row; the count and toast go out of band.
        context = await _count_line(request, session)
        return render(
            request, page="heroes/list.html", fragment="heroes/_deleted.html", context=context, toast=message, undo=undo
        )

    async def _changed_before_delete(
        self, request: Request[Any, Any, Any], session: AsyncSession, hero_id: int
    ) -> Template:
        """409: the hero changed since the user chose to delete it. They see it as it is now and decide again."""
        hero = found(await queries.hero_row(session, hero_id=hero_id))
        message = f"Not deleted: {hero.name} was changed by someone else meanwhile. Check it, then delete again."
        return render(
            request,
            page="heroes/delete.html",
            fragment="heroes/_saved.html",
            context={"hero": hero, "alert": message},
            status_code=409,
            toast=message,
        )

    @get("/{hero_id:int}/history", name="heroes:history", status_code=200)
    async def hero_history(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Template:
        return await changes.history(request, session, HERO, hero_id)

    @post("/{hero_id:int}/history/{entry_id:int}/revert", name="heroes:revert", status_code=303, opt=EDITORS)
    async def revert_hero(
        self,
        request: Request[Any, Any, Any],
        session: NamedDependency[AsyncSession],
        hero_id: FromPath[int],
        entry_id: FromPath[int],
    ) -> Response[Any]:
        return await changes.revert(request, session, HERO, hero_id, entry_id)

    @post("/{hero_id:int}/restore", name="heroes:restore", status_code=303, opt=EDITORS)
    async def restore_hero(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Response[Any]:
        return await changes.restore(request, session, HERO, hero_id)

    @get("/{hero_id:int}/purge", name="heroes:confirm_purge", status_code=200, opt=ADMINS)
    async def confirm_purge(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Template:
        return await changes.confirm_purge(request, session, HERO, hero_id)

    @post("/{hero_id:int}/purge", name="heroes:purge", status_code=303, opt=ADMINS)
    async def purge_hero(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Response[Any]:
        return await changes.purge(request, session, HERO, hero_id)

"""Heroes: list, detail, create, edit (full page or inline row), delete."""

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
from webapp.forms import Form, hero_form
from webapp.htmx import redirect, render, wants_fragment
from webapp.models import Hero, HeroCreate

TEAM_GONE = "That team no longer exists. Choose another."


async def _check_team(session: AsyncSession, form: Form[HeroCreate]) -> None:
    team_id = form.model.team_id if form.model is not None else None
    if team_id is not None and not await queries.team_exists(session, team_id=team_id):
        form.errors["team_id"], form.model = TEAM_GONE, None


async def _form_context(
    session: NamedDependency[AsyncSession], form: Form[HeroCreate], hero_id: int | None = None
) -> dict[str, Any]:
    return {"form": form, "hero_id": hero_id, "teams": await queries.team_choices(session)}


class HeroController(Controller):
    path = "/heroes"
    opt = VIEWERS

    @get("/", name="heroes:list", status_code=200)
    async def list_heroes(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Template:
        heroes = await queries.list_heroes(
            session, page=page_number(request), size=request.app.state.settings.page_size
        )
        return render(request, page="heroes/list.html", fragment="heroes/_table.html", context={"heroes": heroes})

    @get("/new", name="heroes:new", status_code=200, opt=EDITORS)
    async def new_hero(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Template:
        context = await _form_context(session, Form(values={}))
        return render(request, page="heroes/form.html", fragment="heroes/_form.html", context=context)

    @post("/", name="heroes:create", status_code=303, opt=EDITORS)
    async def create_hero(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Template | Redirect:
        form = hero_form(await read_form(request))
        await _check_team(session, form)
        if form.model is not None:
            hero = Hero.model_validate(form.model)
            session.add(hero)
            try:
                await session.commit()
            except IntegrityError:  # the team was deleted between our check and the insert
                await session.rollback()
                form.errors["team_id"], form.model = TEAM_GONE, None
        if form.model is None:
            context = await _form_context(session, form)
            return render(
                request, page="heroes/form.html", fragment="heroes/_form.html", context=context, status_code=422
            )
        message = f"Created hero {hero.name}."
        if not wants_fragment(request):
            return redirect(request.app.route_reverse("heroes:detail", hero_id=hero.id), flash=message)
        context = await _form_context(session, Form(values={}))
        context |= {
            "created": await queries.hero_row(session, hero_id=found(hero.id)),
            "total": await queries.count_heroes(session),
        }
        return render(request, page="heroes/form.html", fragment="heroes/_created.html", context=context, toast=message)

    @get("/{hero_id:int}", name="heroes:detail", status_code=200)
    async def hero_detail(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Template:
        hero = found(await queries.hero_row(session, hero_id=hero_id))
        return render(request, page="heroes/detail.html", fragment="heroes/_detail.html", context={"hero": hero})

    @get("/{hero_id:int}/row", name="heroes:row", status_code=200)
    async def hero_table_row(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Template | Redirect:
        """The read-only row (what Cancel restores in an inline edit); a browser without htmx goes to the detail."""
        hero = found(await queries.hero_row(session, hero_id=hero_id))
        if not wants_fragment(request):
            return redirect(request.app.route_reverse("heroes:detail", hero_id=hero_id))
        return render(request, page="heroes/detail.html", fragment="heroes/_row.html", context={"hero": hero})

    @get("/{hero_id:int}/edit", name="heroes:edit", status_code=200, opt=EDITORS)
    async def edit_hero(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Template:
        hero = found(await queries.get_hero(session, hero_id=hero_id))
        values = {name: "" if value is None else str(value) for name, value in hero.model_dump().items()}
        context = await _form_context(session, Form(values=values), hero_id=hero_id)
        return render(request, page="heroes/form.html", fragment="heroes/_row_form.html", context=context)

    @post("/{hero_id:int}", name="heroes:update", status_code=303, opt=EDITORS)
    async def update_hero(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Template | Redirect:
        hero = found(await queries.get_hero(session, hero_id=hero_id, for_update=True))
        form = hero_form(await read_form(request))
        await _check_team(session, form)
        if form.model is not None:
            hero.sqlmodel_update(form.model.model_dump())
            session.add(hero)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                form.errors["team_id"], form.model = TEAM_GONE, None
        if form.model is None:
            context = await _form_context(session, form, hero_id=hero_id)
            return render(
                request, page="heroes/form.html", fragment="heroes/_row_form.html", context=context, status_code=422
            )
        message = f"Saved hero {hero.name}."
        if not wants_fragment(request):
            return redirect(request.app.route_reverse("heroes:detail", hero_id=hero_id), flash=message)
        row = await queries.hero_row(session, hero_id=hero_id)
        return render(
            request, page="heroes/detail.html", fragment="heroes/_saved.html", context={"hero": row}, toast=message
        )

    @get("/{hero_id:int}/delete", name="heroes:confirm_delete", status_code=200, opt=EDITORS)
    async def confirm_delete(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Template:
        hero = found(await queries.hero_row(session, hero_id=hero_id))
        return render(request, page="heroes/delete.html", fragment="heroes/_delete.html", context={"hero": hero})

    @post("/{hero_id:int}/delete", name="heroes:delete", status_code=303, opt=EDITORS)
    async def delete_hero(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], hero_id: FromPath[int]
    ) -> Template | Redirect:
        hero = found(await queries.get_hero(session, hero_id=hero_id, for_update=True))
        await session.delete(hero)
        await session.commit()
        message = f"Deleted hero {hero.name}."
        if not wants_fragment(request):
            return redirect(request.app.route_reverse("heroes:list"), flash=message)
        # htmx 2 does not swap a 204: an empty 200 body removes the row; the count and toast go out of band.
        context = {"total": await queries.count_heroes(session)}
        return render(request, page="heroes/list.html", fragment="heroes/_deleted.html", context=context, toast=message)

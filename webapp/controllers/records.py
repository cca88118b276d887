"""A resource's screens: its list, a record's page and row, the create and edit forms (full page or inline row),
and moving a record to the trash. One controller class serves every resource: what differs between them is
in the registry (webapp.registry) and in each resource's parts template, so each handler reads the same for
heroes and teams: parse, act, render.

Each resource gets its own controller (see `for_resource`) at `/<plural>`, with routes named `<plural>:<name>`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import listing
from webapp.auth import EDITORS, VIEWERS
from webapp.controllers import pages
from webapp.controllers.common import Posted, ResourceController, Session, actor
from webapp.data import reads, writes
from webapp.data.keyset import Window
from webapp.data.lists import UnknownName
from webapp.errors import KEEPS_FORM
from webapp.forms import Form
from webapp.htmx import Undo, redirect, render, wants_fragment
from webapp.numbers import version_of
from webapp.resource import Resource


def _trashed_message(resource: Resource, outcome: writes.Outcome) -> str:
    message = f"Moved {resource.name} {outcome.record.name} to the trash."
    for referencing in resource.referenced_by:
        if detached := outcome.detached.get(referencing.plural):
            message += f" {referencing.count(detached)} left without a {resource.name}; Undo puts them back."
    return message


# Create and edit: if the database does not answer, the form comes back with the user's values (503).
KEPT = EDITORS | {KEEPS_FORM: pages.kept_form}

# An htmx answer to a change shows the record and the list's count as the change left them, read in the change's
# own transaction before it commits. Read after the commit, they would begin a transaction of their own: on SQLite
# one more turn in the queue for the one write lock, and on either database another round trip. A failure while
# reading is a failure before the commit: nothing saved, and the answer says so.


class RecordController(ResourceController):
    opt = VIEWERS

    @get("/", name="list", status_code=200)
    async def list_page(self, request: Request[Any, Any, Any], session: Session) -> Template:
        resource = self.resource
        state = listing.parse(resource, request.query_params, default_size=request.app.state.settings.page_size)
        context: dict[str, Any] = {"resource": resource, "state": state, "filter_error": None}
        status_code = 200
        try:
            resolved = await resource.lists.resolve(session, state)
            context["window"] = await resource.lists.page(session, state, resolved)
        except UnknownName as unknown:
            context |= {"window": Window.empty(), "filter_error": (unknown.field, unknown.message)}
            status_code = 422
        if not wants_fragment(request):
            # The search form's reference filters (a hero's team) are offered as the forms offer the field.
            context["pickers"] = await pages.pickers(request, session, resource, Form(values={}))
        return render(
            request,
            page="records/list.html",
            fragment="records/_table.html",
            context=context,
            status_code=status_code,
            headers=listing.pushed_url(state, pages.links(request).to(resource, "list")),
        )

    @get("/{record_id:int}", name="detail", status_code=200)
    async def detail(self, request: Request[Any, Any, Any], session: Session, record_id: FromPath[int]) -> Template:
        resource = self.resource
        record = await pages.shown(session, resource, record_id)
        members = {
            referencing.plural: await reads.members(session, referencing, field=spec.name, record_id=record_id)
            for referencing in resource.referenced_by
            for spec in referencing.pointers(resource)
        }
        context = {"resource": resource, "record": record, "members": members}
        return render(request, page="records/detail.html", fragment="records/_detail.html", context=context)

    @get("/{record_id:int}/row", name="row", status_code=200)
    async def row(
        self, request: Request[Any, Any, Any], session: Session, record_id: FromPath[int]
    ) -> Template | Redirect:
        """The read-only row (what Cancel restores in an inline edit); a browser without htmx goes to the page."""
        record = await pages.shown(session, self.resource, record_id)
        if not wants_fragment(request):
            return redirect(pages.links(request).to(self.resource, "detail", record_id))
        context = {"resource": self.resource, "record": record}
        return render(request, page="records/detail.html", fragment="records/_row.html", context=context)

    @get("/new", name="new", status_code=200, opt=EDITORS)
    async def new(self, request: Request[Any, Any, Any], session: Session) -> Template:
        return await pages.form_page(request, session, self.resource, Form(values={}))

    @post("/", name="create", status_code=303, opt=KEPT | {"form_page": "new"})
    async def create(self, request: Request[Any, Any, Any], session: Session, submitted: Posted) -> Response[Any]:
        resource = self.resource
        form = await pages.checked_form(session, resource, submitted.data)
        if not form.is_valid:
            return await pages.form_page(request, session, resource, form, status_code=422)
        try:
            record = await writes.create(session, resource, form.dump(), actor(request))
        except IntegrityError:
            await session.rollback()
            pages.taken(resource, form)
            return await pages.form_page(request, session, resource, form, status_code=409)
        after = pages.after_save(request, resource, record.id, submitted.data)
        await submitted.leads_to(after)
        message = f"Created {resource.name} {record.name}."
        if not wants_fragment(request):
            await session.commit()
            return redirect(after, flash=message)
        # Read before the commit (see above RecordController), as in update and delete.
        context = {
            "resource": resource,
            "form": Form(values={}),
            "record_id": None,
            "pickers": await pages.pickers(request, session, resource, Form(values={})),
            "created": await resource.lists.row(session, record.id),
            **await pages.count_line(request, session, resource),
        }
        await session.commit()
        return render(
            request, page="records/form.html", fragment="records/_created.html", context=context, toast=message
        )

    @get("/{record_id:int}/edit", name="edit", status_code=200, opt=EDITORS)
    async def edit(self, request: Request[Any, Any, Any], session: Session, record_id: FromPath[int]) -> Template:
        record = await writes.live_record(session, self.resource, record_id)
        form = pages.edit_form(self.resource, record)
        return await pages.form_page(request, session, self.resource, form, record_id=record_id, stored=record)

    @post("/{record_id:int}", name="update", status_code=303, opt=KEPT | {"form_page": "edit"})
    async def update(
        self, request: Request[Any, Any, Any], session: Session, submitted: Posted, record_id: FromPath[int]
    ) -> Response[Any]:
        resource = self.resource
        form = await pages.checked_form(session, resource, submitted.data)
        form.version = version_of(submitted.data)
        if not form.is_valid:
            return await pages.form_page(request, session, resource, form, record_id=record_id, status_code=422)
        try:
            record = await writes.change(
                session, resource, record_id, version=form.version, values=form.dump(), actor=actor(request)
            )
        except writes.Stale as stale:
            await session.rollback()
            form = await pages.conflict_form(request, session, resource, form, stale.current)
            return await pages.form_page(request, session, resource, form, record_id=record_id, status_code=409)
        except IntegrityError:
            await session.rollback()
            pages.taken(resource, form)
            return await pages.form_page(request, session, resource, form, record_id=record_id, status_code=409)
        after = pages.after_save(request, resource, record_id, submitted.data)
        await submitted.leads_to(after)
        message = f"Saved {resource.name} {record.name}."
        if not wants_fragment(request):
            await session.commit()
            return redirect(after, flash=message)
        context = {
            "resource": resource,
            "record": await resource.lists.row(session, record_id),
            **await pages.count_line(request, session, resource),
        }
        await session.commit()
        return render(
            request, page="records/detail.html", fragment="records/_saved.html", context=context, toast=message
        )

    @get("/{record_id:int}/delete", name="confirm_delete", status_code=200, opt=EDITORS)
    async def confirm_delete(
        self, request: Request[Any, Any, Any], session: Session, record_id: FromPath[int]
    ) -> Template:
        record = await pages.shown(session, self.resource, record_id)
        context = {"resource": self.resource, "record": record, "alert": None}
        return render(request, page="records/delete.html", fragment="records/_delete.html", context=context)

    @post("/{record_id:int}/delete", name="delete", status_code=303, opt=EDITORS)
    async def delete(
        self, request: Request[Any, Any, Any], session: Session, submitted: Posted, record_id: FromPath[int]
    ) -> Response[Any]:
        resource = self.resource
        version = version_of(submitted.data)
        try:
            outcome = await writes.trash(session, resource, record_id, version=version, actor=actor(request))
        except writes.Stale:
            await session.rollback()
            return await self._changed_before_delete(request, session, record_id)
        list_path = pages.links(request).to(resource, "list")
        await submitted.leads_to(list_path)
        record = outcome.record
        message, undo = _trashed_message(resource, outcome), Undo(resource.name, record.id, record.version)
        if not wants_fragment(request):
            await session.commit()
            return redirect(list_path, flash=message, undo=undo)
        # htmx 2 does not swap a 204: an empty 200 body removes the row; the count and toast go out of band.
        context = {"resource": resource, **await pages.count_line(request, session, resource)}
        await session.commit()
        return render(
            request,
            page="records/list.html",
            fragment="records/_deleted.html",
            context=context,
            toast=message,
            undo=undo,
        )

    async def _changed_before_delete(
        self, request: Request[Any, Any, Any], session: AsyncSession, record_id: int
    ) -> Template:
        """409: the record changed since the user chose to delete it. They see it as it is now and decide again."""
        record = await pages.shown(session, self.resource, record_id)
        message = f"Not deleted: {record.name} was changed by someone else meanwhile. Check it, then delete again."
        return render(
            request,
            page="records/delete.html",
            fragment="records/_saved.html",
            context={"resource": self.resource, "record": record, "alert": message},
            status_code=409,
            toast=message,
        )


class OptionsController(ResourceController):
    """Suggestions for a searchable field pointing at this resource (a hero's team, past the select limit)."""

    opt = VIEWERS

    @get("/options", name="options", status_code=200)
    async def options(self, request: Request[Any, Any, Any], session: Session) -> Template:
        """A <datalist>'s options: what the field's value holds so far (sent under the resource's name) is matched
        anywhere in the name. Without htmx nobody asks; the field takes typed names."""
        resource = self.resource
        typed = listing.typed_name(request.query_params, resource.name, resource.name.capitalize())
        context = {"resource": resource, "names": await reads.options(session, resource, typed=typed)}
        return render(request, page="records/options.html", fragment="records/_options.html", context=context)

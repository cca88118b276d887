"""Acting on a whole list: bulk actions (move to the trash; point every record at one, like "Set team") and the
CSV export, for every resource.

Bulk actions take two steps. The list's bulk form asks for a preview (a dry run) of what the action would do
to the rows ticked on the page, or to every row matching the list's search and filters; the preview's confirm
form applies it. The preview is a GET: it changes nothing, so reloading it or going Back is harmless, and a
full page of ticked rows is a query string rather than a form of more fields than a POST may carry. The
confirm form carries the selection in one field: each ticked record with the version the user saw, or "all
matching" with the list's criteria and a digest of the matching rows, so rows that changed in between are
never acted on blindly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import Request, Response, get, post
from litestar.response import Stream, Template
from sqlalchemy import ColumnElement, Select
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import csvio, listing
from webapp.audit import Actor
from webapp.auth import EDITORS
from webapp.controllers import pages
from webapp.controllers.common import Posted, ResourceController, Session, actor
from webapp.controllers.downloads import csv_stream
from webapp.data import bulk, reads
from webapp.data.ids import valid_id
from webapp.data.lists import UnknownName, unknown_name
from webapp.errors import Refused
from webapp.forms import means_none
from webapp.htmx import redirect, render
from webapp.limits import SendTimeout
from webapp.listing import COUNT_CAP, ListState
from webapp.numbers import whole_number
from webapp.outages import LONG_WORK
from webapp.resource import FieldSpec, Resource

# A preview names this many of the records it would change, then says how many more.
SHOWN = 100
# A list's criteria are a handful of fields; more is not from our form.
CRITERIA_FIELDS = 10


def actions(resource: Resource) -> dict[str, FieldSpec | None]:
    """The bulk actions a resource offers: "delete", and "set_<target>" for each field pointing at another
    resource's records (the field it sets)."""
    return {"delete": None} | {f"set_{resource.targets[spec.name].name}": spec for spec in resource.references}


@dataclass(frozen=True)
class Selection:
    """What a bulk form points at: the records ticked one by one (id -> version seen), or all matching `state`."""

    resource: Resource
    state: ListState
    picked: dict[int, int]
    all_matching: bool

    @property
    def empty(self) -> bool:
        return not self.picked and not self.all_matching

    @property
    def field(self) -> str:
        """The ticked records as the confirm form carries them, in one field: "id:version,id:version"."""
        return ",".join(f"{record_id}:{version}" for record_id, version in self.picked.items())

    @property
    def criteria(self) -> str:
        return urlencode(self.state.criteria())

    def list_url(self, request: Request[Any, Any, Any]) -> str:
        return self.state.url(pages.links(request).to(self.resource, "list"))


def _back(request: Request[Any, Any, Any], resource: Resource, url: str | None = None) -> tuple[str, str]:
    return (url or pages.links(request).to(resource, "list"), "Back to the list")


def _malformed(request: Request[Any, Any, Any], resource: Resource) -> Refused:
    message = f"The selected {resource.plural} could not be read. Go back to the list and select them again."
    return Refused(400, "This selection is not valid", message, _back(request, resource))


def _list_state(request: Request[Any, Any, Any], resource: Resource, criteria: str) -> ListState:
    """The list's search, filters and sort from the query string the bulk form carries, checked like the list's
    own URL (anything off is a 400); its first page at the default size, where the bulk action leads back to."""
    try:
        pairs = dict(parse_qsl(criteria, max_num_fields=CRITERIA_FIELDS))
    except ValueError:
        raise _malformed(request, resource) from None
    state = listing.parse(resource, pairs, default_size=request.app.state.settings.page_size)
    return replace(state.first_page(), size=state.default_size)


def _selection(
    request: Request[Any, Any, Any], resource: Resource, *, criteria: str, selected: list[str], all_matching: bool
) -> Selection:
    """Ticked records as "id:version" tokens (the confirm form sends them comma-separated in one value)."""
    state = _list_state(request, resource, criteria)
    picked: dict[int, int] = {}
    for token in (token for value in selected for token in value.split(",")):
        raw_id, _, raw_version = token.partition(":")
        record_id, version = whole_number(raw_id), whole_number(raw_version)
        if record_id is None or version is None or not valid_id(record_id):
            raise _malformed(request, resource)
        if picked.setdefault(record_id, version) != version:  # one record at two versions: not our form
            raise _malformed(request, resource)
    selection = Selection(resource, state, picked, all_matching)
    if len(picked) > COUNT_CAP:
        raise _too_many(request, selection)
    return selection


def _too_many(request: Request[Any, Any, Any], selection: Selection) -> Refused:
    plural = selection.resource.plural
    message = f"More than {COUNT_CAP:,} {plural} are selected: narrow the search to act on all of them."
    if selection.all_matching:
        message = f"More than {COUNT_CAP:,} {plural} match: narrow the search to act on all of them."
    back = _back(request, selection.resource, selection.list_url(request))
    return Refused(422, "Too many to act on at once", message, back)


async def _conditions(
    request: Request[Any, Any, Any], session: AsyncSession, selection: Selection
) -> list[ColumnElement[bool]]:
    resource, state = selection.resource, selection.state
    try:
        resolved = await resource.lists.resolve(session, state)
    except UnknownName as unknown:
        back = _back(request, resource, selection.list_url(request))
        raise Refused(422, f"No such {unknown.referenced}", unknown.message, back) from None
    return resource.lists.conditions(session, state, resolved)


async def _plan(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    selection: Selection,
    action: bulk.BulkAction,
    *,
    lock: bool,
) -> tuple[bulk.BulkPlan, str]:
    """What `action` would do to each selected record, and (all matching) the matching set's digest."""
    resource = selection.resource
    if not selection.all_matching:
        rows = await bulk.stored(session, resource, list(selection.picked), lock=lock)
        return bulk.sort_out(rows, selection.picked, action), ""
    conditions = await _conditions(request, session, selection)
    found = await bulk.matching(session, resource, conditions, limit=COUNT_CAP + 1, lock=lock)
    if len(found) > COUNT_CAP:
        raise _too_many(request, selection)
    seen = {row.id: row.version for row in found}
    return bulk.sort_out({row.id: row for row in found}, seen, action), bulk.matching_digest(found)


def _heading(resource: Resource, action: bulk.BulkAction, target_name: str | None, plan: bulk.BulkPlan) -> str:
    count = resource.count(len(plan.ready))
    if not plan.ready:
        return "Nothing to change"
    if action.field is None:
        return f"Move {count} to the trash?"
    target = resource.targets[action.field]
    if action.target is None:
        return f"Take {count} out of their {target.plural}?"
    return f"Set {target.name} {target_name} on {count}?"


def _context(request: Request[Any, Any, Any], selection: Selection, action: str) -> dict[str, Any]:
    field = actions(selection.resource)[action]
    return {
        "resource": selection.resource,
        "action": action,
        "selection": selection,
        "list_url": selection.list_url(request),
        "shown": SHOWN,
        "plan": None,
        "problem": None,
        "alert": None,
        "typed": "",
        "target": selection.resource.targets[field.name] if field is not None else None,
        "target_field": field.name if field is not None else None,
        "target_error": None,
        "fingerprint": "",
        "target_id": None,
        "target_name": None,
        "detached": {},
    }


async def _preview(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    selection: Selection,
    action: bulk.BulkAction,
    *,
    target_name: str | None,
    status_code: int = 200,
    alert: str | None = None,
) -> Template:
    """The dry run: what would change, what would be left alone and why, and the form that applies it."""
    resource = selection.resource
    plan, digest = await _plan(request, session, selection, action, lock=False)
    ready = [row.id for row in plan.ready]
    detached = await bulk.pointing(session, resource, ready) if action.field is None else {}
    context = _context(request, selection, action.name) | {
        "heading": _heading(resource, action, target_name, plan),
        "plan": plan,
        "fingerprint": digest,
        "target_id": action.target,
        "target_name": target_name,
        "detached": detached,
        "alert": alert,
    }
    return render(request, page="records/bulk.html", context=context, status_code=status_code)


def _refusal(
    request: Request[Any, Any, Any], selection: Selection, action: str, heading: str, **context: Any
) -> Template:
    """422: nothing selected, or a name that is no record's; the page says so and keeps the selection."""
    context = _context(request, selection, action) | {"heading": heading} | context
    return render(request, page="records/bulk.html", context=context, status_code=422)


class NoSuchTarget(Exception):
    """A "Set team to" field that names no live record (the message says what to type instead)."""


async def _target(session: AsyncSession, target: Resource, typed: str) -> int | None:
    """The record a "Set team to" field names: "No team" is none; anything else must be a live record's exact
    name."""
    if typed and means_none(typed, target.name):
        return None
    record_id = await reads.id_by_name(session, target, name=typed) if typed else None
    if record_id is None:
        message = (
            unknown_name(target.name, typed) if typed else f"Type a {target.name}’s name, or “{target.none_label}”."
        )
        raise NoSuchTarget(message)
    return record_id


async def _confirmed_target(
    request: Request[Any, Any, Any], session: AsyncSession, resource: Resource, spec: FieldSpec, data: dict[str, str]
) -> tuple[int | None, str | None]:
    """The record the preview resolved (blank for none) and its name, if it is still live: locked until commit,
    so it cannot go to the trash while records join it (see reads.is_live)."""
    target = resource.targets[spec.name]
    raw = data.get(spec.name)
    target_id = whole_number(raw) if raw else None
    if raw is None or (raw and target_id is None):
        raise _malformed(request, resource)
    if target_id is None:
        return None, None
    record = await reads.find(session, target, target_id)
    if record is None or not await reads.is_live(session, target, record_id=target_id, lock=True):
        message = (
            f"The {target.name} you chose was deleted after the preview, so nothing changed. "
            f"Choose another {target.name}."
        )
        raise Refused(409, "Nothing changed", message, _back(request, resource))
    return target_id, record.name


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


def _report(
    resource: Resource,
    action: bulk.BulkAction,
    plan: bulk.BulkPlan,
    changed: int,
    target_name: str | None,
    detached: dict[str, int],
) -> str:
    """The status message after a bulk action: what changed, then what was left alone and why."""
    unchanged = len(plan.unchanged)
    if action.field is None:
        parts = [f"Moved {resource.count(changed)} to the trash."]
        parts += [
            f"{referencing.count(detached[referencing.plural])} left without a {resource.name}."
            for referencing in resource.referenced_by
            if detached.get(referencing.plural)
        ]
    elif target_name is None:
        already = f"; {unchanged} had none already." if unchanged else "."
        parts = [f"Took {resource.count(changed)} out of their {resource.targets[action.field].plural}{already}"]
    else:
        already = f"; {unchanged} {_were(unchanged)} already in it." if unchanged else "."
        parts = [f"Set {resource.targets[action.field].name} {target_name} on {resource.count(changed)}{already}"]
    if plan.changed:
        count = len(plan.changed)
        parts.append(f"{resource.count(count)} changed since you selected them and {_were(count)} left alone.")
    if plan.in_trash:
        count = len(plan.in_trash)
        place = "already in the trash" if action.field is None else "in the trash and left alone"
        parts.append(f"{resource.count(count)} {_were(count)} {place}.")
    if plan.gone:
        parts.append(f"{resource.count(plan.gone)} no longer {'exists' if plan.gone == 1 else 'exist'}.")
    return " ".join(parts)


def _stream(request: Request[Any, Any, Any], statement: Select[Any], resource: Resource) -> Stream:
    header, cells = csvio.export_header(resource), csvio.export_cells(resource)
    return csv_stream(request, statement, header=header, cells=cells, filename=f"{resource.plural}.csv")


async def _confirmed(
    request: Request[Any, Any, Any], session: AsyncSession, resource: Resource, data: dict[str, str]
) -> tuple[Selection, bulk.BulkAction, str | None]:
    """What a preview's confirm form asks for: the selection, the action, and the name of the record a "set"
    action points records at (locked: see _confirmed_target). Anything not from our form is refused."""
    name = data.get("action", "")
    offered = actions(resource)
    if name not in offered:
        raise _malformed(request, resource)
    raw = data.get("selected", "")
    selection = _selection(
        request,
        resource,
        criteria=data.get("list", ""),
        selected=[raw] if raw else [],
        all_matching=data.get("all_matching") == "1",
    )
    if selection.empty:
        raise Refused(422, "Nothing selected", f"Select at least one {resource.name}.", _back(request, resource))
    spec = offered[name]
    if spec is None:
        return selection, bulk.BulkAction(name), None
    target_id, target_name = await _confirmed_target(request, session, resource, spec, data)
    return selection, bulk.BulkAction(name, spec.name, target_id), target_name


async def _apply(
    session: AsyncSession, resource: Resource, plan: bulk.BulkPlan, action: bulk.BulkAction, by: Actor
) -> tuple[int, dict[str, int]]:
    """The action on the plan's ready records: how many changed, and how many live records pointing at trashed
    ones were detached (by the pointing resource's plural). Under the row locks every ready record changes; one
    that did not is reported as changed meanwhile (in `plan`)."""
    note = f"Bulk action on {resource.count(len(plan.ready))}."
    detached: dict[str, int] = {}
    if action.field is None:
        outcome = await bulk.trash(session, resource, plan.ready, actor=by, note=note)
        changed, detached = outcome.trashed, outcome.detached
    else:
        changed = await bulk.set_pointer(session, resource, plan.ready, action, actor=by, note=note)
    missed = set(plan.ready) - set(changed)
    plan.changed += [row for row in plan.ready if row in missed]
    return len(changed), detached


class BulkController(ResourceController):
    opt = EDITORS

    @get("/bulk", name="bulk", status_code=200, opt={LONG_WORK: True})
    async def bulk(self, request: Request[Any, Any, Any], session: Session) -> Response[Any]:
        resource, query = self.resource, request.query_params
        name = query.get("action", "")
        if not name:  # the bare address, with nothing asked: back to the list
            state = _list_state(request, resource, query.get("list", ""))
            return redirect(Selection(resource, state, picked={}, all_matching=False).list_url(request))
        offered = actions(resource)
        if name not in offered:
            raise _malformed(request, resource)
        selection = _selection(
            request,
            resource,
            criteria=query.get("list", ""),
            selected=query.getall("selected", []),
            all_matching=query.get("all_matching") == "1",
        )
        if selection.empty:
            problem = f"Select at least one {resource.name}, or all that match, then choose an action."
            return _refusal(request, selection, name, "Nothing selected", problem=problem)
        spec = offered[name]
        if spec is None:
            return await _preview(request, session, selection, bulk.BulkAction(name), target_name=None)
        target = resource.targets[spec.name]
        typed = listing.typed_name(query, target.name, spec.label)
        try:
            target_id = await _target(session, target, typed)
        except NoSuchTarget as error:
            return _refusal(request, selection, name, f"Set {target.name}", typed=typed, target_error=str(error))
        action = bulk.BulkAction(name, spec.name, target_id)
        return await _preview(request, session, selection, action, target_name=typed if target_id is not None else None)

    @post("/bulk/apply", name="bulk_apply", status_code=303, opt={LONG_WORK: True})
    async def bulk_apply(self, request: Request[Any, Any, Any], session: Session, submitted: Posted) -> Response[Any]:
        resource, data = self.resource, submitted.data
        selection, action, target_name = await _confirmed(request, session, resource, data)
        plan, digest = await _plan(request, session, selection, action, lock=True)
        if selection.all_matching and digest != data.get("fingerprint"):
            await session.rollback()
            alert = (
                f"The {resource.plural} that match changed after the preview (added, removed or edited), so nothing "
                "changed yet. Check this new preview, then confirm again."
            )
            return await _preview(
                request, session, selection, action, target_name=target_name, status_code=409, alert=alert
            )
        changed, detached = await _apply(session, resource, plan, action, actor(request))
        list_url = selection.list_url(request)
        await submitted.leads_to(list_url)
        await session.commit()
        return redirect(list_url, flash=_report(resource, action, plan, changed, target_name, detached))

    @get("/export.csv", name="export", status_code=200, middleware=[SendTimeout])
    async def export(self, request: Request[Any, Any, Any], session: Session) -> Stream:
        """Exactly what the list shows, every page, in its order (a streamed file)."""
        resource = self.resource
        state = listing.parse(resource, request.query_params, default_size=request.app.state.settings.page_size)
        try:
            resolved = await resource.lists.resolve(session, state)
        except UnknownName as unknown:
            back = (state.url(pages.links(request).to(resource, "list")), f"Back to the {resource.plural}")
            raise Refused(422, "Nothing to export", unknown.message, back) from None
        statement = resource.lists.ordered(session, state, resolved)
        await session.close()  # the stream reads on a connection of its own: one at a time per request
        return _stream(request, statement, resource)

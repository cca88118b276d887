"""What the record controllers share between handlers: finding the record a page shows, the form and its
field choices, the conflict view, and the count line after a change made from a list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from litestar import Request
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import listing, stash, submissions
from webapp.auth import choices_changed, current_user, make_cookie, stash_cookie_name
from webapp.controllers.common import RESOURCE
from webapp.data import reads, writes
from webapp.data.lists import UnknownName, unknown_name
from webapp.data.plain import PlainRow
from webapp.forms import Conflict, Form, means_none, record_form
from webapp.htmx import render, wants_fragment
from webapp.links import Links
from webapp.middleware import SAFE_METHODS
from webapp.numbers import version_of, whole_number
from webapp.resource import Action, Resource


def links(request: Request[Any, Any, Any]) -> Links:
    return request.app.state.links  # type: ignore[no-any-return]


async def shown(session: AsyncSession, resource: Resource, record_id: int) -> PlainRow:
    """A live record as its list shows it; one in the trash is refused with the reason (InTrash), not a bare 404."""
    row = await resource.lists.row(session, record_id)
    if row is None:
        await writes.live_record(session, resource, record_id)  # raises Missing or InTrash
        raise writes.Missing()  # live again by the second read (restored meanwhile): say so next time
    return row


async def checked_form(session: AsyncSession, resource: Resource, data: dict[str, str]) -> Form:
    """The submitted form, validated, with what its reference fields name looked up and locked: a name typed
    into a picker becomes the record's id (as if chosen in a select), and the record must be live. The lock
    (reads.is_live) keeps it from going to the trash before this record is saved pointing at it."""
    form = record_form(resource, data)
    for spec in resource.references:
        target = resource.targets[spec.name]
        typed = form.values.get(target.name)
        if typed is not None and spec.name not in form.errors and not means_none(typed, target.name):
            named = await reads.id_by_name(session, target, name=typed)
            if named is None:
                form.refuse(spec.name, unknown_name(target.name, typed))
                continue
            form.values[spec.name] = str(named)
            if form.model is not None:
                setattr(form.model, spec.name, named)
        pointed = getattr(form.model, spec.name) if form.model is not None else None
        if pointed is not None and not await reads.is_live(session, target, record_id=pointed, lock=True):
            form.refuse(spec.name, f"That {target.name} no longer exists. Choose another.")
    return form


def taken(resource: Resource, form: Form) -> None:
    """The unique field clashed with a live record's (the database said so): told beside the field. Called
    while handling the IntegrityError; a resource with no unique field cannot clash, so that is a bug."""
    if resource.unique is None:
        raise RuntimeError(f"a {resource.name} broke a constraint no form field can")
    form.refuse(resource.unique, f"A {resource.name} named “{form.values[resource.unique]}” already exists.")


@dataclass(frozen=True)
class Picker:
    """How a reference field is offered: every live record in a select (`choices`), or past the select limit
    (`choices` None) a field taking a name, holding the name of the record the form points at (`chosen`)."""

    choices: Sequence[PlainRow | Choice] | None
    chosen: str = ""


async def pickers(
    request: Request[Any, Any, Any], session: AsyncSession, resource: Resource, form: Form
) -> dict[str, Picker]:
    limit = request.app.state.settings.team_select_limit
    found: dict[str, Picker] = {}
    for spec in resource.references:
        target = resource.targets[spec.name]
        # One more than the limit is read: the answer says both which records to offer and whether to offer a select.
        kept: reads.Choices = request.app.state.choices
        offered = await kept(session, target, limit=limit + 1, changed=choices_changed(request))
        if len(offered) <= limit:
            found[spec.name] = Picker(offered)
            continue
        pointed = whole_number(form.values.get(spec.name, ""))
        record = await reads.find(session, target, pointed) if pointed is not None else None
        chosen = record.name if record is not None and record.deleted_at is None else ""
        form.values.setdefault(target.name, chosen)
        found[spec.name] = Picker(None, chosen)
    return found


async def form_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    resource: Resource,
    form: Form,
    *,
    record_id: int | None = None,
    stored: Any = None,
    status_code: int = 200,
) -> Template:
    """The create form, or the edit form (the page, or the inline row for htmx). Opened after signing in again
    with a form kept from the ended session (webapp.stash), it holds what was typed then. `stored`: the record as
    stored, where the caller has just read it (else read here when the page names it)."""
    kept_cookie = stash_cookie_name(request.app.state.settings)
    full_page = request.method in SAFE_METHODS and not wants_fragment(request)
    token = request.cookies.get(kept_cookie) if full_page else None
    user = current_user(request)
    if token and user is not None:
        now = request.app.state.settings.clock()
        kept = await stash.find(session, token=token, user_id=user.id, path=request.url.path, now=now)
        if kept is not None:
            version = whole_number(kept.pop("version", ""))
            form = Form(values=kept, version=version if record_id is not None else None, restored=True)
    context = {
        "resource": resource,
        "form": form,
        "record_id": record_id,
        "pickers": await pickers(request, session, resource, form),
    }
    if record_id is not None and not wants_fragment(request):
        # The edit page's breadcrumbs name the record as stored, not as the form may hold it after a refusal.
        context["record"] = stored or await reads.find(session, resource, record_id)
    fragment = "records/_form.html" if record_id is None else "records/_row_form.html"
    page = render(request, page="records/form.html", fragment=fragment, context=context, status_code=status_code)
    if token:
        # Given back once (or found stale): a reload shows the form as it is stored.
        page.cookies.append(make_cookie(request.app.state.settings, kept_cookie, "", clear=True))
    return page


def kept_form(request: Request[Any, Any, Any], fields: dict[str, str], message: str) -> Template:
    """The create or edit form again, with what the user typed and why it was not saved, when the database did
    not answer (webapp.errors.outage_handler sets the status): rendered without the database, so a reference
    field offers what the user chose (a select of that one record, or the name typed) rather than every record."""
    resource: Resource = request.scope["route_handler"].opt[RESOURCE]
    record_id = request.path_params.get("record_id")
    form = record_form(resource, fields)
    form.version, form.unsaved = version_of(fields), message
    if submissions.well_formed(once := fields.get(submissions.FIELD, "")):
        form.once = once
    offline: dict[str, Picker] = {}
    for spec in resource.references:
        target = resource.targets[spec.name]
        if (typed := form.values.get(target.name)) is not None:
            offline[spec.name] = Picker(None, typed)
            continue
        chosen = whole_number(form.values.get(spec.name, ""))
        choices = [Choice(chosen, f"{target.name.capitalize()} #{chosen}")] if chosen is not None else []
        offline[spec.name] = Picker(choices)
    context = {"resource": resource, "form": form, "record_id": record_id, "pickers": offline}
    fragment = "records/_form.html" if record_id is None else "records/_row_form.html"
    return render(request, page="records/form.html", fragment=fragment, context=context)


class Choice(NamedTuple):
    """A select's option as `reads.Choices` lists them, for a form rendered without the database."""

    id: int
    name: str


# The full-page form's buttons beside Save (their name and values): "Save and add another" leads to a new form,
# "Save and continue editing" back to the record's edit form; Save (or anything else) to the record's page.
THEN = "then"
THEN_PAGES: dict[str, Action] = {"add": "new", "edit": "edit"}


def after_save(request: Request[Any, Any, Any], resource: Resource, record_id: int, data: dict[str, str]) -> str:
    """Where a saved full-page form leads, by the button that sent it."""
    action = THEN_PAGES.get(data.get(THEN, ""), "detail")
    return links(request).to(resource, action, None if action == "new" else record_id)


def edit_form(resource: Resource, record: Any) -> Form:
    values = writes.values_of(resource, record)
    return Form(
        values={name: "" if value is None else str(value) for name, value in values.items()}, version=record.version
    )


async def _shown_value(session: AsyncSession, resource: Resource, name: str, value: Any) -> str:
    """A stored value as a person reads it (a team's name rather than its id)."""
    target = resource.targets.get(name)
    if value is None:
        return target.none_label if target else "(blank)"
    if target is not None:
        return await reads.name_of(session, target, record_id=value) or f"{target.name} #{value}"
    return str(value)


async def conflict_form(
    request: Request[Any, Any, Any], session: AsyncSession, resource: Resource, form: Form, current: writes.Snapshot
) -> Form:
    """The user's form again, now on top of the stored version, with what is stored where it differs."""
    differing = {}
    for name, value in current.values.items():
        as_typed = "" if value is None else str(value)
        if form.values.get(name, "") != as_typed:
            differing[name] = await _shown_value(session, resource, name, value)
    user_id, by = await reads.last_change_by(session, resource, record_id=current.id)
    user = current_user(request)
    form.version = current.version
    form.conflict = Conflict(by=by, current=differing, by_you=user is not None and user.id == user_id)
    return form


def list_at(request: Request[Any, Any, Any], resource: Resource, query: str) -> str:
    """The canonical address of `resource`'s list with this query (its search, filters, sort and page); the list
    from its start when the query is not one the list reads."""
    list_path = links(request).to(resource, "list")
    try:
        state = listing.parse(resource, dict(parse_qsl(query)), default_size=request.app.state.settings.page_size)
    except listing.BadList:
        return list_path
    return state.url(list_path)


async def count_line(request: Request[Any, Any, Any], session: AsyncSession, resource: Resource) -> dict[str, Any]:
    """The count of the list the user is on, after a change made there: htmx updates the count line and the bulk
    form's "Select all N matching" in place (records/_counts.html), from this one count so that they agree."""
    default_size = request.app.state.settings.page_size
    state = listing.seen_list(resource, request.headers, default_size=default_size)
    try:
        resolved = await resource.lists.resolve(session, state)
    except UnknownName:
        return {"count": 0, "filtered": True, "state": state}
    return {"count": await resource.lists.count(session, state, resolved), "filtered": state.filtered, "state": state}

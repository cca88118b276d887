"""Bulk actions on the hero and team lists: move to the trash, and (heroes) set team.

Two steps. The list's bulk form asks for a preview (a dry run) of what the action would do to the rows ticked
on the page, or to every row matching the list's search and filters; the preview's confirm form applies it.
The preview is a GET: it changes nothing, so reloading it or going Back is harmless, and a full page of ticked
rows is a query string rather than a form of more fields than a POST may carry. The confirm form carries the
selection in one field: each ticked record with the version the user saw, or "all matching" with the list's
criteria and a fingerprint of the matching rows, so rows that changed in between are never acted on blindly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Template
from sqlalchemy import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import listing, queries, records
from webapp.auth import EDITORS
from webapp.controllers.common import actor, done, once, read_form
from webapp.controllers.heroes import unknown_team
from webapp.forms import whole_number
from webapp.htmx import redirect, render
from webapp.listing import COUNT_CAP, ListState
from webapp.records import HERO, TEAM, BulkAction, Kind, Plan
from webapp.refusal import Refused

ACTIONS = {HERO.name: ("delete", "set_team"), TEAM.name: ("delete",)}
# A preview names this many of the records it would change, then says how many more.
SHOWN = 100
# A list's criteria are a handful of fields; more is not from our form.
CRITERIA_FIELDS = 10


@dataclass(frozen=True)
class Selection:
    """What a bulk form points at: the records ticked one by one (id -> version seen), or all matching `state`."""

    kind: Kind
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
        return self.state.url(request.app.route_reverse(f"{self.kind.plural}:list"))


def _back(request: Request[Any, Any, Any], kind: Kind, url: str | None = None) -> tuple[str, str]:
    return (url or request.app.route_reverse(f"{kind.plural}:list"), "Back to the list")


def _malformed(request: Request[Any, Any, Any], kind: Kind) -> Refused:
    message = f"The selected {kind.plural} could not be read. Go back to the list and select them again."
    return Refused(400, "This selection is not valid", message, _back(request, kind))


def _list_state(request: Request[Any, Any, Any], kind: Kind, criteria: str) -> ListState:
    """The list's search, filters and sort from the query string the bulk form carries, checked like the list's
    own URL (anything off is a 400); its first page at the default size, where the bulk action leads back to."""
    try:
        pairs = dict(parse_qsl(criteria, max_num_fields=CRITERIA_FIELDS))
    except ValueError:
        raise _malformed(request, kind) from None
    parse = listing.hero_list if kind is HERO else listing.team_list
    state: ListState = parse(pairs, default_size=request.app.state.settings.page_size)
    return replace(state.first_page(), size=state.default_size)


def _selection(
    request: Request[Any, Any, Any], kind: Kind, *, criteria: str, selected: list[str], all_matching: bool
) -> Selection:
    """Ticked records as "id:version" tokens (the confirm form sends them comma-separated in one value)."""
    state = _list_state(request, kind, criteria)
    picked: dict[int, int] = {}
    for token in (token for value in selected for token in value.split(",")):
        raw_id, _, raw_version = token.partition(":")
        record_id, version = whole_number(raw_id), whole_number(raw_version)
        if record_id is None or version is None or not queries.valid_id(record_id):
            raise _malformed(request, kind)
        if picked.setdefault(record_id, version) != version:  # one record at two versions: not our form
            raise _malformed(request, kind)
    selection = Selection(kind, state, picked, all_matching)
    if len(picked) > COUNT_CAP:
        raise _too_many(request, selection)
    return selection


def _too_many(request: Request[Any, Any, Any], selection: Selection) -> Refused:
    plural = selection.kind.plural
    message = f"More than {COUNT_CAP:,} {plural} are selected: narrow the search to act on all of them."
    if selection.all_matching:
        message = f"More than {COUNT_CAP:,} {plural} match: narrow the search to act on all of them."
    return Refused(
        422, "Too many to act on at once", message, _back(request, selection.kind, selection.list_url(request))
    )


async def _conditions(
    request: Request[Any, Any, Any], session: AsyncSession, selection: Selection
) -> list[ColumnElement[bool]]:
    state = selection.state
    if selection.kind is TEAM:
        return queries.team_conditions(session, state)
    try:
        team = await queries.team_filter(session, typed=state.team)
    except queries.UnknownTeam:
        back = _back(request, HERO, selection.list_url(request))
        raise Refused(422, "No such team", unknown_team(state.team), back) from None
    return queries.hero_conditions(session, state, team)


async def _plan(
    request: Request[Any, Any, Any], session: AsyncSession, selection: Selection, action: BulkAction, *, lock: bool
) -> tuple[Plan, str]:
    """What `action` would do to each selected record, and (all matching) the matching set's fingerprint."""
    kind = selection.kind
    if not selection.all_matching:
        rows = await records.stored(session, kind, list(selection.picked), lock=lock)
        return records.sort_out(rows, selection.picked, action), ""
    conditions = await _conditions(request, session, selection)
    found = await records.matching(session, kind, conditions, limit=COUNT_CAP + 1, lock=lock)
    if len(found) > COUNT_CAP:
        raise _too_many(request, selection)
    seen = {row.id: row.version for row in found}
    return records.sort_out({row.id: row for row in found}, seen, action), records.fingerprint(found)


def _heading(kind: Kind, action: BulkAction, team_name: str | None, plan: Plan) -> str:
    count = kind.count(len(plan.ready))
    if not plan.ready:
        return "Nothing to change"
    if action.name == "delete":
        return f"Move {count} to the trash?"
    if action.team_id is None:
        return f"Take {count} out of their teams?"
    return f"Set team {team_name} on {count}?"


async def _preview(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    selection: Selection,
    action: BulkAction,
    *,
    team_name: str | None,
    status_code: int = 200,
    alert: str | None = None,
) -> Template:
    """The dry run: what would change, what would be left alone and why, and the form that applies it."""
    kind = selection.kind
    plan, print_ = await _plan(request, session, selection, action, lock=False)
    detached = await records.members(session, [row.id for row in plan.ready]) if kind is TEAM else 0
    context = _context(request, selection, action.name) | {
        "heading": _heading(kind, action, team_name, plan),
        "plan": plan,
        "fingerprint": print_,
        "team_id": action.team_id,
        "team_name": team_name,
        "detached": detached,
        "alert": alert,
    }
    return render(request, page=f"{kind.plural}/bulk.html", context=context, status_code=status_code)


def _context(request: Request[Any, Any, Any], selection: Selection, action: str) -> dict[str, Any]:
    return {
        "kind": selection.kind,
        "action": action,
        "selection": selection,
        "list_url": selection.list_url(request),
        "shown": SHOWN,
        "plan": None,
        "problem": None,
        "alert": None,
        "typed_team": "",
        "team_error": None,
        "fingerprint": "",
        "team_id": None,
        "team_name": None,
        "detached": 0,
    }


def _refusal(
    request: Request[Any, Any, Any], selection: Selection, action: str, heading: str, **context: Any
) -> Template:
    """422: nothing selected, or a team name that is no team; the page says so and keeps the selection."""
    page = f"{selection.kind.plural}/bulk.html"
    context = _context(request, selection, action) | {"heading": heading} | context
    return render(request, page=page, context=context, status_code=422)


class NoSuchTeam(Exception):
    """A "Set team to" field that names no live team (the message says what to type instead)."""


async def _target(session: AsyncSession, typed: str) -> int | None:
    """The team a "Set team to" field names: "No team" is none; anything else must be a live team's exact name."""
    if typed.casefold() == listing.NO_TEAM.casefold():
        return None
    team_id = await queries.team_by_name(session, name=typed)
    if team_id is None:
        raise NoSuchTeam(unknown_team(typed) if typed else f"Type a team’s name, or “{listing.NO_TEAM}”.")
    return team_id


async def preview(request: Request[Any, Any, Any], session: AsyncSession, kind: Kind) -> Response[Any]:
    query = request.query_params
    name = query.get("action", "")
    if not name:  # the bare address, with nothing asked: back to the list
        state = _list_state(request, kind, query.get("list", ""))
        return redirect(Selection(kind, state, picked={}, all_matching=False).list_url(request))
    if name not in ACTIONS[kind.name]:
        raise _malformed(request, kind)
    selection = _selection(
        request,
        kind,
        criteria=query.get("list", ""),
        selected=query.getall("selected", []),
        all_matching=query.get("all_matching") == "1",
    )
    if selection.empty:
        problem = f"Select at least one {kind.name}, or all that match, then choose an action."
        return _refusal(request, selection, name, "Nothing selected", problem=problem)
    typed = listing.typed_team(query) if name == "set_team" else ""
    try:
        team_id = await _target(session, typed) if name == "set_team" else None
    except NoSuchTeam as error:
        return _refusal(request, selection, name, "Set team", typed_team=typed, team_error=str(error))
    team_name = typed if team_id is not None else None
    return await _preview(request, session, selection, BulkAction(name, team_id), team_name=team_name)


async def _confirmed_team(
    request: Request[Any, Any, Any], session: AsyncSession, data: dict[str, str]
) -> tuple[int | None, str | None]:
    """The team the preview resolved (`team_id`, blank for none) and its name, if it is still live: locked until
    commit, so it cannot go to the trash while heroes join it (see queries.team_exists)."""
    raw = data.get("team_id")
    team_id = whole_number(raw) if raw else None
    if raw is None or (raw and team_id is None):
        raise _malformed(request, HERO)
    if team_id is None:
        return None, None
    team = await queries.get_team(session, team_id=team_id)
    if team is None or not await queries.team_exists(session, team_id=team_id, lock=True):
        message = "The team you chose was deleted after the preview, so nothing changed. Choose another team."
        raise Refused(409, "Nothing changed", message, _back(request, HERO))
    return team_id, team.name


async def apply(request: Request[Any, Any, Any], session: AsyncSession, kind: Kind) -> Response[Any]:
    data = await read_form(request)
    if repeat := await once(request, session, data):
        return repeat
    name = data.get("action", "")
    if name not in ACTIONS[kind.name]:
        raise _malformed(request, kind)
    raw = data.get("selected", "")
    selection = _selection(
        request,
        kind,
        criteria=data.get("list", ""),
        selected=[raw] if raw else [],
        all_matching=data.get("all_matching") == "1",
    )
    if selection.empty:
        raise Refused(422, "Nothing selected", f"Select at least one {kind.name}.", _back(request, kind))
    team_id, team_name = await _confirmed_team(request, session, data) if name == "set_team" else (None, None)
    action = BulkAction(name, team_id)
    plan, print_ = await _plan(request, session, selection, action, lock=True)
    if selection.all_matching and print_ != data.get("fingerprint"):
        await session.rollback()
        alert = (
            f"The {kind.plural} that match changed after the preview (added, removed or edited), so nothing "
            "changed yet. Check this new preview, then confirm again."
        )
        return await _preview(request, session, selection, action, team_name=team_name, status_code=409, alert=alert)
    note = f"Bulk action on {kind.count(len(plan.ready))}."
    if name == "delete":
        outcome = await records.bulk_trash(session, kind, plan.ready, actor=actor(request), note=note)
        changed, detached = outcome.trashed, outcome.heroes_detached
    else:
        changed = await records.bulk_set_team(
            session, plan.ready, team_id=action.team_id, actor=actor(request), note=note
        )
        detached = 0
    # Under the row locks every ready row is changed; one that was not is reported as changed meanwhile.
    missed = set(plan.ready) - set(changed)
    plan.changed += [row for row in plan.ready if row in missed]
    list_url = selection.list_url(request)
    await done(request, session, list_url)
    return redirect(list_url, flash=_report(kind, action, plan, len(changed), team_name, detached))


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


def _report(kind: Kind, action: BulkAction, plan: Plan, changed: int, team_name: str | None, detached: int) -> str:
    """The status message after a bulk action: what changed, then what was left alone and why."""
    unchanged = len(plan.unchanged)
    if action.name == "delete":
        parts = [f"Moved {kind.count(changed)} to the trash."]
        if detached:
            parts.append(f"{HERO.count(detached)} left without a team.")
    elif team_name is None:
        already = f"; {unchanged} had none already." if unchanged else "."
        parts = [f"Took {kind.count(changed)} out of their teams{already}"]
    else:
        already = f"; {unchanged} {_were(unchanged)} already in it." if unchanged else "."
        parts = [f"Set team {team_name} on {kind.count(changed)}{already}"]
    if plan.changed:
        count = len(plan.changed)
        parts.append(f"{kind.count(count)} changed since you selected them and {_were(count)} left alone.")
    if plan.in_trash:
        count = len(plan.in_trash)
        place = "already in the trash" if action.name == "delete" else "in the trash and left alone"
        parts.append(f"{kind.count(count)} {_were(count)} {place}.")
    if plan.gone:
        parts.append(f"{kind.count(plan.gone)} no longer {'exists' if plan.gone == 1 else 'exist'}.")
    return " ".join(parts)


class HeroBulkController(Controller):
    path = "/heroes/bulk"
    opt = EDITORS

    @get("/", name="heroes:bulk", status_code=200)
    async def preview_heroes(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        return await preview(request, session, HERO)

    @post("/apply", name="heroes:bulk_apply", status_code=303)
    async def apply_heroes(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        return await apply(request, session, HERO)


class TeamBulkController(Controller):
    path = "/teams/bulk"
    opt = EDITORS

    @get("/", name="teams:bulk", status_code=200)
    async def preview_teams(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        return await preview(request, session, TEAM)

    @post("/apply", name="teams:bulk_apply", status_code=303)
    async def apply_teams(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        return await apply(request, session, TEAM)

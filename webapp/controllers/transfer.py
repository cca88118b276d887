"""CSV export of exactly what a list shows (streamed), and CSV import of heroes: upload, dry run, apply.

Exports and imports are bulk actions, for editors only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.response import Stream, Template
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import csvio, listing, queries, records
from webapp.auth import EDITORS
from webapp.controllers.common import actor, done, once, read_form
from webapp.controllers.heroes import unknown_team
from webapp.htmx import redirect, render
from webapp.limits import SendTimeout, stream_closed_on_stall
from webapp.refusal import Refused

# Rows fetched and written per chunk: memory stays flat however long the list.
EXPORT_CHUNK = 1_000
# Seconds a client refused for busy exports is asked to wait.
EXPORT_RETRY_AFTER = 10
# Problems listed on the dry run page (all are counted).
ERRORS_SHOWN = 200
CHANGES_SHOWN = 100


def _stream(
    request: Request[Any, Any, Any],
    statement: Select[Any],
    header: tuple[str, ...],
    cells: Callable[[Any], Any],
    name: str,
) -> Stream:
    engine: AsyncEngine = request.app.state.engine
    slots: asyncio.Semaphore = request.app.state.export_slots
    # Each export holds a database connection for as long as its client takes to read the file: a few slow or
    # stalled downloads must not take the whole pool from everyone else's pages.
    if slots.locked():
        raise Refused(
            429,
            "Exports are busy",
            "Other exports are running on this server. Try again in a moment.",
            headers={"Retry-After": str(EXPORT_RETRY_AFTER)},
        )

    async def chunks() -> AsyncGenerator[str, None]:
        writer = csvio.Writer()
        yield csvio.BOM + writer.rows([header])
        # A connection of its own: the request's session is closed once the handler returns, before the rows go
        # out. One statement in one transaction, so the file is one consistent snapshot. The slot is taken here,
        # where the body is sent, so a response that is never sent holds none.
        async with slots, engine.connect() as connection:
            result = await connection.stream(statement.execution_options(yield_per=EXPORT_CHUNK))
            async for partition in result.partitions():
                yield writer.rows(cells(row) for row in partition)

    return Stream(
        stream_closed_on_stall(request.scope, chunks()),
        media_type="text/csv",  # Litestar adds "; charset=utf-8" to text types
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _file_limit(request: Request[Any, Any, Any]) -> int:
    """The largest file an import takes: the apply form carries the file back with the versions the dry run saw,
    and that has to fit in a request body too."""
    return int(request.app.state.settings.max_body_bytes) * 3 // 4


def _text(raw: bytes | str, limit: int) -> str:
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > limit:
        raise csvio.TooLarge(
            f"The file is larger than {limit // 1024:,} KB. Split it into smaller files and import them one at a time."
        )
    return raw if isinstance(raw, str) else csvio.decode(raw)


async def _uploaded(request: Request[Any, Any, Any]) -> tuple[str, str]:
    """The file to check (its text and name): the upload, or after a conflict the same content sent back."""
    form = await request.form()
    upload, content = form.get("file"), form.get("content")
    limit = _file_limit(request)
    if isinstance(upload, UploadFile):
        return _text(await upload.read(limit + 1), limit), upload.filename
    if isinstance(content, str) and content:
        return _text(content, limit), ""
    raise csvio.BadFile("Choose a CSV file to check.")


async def _plan(
    session: AsyncSession, sheet: csvio.Sheet, *, versions: dict[int, int] | None, lock: bool = False
) -> csvio.Plan:
    """Check the file against the heroes it names and the live teams.

    `lock` (applying) holds them until commit on PostgreSQL (SQLite's writers already take turns): the teams
    named, so none goes to the trash before the heroes joining it are saved, then the heroes, so the versions
    read here are still theirs when the changes are written. Teams first, as a single edit locks them, and
    heroes in id order, as bulk actions do, so concurrent changes queue instead of deadlocking.
    """
    teams = await queries.live_team_ids(session, names=sorted(csvio.named_teams(sheet)), lock=lock)
    rows = await queries.heroes_by_id(session, ids=sorted(csvio.named_ids(sheet)), lock=lock)
    stored = {
        row.id: csvio.Stored(
            row.name, row.secret_name, row.age, row.team_id, row.version, in_trash=row.deleted_at is not None
        )
        for row in rows
    }
    return csvio.plan(sheet, stored=stored, teams=teams, versions=versions)


def _page(request: Request[Any, Any, Any], *, status_code: int = 200, **context: Any) -> Template:
    defaults: dict[str, Any] = {
        "plan": None,
        "file_error": None,
        "alert": None,
        "content": "",
        "versions": "",
        "filename": "",
        "conflict": False,
        "rows_max": csvio.IMPORT_ROWS_MAX,
        "kilobytes_max": _file_limit(request) // 1024,
        "errors_shown": ERRORS_SHOWN,
        "changes_shown": CHANGES_SHOWN,
    }
    return render(request, page="heroes/import.html", context=defaults | context, status_code=status_code)


def _refused_file(request: Request[Any, Any, Any], bad: csvio.BadFile) -> Template:
    return _page(request, status_code=413 if isinstance(bad, csvio.TooLarge) else 422, file_error=str(bad))


class TransferController(Controller):
    path = "/"
    opt = EDITORS

    @get("/heroes/export.csv", name="heroes:export", status_code=200, middleware=[SendTimeout])
    async def export_heroes(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Stream:
        state = listing.hero_list(request.query_params, default_size=request.app.state.settings.page_size)
        try:
            team = await queries.team_filter(session, typed=state.team)
        except queries.UnknownTeam:
            back = (state.url(request.app.route_reverse("heroes:list")), "Back to the heroes")
            raise Refused(422, "Nothing to export", unknown_team(state.team), back) from None
        statement = queries.ordered_heroes(session, state=state, team=team)
        return _stream(request, statement, csvio.HERO_HEADER, csvio.hero_cells, "heroes.csv")

    @get("/teams/export.csv", name="teams:export", status_code=200, middleware=[SendTimeout])
    async def export_teams(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Stream:
        state = listing.team_list(request.query_params, default_size=request.app.state.settings.page_size)
        statement = queries.ordered_teams(session, state=state)
        return _stream(request, statement, csvio.TEAM_HEADER, csvio.team_cells, "teams.csv")

    @get("/heroes/import", name="heroes:import", status_code=200)
    async def import_form(self, request: Request[Any, Any, Any]) -> Template:
        return _page(request)

    @post("/heroes/import", name="heroes:import_check", status_code=200)
    async def check_import(self, request: Request[Any, Any, Any]) -> Template:
        """The dry run: what the file would do, row by row. It changes nothing, so it reads outside any write
        transaction (on SQLite a POST's session would hold the write lock meanwhile)."""
        try:
            text, filename = await _uploaded(request)
            sheet = csvio.read(text)
        except csvio.BadFile as bad:
            return _refused_file(request, bad)
        async with request.app.state.reader() as session:
            plan = await _plan(session, sheet, versions=None)
        return _page(
            request,
            status_code=(409 if plan.conflicts_only else 422) if plan.errors else 200,
            plan=plan,
            content=text,
            versions=csvio.write_versions(plan.versions),
            filename=filename,
        )

    @post("/heroes/import/apply", name="heroes:import_apply", status_code=303)
    async def apply_import(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        """Everything or nothing, checked again here: the dry run's page could be old, or forged."""
        data = await read_form(request)
        if repeat := await once(request, session, data):
            return repeat
        content = data.get("content", "")
        try:
            versions = csvio.read_versions(data.get("versions", ""))
            sheet = csvio.read(_text(content, _file_limit(request)))
        except csvio.BadFile as bad:
            await session.rollback()
            return _refused_file(request, bad)
        plan = await _plan(session, sheet, versions=versions, lock=True)
        if not plan.errors:
            await records.import_heroes(session, plan, actor(request))
            list_path = request.app.route_reverse("heroes:list")
            await done(request, session, list_path)
            return redirect(list_path, flash=f"Imported: {plan.creates:,} created, {plan.updates:,} updated.")
        await session.rollback()
        conflict = plan.conflicts_only
        alert = (
            "Nothing was imported: heroes in the file were changed by someone else meanwhile. Check the file again "
            "to see them as they are now."
            if conflict
            else "Nothing was imported: the file has problems. Fix them and check the file again."
        )
        return _page(
            request, status_code=409 if conflict else 422, plan=plan, content=content, alert=alert, conflict=conflict
        )

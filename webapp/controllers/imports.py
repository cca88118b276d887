"""CSV import, for resources that take it (resource.importable): upload, a dry run of what the file would do,
then apply it all or nothing. For editors only."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template

from webapp import csvio
from webapp.auth import EDITORS
from webapp.controllers import pages
from webapp.controllers.common import Posted, ResourceController, Session, actor
from webapp.data import imports
from webapp.htmx import redirect, render
from webapp.outages import LONG_WORK
from webapp.resource import Resource

# Problems listed on the dry run page (all are counted).
ERRORS_SHOWN = 200
CHANGES_SHOWN = 100


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


def _page(request: Request[Any, Any, Any], resource: Resource, *, status_code: int = 200, **context: Any) -> Template:
    columns = list(csvio.import_columns(resource).values())
    defaults: dict[str, Any] = {
        "resource": resource,
        "columns": ", ".join(columns[:-1]) + " and " + columns[-1],
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
    return render(request, page="records/import.html", context=defaults | context, status_code=status_code)


def _refused_file(request: Request[Any, Any, Any], resource: Resource, bad: csvio.BadFile) -> Template:
    return _page(request, resource, status_code=413 if isinstance(bad, csvio.TooLarge) else 422, file_error=str(bad))


class ImportController(ResourceController):
    opt = EDITORS

    @get("/import", name="import", status_code=200)
    async def import_form(self, request: Request[Any, Any, Any]) -> Template:
        return _page(request, self.resource)

    @post("/import", name="import_check", status_code=200, opt={LONG_WORK: True})
    async def import_check(self, request: Request[Any, Any, Any]) -> Template:
        """The dry run: what the file would do, row by row. It changes nothing, so it reads outside any write
        transaction (on SQLite a POST's session would hold the write lock meanwhile)."""
        resource = self.resource
        try:
            text, filename = await _uploaded(request)
            sheet = csvio.read(resource, text)
        except csvio.BadFile as bad:
            return _refused_file(request, resource, bad)
        async with request.app.state.reader() as session:
            plan = await imports.checked(session, resource, sheet, versions=None)
        return _page(
            request,
            resource,
            status_code=(409 if plan.conflicts_only else 422) if plan.errors else 200,
            plan=plan,
            content=text,
            versions=csvio.write_versions(plan.versions),
            filename=filename,
        )

    @post("/import/apply", name="import_apply", status_code=303, opt={LONG_WORK: True})
    async def import_apply(self, request: Request[Any, Any, Any], session: Session, submitted: Posted) -> Response[Any]:
        """Everything or nothing, checked again here: the dry run's page could be old, or forged."""
        resource = self.resource
        content = submitted.data.get("content", "")
        try:
            versions = csvio.read_versions(submitted.data.get("versions", ""))
            sheet = csvio.read(resource, _text(content, _file_limit(request)))
        except csvio.BadFile as bad:
            await session.rollback()
            return _refused_file(request, resource, bad)
        plan = await imports.checked(session, resource, sheet, versions=versions, lock=True)
        if not plan.errors:
            await imports.apply(session, resource, plan, actor(request))
            list_path = pages.links(request).to(resource, "list")
            await submitted.leads_to(list_path)
            await session.commit()
            return redirect(list_path, flash=f"Imported: {plan.creates:,} created, {plan.updates:,} updated.")
        await session.rollback()
        conflict = plan.conflicts_only
        alert = (
            f"Nothing was imported: {resource.plural} in the file were changed by someone else meanwhile. Check the "
            "file again to see them as they are now."
            if conflict
            else "Nothing was imported: the file has problems. Fix them and check the file again."
        )
        return _page(
            request,
            resource,
            status_code=409 if conflict else 422,
            plan=plan,
            content=content,
            alert=alert,
            conflict=conflict,
        )

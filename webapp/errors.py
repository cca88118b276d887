"""HTML error responses (a page, or an alert fragment for htmx) instead of Litestar's JSON errors."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode, urlsplit

from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException, NotAuthorizedException
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from webapp import logs, outages
from webapp.auth import SECOND_FACTOR, CsrfFailed, SessionEnded, SignInUnfinished, pending_user, safe_next
from webapp.data.writes import InTrash, Missing, TrashChanged
from webapp.htmx import clear_flash, redirect, wants_fragment
from webapp.listing import BadList
from webapp.middleware import SAFE_METHODS, SUBMITTED, request_id
from webapp.submissions import FIELD, AlreadySent

logger = logging.getLogger("webapp.errors")

TITLES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Forbidden", "You are not allowed to do that."),
    404: ("Not found", "There is nothing here. It may have been deleted, or the address is wrong."),
    405: ("Method not allowed", "This address does not accept that kind of request."),
    409: ("Conflict", "The change conflicts with the current data."),
    413: ("Request too large", "What was sent is larger than this site accepts."),
    431: ("Request headers too large", "The request carried more or larger headers than this site accepts."),
    422: ("Invalid input", "Some of what was sent is not valid."),
    429: ("Too many requests", "Please wait a moment and try again."),
    503: ("The database did not answer", "Please try again in a few seconds."),
    500: ("Something went wrong", "The error has been logged. Please try again."),
}


class Refused(ClientException):
    """A refusal that explains itself: the page (or htmx alert) shows this title and message, and a link
    to where the user can put things right."""

    def __init__(
        self,
        status_code: int,
        title: str,
        message: str,
        link: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, headers=headers)
        self.title, self.message, self.link = title, message, link


def error_response(
    request: Request[Any, Any, Any],
    status_code: int,
    title: str | None = None,
    message: str | None = None,
    link: tuple[str, str] | None = None,
) -> Response[Any]:
    default_title, default_message = TITLES.get(status_code, TITLES[500 if status_code >= 500 else 400])
    title, message = title or default_title, message or default_message
    context = {
        "status_code": status_code,
        "title": title,
        "message": message,
        "link": link,
        "request_id": request_id(request.scope),
        "toast": None,
        "undo": None,
    }
    if wants_fragment(request):
        # Whatever the element that asked, the message goes to the toast region, so an error never
        # replaces a table row or a form with something that does not belong there.
        headers = {"HX-Retarget": "#toasts", "HX-Reswap": "beforeend"}
        return Template("errors/_alert.html", context=context, status_code=status_code, headers=headers)
    page = Template("errors/error.html", context=context, status_code=status_code)
    clear_flash(request, page, only_if_bad=True)  # a bad cookie is not left to fail the next page too
    return page


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, SignInUnfinished):
        pending = pending_user(request)
        return sign_in_first(
            request, "login:code" if pending and pending.stage == SECOND_FACTOR else "two_factor:setup"
        )
    if isinstance(exc, SessionEnded):
        response = sign_in_first(request, back_to=exc.form_page)
        response.cookies.append(exc.cookie)
        return response
    if isinstance(exc, NotAuthorizedException):
        return sign_in_first(request)
    if isinstance(exc, CsrfFailed):
        return error_response(request, exc.status_code, exc.title, exc.message)
    if isinstance(exc, Refused):
        response = error_response(request, exc.status_code, exc.title, exc.message, exc.link)
        response.headers.update(exc.headers or {})
        return response
    return error_response(request, exc.status_code)


def sign_in_first(
    request: Request[Any, Any, Any], step: str | None = None, *, back_to: str | None = None
) -> Response[Any]:
    """Signed out (or the session ended): go to sign-in, and come back to the page afterwards. With a step of
    signing in left (`step`: the route of the code step or of setting a second factor up), go there instead.
    A form kept for after sign-in (`back_to`, its page) comes back there; the sign-in page says so itself."""
    if back_to is not None:
        here, flash = back_to, None
    elif request.method in SAFE_METHODS:
        here, flash = request.url.path + (f"?{request.url.query}" if request.url.query else ""), None
    else:
        # The change could not be saved; say so rather than drop it silently.
        referer = urlsplit(request.headers.get("referer", ""))
        here = referer.path if referer.netloc == request.headers.get("host") else "/"
        flash = "Your session has ended, so your last change was not saved. Sign in and try again."
    if wants_fragment(request) and back_to is None:
        current = urlsplit(request.headers.get("hx-current-url", ""))
        here = current.path if current.netloc == request.headers.get("host") else "/"
    login = f"{request.app.route_reverse(step or 'login')}?{urlencode({'next': safe_next(here, '/')})}"
    if wants_fragment(request):
        # htmx follows HX-Redirect with a full page load, whatever the status.
        return Response(content="", status_code=401, headers={"HX-Redirect": login})
    return redirect(login, flash=flash)


def bad_list_handler(request: Request[Any, Any, Any], exc: BadList) -> Response[Any]:
    return error_response(request, 400, "This list address is not valid", str(exc))


def missing_handler(request: Request[Any, Any, Any], _exc: Missing) -> Response[Any]:
    return error_response(request, 404)


def in_trash_handler(request: Request[Any, Any, Any], exc: InTrash) -> Response[Any]:
    """Opening (404) or changing (409) a record that is in the trash: why, and where it is."""
    record, noun = exc.current, exc.resource.name
    when = f"{record.deleted_at:%Y-%m-%d %H:%M} UTC" if record.deleted_at else "earlier"
    message = (
        f"The {noun} “{record.name}” was deleted by {record.deleted_by or 'someone'} on {when}. "
        "It is in the Trash, where an editor can restore it."
    )
    opening = request.method in SAFE_METHODS
    link = (request.app.route_reverse("trash"), "Open the Trash")
    title = f"This {noun} was deleted"
    return error_response(
        request, 404 if opening else 409, title, message if opening else f"Your change was not saved. {message}", link
    )


def trash_changed_handler(request: Request[Any, Any, Any], exc: TrashChanged) -> Response[Any]:
    """409 for a restore or purge of an item the trash no longer shows as the user saw it."""
    state = "is not in the Trash any more" if exc.current.deleted_at is None else "changed meanwhile"
    title, outcome = (
        ("Not restored", "") if exc.action == "restore" else ("Not deleted", ", so it was not deleted for good")
    )
    link = (request.app.route_reverse("trash"), "Open the Trash")
    return error_response(request, 409, title, f"“{exc.current.name}” {state}{outcome}.", link)


REPEAT_MESSAGE = "That form had already been sent, so it was saved only once."


def repeat_handler(request: Request[Any, Any, Any], exc: AlreadySent) -> Response[Any]:
    """The same form again (a double click, a browser retry): where the first one led, and no second change."""
    if wants_fragment(request):
        # Leave the page as it is (the first answer already updated it) and just say what happened.
        context = {"toast": REPEAT_MESSAGE, "undo": None}
        return Template("_toast_oob.html", context=context, headers={"HX-Reswap": "none"})
    return redirect(exc.location or request.app.route_reverse("home"), flash=REPEAT_MESSAGE)


# A route whose form comes back with the user's values when the database refuses the change: its `opt` holds,
# under this key, what renders that form (request, the submitted fields, why it was not saved) -> the response.
KEEPS_FORM = "keeps_form"


def unavailable_message(request: Request[Any, Any, Any]) -> str:
    seconds = request.app.state.settings.retry_after
    if request.method in SAFE_METHODS:
        return f"The database did not answer. Try again in {seconds} seconds."
    if not outages.commit_sent(request.scope):
        return (
            f"The database did not answer. Your change was not saved; nothing was lost. Try again in {seconds} seconds."
        )
    # The commit was sent: the database may have applied it, or may yet. A form with a one-time id can simply be
    # sent again (a repeat leads where the first went); another one is better looked at first.
    fields = request.scope.get("state", {}).get(SUBMITTED) or {}
    again = (
        "Saving again is safe: a change already saved is not made twice."
        if fields.get(FIELD)
        else "Reload the page to see whether it was before trying again."
    )
    return (
        f"The database did not answer in time, so your change may have been saved. {again} "
        f"Try again in {seconds} seconds."
    )


def outage_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database away, hanging, locked or full: 503 with Retry-After and one log line, never a 500. A refused
    form comes back with what the user typed, so pressing Save again is all it takes."""
    reason = outages.cause(exc)
    if reason is None:
        return internal_error_handler(request, exc)
    request.scope.setdefault("state", {})[logs.OUTAGE_CAUSE] = reason
    route = request.scope.get("path_template") or "(no route)"
    request.app.state.outage_warnings.warning(
        f"503:{reason}", "request %s: 503 for %s %s: %s", request_id(request.scope), request.method, route, reason
    )
    message = unavailable_message(request)
    handler = request.scope.get("route_handler")
    keep = handler.opt.get(KEEPS_FORM) if handler is not None and request.method not in SAFE_METHODS else None
    fields = request.scope.get("state", {}).get(SUBMITTED)
    if keep is not None and fields is not None:
        response: Response[Any] = keep(request, fields, message)
    else:
        busy = "Busy" if request.method in SAFE_METHODS else "Busy, not saved"
        title = busy if outages.is_busy(reason) else "The database did not answer"
        response = error_response(request, 503, title, message)
    response.status_code = 503
    response.headers["Retry-After"] = str(request.app.state.settings.retry_after)
    return response


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("request %s failed: %s %s", request_id(request.scope), request.method, request.url.path)
    return error_response(request, HTTP_500_INTERNAL_SERVER_ERROR)


exception_handlers: dict[Any, Any] = {
    HTTPException: http_exception_handler,
    BadList: bad_list_handler,
    Missing: missing_handler,
    InTrash: in_trash_handler,
    TrashChanged: trash_changed_handler,
    AlreadySent: repeat_handler,
    HTTP_500_INTERNAL_SERVER_ERROR: internal_error_handler,
    # An outage, or a bug (outage_handler tells them apart and passes bugs on to internal_error_handler).
    Exception: outage_handler,
}

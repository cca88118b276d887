"""What the resource controllers share: reading forms and query parameters, 404s."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import submissions
from webapp.audit import Actor
from webapp.auth import SAFE_METHODS, current_user, submitted_form
from webapp.forms import whole_number
from webapp.htmx import redirect, wants_fragment
from webapp.middleware import request_id

T = TypeVar("T")


async def read_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted form as plain strings (first value per name); anything that is not text is ignored."""
    form = await submitted_form(request)  # its size and field count were checked as it arrived (webapp.limits)
    return {name: values[0] for name, values in form.dict().items() if values and isinstance(values[0], str)}


def page_number(request: Request[Any, Any, Any], name: str = "page") -> int:
    """The requested page; anything that is not a positive number means the first page."""
    return whole_number(request.query_params.get(name, "1")) or 1


def query_number(request: Request[Any, Any, Any], name: str) -> int | None:
    """An optional number in the query (a filter, a history position): absent or blank is None, anything
    else that is not a plain number is refused (400) rather than guessed at."""
    raw = request.query_params.get(name, "")
    if not raw:
        return None
    number = whole_number(raw)
    if number is None:
        raise ClientException(f"malformed {name}")
    return number


def actor(request: Request[Any, Any, Any]) -> Actor:
    user = current_user(request)
    assert user is not None  # every route that changes records is for signed-in editors
    return Actor(user.id, user.username, request_id(request.scope), request.app.state.settings.clock())


REPEAT_MESSAGE = "That form had already been sent, so it was saved only once."


async def once(request: Request[Any, Any, Any], session: AsyncSession, data: dict[str, str]) -> Response[Any] | None:
    """Claim the form's one-time id in the change's transaction (see webapp.submissions). Returns the answer
    for a repeat, or None to go ahead; `done` then records where this change leads."""
    token = data.get(submissions.FIELD)
    if token is None:  # a client that sends none (a script) gets no protection, and needs none from us
        return None
    if not submissions.well_formed(token):
        raise ClientException("malformed form id")
    user = current_user(request)
    assert user is not None
    now = request.app.state.settings.clock()
    claimed = await submissions.claim(session, token=token, data=data, user_id=user.id, now=now)
    if claimed is None:
        return None
    if isinstance(claimed, str):
        if wants_fragment(request):
            # Leave the page as it is (the first answer already updated it) and just say what happened.
            context = {"toast": REPEAT_MESSAGE, "undo": None}
            return Template("_toast_oob.html", context=context, headers={"HX-Reswap": "none"})
        return redirect(claimed or request.app.route_reverse("heroes:list"), flash=REPEAT_MESSAGE)
    request.state.submission = claimed
    return None


async def done(request: Request[Any, Any, Any], session: AsyncSession, location: str) -> None:
    """Commit the change, with where it led stored against the form's one-time id (if it had one)."""
    claimed = getattr(request.state, "submission", None)
    if claimed is not None:
        claimed.location = location
        session.add(claimed)
    await session.commit()


def found(value: T | None) -> T:
    if value is None:
        raise NotFoundException()
    return value


async def canonical_ids(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Only the canonical spelling of an id is an address: Litestar reads `{id:int}` with int(), which also
    takes "01", "+1", " 1" and other scripts' digits ("١"), and those are malformed ids (404), not row 1."""
    params = connection.path_params
    if handler.name and any(isinstance(value, int) for value in params.values()):
        canonical = connection.app.route_reverse(handler.name, **params)
        if connection.scope["path"].rstrip("/") != canonical.rstrip("/"):
            raise NotFoundException()


async def readable_form(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """An unsafe request's form is parsed before any handler: Litestar parses a multipart body on first use and
    raises on a text part that is not UTF-8, which is a malformed request (400) whoever reads the form later.
    (Its size and field count were already checked as the body arrived: webapp.limits.)"""
    if isinstance(connection, Request) and connection.method not in SAFE_METHODS:
        await submitted_form(connection)

"""What the resource controllers share: reading forms and query parameters, 404s."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException, NotFoundException
from litestar.handlers import BaseRouteHandler

from webapp.auth import SAFE_METHODS

T = TypeVar("T")
MAX_FORM_FIELDS = 50


async def read_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted form as plain strings (first value per name); anything that is not text is ignored."""
    form = await request.form()  # its size was checked by the body_limits guard before the handler ran
    return {name: values[0] for name, values in form.dict().items() if values and isinstance(values[0], str)}


def page_number(request: Request[Any, Any, Any]) -> int:
    """The requested page; anything that is not a positive number means the first page."""
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 1


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


async def body_limits(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The body limits hold for every unsafe request, also where the handler reads no form (delete, sign-out):
    an oversized body is refused by its Content-Length before it is read, an overfull form before any change."""
    if not isinstance(connection, Request) or connection.method in SAFE_METHODS:
        return
    declared = connection.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > connection.app.state.settings.max_body_bytes:
        raise ClientException("request body too large", status_code=413)
    if len(await connection.form()) > MAX_FORM_FIELDS:
        raise ClientException("too many form fields")

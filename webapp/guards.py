"""Guards every route passes besides the access rule (webapp.auth.authorize): canonical ids and body limits."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException, NotFoundException
from litestar.handlers import BaseRouteHandler

from webapp.auth import submitted_form
from webapp.middleware import SAFE_METHODS

MAX_FORM_FIELDS = 50


async def canonical_ids(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Only the canonical spelling of an id is an address: Litestar reads `{id:int}` with int(), which also
    takes "01", "+1", " 1" and other scripts' digits ("١"), and those are malformed ids (404), not row 1."""
    params = connection.path_params
    if handler.name and any(isinstance(value, int) for value in params.values()):
        canonical = connection.app.state.links.url(handler.name, **params)
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
    if len(await submitted_form(connection)) > MAX_FORM_FIELDS:
        raise ClientException("too many form fields")

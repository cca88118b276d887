"""The guards every route passes: the access rule (webapp.auth.authorize), canonical ids and a readable form."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler

from webapp.auth import authorize, submitted_form
from webapp.middleware import SAFE_METHODS


async def canonical_ids(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Only the canonical spelling of an id is an address: Litestar reads `{id:int}` with int(), which also
    takes "01", "+1", " 1" and other scripts' digits ("١"), and those are malformed ids (404), not row 1."""
    params = connection.path_params
    if handler.name and any(isinstance(value, int) for value in params.values()):
        canonical = connection.app.state.links.url(handler.name, **params)
        if connection.scope["path"].rstrip("/") != canonical.rstrip("/"):
            raise NotFoundException()


async def readable_form(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """An unsafe request's form is parsed before any handler: Litestar parses a multipart body on first use and
    raises on a text part that is not UTF-8, which is a malformed request (400) whoever reads the form later.
    (Its size and field count were already checked as the body arrived: webapp.limits.)"""
    if isinstance(connection, Request) and connection.method not in SAFE_METHODS:
        await submitted_form(connection)


async def every_route(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The three in order, as the app's one guard: Litestar copies the route handler for each guard it calls, and
    three copies were about 2% of a list page."""
    await authorize(connection, handler)
    await canonical_ids(connection, handler)
    await readable_form(connection, handler)

"""HTML error responses (a page, or an alert fragment for htmx) instead of Litestar's JSON errors."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from webapp.htmx import wants_fragment
from webapp.middleware import request_id

logger = logging.getLogger("webapp.errors")

TITLES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Forbidden", "You are not allowed to do that."),
    404: ("Not found", "There is nothing here. It may have been deleted, or the address is wrong."),
    405: ("Method not allowed", "This address does not accept that kind of request."),
    409: ("Conflict", "The change conflicts with the current data."),
    413: ("Request too large", "What was sent is larger than this site accepts."),
    422: ("Invalid input", "Some of what was sent is not valid."),
    429: ("Too many requests", "Please wait a moment and try again."),
    500: ("Something went wrong", "The error has been logged. Please try again."),
}


def error_response(request: Request[Any, Any, Any], status_code: int) -> Response[Any]:
    title, message = TITLES.get(status_code, TITLES[500 if status_code >= 500 else 400])
    context = {
        "status_code": status_code,
        "title": title,
        "message": message,
        "request_id": request_id(request.scope),
        "toast": None,
    }
    if wants_fragment(request):
        # Whatever the element that asked, the message goes to the toast region, so an error never
        # replaces a table row or a form with something that does not belong there.
        headers = {"HX-Retarget": "#toasts", "HX-Reswap": "beforeend"}
        return Template("errors/_alert.html", context=context, status_code=status_code, headers=headers)
    return Template("errors/error.html", context=context, status_code=status_code)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return error_response(request, exc.status_code)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("request %s failed: %s %s", request_id(request.scope), request.method, request.url.path)
    return error_response(request, HTTP_500_INTERNAL_SERVER_ERROR)


exception_handlers: dict[Any, Any] = {
    HTTPException: http_exception_handler,
    HTTP_500_INTERNAL_SERVER_ERROR: internal_error_handler,
    Exception: internal_error_handler,
}

"""Headers every response carries (security, caching, Vary) and a request id for logs and error pages.

A before_send hook rather than middleware: Litestar runs middleware only for matched routes, and the
404 for an unknown path or the 405 for a wrong method must carry these headers too.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from webapp.htmx import FLASH_COOKIE, secure_flash_header

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
STATIC_PREFIX = "/static/"
# Methods that change nothing: they read in a session without a transaction, and carry no CSRF token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HSTS_SECONDS = 31_536_000
# A request's submitted fields, as read, for its form to come back with if the database fails (webapp.errors).
SUBMITTED = "submitted_fields"


def request_id(scope: Scope | Any) -> str:
    """This request's id, made on first use; error pages show it and the log records it."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = uuid.uuid4().hex
    return str(state["request_id"])


async def add_response_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["X-Request-ID"] = request_id(scope)
    if scope["app"].state.settings.secure_cookies:
        # Browsers use only HTTPS for this site for a year after seeing this over HTTPS.
        headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}"
        cookies = headers.getall("set-cookie", [])
        if any(cookie.startswith(f"{FLASH_COOKIE}=") for cookie in cookies):
            del headers["set-cookie"]
            for cookie in cookies:
                headers.add("set-cookie", secure_flash_header(cookie))
    if not scope["path"].startswith(STATIC_PREFIX):
        # Admin data must not linger in shared or browser caches; fragments and full pages share URLs,
        # so any cache must also key on HX-Request.
        headers["Cache-Control"] = "no-store"
        headers.add("Vary", "HX-Request")

"""The page-or-fragment decision, in one place, and the responses built on it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from webapp.registry import BY_NAME

FLASH_COOKIE = "flash"
# Over HTTPS the flash cookie carries the session cookie's protection (Secure, and the __Host- prefix, which only
# this exact origin over HTTPS can set), so nobody else can plant a message, or an Undo of their choosing.
SECURE_FLASH_COOKIE = "__Host-flash"
FLASH_MAX = 300


def flash_cookie_name(request: Request[Any, Any, Any]) -> str:
    return SECURE_FLASH_COOKIE if request.app.state.settings.secure_cookies else FLASH_COOKIE


def secure_flash_header(header: str) -> str:
    """A Set-Cookie line for the flash cookie as `redirect` writes it, turned into its HTTPS form."""
    if not header.startswith(f"{FLASH_COOKIE}="):
        return header
    return f"{SECURE_FLASH_COOKIE}={header.removeprefix(f'{FLASH_COOKIE}=')}; Secure"


def clear_flash(request: Request[Any, Any, Any], response: Response[Any], *, only_if_bad: bool = False) -> None:
    """Delete the flash cookie the request came with (shown once, or not shown because it was not ours).
    `only_if_bad`: only when it is not a message `redirect` wrote (an error page leaves a good one for the next)."""
    name = flash_cookie_name(request)
    if only_if_bad and _read_flash(request.cookies.get(name)) != (None, None):
        return
    if name in request.cookies:
        secure = bool(request.app.state.settings.secure_cookies)
        response.cookies.append(
            Cookie(key=name, value="", path="/", httponly=True, samesite="lax", secure=secure, max_age=0, expires=0)
        )


@dataclass(frozen=True)
class Undo:
    """The Undo button a status message offers after a delete: restore this record at this version."""

    kind: str  # a resource's name: "hero", "team"
    record_id: int
    version: int

    def path(self, request: Request[Any, Any, Any]) -> str:
        return str(request.app.state.links.to(BY_NAME[self.kind], "restore", self.record_id))


def _read_flash(raw: str | None) -> tuple[str | None, Undo | None]:
    """The message (and Undo) a redirect left behind. The cookie is ours, but a browser can send anything:
    whatever is not a message as `redirect` writes it is ignored (and cleared), and an Undo is offered only for
    a well-formed record."""
    if not raw:
        return None, None
    try:
        data = json.loads(raw)
        text, undo = str(data["text"])[:FLASH_MAX], data.get("undo")
        text.encode()  # a lone surrogate ("\ud800") decodes from JSON but cannot be sent in a page
        if undo is None:
            return text, None
        kind, record_id, version = undo
        if kind in BY_NAME and all(type(n) is int and 0 < n < 2**31 for n in (record_id, version)):
            return text, Undo(kind, record_id, version)
        return text, None
    except (ValueError, KeyError, TypeError, RecursionError):  # deep nesting: RecursionError, not ValueError
        return None, None


def wants_fragment(request: Request[Any, Any, Any]) -> bool:
    """htmx asked for a partial: boosted links and history restores carry HX-Request too but need whole pages."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-boosted") != "true"
        and headers.get("hx-history-restore-request") != "true"
    )


def render(
    request: Request[Any, Any, Any],
    *,
    page: str,
    fragment: str | None = None,
    context: dict[str, Any],
    status_code: int = 200,
    toast: str | None = None,
    undo: Undo | None = None,
    headers: dict[str, str] | None = None,
) -> Template:
    """The fragment for htmx (when there is one), else the page, which includes the same fragment.

    Pages also show the status message a redirect left behind. Vary is set for every response elsewhere.
    """
    fragment_wanted = fragment is not None and wants_fragment(request)
    context = {**context, "htmx": fragment_wanted, "toast": toast, "undo": _undo_link(request, undo)}
    if fragment_wanted:
        return Template(template_name=fragment, context=context, status_code=status_code, headers=headers)
    flash = request.cookies.get(flash_cookie_name(request))  # Litestar has already percent-decoded cookie values
    if toast is None:
        context["toast"], flashed_undo = _read_flash(flash)
        context["undo"] = _undo_link(request, flashed_undo)
    response = Template(template_name=page, context=context, status_code=status_code, headers=headers)
    clear_flash(request, response)
    return response


def _undo_link(request: Request[Any, Any, Any], undo: Undo | None) -> dict[str, Any] | None:
    if undo is None:
        return None
    return {"path": undo.path(request), "version": undo.version, "list": _list_shown(request, undo)}


def _list_shown(request: Request[Any, Any, Any], undo: Undo) -> str | None:
    """The query of the list of the undone record's resource this message is shown on (the page itself, or for
    htmx the page that asked), so Undo comes back to that list, its search, sort and page kept; None elsewhere."""
    list_path = request.app.state.links.to(BY_NAME[undo.kind], "list")
    address = request.headers.get("hx-current-url", "") if wants_fragment(request) else str(request.url)
    try:
        parts = urlsplit(address)
    except ValueError:  # an address urlsplit cannot read ("http://[")
        return None
    return parts.query if parts.path == list_path else None


def redirect(path: str, *, flash: str | None = None, undo: Undo | None = None) -> Redirect:
    """Post/redirect/get: 303 so the browser follows with GET, carrying the status message to the next page."""
    cookies = []
    if flash:
        payload = {"text": flash[:FLASH_MAX], "undo": [undo.kind, undo.record_id, undo.version] if undo else None}
        cookies.append(
            Cookie(
                key=FLASH_COOKIE,
                value=quote(json.dumps(payload, separators=(",", ":"))),
                path="/",
                httponly=True,
                samesite="lax",
                max_age=60,
            )
        )
    return Redirect(path=path, status_code=303, cookies=cookies)

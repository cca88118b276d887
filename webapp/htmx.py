"""The page-or-fragment decision, in one place, and the responses built on it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

FLASH_COOKIE = "flash"
FLASH_MAX = 300


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
    headers: dict[str, str] | None = None,
) -> Template:
    """The fragment for htmx (when there is one), else the page, which includes the same fragment.

    Pages also show the status message a redirect left behind. Vary is set for every response elsewhere.
    """
    fragment_wanted = fragment is not None and wants_fragment(request)
    context = {**context, "htmx": fragment_wanted, "toast": toast}
    if fragment_wanted:
        return Template(template_name=fragment, context=context, status_code=status_code, headers=headers)
    flash = request.cookies.get(FLASH_COOKIE)  # Litestar has already percent-decoded cookie values
    context["toast"] = toast or (flash[:FLASH_MAX] if flash else None)
    response = Template(template_name=page, context=context, status_code=status_code, headers=headers)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(path: str, *, flash: str | None = None) -> Redirect:
    """Post/redirect/get: 303 so the browser follows with GET, carrying the status message to the next page."""
    cookies = []
    if flash:
        cookies.append(
            Cookie(
                key=FLASH_COOKIE, value=quote(flash[:FLASH_MAX]), path="/", httponly=True, samesite="lax", max_age=60
            )
        )
    return Redirect(path=path, status_code=303, cookies=cookies)

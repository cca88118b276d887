"""What the resource controllers share: reading forms and query parameters, 404s."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request
from litestar.exceptions import ClientException, NotFoundException

T = TypeVar("T")
MAX_FORM_FIELDS = 50


async def read_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted form as plain strings (first value per name); anything that is not text is ignored."""
    form = await request.form()
    if len(form) > MAX_FORM_FIELDS:
        raise ClientException("too many form fields")
    return {name: values[0] for name, values in form.dict().items() if values and isinstance(values[0], str)}


def page_number(request: Request[Any, Any, Any]) -> int:
    """The requested page; anything that is not a positive number means the first page."""
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 1


def found(value: T | None) -> T:
    if value is None:
        raise NotFoundException()
    return value

"""A refusal that explains itself (its own module so that parsing code low in the imports can raise it)."""

from __future__ import annotations

from litestar.exceptions import ClientException


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

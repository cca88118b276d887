"""Numbers as people and forms type them: read strictly, never guessed at."""

from __future__ import annotations

from collections.abc import Mapping


def whole_number(raw: str) -> int | None:
    """A count, id or version as typed: plain ASCII digits that fit an INTEGER column, else None."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def version_of(data: Mapping[str, str]) -> int | None:
    """The record version a form says it was filled from; None when missing or malformed (which can only
    mean an old or forged form, and is treated as out of date)."""
    return whole_number(str(data.get("version", "")))

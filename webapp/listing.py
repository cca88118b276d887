"""A list's state (search, filters, sort, position in the list, page size) as it lives in the URL.

Everything is read strictly: a sort or size that is not on the allow-list, a malformed number or position is
refused (400) with a message, never guessed at or passed to the database. URLs are written back canonically
(defaults left out), so a bookmark, a shared link and the Back button all lead to the same list.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from webapp.forms import NO_TEAM as NO_TEAM  # where list code looks for it
from webapp.forms import whole_number
from webapp.models import AGE_MAX, HEADQUARTERS_MAX, NAME_MAX
from webapp.refusal import Refused

SIZES = (25, 50, 100)
SEARCH_MAX = HEADQUARTERS_MAX
# Up to this many matching rows are counted exactly; past it the list says "more than", so a request never
# counts a million rows. The same number bounds one bulk action.
COUNT_CAP = 10_000
CURSOR_MAX = 4 * SEARCH_MAX


@dataclass(frozen=True)
class Column:
    """A column a list may be sorted by: its URL key, the header's name, and the row attribute it reads."""

    key: str
    label: str
    attr: str
    nullable: bool = False
    numeric: bool = False


HERO_SORTS = {
    column.key: column
    for column in (
        Column("name", "Name", "name"),
        Column("secret_name", "Secret name", "secret_name"),
        Column("age", "Age", "age", nullable=True, numeric=True),
        Column("team", "Team", "team_name", nullable=True),
    )
}
TEAM_SORTS = {
    column.key: column
    for column in (Column("name", "Name", "name"), Column("headquarters", "Headquarters", "headquarters"))
}


@dataclass(frozen=True)
class Cursor:
    """A row's place in the sorted list: its sort value and id (keyset pagination: no OFFSET)."""

    value: str | int | None
    id: int

    @property
    def token(self) -> str:
        raw = json.dumps([self.value, self.id], separators=(",", ":"), ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _storable(text: str) -> bool:
    """Text a name column could hold: not over-long, no control characters (PostgreSQL refuses NUL), and
    encodable (JSON can spell lone surrogates, which no database takes)."""
    if len(text) > HEADQUARTERS_MAX or any(ord(char) < 32 or ord(char) == 127 for char in text):
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _refuse(message: str) -> Refused:
    return Refused(400, "This list address is not valid", message)


def _cursor(raw: str, column: Column) -> Cursor:
    """A position from the URL, checked against the sort it belongs to."""
    try:
        if len(raw) > CURSOR_MAX:
            raise ValueError
        value, row_id = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise _refuse("The position in the list is malformed. Start again from the first page.") from None
    well_typed = (value is None and column.nullable) or (
        type(value) is int if column.numeric else isinstance(value, str) and _storable(value)
    )
    if not (well_typed and type(row_id) is int and 1 <= row_id < 2**31):
        raise _refuse("The position in the list does not belong to this sort order. Start again from the first page.")
    if isinstance(value, int) and not 0 <= value <= AGE_MAX:
        raise _refuse("The position in the list is out of range.")
    return Cursor(value, row_id)


def _text(query: Mapping[str, str], name: str, label: str, limit: int) -> str:
    value = query.get(name, "").strip()
    if len(value) > limit:
        raise _refuse(f"{label} is longer than {limit} characters.")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise _refuse(f"{label} contains control characters.")
    return value


def _age(query: Mapping[str, str], name: str, label: str) -> int | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    number = whole_number(raw)
    if number is None or number > AGE_MAX:
        raise _refuse(f"{label} must be a whole number from 0 to {AGE_MAX}.")
    return number


@dataclass(frozen=True)
class ListState:
    """What a list shows. `sorts` is the list's allow-list; `default_size` the page size left out of URLs."""

    sorts: Mapping[str, Column] = field(repr=False, compare=False)
    default_size: int = SIZES[0]
    q: str = ""
    team: str = ""
    min_age: int | None = None
    max_age: int | None = None
    has_heroes: str = ""
    sort: str = "name"
    descending: bool = False
    size: int = SIZES[0]
    after: Cursor | None = None
    before: Cursor | None = None

    @property
    def column(self) -> Column:
        return self.sorts[self.sort]

    @property
    def sizes(self) -> list[int]:
        return sorted({*SIZES, self.default_size})

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.team or self.min_age is not None or self.max_age is not None or self.has_heroes)

    @property
    def sort_param(self) -> str:
        return ("-" if self.descending else "") + self.sort

    def criteria(self) -> list[tuple[str, str]]:
        """The search, filters and sort, without position or size: what an export or bulk action applies to."""
        pairs = [
            ("q", self.q),
            ("team", self.team),
            ("min_age", "" if self.min_age is None else str(self.min_age)),
            ("max_age", "" if self.max_age is None else str(self.max_age)),
            ("has_heroes", self.has_heroes),
        ]
        if self.sort_param != "name":
            pairs.append(("sort", self.sort_param))
        return [(name, value) for name, value in pairs if value]

    def params(self) -> list[tuple[str, str]]:
        pairs = self.criteria()
        if self.size != self.default_size:
            pairs.append(("size", str(self.size)))
        if self.after is not None:
            pairs.append(("after", self.after.token))
        if self.before is not None:
            pairs.append(("before", self.before.token))
        return pairs

    def url(self, base: str, **changes: Any) -> str:
        query = urlencode(replace(self, **changes).params())
        return f"{base}?{query}" if query else base

    def first_page(self) -> ListState:
        return replace(self, after=None, before=None)

    def sorted_by(self, key: str) -> ListState:
        """The first page sorted by `key`: ascending, or reversed when it is already the ascending sort."""
        return replace(self.first_page(), sort=key, descending=self.sort == key and not self.descending)

    def aria_sort(self, key: str) -> str | None:
        if key != self.sort:
            return None
        return "descending" if self.descending else "ascending"


def _common(query: Mapping[str, str], sorts: Mapping[str, Column], default_size: int) -> dict[str, Any]:
    raw_sort = query.get("sort", "").strip() or "name"
    descending = raw_sort.startswith("-")
    sort = raw_sort[1:] if descending else raw_sort
    if sort not in sorts:
        raise _refuse(f"This list cannot be sorted by “{raw_sort[:40]}”. It sorts by {', '.join(sorts)}.")
    raw_size = query.get("size", "").strip()
    size = whole_number(raw_size) if raw_size else default_size
    if size not in {*SIZES, default_size}:
        raise _refuse(f"Per page must be one of {', '.join(map(str, sorted({*SIZES, default_size})))}.")
    column = sorts[sort]
    after, before = query.get("after"), query.get("before")
    if after and before:
        raise _refuse("A list position cannot be both after and before a row.")
    return {
        "sorts": sorts,
        "default_size": default_size,
        "q": _text(query, "q", "Search", SEARCH_MAX),
        "sort": sort,
        "descending": descending,
        "size": size,
        "after": _cursor(after, column) if after else None,
        "before": _cursor(before, column) if before else None,
    }


def typed_team(query: Mapping[str, str]) -> str:
    """What a searchable team field holds so far (its own value, sent as `team`)."""
    return _text(query, "team", "Team", NAME_MAX)


def hero_list(query: Mapping[str, str], *, default_size: int) -> ListState:
    return ListState(
        **_common(query, HERO_SORTS, default_size),
        team=_text(query, "team", "Filter by team", NAME_MAX),
        min_age=_age(query, "min_age", "Min age"),
        max_age=_age(query, "max_age", "Max age"),
    )


def team_list(query: Mapping[str, str], *, default_size: int) -> ListState:
    has_heroes = query.get("has_heroes", "").strip()
    if has_heroes not in {"", "yes", "no"}:
        raise _refuse("Has heroes must be yes, no or blank.")
    return ListState(**_common(query, TEAM_SORTS, default_size), has_heroes=has_heroes)


def pushed_url(state: ListState, base: str) -> dict[str, str]:
    """The address htmx puts in the location bar for a list it swapped: the canonical one (the search form
    would push every field, empty ones included)."""
    return {"HX-Push-Url": state.url(base)}


def seen_list(headers: Mapping[str, str], parse: Any, *, default_size: int) -> ListState:
    """The state of the list an htmx request was made from (htmx sends the page's URL), so the count it
    updates after a create or delete is that list's; a list that cannot be read counts everything."""
    query = dict(parse_qsl(urlsplit(headers.get("hx-current-url", "")).query))
    try:
        state: ListState = parse(query, default_size=default_size)
    except Refused:
        state = parse({}, default_size=default_size)
    return state

"""A list's state (search, filters, sort, position in the list, page size) as it lives in the URL.

Everything is read strictly: a sort or size that is not on the allow-list, a malformed number or position is
refused (BadList, a 400 page) with a message, never guessed at or passed to the database. URLs are written
back canonically (defaults left out), so a bookmark, a shared link and the Back button all lead to the same
list. Which sorts and filters a list has comes from its resource (webapp.resource).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from webapp.models import HEADQUARTERS_MAX, NAME_MAX
from webapp.numbers import whole_number
from webapp.resource import Filter, Resource, Sort

SIZES = (25, 50, 100)
SEARCH_MAX = HEADQUARTERS_MAX
# Up to this many matching rows are counted exactly; past it the list says "more than", so a request never
# counts a million rows. The same number bounds one bulk action.
COUNT_CAP = 10_000
# A search counts its matches exactly up to this many. Counting a frequent surname's 10,000 matches at a million
# heroes took 5 ms, twice the whole first page; 2,000 take 1 ms (SQLite, 2026-12-07). Past it the list says
# "More than 2,000 heroes match", and "Select all matching" stays: the bulk preview counts on its own, to COUNT_CAP.
SEARCH_COUNT_CAP = 2_000
CURSOR_MAX = 4 * SEARCH_MAX
# A sorted value in a cursor: no name is longer, and a number is one of ours (an age).
NUMBER_MAX = 10_000


# The changes `ListState.url` makes without copying the state: a page link's.
_POSITION = frozenset({"after", "before"})


def _sort_param(key: str, descending: bool) -> str:
    """A sort as its URL parameter says it: the key, after a minus when descending."""
    return f"-{key}" if descending else key


class BadList(Exception):
    """A list address that cannot be read: the message says what is wrong (errors.py makes it a 400 page)."""


@dataclass(frozen=True)
class Cursor:
    """A row's place in the sorted list: its sort value and id (keyset pagination: no OFFSET)."""

    value: str | int | None
    id: int

    @property
    def token(self) -> str:
        raw = json.dumps([self.value, self.id], separators=(",", ":"), ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _control(text: str) -> bool:
    return any(ord(char) < 32 or ord(char) == 127 for char in text)


def _storable(text: str) -> bool:
    """Text a name column could hold: not over-long, no control characters (PostgreSQL refuses NUL), and
    encodable (JSON can spell lone surrogates, which no database takes)."""
    if len(text) > SEARCH_MAX or _control(text):
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _cursor(raw: str, sort: Sort) -> Cursor:
    """A position from the URL, checked against the sort it belongs to."""
    try:
        if len(raw) > CURSOR_MAX:
            raise ValueError
        value, row_id = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise BadList("The position in the list is malformed. Start again from the first page.") from None
    well_typed = (value is None and sort.nullable) or (
        type(value) is int if sort.numeric else isinstance(value, str) and _storable(value)
    )
    if not (well_typed and type(row_id) is int and 1 <= row_id < 2**31):
        raise BadList("The position in the list does not belong to this sort order. Start again from the first page.")
    if isinstance(value, int) and not 0 <= value <= NUMBER_MAX:
        raise BadList("The position in the list is out of range.")
    return Cursor(value, row_id)


def text_value(query: Mapping[str, str], name: str, label: str, limit: int) -> str:
    """A text parameter: trimmed, and refused when over-long or holding control characters."""
    value = query.get(name, "").strip()
    if len(value) > limit:
        raise BadList(f"{label} is longer than {limit} characters.")
    if _control(value):
        raise BadList(f"{label} contains control characters.")
    return value


def _filter_value(query: Mapping[str, str], spec: Filter) -> str | int | None:
    if spec.kind == "text":
        return text_value(query, spec.name, spec.label, spec.limit)
    raw = query.get(spec.name, "").strip()
    if spec.kind == "choice":
        if raw not in ("", *spec.choices):
            raise BadList(f"{spec.label} must be {', '.join(spec.choices)} or blank.")
        return raw
    if not raw:
        return None
    number = whole_number(raw)
    if number is None or number > spec.limit:
        raise BadList(f"{spec.label} must be a whole number from 0 to {spec.limit:,}.")
    return number


@dataclass(frozen=True)
class ListState:
    """What a list shows. `sorts` is the list's allow-list; `default_size` the page size left out of URLs;
    `filters` the resource's filters by name (blank text or None: not filtered), in the resource's order."""

    sorts: Mapping[str, Sort] = field(repr=False, compare=False)
    default_size: int = SIZES[0]
    q: str = ""
    filters: Mapping[str, str | int | None] = field(default_factory=dict)
    sort: str = "name"
    descending: bool = False
    size: int = SIZES[0]
    after: Cursor | None = None
    before: Cursor | None = None

    @property
    def column(self) -> Sort:
        return self.sorts[self.sort]

    @property
    def sizes(self) -> list[int]:
        return sorted({*SIZES, self.default_size})

    def filter(self, name: str) -> Any:
        return self.filters.get(name)

    @property
    def filtered(self) -> bool:
        return bool(self.q) or any(value not in ("", None) for value in self.filters.values())

    @property
    def count_cap(self) -> int:
        """Up to how many matching rows this list counts exactly."""
        return SEARCH_COUNT_CAP if self.q else COUNT_CAP

    @property
    def sort_param(self) -> str:
        return _sort_param(self.sort, self.descending)

    def criteria(self) -> list[tuple[str, str]]:
        """The search, filters and sort, without position or size: what an export or bulk action applies to."""
        pairs = self._searched
        return [*pairs, ("sort", self.sort_param)] if self.sort_param != "name" else list(pairs)

    @cached_property
    def _searched(self) -> list[tuple[str, str]]:
        """The search and the filters set, in the resource's order."""
        pairs = [("q", self.q), *((name, "" if value is None else str(value)) for name, value in self.filters.items())]
        return [(name, value) for name, value in pairs if value]

    @cached_property
    def _searched_query(self) -> str:
        """The search and filters URL-encoded: the part every link of this list keeps. A list page writes a dozen
        links (sort headers, pages); each copied the state and encoded all of it, 20 µs a link (2026-12-07)."""
        return urlencode(self._searched)

    def url(self, base: str, **changes: Any) -> str:
        """This list's address, or with `changes` (fields of the state) made; canonical: defaults left out, the
        parameters in a fixed order (search, filters, sort, size, position)."""
        if not changes.keys() <= _POSITION:
            return replace(self, **changes).url(base)
        after, before = changes.get("after", self.after), changes.get("before", self.before)
        return self._address(base, self.sort_param, after, before)

    def sorted_url(self, base: str, key: str) -> str:
        """The address of `sorted_by(key)`."""
        return self._address(base, _sort_param(key, self._descending_by(key)), None, None)

    def _address(self, base: str, sort_param: str, after: Cursor | None, before: Cursor | None) -> str:
        # Sort keys are identifiers and a cursor is base64url: neither has a character to encode.
        parts = [self._searched_query] if self._searched_query else []
        if sort_param != "name":
            parts.append(f"sort={sort_param}")
        if self.size != self.default_size:
            parts.append(f"size={self.size}")
        if after is not None:
            parts.append(f"after={after.token}")
        if before is not None:
            parts.append(f"before={before.token}")
        return f"{base}?{'&'.join(parts)}" if parts else base

    def first_page(self) -> ListState:
        return replace(self, after=None, before=None)

    def sorted_by(self, key: str) -> ListState:
        """The first page sorted by `key`: ascending, or reversed when it is already the ascending sort."""
        return replace(self.first_page(), sort=key, descending=self._descending_by(key))

    def _descending_by(self, key: str) -> bool:
        return self.sort == key and not self.descending

    def aria_sort(self, key: str) -> str | None:
        if key != self.sort:
            return None
        return "descending" if self.descending else "ascending"


def parse(resource: Resource, query: Mapping[str, str], *, default_size: int) -> ListState:
    """The list of `resource` that a URL's query asks for (unknown parameters are ignored)."""
    sorts = resource.sort_keys
    raw_sort = query.get("sort", "").strip() or "name"
    descending = raw_sort.startswith("-")
    sort = raw_sort[1:] if descending else raw_sort
    if sort not in sorts:
        raise BadList(f"This list cannot be sorted by “{raw_sort[:40]}”. It sorts by {', '.join(sorts)}.")
    raw_size = query.get("size", "").strip()
    size = whole_number(raw_size) if raw_size else default_size
    if size not in {*SIZES, default_size}:
        raise BadList(f"Per page must be one of {', '.join(map(str, sorted({*SIZES, default_size})))}.")
    after, before = query.get("after"), query.get("before")
    if after and before:
        raise BadList("A list position cannot be both after and before a row.")
    return ListState(
        sorts=sorts,
        default_size=default_size,
        q=text_value(query, "q", "Search", SEARCH_MAX),
        filters={spec.name: _filter_value(query, spec) for spec in resource.filters},
        sort=sort,
        descending=descending,
        size=size,
        after=_cursor(after, sorts[sort]) if after else None,
        before=_cursor(before, sorts[sort]) if before else None,
    )


def typed_name(query: Mapping[str, str], name: str, label: str) -> str:
    """What a searchable name field (a team picker) holds so far: it sends its own value as `name`."""
    return text_value(query, name, label, NAME_MAX)


def pushed_url(state: ListState, base: str) -> dict[str, str]:
    """The address htmx puts in the location bar for a list it swapped: the canonical one (the search form
    would push every field, empty ones included)."""
    return {"HX-Push-Url": state.url(base)}


def seen_list(resource: Resource, headers: Mapping[str, str], *, default_size: int) -> ListState:
    """The state of the list an htmx request was made from (htmx sends the page's URL), so the count it
    updates after a create or delete is that list's; a list that cannot be read counts everything."""
    try:
        query = dict(parse_qsl(urlsplit(headers.get("hx-current-url", "")).query))
        return parse(resource, query, default_size=default_size)
    except (BadList, ValueError):  # ValueError: an address urlsplit cannot read ("http://[")
        return parse(resource, {}, default_size=default_size)

"""What a resource (heroes, teams) is, as data: its table, fields, list columns, sorts and filters, and names.

Everything in which resources differ is said here once, by an entry of the registry (webapp.registry), and
the shared pages, writes, bulk actions, exports, trash and history read it instead of asking which resource
they serve. Only plain data and pure helpers live here, so every layer may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pydantic import BaseModel

    from webapp.data.lists import ListQuery


def none_label(name: str) -> str:
    """What a field pointing at a resource named `name` says for "none": "No team"."""
    return f"No {name}"


@dataclass(frozen=True)
class FieldSpec:
    """A field a user sets on a form: its column, label, rules, and help text shown under it."""

    name: str
    label: str
    max_length: int | None = None
    # A whole number from 0 to `maximum` (blank for none when not required).
    maximum: int | None = None
    required: bool = True
    help: str = ""
    # The name of the resource whose live record this field points at (by id): a hero's team.
    references: str | None = None

    @property
    def is_number(self) -> bool:
        return self.maximum is not None


@dataclass(frozen=True)
class Sort:
    """A column a list may be sorted by: its URL key, the header's label, and the row attribute it reads."""

    key: str
    label: str
    attr: str
    nullable: bool = False
    numeric: bool = False


@dataclass(frozen=True)
class Column:
    """A column of a list's table after the name: its header, the row attribute it shows, the sort it offers
    (if any), and the field an inline edit puts in it (None: read-only there, like a team's hero count)."""

    label: str
    attr: str
    sort: str | None = None
    field: str | None = None
    numeric: bool = False


@dataclass(frozen=True)
class Filter:
    """A list filter as it lives in the URL: `text` (up to `limit` characters), a whole `number` from 0 to
    `limit`, or a `choice` among `choices` (blank: not filtered)."""

    name: str
    label: str
    kind: Literal["text", "number", "choice"]
    limit: int = 0
    choices: tuple[str, ...] = ()


Action = Literal[
    "list",
    "new",
    "create",
    "detail",
    "row",
    "edit",
    "update",
    "confirm_delete",
    "delete",
    "history",
    "revert",
    "restore",
    "confirm_purge",
    "purge",
    "bulk",
    "bulk_apply",
    "export",
    "options",
    "import",
    "import_check",
    "import_apply",
]


@dataclass(eq=False)
class Resource:
    """One kind of record the admin manages. `name` is the singular noun (element ids, history's record type),
    `plural` the URL segment and route prefix."""

    name: str
    plural: str
    model: type[Any]
    input_model: type[BaseModel]
    fields: tuple[FieldSpec, ...]
    columns: tuple[Column, ...]
    sorts: tuple[Sort, ...]
    lists: ListQuery = field(repr=False)
    filters: tuple[Filter, ...] = ()
    search_hint: str = ""
    # The field whose value is unique among live records: a clash is told beside it.
    unique: str | None = None
    # The macros (template) that show what is this resource's own: its page's facts and its list's filters. Its
    # row cells are <plural>/_cells.html (see `rows`).
    parts: str = ""
    # Filled in once by the registry, which knows every resource: the resource each reference field points at
    # (a hero's team_id: teams), and the resources with records that point at this one (a team's heroes).
    targets: dict[str, Resource] = field(default_factory=dict, repr=False)
    referenced_by: tuple[Resource, ...] = field(default=(), repr=False)
    importable: bool = False

    @property
    def rows(self) -> str:
        """The template of this resource's list rows: the shared row with its cells (see webapp.templating)."""
        return f"records/_rows.html|{self.plural}"

    @property
    def title(self) -> str:
        return self.plural.capitalize()

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields)

    @property
    def references(self) -> tuple[FieldSpec, ...]:
        return tuple(spec for spec in self.fields if spec.references)

    def pointers(self, target: Resource) -> tuple[FieldSpec, ...]:
        """The fields of this resource that point at `target` (a hero's team_id, for teams)."""
        return tuple(spec for spec in self.references if spec.references == target.name)

    def filter_by(self, target: Resource) -> Filter | None:
        """The list filter taking a record of `target` by its exact name, named after it (the heroes' "team"), so
        a target's page can link to the list of its records (a team's heroes); None if this list has none."""
        return next((spec for spec in self.filters if spec.name == target.name and self.pointers(target)), None)

    @property
    def sort_keys(self) -> dict[str, Sort]:
        return {sort.key: sort for sort in self.sorts}

    def spec(self, name: str) -> FieldSpec:
        return next(spec for spec in self.fields if spec.name == name)

    def route(self, action: Action) -> str:
        """The name of this resource's route for `action` (the one place route names are made)."""
        return f"{self.plural}:{action}"

    def count(self, number: int) -> str:
        """A count with its noun: "1 hero", "1,200 heroes"."""
        return f"{number:,} {self.name if number == 1 else self.plural}"

    @property
    def none_label(self) -> str:
        return none_label(self.name)

    @property
    def count_attr(self) -> str:
        """The list row attribute counting this resource's live records that point at a record: "hero_count"."""
        return f"{self.name}_count"

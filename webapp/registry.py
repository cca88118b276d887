"""The registry: one entry per resource, holding everything in which resources differ. Adding a resource is
adding an entry here (see the README, "Adding a resource")."""

from __future__ import annotations

from webapp.data.lists import HeroList, TeamList
from webapp.models import AGE_MAX, HEADQUARTERS_MAX, NAME_MAX, Hero, HeroCreate, Team, TeamCreate
from webapp.resource import Column, FieldSpec, Filter, Resource, Sort

TEAMS = Resource(
    name="team",
    plural="teams",
    model=Team,
    input_model=TeamCreate,
    fields=(
        FieldSpec("name", "Name", max_length=NAME_MAX, help="No two teams may have the same name."),
        FieldSpec("headquarters", "Headquarters", max_length=HEADQUARTERS_MAX),
    ),
    columns=(
        Column("Headquarters", sort="headquarters", field="headquarters", attr="headquarters"),
        Column("Heroes", attr="hero_count", numeric=True),
    ),
    sorts=(Sort("name", "Name", "name"), Sort("headquarters", "Headquarters", "headquarters")),
    lists=TeamList(),
    filters=(Filter("has_heroes", "Has heroes", "choice", choices=("yes", "no")),),
    search_hint="Name or headquarters",
    unique="name",
    parts="teams/_parts.html",
)

HEROES = Resource(
    name="hero",
    plural="heroes",
    model=Hero,
    input_model=HeroCreate,
    fields=(
        FieldSpec("name", "Name", max_length=NAME_MAX),
        FieldSpec("secret_name", "Secret name", max_length=NAME_MAX),
        FieldSpec(
            "age",
            "Age",
            maximum=AGE_MAX,
            required=False,
            help=f"A whole number from 0 to {AGE_MAX:,}; blank if unknown.",
        ),
        FieldSpec("team_id", "Team", required=False, references=TEAMS.name),
    ),
    columns=(
        Column("Secret name", sort="secret_name", field="secret_name", attr="secret_name"),
        Column("Age", sort="age", field="age", attr="age", numeric=True),
        Column("Team", sort="team", field="team_id", attr="team_name"),
    ),
    sorts=(
        Sort("name", "Name", "name"),
        Sort("secret_name", "Secret name", "secret_name"),
        Sort("age", "Age", "age", nullable=True, numeric=True),
        Sort("team", "Team", "team_name", nullable=True),
    ),
    lists=HeroList(),
    filters=(
        Filter("team", "Filter by team", "text", limit=NAME_MAX),
        Filter("min_age", "Min age", "number", limit=AGE_MAX),
        Filter("max_age", "Max age", "number", limit=AGE_MAX),
    ),
    search_hint="Name, secret name or team",
    parts="heroes/_parts.html",
    importable=True,
)

# In the order the navigation, the trash and Activity show them.
RESOURCES: tuple[Resource, ...] = (HEROES, TEAMS)
BY_NAME = {resource.name: resource for resource in RESOURCES}


def _wire() -> None:
    """Each reference field's target, and each resource's referencing resources, from the fields' declarations.
    A resource points at another with one field at most: what points at a record is told by resource (a team's
    heroes), in history entries, counts and messages."""
    for resource in RESOURCES:
        resource.targets = {spec.name: BY_NAME[spec.references] for spec in resource.references if spec.references}
        targets = [spec.references for spec in resource.references]
        if len(targets) != len(set(targets)):
            raise ValueError(f"{resource.plural} point at one resource with two fields")
    for resource in RESOURCES:
        resource.referenced_by = tuple(other for other in RESOURCES if other.pointers(resource))


_wire()
# Every reference field, by name, with the resource it points at (history shows those records' names).
REFERENCES = {name: target for resource in RESOURCES for name, target in resource.targets.items()}

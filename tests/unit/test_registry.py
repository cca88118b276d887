"""What every registry entry (webapp.registry) must hold for the shared pages, lists, forms and imports to work
on it, checked over all resources, so a third resource added with a slip fails here first."""

from __future__ import annotations

import pytest
from sqlmodel import select

from webapp.config import PROJECT_DIR
from webapp.registry import BY_NAME, HEROES, REFERENCES, RESOURCES, TEAMS
from webapp.resource import Resource

each = pytest.mark.parametrize("resource", RESOURCES, ids=lambda resource: resource.plural)


@each
def test_first_field_is_the_name(resource: Resource) -> None:
    assert resource.fields[0].name == "name"


@each
def test_lists_can_be_sorted_by_name(resource: Resource) -> None:
    assert "name" in resource.sort_keys


@each
def test_every_column_field_names_a_field(resource: Resource) -> None:
    for column in resource.columns:
        assert column.field is None or column.field in resource.field_names, column


@each
def test_every_sortable_column_names_a_sort(resource: Resource) -> None:
    for column in resource.columns:
        assert column.sort is None or column.sort in resource.sort_keys, column


@each
def test_list_rows_have_every_attribute_the_columns_sorts_and_exports_read(resource: Resource) -> None:
    row_attributes = set(select(*resource.lists.columns()).selected_columns.keys())
    read = {"id", "name", "version"} | {column.attr for column in resource.columns} | {s.attr for s in resource.sorts}
    assert read <= row_attributes


@each
def test_sort_keys_and_field_names_are_unique(resource: Resource) -> None:
    assert len(resource.sort_keys) == len(resource.sorts)
    assert len(set(resource.field_names)) == len(resource.fields)


@each
def test_reference_fields_point_at_a_registered_resource(resource: Resource) -> None:
    for spec in resource.references:
        assert spec.references in BY_NAME, spec
        assert resource.targets[spec.name] is BY_NAME[spec.references]


@each
def test_referenced_by_is_the_inverse_of_the_references(resource: Resource) -> None:
    pointing = {other.name for other in RESOURCES for spec in other.references if spec.references == resource.name}
    assert {other.name for other in resource.referenced_by} == pointing


@each
def test_parts_template_exists(resource: Resource) -> None:
    assert resource.parts
    assert (PROJECT_DIR / "templates" / resource.parts).is_file()


@each
def test_names_are_unique_across_the_registry(resource: Resource) -> None:
    assert [other.name for other in RESOURCES].count(resource.name) == 1
    assert [other.plural for other in RESOURCES].count(resource.plural) == 1
    assert BY_NAME[resource.name] is resource


@each
def test_unique_field_is_a_field(resource: Resource) -> None:
    assert resource.unique is None or resource.unique in resource.field_names


@each
def test_every_field_is_on_the_input_model(resource: Resource) -> None:
    assert set(resource.field_names) <= set(resource.input_model.model_fields)


@each
def test_filters_are_not_named_like_list_parameters(resource: Resource) -> None:
    # A filter named "sort" or "size" would be read twice from the same URL parameter.
    assert {spec.name for spec in resource.filters}.isdisjoint({"q", "sort", "size", "after", "before"})


def test_heroes_point_at_teams_and_teams_at_nothing() -> None:
    assert HEROES.targets == {"team_id": TEAMS}
    assert TEAMS.targets == {}
    assert TEAMS.referenced_by == (HEROES,)
    assert HEROES.referenced_by == ()
    assert REFERENCES == {"team_id": TEAMS}


@pytest.mark.parametrize(
    ("resource", "number", "text"),
    [(HEROES, 1, "1 hero"), (HEROES, 0, "0 heroes"), (TEAMS, 1_200, "1,200 teams")],
)
def test_count_says_the_noun(resource: Resource, number: int, text: str) -> None:
    assert resource.count(number) == text


def test_route_names_are_made_from_the_plural() -> None:
    assert HEROES.route("detail") == "heroes:detail"
    assert TEAMS.route("import_apply") == "teams:import_apply"


def test_none_label_and_count_attribute_come_from_the_name() -> None:
    assert (TEAMS.none_label, TEAMS.count_attr) == ("No team", "team_count")
    assert (HEROES.none_label, HEROES.count_attr) == ("No hero", "hero_count")

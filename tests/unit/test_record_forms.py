"""A hero's or a team's form read by its resource's fields (webapp.forms.record_form), without a database:
what is accepted, what each refusal says, and what is kept for the form to show again."""

from __future__ import annotations

import pytest

from webapp.forms import means_none, record_form
from webapp.registry import HEROES, TEAMS
from webapp.resource import Resource

AGE_MESSAGE = "Age must be a whole number from 0 to 10,000."
CHOOSE_TEAM = "Choose a team from the list."
NO_TEAM_NAME = "“No team” means a hero without a team, so no team can be called that."


def hero(**fields: str) -> dict[str, str]:
    return {"name": "Ann", "secret_name": "Annie", **fields}


def team(**fields: str) -> dict[str, str]:
    return {"name": "Avengers", "headquarters": "Tower", **fields}


# --- valid input --------------------------------------------------------------------------------------------------


def test_valid_hero_form_gives_the_model_values() -> None:
    form = record_form(HEROES, hero(age="30", team_id="4"))
    assert form.is_valid
    assert form.dump() == {"name": "Ann", "secret_name": "Annie", "age": 30, "team_id": 4}


def test_valid_team_form_gives_the_model_values() -> None:
    form = record_form(TEAMS, team())
    assert form.is_valid
    assert form.dump() == {"name": "Avengers", "headquarters": "Tower"}


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_optional_fields_mean_none(blank: str) -> None:
    assert record_form(HEROES, hero(age=blank, team_id=blank)).dump() == {
        "name": "Ann",
        "secret_name": "Annie",
        "age": None,
        "team_id": None,
    }


def test_missing_optional_fields_mean_none() -> None:
    form = record_form(HEROES, hero())
    assert (form.dump()["age"], form.dump()["team_id"]) == (None, None)
    assert form.values == {"name": "Ann", "secret_name": "Annie", "age": "", "team_id": ""}


def test_surrounding_whitespace_is_stripped_from_values_and_model() -> None:
    form = record_form(HEROES, {"name": "  Ann\t", "secret_name": "\nAnnie ", "age": " 30 ", "team_id": " 4 "})
    assert form.values == {"name": "Ann", "secret_name": "Annie", "age": "30", "team_id": "4"}
    assert form.dump() == {"name": "Ann", "secret_name": "Annie", "age": 30, "team_id": 4}


def test_fields_the_resource_does_not_have_are_ignored() -> None:
    form = record_form(TEAMS, team(id="9", version="3", deleted_at="now"))
    assert form.values == {"name": "Avengers", "headquarters": "Tower"}
    assert form.is_valid


@pytest.mark.parametrize("age", ["0", "10000", "007"])
def test_age_in_range_is_accepted(age: str) -> None:
    assert record_form(HEROES, hero(age=age)).dump()["age"] == int(age)


@pytest.mark.parametrize(
    ("resource", "data"),
    [
        (HEROES, hero(name="x" * 100, secret_name="y" * 100)),
        (TEAMS, team(name="x" * 100, headquarters="y" * 200)),
    ],
    ids=["heroes", "teams"],
)
def test_text_of_the_longest_length_is_accepted(resource: Resource, data: dict[str, str]) -> None:
    assert record_form(resource, data).is_valid


# --- refusals -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("age", ["-1", "10001", "abc", "1.5", "99999999999999999999", "1_000", "٤٢", "+5", "1e3"])
def test_age_that_is_not_a_whole_number_in_range_is_refused(age: str) -> None:
    form = record_form(HEROES, hero(age=age))
    assert form.errors == {"age": AGE_MESSAGE}
    assert form.model is None
    assert form.values["age"] == age


@pytest.mark.parametrize("team_id", ["abc", "1.5", "٤", "1_0", "-", "x1"])
def test_team_id_that_is_not_a_number_is_refused(team_id: str) -> None:
    assert record_form(HEROES, hero(team_id=team_id)).errors == {"team_id": CHOOSE_TEAM}


@pytest.mark.parametrize(
    ("resource", "data", "field", "message"),
    [
        (HEROES, hero(name=""), "name", "Name is required."),
        (HEROES, hero(name="   "), "name", "Name is required."),
        (HEROES, {"secret_name": "Annie"}, "name", "Name is required."),
        (HEROES, hero(secret_name=""), "secret_name", "Secret name is required."),
        (HEROES, {"name": "Ann"}, "secret_name", "Secret name is required."),
        (TEAMS, team(name=" "), "name", "Name is required."),
        (TEAMS, {"name": "Avengers"}, "headquarters", "Headquarters is required."),
    ],
)
def test_blank_or_missing_required_field_is_refused(
    resource: Resource, data: dict[str, str], field: str, message: str
) -> None:
    form = record_form(resource, data)
    assert form.errors == {field: message}
    assert not form.is_valid


@pytest.mark.parametrize(
    ("resource", "data", "field", "message"),
    [
        (HEROES, hero(name="x" * 101), "name", "Name must be at most 100 characters."),
        (HEROES, hero(secret_name="x" * 101), "secret_name", "Secret name must be at most 100 characters."),
        (TEAMS, team(name="x" * 101), "name", "Name must be at most 100 characters."),
        (TEAMS, team(headquarters="x" * 201), "headquarters", "Headquarters must be at most 200 characters."),
    ],
)
def test_over_long_text_is_refused(resource: Resource, data: dict[str, str], field: str, message: str) -> None:
    assert record_form(resource, data).errors == {field: message}


@pytest.mark.parametrize("text", ["A\x00nn", "A\x07nn", "A\nnn", "A\x7fnn", "A\x85nn", "A\x9fnn"])
@pytest.mark.parametrize(
    ("resource", "field", "label"),
    [(HEROES, "name", "Name"), (HEROES, "secret_name", "Secret name"), (TEAMS, "headquarters", "Headquarters")],
)
def test_control_characters_are_refused(resource: Resource, field: str, label: str, text: str) -> None:
    data = hero(**{field: text}) if resource is HEROES else team(**{field: text})
    form = record_form(resource, data)
    assert form.errors == {field: f"{label} contains characters that are not allowed."}
    assert form.model is None


def test_every_invalid_field_gets_its_message() -> None:
    form = record_form(HEROES, {"name": "", "secret_name": "x" * 101, "age": "old", "team_id": "none"})
    assert form.errors == {
        "name": "Name is required.",
        "secret_name": "Secret name must be at most 100 characters.",
        "age": AGE_MESSAGE,
        "team_id": CHOOSE_TEAM,
    }


def test_control_character_message_wins_over_the_length_message() -> None:
    form = record_form(HEROES, hero(name="\x00" + "x" * 100))
    assert form.errors == {"name": "Name contains characters that are not allowed."}


# --- the searchable team picker (a name instead of an id) ---------------------------------------------------------


def test_picked_team_name_is_kept_for_the_lookup() -> None:
    form = record_form(HEROES, hero(team="  Avengers "))
    assert form.is_valid
    assert form.values["team"] == "Avengers"
    assert form.dump()["team_id"] is None


def test_form_sending_team_id_and_team_is_read_by_the_id() -> None:
    form = record_form(HEROES, hero(team_id="4", team="x" * 101))
    assert form.is_valid
    assert "team" not in form.values
    assert form.dump()["team_id"] == 4


def test_over_long_picked_team_name_is_refused() -> None:
    form = record_form(HEROES, hero(team="x" * 101))
    assert form.errors == {"team_id": "Team must be at most 100 characters."}
    assert form.values["team"] == "x" * 101
    assert form.model is None


@pytest.mark.parametrize("typed", ["Aven\x00gers", "Aven\x1bgers", "Aven\x9bgers"])
def test_picked_team_name_with_control_characters_is_refused(typed: str) -> None:
    form = record_form(HEROES, hero(team=typed))
    assert form.errors == {"team_id": "Team contains characters that are not allowed."}
    assert form.model is None


def test_picked_team_name_of_the_longest_length_is_accepted() -> None:
    assert record_form(HEROES, hero(team="x" * 100)).is_valid


# --- "No team" ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["No team", "no team", "NO TEAM", "  No Team  ", "nO tEaM"])
def test_team_named_no_team_is_refused(name: str) -> None:
    form = record_form(TEAMS, team(name=name))
    assert form.errors == {"name": NO_TEAM_NAME}
    assert form.model is None


@pytest.mark.parametrize("name", ["No teams", "No-team", "The No team"])
def test_team_named_like_no_team_is_accepted(name: str) -> None:
    assert record_form(TEAMS, team(name=name)).is_valid


def test_hero_named_no_team_is_accepted() -> None:
    assert record_form(HEROES, hero(name="No team")).is_valid


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("", True), ("No team", True), ("no team", True), ("NO TEAM", True), ("No teams", False), ("Avengers", False)],
)
def test_means_none_is_blank_or_no_team_in_any_case(typed: str, expected: bool) -> None:
    assert means_none(typed, "team") is expected

"""Every invalid value the HTTP tests of the hero and team forms once sent one request at a time, read here by the
form alone (webapp.forms.record_form, as the create and update handlers read what was posted): each is refused
with the message the form shows beside the field. A few of them still go through HTTP, in
tests/test_records_create.py, tests/test_records_edit.py and tests/test_heroes_forms.py, to prove the wiring."""

from __future__ import annotations

import pytest

from webapp.forms import record_form
from webapp.registry import HEROES, TEAMS

HERO = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": "48", "team_id": ""}
TEAM = {"name": "Preventers", "headquarters": "Sharp Tower"}
AGE = "Age must be a whole number from 0 to 10,000."

HERO_CASES = [
    ("name", "", "Name is required."),
    ("name", "   ", "Name is required."),
    ("name", "N" * 101, "Name must be at most 100 characters."),
    ("name", "Dead\x00pond", "Name contains characters that are not allowed."),
    ("name", "Dead\npond", "Name contains characters that are not allowed."),
    ("secret_name", "", "Secret name is required."),
    ("secret_name", "\t", "Secret name is required."),
    ("secret_name", "é" * 101, "Secret name must be at most 100 characters."),
    ("secret_name", "Dive\x1bWilson", "Secret name contains characters that are not allowed."),
    ("age", "-1", AGE),
    ("age", "10001", AGE),
    ("age", "abc", AGE),
    ("age", "1.5", AGE),
    ("age", "99999999999999999999", AGE),
    ("age", "1_000", AGE),
    ("age", "٤٢", AGE),
    ("age", "4\x00", "Age contains characters that are not allowed."),
    ("team_id", "1_0", "Choose a team from the list."),
    ("team_id", "x", "Choose a team from the list."),
]


@pytest.mark.parametrize(("field", "value", "message"), HERO_CASES)
def test_hero_form_refuses_the_value_with_its_message(field: str, value: str, message: str) -> None:
    form = record_form(HEROES, HERO | {field: value})
    assert form.errors == {field: message}
    assert form.model is None


TEAM_CASES = [
    pytest.param({"name": "", "headquarters": "Sharp Tower"}, "name", "Name is required.", id="blank-name"),
    pytest.param({"name": "   ", "headquarters": "Sharp Tower"}, "name", "Name is required.", id="spaces-name"),
    pytest.param({"headquarters": "Sharp Tower"}, "name", "Name is required.", id="missing-name"),
    pytest.param({"name": "Preventers", "headquarters": ""}, "headquarters", "Headquarters is required.", id="no-hq"),
    pytest.param(TEAM | {"name": "P" * 101}, "name", "Name must be at most 100 characters.", id="long-name"),
    pytest.param(
        TEAM | {"headquarters": "H" * 201}, "headquarters", "Headquarters must be at most 200 characters.", id="long-hq"
    ),
    pytest.param(
        TEAM | {"name": "Pre\x00venters"}, "name", "Name contains characters that are not allowed.", id="nul-name"
    ),
]


@pytest.mark.parametrize(("data", "field", "message"), TEAM_CASES)
def test_team_form_refuses_the_value_with_its_message(data: dict[str, str], field: str, message: str) -> None:
    form = record_form(TEAMS, data)
    assert form.errors == {field: message}
    assert form.model is None


@pytest.mark.parametrize("team_id", ["4242", "2147483648", "-1"])
def test_a_team_id_that_is_a_number_is_left_to_the_lookup(team_id: str) -> None:
    """Whether a team of that id is live is the database's to say: those still go through HTTP."""
    assert record_form(HEROES, HERO | {"team_id": team_id}).is_valid

"""An import file checked against the stored records it names (webapp.csvio.plan), with the stored records given
as plain values: what would be created, changed or left alone, every row error and its message, and the versions
carried from the dry run to the apply step."""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace

import pytest

from webapp.csvio import (
    BadFile,
    Change,
    ImportPlan,
    RowError,
    StoredRecord,
    Writer,
    export_cells,
    named,
    named_ids,
    plan,
    read,
    read_versions,
    write_versions,
)
from webapp.registry import HEROES

HEADER = "ID,Name,Secret name,Age,Team,Version"
ANN = {"name": "Ann", "secret_name": "Annie", "age": 30, "team_id": 5}
STORED = {
    1: StoredRecord("Ann", ANN, version=3, in_trash=False),
    2: StoredRecord("Bob", {"name": "Bob", "secret_name": "B", "age": None, "team_id": None}, version=1, in_trash=True),
}
TEAMS_BY_NAME = {"team_id": {"Avengers": 5, "X-Men": 6, "=Evil": 7}}


def check(*lines: str, header: str = HEADER, versions: Mapping[int, int] | None = None) -> ImportPlan:
    sheet = read(HEROES, "\n".join([header, *lines]) + "\n")
    return plan(HEROES, sheet, stored=STORED, names=TEAMS_BY_NAME, versions=versions)


def only_error(result: ImportPlan) -> RowError:
    assert result.changes == []
    assert len(result.errors) == 1
    return result.errors[0]


# --- new records --------------------------------------------------------------------------------------------------


def test_row_without_id_creates_a_hero() -> None:
    result = check(",Cleo,C,41,Avengers,")
    assert result.changes == [
        Change(2, None, None, {"name": "Cleo", "secret_name": "C", "age": 41, "team_id": 5}),
    ]
    assert (result.creates, result.updates, result.unchanged, result.errors) == (1, 0, 0, [])


def test_new_hero_history_lists_only_the_values_given() -> None:
    change = check(",Cleo,C,,,").changes[0]
    assert change.changes == {"name": [None, "Cleo"], "secret_name": [None, "C"]}


@pytest.mark.parametrize("team", ["", "No team", "no TEAM", "  No team  "])
def test_blank_or_no_team_means_no_team(team: str) -> None:
    assert check(f",Cleo,C,,{team},").changes[0].values["team_id"] is None


def test_team_name_neutralised_by_an_export_is_read_back() -> None:
    assert check(",Cleo,C,,'=Evil,").changes[0].values["team_id"] == 7


def test_hero_exported_with_a_formula_name_round_trips() -> None:
    row = SimpleNamespace(id=1, name="=Ann", secret_name="+A", age=30, team_name="=Evil", version=3)
    line = Writer().rows([export_cells(HEROES)(row)]).rstrip("\r\n")
    assert line == "1,'=Ann,'+A,30,'=Evil,3"
    change = check(line).changes[0]
    assert change.values == {"name": "=Ann", "secret_name": "+A", "age": 30, "team_id": 7}


# --- updates ------------------------------------------------------------------------------------------------------


def test_row_with_changes_updates_and_lists_the_changed_fields() -> None:
    result = check("1,Ann,Annie B,31,X-Men,3")
    assert result.changes == [
        Change(
            2,
            1,
            3,
            {"name": "Ann", "secret_name": "Annie B", "age": 31, "team_id": 6},
            ANN,
            ("Secret name", "Age", "Team"),
        )
    ]
    assert result.changes[0].changes == {"secret_name": ["Annie", "Annie B"], "age": [30, 31], "team_id": [5, 6]}
    assert (result.creates, result.updates) == (0, 1)


def test_row_matching_the_stored_record_is_counted_unchanged() -> None:
    result = check("1,Ann,Annie,30,Avengers,3")
    assert (result.changes, result.unchanged, result.errors) == ([], 1, [])


def test_columns_the_file_does_not_have_keep_their_stored_values() -> None:
    result = check("1,Anne", header="ID,Name")
    assert result.changes[0].values == {"name": "Anne", "secret_name": "Annie", "age": 30, "team_id": 5}
    assert result.changes[0].labels == ("Name",)


def test_clearing_the_team_and_age_is_a_change() -> None:
    change = check("1,Ann,Annie,,No team,3").changes[0]
    assert change.labels == ("Age", "Team")
    assert change.changes == {"age": [30, None], "team_id": [5, None]}


def test_surrounding_spaces_are_not_a_change() -> None:
    assert check("  1 , Ann ,Annie  , 30 , Avengers , 3 ").unchanged == 1


# --- rows refused -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "1.0", "٣"])
def test_id_that_is_not_a_hero_number_is_refused(raw: str) -> None:
    assert only_error(check(f"{raw},Ann,A,,,")) == RowError(
        2, "ID", "ID must be a hero’s number, or blank to create a new hero."
    )


def test_unknown_id_is_refused() -> None:
    message = "No hero has ID 9. Leave ID blank to create a new hero."
    assert only_error(check("9,Ann,A,,,")) == RowError(2, "ID", message)


def test_hero_in_the_trash_is_refused() -> None:
    assert only_error(check("2,Bob,B,,,")) == RowError(
        2, "ID", "Hero 2 (Bob) is in the trash. Restore it first, or leave ID blank to create one."
    )


def test_same_id_twice_is_refused_on_the_second_row() -> None:
    result = check("1,Ann,Annie,30,Avengers,3", "", "1,Ann,Annie,31,Avengers,3")
    assert result.unchanged == 1
    assert only_error(result) == RowError(4, "ID", "ID 1 is also on row 2: a hero can be in the file only once.")


def test_unknown_id_twice_is_refused_as_a_repeat_on_the_second_row() -> None:
    result = check("9,Ann,A,,,", "9,Ann,A,,,")
    assert result.errors[1] == RowError(3, "ID", "ID 9 is also on row 2: a hero can be in the file only once.")


@pytest.mark.parametrize(
    ("team", "shown"),
    [("Nobody", "Nobody"), ("avengers", "avengers"), ("'No team", "'No team"), ("x" * 101, "x" * 39 + "…")],
    ids=["unknown", "other-case", "quoted-no-team", "over-long"],
)
def test_unknown_team_name_is_refused(team: str, shown: str) -> None:
    assert only_error(check(f",Cleo,C,,{team},")) == RowError(2, "Team", f"No team is named “{shown}”.")


def test_field_errors_are_told_under_their_column_labels() -> None:
    result = check(",,C,old,,")
    assert result.errors == [
        RowError(2, "Name", "Name is required."),
        RowError(2, "Age", "Age must be a whole number from 0 to 10,000."),
    ]


def test_row_with_cells_in_unnamed_columns_is_refused() -> None:
    result = check(",Cleo,C,,,,surplus")
    assert only_error(result) == RowError(2, "", "This row has something in a column the header row does not name.")


def test_a_bad_row_does_not_stop_the_others() -> None:
    result = check(",,C,,,", ",Cleo,C,,,")
    assert [error.row for error in result.errors] == [2]
    assert [change.row for change in result.changes] == [3]


# --- versions -----------------------------------------------------------------------------------------------------


def test_version_that_no_longer_matches_is_a_conflict() -> None:
    assert only_error(check("1,Ann,Annie,31,Avengers,2")) == RowError(
        2,
        "Version",
        "Ann was changed since this file was exported. Export again, or leave Version blank to overwrite the change.",
        conflict=True,
    )


def test_a_plan_with_only_conflicts_says_so() -> None:
    assert check("1,Ann,Annie,31,Avengers,2").conflicts_only
    assert not check("1,Ann,Annie,31,Avengers,2", ",,C,,,").conflicts_only
    assert not check(",Cleo,C,,,").conflicts_only


@pytest.mark.parametrize("version", ["v3", "3.0", "-3"])
def test_version_that_is_not_a_number_is_refused(version: str) -> None:
    assert only_error(check(f"1,Ann,Annie,31,Avengers,{version}")) == RowError(
        2, "Version", "Version must be a whole number, as exported."
    )


def test_dry_run_records_the_versions_of_rows_without_version() -> None:
    result = check("1,Anne,Annie,30,Avengers,", versions=None)
    assert result.versions == {1: 3}
    assert result.changes[0].version == 3


def test_dry_run_records_the_version_of_unchanged_rows_too() -> None:
    assert check("1,Ann,Annie,30,Avengers,").versions == {1: 3}


def test_dry_run_records_no_version_for_rows_that_give_one() -> None:
    assert check("1,Anne,Annie,30,Avengers,3").versions == {}


def test_apply_step_accepts_rows_whose_record_did_not_move() -> None:
    result = check("1,Anne,Annie,30,Avengers,", versions={1: 3})
    assert [change.version for change in result.changes] == [3]
    assert result.errors == []


@pytest.mark.parametrize("seen", [{1: 2}, {}], ids=["moved", "not-checked"])
def test_apply_step_refuses_rows_whose_record_moved_since_the_check(seen: dict[int, int]) -> None:
    assert only_error(check("1,Anne,Annie,30,Avengers,", versions=seen)) == RowError(
        2, "", "Ann was changed by someone else after the file was checked.", conflict=True
    )


def test_versions_round_trip_through_the_apply_form() -> None:
    versions = {12: 3, 4: 1, 2_000_000: 999}
    assert write_versions(versions) == "4:1,12:3,2000000:999"
    assert read_versions(write_versions(versions)) == versions


def test_no_versions_is_an_empty_field() -> None:
    assert write_versions({}) == ""
    assert read_versions("") == {}


@pytest.mark.parametrize("text", ["1", "1:", ":3", "1:x", "a:1", "1:2:3", "1:-2", "1:2;3:4", "1:2,3", "1 : 2"])
def test_damaged_versions_are_refused(text: str) -> None:
    with pytest.raises(BadFile) as caught:
        read_versions(text)
    assert str(caught.value) == "The import form was damaged on the way. Check the file again."


# --- what the file names, to look up ------------------------------------------------------------------------------


def test_named_ids_are_the_well_formed_ids() -> None:
    sheet = read(HEROES, f"{HEADER}\n1,A,B,,,\n x ,A,B,,,\n,A,B,,,\n0042,A,B,,,\n")
    assert named_ids(sheet) == {1, 42}


def test_named_teams_leave_out_no_team_and_names_no_team_could_have() -> None:
    sheet = read(HEROES, f"{HEADER}\n,A,B,,Avengers,\n,A,B,,No team,\n,A,B,,,\n,A,B,,'=Evil,\n,A,B,,{'x' * 101},\n")
    assert named(HEROES, sheet) == {"team_id": {"Avengers", "=Evil"}}

"""An import file read into rows (webapp.csvio.read): the header row, delimiters, blank and extra cells, and every
file refused before any row is checked, with the message a person sees."""

from __future__ import annotations

import pytest

from webapp import csvio
from webapp.csvio import BadFile, Row, Sheet, export_header, import_columns, read
from webapp.registry import HEROES, TEAMS
from webapp.resource import Resource

HERO_COLUMNS = "ID, Name, Secret name, Age, Team and Version"
NOT_OURS = "The header row names a column “{}” that heroes do not have. The columns are " + HERO_COLUMNS + "."


def refusal(text: str, resource: Resource = HEROES) -> str:
    with pytest.raises(BadFile) as caught:
        read(resource, text)
    return str(caught.value)


# --- the header row -----------------------------------------------------------------------------------------------


def test_export_header_reads_back_as_every_column() -> None:
    sheet = read(HEROES, ",".join(export_header(HEROES)) + "\r\n1,Ann,Annie,30,Avengers,2\r\n")
    assert sheet.columns == {"id", "name", "secret name", "age", "team", "version"}
    assert sheet.rows == [
        Row(2, {"id": "1", "name": "Ann", "secret name": "Annie", "age": "30", "team": "Avengers", "version": "2"})
    ]


@pytest.mark.parametrize(
    "header", ["secret_name", "Secret Name", "SECRET NAME", "  secret   name ", "Secret_Name", "secret__name"]
)
def test_header_names_are_read_whatever_their_case_spacing_or_underscores(header: str) -> None:
    sheet = read(HEROES, f"Name,{header}\nAnn,Annie\n")
    assert sheet.rows[0].cells == {"name": "Ann", "secret name": "Annie"}


def test_columns_may_come_in_any_order_and_any_subset_with_name() -> None:
    sheet = read(HEROES, "Age,Name\n30,Ann\n")
    assert sheet.columns == {"age", "name"}
    assert sheet.rows[0].cells == {"age": "30", "name": "Ann"}


def test_teams_import_columns_are_its_fields() -> None:
    assert import_columns(TEAMS) == {"id": "ID", "name": "Name", "headquarters": "Headquarters", "version": "Version"}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Name,Power", NOT_OURS.format("Power")),
        ("Name,Team ID", NOT_OURS.format("Team ID")),
        ("Name,Bad\x07Name", NOT_OURS.format("Bad�Name")),
        ("Name," + "x" * 60, NOT_OURS.format("x" * 39 + "…")),
    ],
    ids=["unknown", "id-of-a-field", "control-character", "over-long"],
)
def test_unknown_column_is_refused_and_the_columns_listed(header: str, message: str) -> None:
    assert refusal(f"{header}\nAnn,x\n") == message


@pytest.mark.parametrize(
    ("header", "label"),
    [("Name,name", "Name"), ("Name,Age,AGE", "Age"), ("Name,Secret name,secret_name", "Secret name")],
)
def test_a_column_named_twice_is_refused(header: str, label: str) -> None:
    assert refusal(f"{header}\nAnn,x,y\n") == f"The header row names the column “{label}” twice."


@pytest.mark.parametrize("header", ["Secret name,Age", "ID", "ID,,Version"])
def test_a_file_without_a_name_column_is_refused(header: str) -> None:
    assert refusal(f"{header}\nx,y\n") == (
        f"The file has no Name column. Its first row must name the columns: {HERO_COLUMNS} (Name is required)."
    )


def test_teams_file_without_a_name_column_lists_the_teams_columns() -> None:
    assert refusal("Headquarters\nTower\n", TEAMS) == (
        "The file has no Name column. Its first row must name the columns: ID, Name, Headquarters and Version "
        "(Name is required)."
    )


def test_teams_file_naming_a_hero_column_is_refused() -> None:
    assert refusal("Name,Age\nAvengers,3\n", TEAMS) == (
        "The header row names a column “Age” that teams do not have. The columns are ID, Name, Headquarters and "
        "Version."
    )


# --- rows ---------------------------------------------------------------------------------------------------------


def test_blank_rows_are_skipped_and_the_rest_keep_their_numbers() -> None:
    sheet = read(HEROES, "\n Name , Age \n\nAnn,30\n , \n,,,\nBob,\n")
    assert [(row.number, row.cells) for row in sheet.rows] == [
        (4, {"name": "Ann", "age": "30"}),
        (7, {"name": "Bob", "age": ""}),
    ]


def test_a_row_shorter_than_the_header_has_only_its_cells() -> None:
    assert read(HEROES, "Name,Secret name,Age\nAnn\n").rows == [Row(2, {"name": "Ann"})]


@pytest.mark.parametrize(
    ("text", "extra"),
    [
        ("Name,Age\nAnn,30,surplus\n", True),
        ("Name,,Age\nAnn,surplus,30\n", True),
        ("Name,Age\nAnn,30,,  \n", False),
        ("Name,,Age\nAnn, ,30\n", False),
    ],
    ids=["past-the-header", "under-a-blank-header", "blank-past-the-header", "blank-under-a-blank-header"],
)
def test_cells_in_unnamed_columns_flag_the_row(text: str, extra: bool) -> None:
    row = read(HEROES, text).rows[0]
    assert row.extra is extra
    assert row.cells == {"name": "Ann", "age": "30"}


def test_a_blank_header_cell_is_not_a_column() -> None:
    assert read(HEROES, "Name,,Age\nAnn,,30\n").columns == {"name", "age"}


@pytest.mark.parametrize(
    ("text", "cells"),
    [
        ("Name;Secret name;Age\nAnn;Annie, the first;30\n", {"name": "Ann", "secret name": "Annie, the first"}),
        ("Name\tSecret name\tAge\nAnn\tAnnie; the first\t30\n", {"name": "Ann", "secret name": "Annie; the first"}),
        ("Name,Secret name,Age\nAnn,Annie; the first,30\n", {"name": "Ann", "secret name": "Annie; the first"}),
    ],
    ids=["semicolons", "tabs", "commas"],
)
def test_delimiter_is_read_from_the_header(text: str, cells: dict[str, str]) -> None:
    assert read(HEROES, text).rows[0].cells == {**cells, "age": "30"}


def test_delimiter_is_read_from_the_first_line_that_is_not_blank() -> None:
    assert read(HEROES, "\n\nName;Age\nAnn;30\n").rows == [Row(4, {"name": "Ann", "age": "30"})]


def test_quoted_cells_may_hold_delimiters_quotes_and_line_breaks() -> None:
    sheet = read(HEROES, 'Name,Secret name\n"Ann, ""the"" first","two\r\nlines"\nBob,B\n')
    assert sheet.rows == [
        Row(2, {"name": 'Ann, "the" first', "secret name": "two\r\nlines"}),
        Row(3, {"name": "Bob", "secret name": "B"}),
    ]


def test_cells_are_kept_as_typed() -> None:
    # Trimming and formula quotes are the plan's to read (a cell's spaces are not the reader's business).
    assert read(HEROES, "Name,Secret name\n  Ann ,'=x\n").rows[0].cells == {"name": "  Ann ", "secret name": "'=x"}


# --- files refused whole ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "\r\n \r\n", ",,,\n , \n"], ids=repr)
def test_an_empty_file_is_refused(text: str) -> None:
    assert refusal(text) == "The file is empty."


@pytest.mark.parametrize(("resource", "noun"), [(HEROES, "heroes"), (TEAMS, "teams")])
def test_a_header_without_rows_is_refused(resource: Resource, noun: str) -> None:
    assert refusal("Name\n\n,\n", resource) == f"The file has a header row but no {noun} under it."


@pytest.mark.parametrize("text", ["Name\nAnn\x00\n", "\x00", "Name,Age\nAnn,3\x00\n"])
def test_a_file_holding_nul_is_refused_as_binary(text: str) -> None:
    assert refusal(text) == "This is not a CSV file: it holds binary data. Choose a CSV file (UTF-8 text)."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('Name\n"Ann\n', "The file is not valid CSV: unexpected end of data (line 2)."),
        ('Name,Age\nBob,1\n"Ann"x,3\n', "The file is not valid CSV: ',' expected after '\"' (line 3)."),
    ],
    ids=["unclosed-quote", "text-after-closing-quote"],
)
def test_broken_quoting_is_refused_with_its_line(text: str, message: str) -> None:
    assert refusal(text) == message


def test_the_row_limit_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvio, "IMPORT_ROWS_MAX", 3)
    assert len(read(HEROES, "Name\nA\nB\n\nC\n").rows) == 3


def test_more_rows_than_the_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvio, "IMPORT_ROWS_MAX", 3)
    assert refusal("Name\nA\nB\nC\nD\n") == (
        "The file has more than 3 rows. Split it into files of at most 3 rows and import them one at a time."
    )


def test_row_limit_message_groups_thousands() -> None:
    text = "Name\n" + "A\n" * (csvio.IMPORT_ROWS_MAX + 1)
    assert refusal(text) == (
        "The file has more than 10,000 rows. Split it into files of at most 10,000 rows and import them one at a time."
    )


def test_sheet_is_rows_and_columns() -> None:
    assert read(TEAMS, "Name,Headquarters\nAvengers,Tower\n") == Sheet(
        [Row(2, {"name": "Avengers", "headquarters": "Tower"})], frozenset({"name", "headquarters"})
    )

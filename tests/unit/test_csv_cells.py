"""CSV cells out and files in (webapp.csvio): formulas neutralised and restored, an export's header and rows for
each resource, the writer's format, and how an uploaded file is decoded. No database, no server."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest

from webapp.csvio import FORMULA_STARTS, BadFile, Writer, decode, export_cells, export_header, neutralise, original_text
from webapp.registry import HEROES, TEAMS


def hero_row(**attrs: object) -> SimpleNamespace:
    """A row of the heroes list's query, as export_cells reads it."""
    defaults = {"id": 1, "name": "Ann", "secret_name": "Annie", "age": 30, "team_name": "Avengers", "version": 2}
    return SimpleNamespace(**(defaults | attrs))


def team_row(**attrs: object) -> SimpleNamespace:
    defaults = {"id": 5, "name": "Avengers", "headquarters": "Tower", "hero_count": 3, "version": 1}
    return SimpleNamespace(**(defaults | attrs))


# --- neutralising formulas ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\0"])
def test_every_spreadsheet_formula_start_is_neutralised(start: str) -> None:
    # Spelled out rather than read from FORMULA_STARTS, so that shortening it fails here.
    assert neutralise(start + "cmd") == "'" + start + "cmd"


@pytest.mark.parametrize("text", ["Ann", "", "1+1", " =x", "a=b", "Zoë", "#1", "Ann's"])
def test_ordinary_text_is_left_as_it_is(text: str) -> None:
    assert neutralise(text) == text


@pytest.mark.parametrize("text", ["'", "''", "'quoted", "'=x", "''=x", "'Ann'"])
def test_text_already_starting_with_a_quote_gets_one_more(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    [*(start + "SUM(A1)" for start in FORMULA_STARTS), "'", "''", "'quoted", "'=x", "Ann", "", "-", "=", "@"],
)
def test_restore_gives_back_what_neutralise_was_given(text: str) -> None:
    assert original_text(neutralise(text)) == text


@pytest.mark.parametrize("cell", ["'Ann", "'", "it's", "Ann"])
def test_restore_keeps_a_quote_no_export_would_have_added(cell: str) -> None:
    assert original_text(cell) == cell


# --- exports ------------------------------------------------------------------------------------------------------


def test_heroes_export_header() -> None:
    assert export_header(HEROES) == ("ID", "Name", "Secret name", "Age", "Team", "Version")


def test_teams_export_header() -> None:
    assert export_header(TEAMS) == ("ID", "Name", "Headquarters", "Heroes", "Version")


def test_hero_export_row_keeps_numbers_as_numbers() -> None:
    assert export_cells(HEROES)(hero_row()) == (1, "Ann", "Annie", 30, "Avengers", 2)


def test_team_export_row_keeps_numbers_as_numbers() -> None:
    assert export_cells(TEAMS)(team_row()) == (5, "Avengers", "Tower", 3, 1)


def test_missing_values_are_empty_cells() -> None:
    assert export_cells(HEROES)(hero_row(age=None, team_name=None)) == (1, "Ann", "Annie", "", "", 2)


def test_zero_stays_a_number() -> None:
    assert export_cells(HEROES)(hero_row(age=0))[3] == 0
    assert export_cells(TEAMS)(team_row(hero_count=0))[3] == 0


def test_hero_text_cells_are_neutralised() -> None:
    row = hero_row(name="=HYPERLINK()", secret_name="+1", team_name="@team")
    assert export_cells(HEROES)(row) == (1, "'=HYPERLINK()", "'+1", 30, "'@team", 2)


def test_team_text_cells_are_neutralised() -> None:
    assert export_cells(TEAMS)(team_row(name="-Avengers", headquarters="'Tower")) == (5, "'-Avengers", "''Tower", 3, 1)


def test_export_row_has_a_cell_under_every_header() -> None:
    assert len(export_cells(HEROES)(hero_row())) == len(export_header(HEROES))
    assert len(export_cells(TEAMS)(team_row())) == len(export_header(TEAMS))


# --- the writer ---------------------------------------------------------------------------------------------------


def test_writer_ends_rows_with_crlf() -> None:
    assert Writer().rows([("ID", "Name"), (1, "Ann")]) == "ID,Name\r\n1,Ann\r\n"


def test_writer_quotes_only_cells_that_need_it() -> None:
    text = Writer().rows([(1, "a,b", 'say "hi"', "two\nlines", "", "plain")])
    assert text == '1,"a,b","say ""hi""","two\nlines",,plain\r\n'


def test_writer_gives_each_chunk_once() -> None:
    writer = Writer()
    assert writer.rows([("a",)]) == "a\r\n"
    assert writer.rows([("b",), ("c",)]) == "b\r\nc\r\n"
    assert writer.rows([]) == ""


def test_written_rows_read_back_as_written() -> None:
    rows = [("ID", "Name"), ("1", "a,b"), ("2", 'q"uote'), ("3", "line\r\nbreak")]
    text = Writer().rows(rows)
    assert [tuple(row) for row in csv.reader(io.StringIO(text, newline=""))] == rows


# --- decoding an upload -------------------------------------------------------------------------------------------


def test_decode_reads_utf8() -> None:
    assert decode("Name\nZoë\n".encode()) == "Name\nZoë\n"


def test_decode_drops_the_byte_order_mark() -> None:
    assert decode("\ufeffName\nZoë\n".encode()) == "Name\nZoë\n"


@pytest.mark.parametrize(
    "raw", ["Name\nZoë\n".encode("latin-1"), "Name\n".encode("utf-16"), b"\xff\xfe\x00"], ids=["latin1", "utf16", "bad"]
)
def test_decode_refuses_text_that_is_not_utf8(raw: bytes) -> None:
    with pytest.raises(BadFile) as caught:
        decode(raw)
    assert str(caught.value) == "The file is not UTF-8 text. Save it as “CSV UTF-8” and import that."


def test_decode_refuses_a_spreadsheet_workbook() -> None:
    # An .xlsx is a zip archive; its first bytes are ASCII and would otherwise decode.
    with pytest.raises(BadFile) as caught:
        decode(b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml")
    assert str(caught.value) == (
        "This is a spreadsheet workbook, not a CSV file. Save it as “CSV UTF-8” and import that."
    )

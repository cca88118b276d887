"""CSV in and out, without the database: export rows with spreadsheet formulas neutralised, and an import file
read into rows and checked against the stored heroes it names (webapp.controllers.transfer looks those up and
writes the changes).

Exports start with a UTF-8 byte order mark: Excel reads a CSV as UTF-8 only when it has one (otherwise it guesses
the system's code page and mangles every accent); other readers skip it, and the import accepts files with or
without it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from webapp.forms import HERO_FIELDS, LABELS, hero_form, whole_number
from webapp.listing import NO_TEAM
from webapp.models import NAME_MAX

BOM = "\ufeff"
HERO_HEADER = ("ID", "Name", "Secret name", "Age", "Team", "Version")
TEAM_HEADER = ("ID", "Name", "Headquarters", "Heroes", "Version")
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP CSV injection,
# ASVS 1.2.10): such cells are written with a leading single quote, which spreadsheets take as "this is text".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
QUOTE = "'"
IMPORT_ROWS_MAX = 10_000
# Column keys: a header cell, case and spacing aside ("secret_name" too), names one of these.
COLUMNS = {"id": "ID", "name": "Name", "secret name": "Secret name", "age": "Age", "team": "Team", "version": "Version"}
COLUMN_LIST = "ID, Name, Secret name, Age, Team and Version"


def neutralise(text: str) -> str:
    """A text cell as exported. A value that already starts with a quote gets one more, so `restore` gives back
    exactly what is stored."""
    return QUOTE + text if text.startswith((*FORMULA_STARTS, QUOTE)) else text


def restore(cell: str) -> str:
    """The text a cell stands for: without the quote `neutralise` put before it."""
    return cell[1:] if cell.startswith(QUOTE) and cell[1:].startswith((*FORMULA_STARTS, QUOTE)) else cell


def hero_cells(row: Any) -> tuple[object, ...]:
    """An export row from a row of queries.ordered_heroes. Numbers are ours, not user text: they stay numbers."""
    age = "" if row.age is None else row.age
    return (
        row.id,
        neutralise(row.name),
        neutralise(row.secret_name),
        age,
        neutralise(row.team_name or ""),
        row.version,
    )


def team_cells(row: Any) -> tuple[object, ...]:
    """An export row from a row of queries.ordered_teams."""
    return (row.id, neutralise(row.name), neutralise(row.headquarters), row.hero_count, row.version)


class Writer:
    """CSV text a chunk at a time (RFC 4180: minimal quoting, CRLF), through a buffer each chunk empties."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def rows(self, rows: Iterable[Sequence[object]]) -> str:
        self._writer.writerows(rows)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text


# --- reading an import file -----------------------------------------------------------------------------------


class BadFile(Exception):
    """A file that cannot be imported at all; the message tells a person why and what to do."""


class TooLarge(BadFile):
    """A file over the size an import takes."""


@dataclass(frozen=True)
class Row:
    """A data row: its row number as a spreadsheet shows it (the header is row 1) and its cells by column key."""

    number: int
    cells: dict[str, str]
    extra: bool = False
    """It has something in a cell no header names."""


@dataclass(frozen=True)
class Sheet:
    rows: list[Row]
    columns: frozenset[str]


def decode(raw: bytes) -> str:
    """The file as text: UTF-8 (with or without a byte order mark), and not a binary file that happens to decode."""
    if raw.startswith(b"PK\x03\x04"):
        raise BadFile("This is a spreadsheet workbook, not a CSV file. Save it as “CSV UTF-8” and import that.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile("The file is not UTF-8 text. Save it as “CSV UTF-8” and import that.") from None


def _delimiter(text: str) -> str:
    """Commas, or what spreadsheets set to some languages write instead: semicolons (or tabs) in the header."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    if "," not in header:
        for candidate in (";", "\t"):
            if candidate in header:
                return candidate
    return ","


def _shown(cell: str) -> str:
    """A header cell as quoted back in a message: short, and without control characters."""
    text = "".join(char if char.isprintable() else "�" for char in cell.strip())
    return text if len(text) <= 40 else text[:39] + "…"


def _header(cells: list[str]) -> list[str | None]:
    """Each header cell's column key (None for a blank cell: that column is not read)."""
    keys: list[str | None] = []
    for cell in cells:
        name = " ".join(cell.replace("_", " ").split()).casefold()
        if not name:
            keys.append(None)
        elif name not in COLUMNS:
            raise BadFile(
                f"The header row names a column “{_shown(cell)}” that heroes do not have. "
                f"The columns are {COLUMN_LIST}."
            )
        elif name in keys:
            raise BadFile(f"The header row names the column “{COLUMNS[name]}” twice.")
        else:
            keys.append(name)
    if "name" not in keys:
        raise BadFile(
            f"The file has no Name column. Its first row must name the columns: {COLUMN_LIST} (Name is required)."
        )
    return keys


def read(text: str) -> Sheet:
    """The rows of an import file. Blank rows are skipped (they keep their numbers); a broken file, a header
    that is not ours, no rows or too many are a BadFile."""
    if not text.strip():
        raise BadFile("The file is empty.")
    if "\0" in text:  # text never holds NUL (and PostgreSQL would refuse it in a lookup)
        raise BadFile("This is not a CSV file: it holds binary data. Choose a CSV file (UTF-8 text).")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    keys: list[str | None] | None = None
    rows: list[Row] = []
    try:
        for number, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                continue
            if keys is None:
                keys = _header(cells)
                continue
            if len(rows) == IMPORT_ROWS_MAX:
                raise BadFile(
                    f"The file has more than {IMPORT_ROWS_MAX:,} rows. Split it into files of at most "
                    f"{IMPORT_ROWS_MAX:,} rows and import them one at a time."
                )
            named = {key: cell for key, cell in zip(keys, cells, strict=False) if key is not None}
            unnamed = [cell for key, cell in zip(keys, cells, strict=False) if key is None] + cells[len(keys) :]
            rows.append(Row(number, named, extra=any(cell.strip() for cell in unnamed)))
    except csv.Error as exc:
        raise BadFile(f"The file is not valid CSV: {exc} (line {reader.line_num}).") from None
    if keys is None:
        raise BadFile("The file is empty.")
    if not rows:
        raise BadFile("The file has a header row but no heroes under it.")
    return Sheet(rows, frozenset(key for key in keys if key is not None))


# --- checking the rows against what is stored -------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """A hero as stored, for checking the row that names it."""

    name: str
    secret_name: str
    age: int | None
    team_id: int | None
    version: int
    in_trash: bool

    def values(self) -> dict[str, Any]:
        return {"name": self.name, "secret_name": self.secret_name, "age": self.age, "team_id": self.team_id}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str
    conflict: bool = False
    """The hero changed since the file was exported or checked (the rest of the row may be fine)."""


@dataclass(frozen=True)
class Change:
    """A row to apply: a new hero (hero_id None), or these values on top of the version the file was made from."""

    row: int
    hero_id: int | None
    version: int | None
    values: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)
    """An update's stored values."""

    @property
    def changes(self) -> dict[str, list[Any]]:
        """{field: [before, after]}, as a history entry holds it (a new hero's "before" is None)."""
        return {
            name: [self.before.get(name), value]
            for name, value in self.values.items()
            if value != self.before.get(name) and (self.hero_id is not None or value is not None)
        }

    @property
    def fields(self) -> list[str]:
        return [LABELS[name] for name in self.changes]


@dataclass
class Plan:
    """What an import would do, row by row, or why it cannot."""

    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    versions: dict[int, int] = field(default_factory=dict)
    """The versions seen for rows that name a hero but give no Version: the apply step holds them to these."""

    @property
    def creates(self) -> int:
        return sum(1 for change in self.changes if change.hero_id is None)

    @property
    def updates(self) -> int:
        return len(self.changes) - self.creates

    @property
    def conflicts_only(self) -> bool:
        return bool(self.errors) and all(error.conflict for error in self.errors)


def _cell(row: Row, key: str) -> str:
    return row.cells.get(key, "").strip()


def named_ids(sheet: Sheet) -> set[int]:
    """The hero ids the file names (those that are well formed)."""
    return {hero_id for row in sheet.rows if (hero_id := whole_number(_cell(row, "id"))) is not None}


def _team_name(row: Row) -> str:
    return restore(_cell(row, "team"))


def named_teams(sheet: Sheet) -> set[str]:
    """The team names the file gives that could be a team's (to look up; the rest are errors anyway)."""
    names = {_team_name(row) for row in sheet.rows}
    return {name for name in names if name and name.casefold() != NO_TEAM.casefold() and len(name) <= NAME_MAX}


def plan(
    sheet: Sheet, *, stored: Mapping[int, Stored], teams: Mapping[str, int], versions: Mapping[int, int] | None
) -> Plan:
    """Check every row. `stored`: the heroes the file names, `teams`: live teams by exact name. `versions` is
    None for the dry run; the apply step passes the versions the dry run saw."""
    result = Plan()
    first_row: dict[int, int] = {}
    for row in sheet.rows:
        _check(row, sheet, stored, teams, versions, first_row, result)
    return result


def _target(row: Row, stored: Mapping[int, Stored], first_row: dict[int, int]) -> tuple[int | None, RowError | None]:
    """The hero a row names: (None, None) for a new one, or the error that makes the row unusable."""
    raw = _cell(row, "id")
    if not raw:
        return None, None
    hero_id = whole_number(raw)
    if hero_id is None or hero_id == 0:
        return None, RowError(row.number, "ID", "ID must be a hero’s number, or blank to create a new hero.")
    if hero_id in first_row:
        message = f"ID {hero_id} is also on row {first_row[hero_id]}: a hero can be in the file only once."
        return None, RowError(row.number, "ID", message)
    first_row[hero_id] = row.number
    current = stored.get(hero_id)
    if current is None:
        return None, RowError(row.number, "ID", f"No hero has ID {hero_id}. Leave ID blank to create a new hero.")
    if current.in_trash:
        message = f"Hero {hero_id} ({current.name}) is in the trash. Restore it first, or leave ID blank to create one."
        return None, RowError(row.number, "ID", message)
    return hero_id, None


def _values(
    row: Row, sheet: Sheet, current: Stored | None, teams: Mapping[str, int]
) -> dict[str, Any] | list[RowError]:
    """The hero's values after this row: a column the file does not have leaves the stored value as it is."""
    before = current.values() if current is not None else {}
    data = {name: "" if before.get(name) is None else str(before[name]) for name in HERO_FIELDS}
    errors: list[RowError] = []
    for name in ("name", "secret_name"):
        key = name.replace("_", " ")
        if key in sheet.columns:
            data[name] = restore(_cell(row, key))
    if "age" in sheet.columns:
        data["age"] = _cell(row, "age")
    if "team" in sheet.columns:
        typed = _team_name(row)
        data["team_id"] = ""
        if typed and typed.casefold() != NO_TEAM.casefold():
            if typed in teams:
                data["team_id"] = str(teams[typed])
            else:
                errors.append(RowError(row.number, "Team", f"No team is named “{_shown(typed)}”."))
    form = hero_form(data)
    errors += [RowError(row.number, LABELS[name], message) for name, message in form.errors.items()]
    if errors or form.model is None:
        return errors
    return form.model.model_dump()


def _version(
    row: Row, hero_id: int, current: Stored, versions: Mapping[int, int] | None, result: Plan
) -> tuple[int | None, RowError | None]:
    """The version the row was made from, and the error when the hero has changed since."""
    given = _cell(row, "version")
    if given:
        seen = whole_number(given)
        if seen is None:
            return None, RowError(row.number, "Version", "Version must be a whole number, as exported.")
        if seen != current.version:
            message = (
                f"{current.name} was changed since this file was exported. Export again, or leave Version blank "
                "to overwrite the change."
            )
            return None, RowError(row.number, "Version", message, conflict=True)
        return seen, None
    if versions is None:
        result.versions[hero_id] = current.version
        return current.version, None
    seen = versions.get(hero_id)
    if seen != current.version:
        message = f"{current.name} was changed by someone else after the file was checked."
        return None, RowError(row.number, "", message, conflict=True)
    return seen, None


def _check(
    row: Row,
    sheet: Sheet,
    stored: Mapping[int, Stored],
    teams: Mapping[str, int],
    versions: Mapping[int, int] | None,
    first_row: dict[int, int],
    result: Plan,
) -> None:
    errors: list[RowError] = []
    if row.extra:
        errors.append(RowError(row.number, "", "This row has something in a column the header row does not name."))
    hero_id, target_error = _target(row, stored, first_row)
    if target_error is not None:
        result.errors += [*errors, target_error]
        return
    current = stored[hero_id] if hero_id is not None else None
    values = _values(row, sheet, current, teams)
    if isinstance(values, list):
        errors += values
    version = None
    if hero_id is not None and current is not None:
        version, version_error = _version(row, hero_id, current, versions, result)
        if version_error is not None:
            errors.append(version_error)
    if errors or isinstance(values, list):
        result.errors += errors
        return
    if current is None:
        result.changes.append(Change(row.number, None, None, values))
        return
    change = Change(row.number, hero_id, version, values, current.values())
    if change.changes:
        result.changes.append(change)
    else:
        result.unchanged += 1


# --- the versions the dry run saw, carried to the apply step ----------------------------------------------------


def write_versions(versions: Mapping[int, int]) -> str:
    return ",".join(f"{hero_id}:{version}" for hero_id, version in sorted(versions.items()))


def read_versions(text: str) -> dict[int, int]:
    """The apply form's versions; a form that was tampered with (or cut short) is a BadFile."""
    versions: dict[int, int] = {}
    for pair in filter(None, text.split(",")):
        hero_id, _, version = pair.partition(":")
        parsed = whole_number(hero_id), whole_number(version)
        if parsed[0] is None or parsed[1] is None:
            raise BadFile("The import form was damaged on the way. Check the file again.")
        versions[parsed[0]] = parsed[1]
    return versions

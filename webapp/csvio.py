"""CSV in and out, without the database: export rows with spreadsheet formulas neutralised, and an import file
read into rows and checked against the stored records it names (webapp.data.imports looks those up and writes
the changes). The columns are the resource's: ID, its fields by label, Version.

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

from webapp.forms import means_none, record_form
from webapp.models import NAME_MAX
from webapp.numbers import whole_number
from webapp.resource import Resource

BOM = "\ufeff"
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP CSV injection,
# ASVS 1.2.10): such cells are written with a leading single quote, which spreadsheets take as "this is text".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
QUOTE = "'"
IMPORT_ROWS_MAX = 10_000


def neutralise(text: str) -> str:
    """A text cell as exported. A value that already starts with a quote gets one more, so `restore` gives back
    exactly what is stored."""
    return QUOTE + text if text.startswith((*FORMULA_STARTS, QUOTE)) else text


def original_text(cell: str) -> str:
    """The text a cell stands for: without the quote `neutralise` put before it."""
    return cell[1:] if cell.startswith(QUOTE) and cell[1:].startswith((*FORMULA_STARTS, QUOTE)) else cell


def export_header(resource: Resource) -> tuple[str, ...]:
    """An export's header row: ID, Name, the list's other columns, Version (what the import reads back)."""
    return ("ID", "Name", *(column.label for column in resource.columns), "Version")


def export_cells(resource: Resource) -> Any:
    """A function making an export row from a row of the list's query. Numbers are ours, not user text: they
    stay numbers; a missing value is an empty cell."""
    attrs = [(column.attr, column.numeric) for column in resource.columns]

    def cells(row: Any) -> tuple[object, ...]:
        shown = [getattr(row, attr) for attr, _numeric in attrs]
        middle = [
            "" if value is None else value if numeric else neutralise(str(value))
            for value, (_attr, numeric) in zip(shown, attrs, strict=True)
        ]
        return (row.id, neutralise(row.name), *middle, row.version)

    return cells


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


def import_columns(resource: Resource) -> dict[str, str]:
    """An import file's column keys (a header cell, case and spacing aside, "secret_name" too) and labels."""
    return {"id": "ID", **{spec.label.casefold(): spec.label for spec in resource.fields}, "version": "Version"}


def _column_list(columns: dict[str, str]) -> str:
    labels = list(columns.values())
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _header(resource: Resource, cells: list[str]) -> list[str | None]:
    """Each header cell's column key (None for a blank cell: that column is not read)."""
    columns = import_columns(resource)
    keys: list[str | None] = []
    for cell in cells:
        name = " ".join(cell.replace("_", " ").split()).casefold()
        if not name:
            keys.append(None)
        elif name not in columns:
            raise BadFile(
                f"The header row names a column “{_shown(cell)}” that {resource.plural} do not have. "
                f"The columns are {_column_list(columns)}."
            )
        elif name in keys:
            raise BadFile(f"The header row names the column “{columns[name]}” twice.")
        else:
            keys.append(name)
    if "name" not in keys:
        raise BadFile(
            f"The file has no Name column. Its first row must name the columns: {_column_list(columns)} "
            "(Name is required)."
        )
    return keys


def read(resource: Resource, text: str) -> Sheet:
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
                keys = _header(resource, cells)
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
        raise BadFile(f"The file has a header row but no {resource.plural} under it.")
    return Sheet(rows, frozenset(key for key in keys if key is not None))


# --- checking the rows against what is stored -------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRecord:
    """A record as stored, for checking the row that names it."""

    name: str
    values: dict[str, Any]
    version: int
    in_trash: bool


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str
    conflict: bool = False
    """The record changed since the file was exported or checked (the rest of the row may be fine)."""


@dataclass(frozen=True)
class Change:
    """A row to apply: a new record (record_id None), or these values on top of the version the file was made
    from. `labels` names the changed fields as the page lists them."""

    row: int
    record_id: int | None
    version: int | None
    values: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)
    """An update's stored values."""
    labels: tuple[str, ...] = ()

    @property
    def changes(self) -> dict[str, list[Any]]:
        """{field: [before, after]}, as a history entry holds it (a new record's "before" is None)."""
        return {
            name: [self.before.get(name), value]
            for name, value in self.values.items()
            if value != self.before.get(name) and (self.record_id is not None or value is not None)
        }


@dataclass
class ImportPlan:
    """What an import would do, row by row, or why it cannot."""

    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    versions: dict[int, int] = field(default_factory=dict)
    """The versions seen for rows that name a record but give no Version: the apply step holds them to these."""

    @property
    def creates(self) -> int:
        return sum(1 for change in self.changes if change.record_id is None)

    @property
    def updates(self) -> int:
        return len(self.changes) - self.creates

    @property
    def conflicts_only(self) -> bool:
        return bool(self.errors) and all(error.conflict for error in self.errors)


def _cell(row: Row, key: str) -> str:
    return row.cells.get(key, "").strip()


def named_ids(sheet: Sheet) -> set[int]:
    """The record ids the file names (those that are well formed)."""
    return {record_id for row in sheet.rows if (record_id := whole_number(_cell(row, "id"))) is not None}


def named(resource: Resource, sheet: Sheet) -> dict[str, set[str]]:
    """{reference field: the names the file gives that could be a record's} (to look up; the rest are errors
    anyway)."""
    found: dict[str, set[str]] = {}
    for spec in resource.references:
        assert spec.references is not None
        names = {original_text(_cell(row, spec.label.casefold())) for row in sheet.rows}
        found[spec.name] = {name for name in names if not means_none(name, spec.references) and len(name) <= NAME_MAX}
    return found


@dataclass
class _Check:
    """One pass over a file: what it is checked against, and what it found so far."""

    resource: Resource
    sheet: Sheet
    stored: Mapping[int, StoredRecord]
    names: Mapping[str, Mapping[str, int]]
    versions: Mapping[int, int] | None
    result: ImportPlan = field(default_factory=ImportPlan)
    first_row: dict[int, int] = field(default_factory=dict)


def plan(
    resource: Resource,
    sheet: Sheet,
    *,
    stored: Mapping[int, StoredRecord],
    names: Mapping[str, Mapping[str, int]],
    versions: Mapping[int, int] | None,
) -> ImportPlan:
    """Check every row. `stored`: the records the file names; `names`: for each reference field, the live
    records it may point at by exact name. `versions` is None for the dry run; the apply step passes the
    versions the dry run saw."""
    check = _Check(resource, sheet, stored, names, versions)
    for row in sheet.rows:
        _check(check, row)
    return check.result


def _target(check: _Check, row: Row) -> tuple[int | None, RowError | None]:
    """The record a row names: (None, None) for a new one, or the error that makes the row unusable."""
    noun = check.resource.name
    raw = _cell(row, "id")
    if not raw:
        return None, None
    record_id = whole_number(raw)
    if record_id is None or record_id == 0:
        return None, RowError(row.number, "ID", f"ID must be a {noun}’s number, or blank to create a new {noun}.")
    if record_id in check.first_row:
        message = f"ID {record_id} is also on row {check.first_row[record_id]}: a {noun} can be in the file only once."
        return None, RowError(row.number, "ID", message)
    check.first_row[record_id] = row.number
    current = check.stored.get(record_id)
    if current is None:
        return None, RowError(row.number, "ID", f"No {noun} has ID {record_id}. Leave ID blank to create a new {noun}.")
    if current.in_trash:
        message = (
            f"{noun.capitalize()} {record_id} ({current.name}) is in the trash. Restore it first, or leave ID blank "
            "to create one."
        )
        return None, RowError(row.number, "ID", message)
    return record_id, None


def _values(check: _Check, row: Row, current: StoredRecord | None) -> dict[str, Any] | list[RowError]:
    """The record's values after this row: a column the file does not have leaves the stored value as it is."""
    resource, columns = check.resource, check.sheet.columns
    before = current.values if current is not None else {}
    data = {name: "" if before.get(name) is None else str(before[name]) for name in resource.field_names}
    errors: list[RowError] = []
    for spec in resource.fields:
        key = spec.label.casefold()
        if key not in columns:
            continue
        if spec.references:
            typed = original_text(_cell(row, key))
            data[spec.name] = ""
            if not means_none(typed, spec.references):
                if typed in check.names.get(spec.name, {}):
                    data[spec.name] = str(check.names[spec.name][typed])
                else:
                    errors.append(RowError(row.number, spec.label, f"No {spec.references} is named “{_shown(typed)}”."))
        else:
            data[spec.name] = _cell(row, key) if spec.is_number else original_text(_cell(row, key))
    form = record_form(resource, data)
    errors += [RowError(row.number, resource.spec(name).label, message) for name, message in form.errors.items()]
    if errors or form.model is None:
        return errors
    return form.dump()


def _version(check: _Check, row: Row, record_id: int, current: StoredRecord) -> tuple[int | None, RowError | None]:
    """The version the row was made from, and the error when the record has changed since."""
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
    if check.versions is None:
        check.result.versions[record_id] = current.version
        return current.version, None
    seen = check.versions.get(record_id)
    if seen != current.version:
        message = f"{current.name} was changed by someone else after the file was checked."
        return None, RowError(row.number, "", message, conflict=True)
    return seen, None


def _check(check: _Check, row: Row) -> None:
    result = check.result
    errors: list[RowError] = []
    if row.extra:
        errors.append(RowError(row.number, "", "This row has something in a column the header row does not name."))
    record_id, target_error = _target(check, row)
    if target_error is not None:
        result.errors += [*errors, target_error]
        return
    current = check.stored[record_id] if record_id is not None else None
    values = _values(check, row, current)
    if isinstance(values, list):
        errors += values
    version = None
    if record_id is not None and current is not None:
        version, version_error = _version(check, row, record_id, current)
        if version_error is not None:
            errors.append(version_error)
    if errors or isinstance(values, list):
        result.errors += errors
        return
    if current is None:
        result.changes.append(Change(row.number, None, None, values))
        return
    change = Change(row.number, record_id, version, values, current.values)
    labels = tuple(check.resource.spec(name).label for name in change.changes)
    if labels:
        result.changes.append(Change(row.number, record_id, version, values, current.values, labels))
    else:
        result.unchanged += 1


# --- the versions the dry run saw, carried to the apply step ----------------------------------------------------


def write_versions(versions: Mapping[int, int]) -> str:
    return ",".join(f"{record_id}:{version}" for record_id, version in sorted(versions.items()))


def read_versions(text: str) -> dict[int, int]:
    """The apply form's versions; a form that was tampered with (or cut short) is a BadFile."""
    versions: dict[int, int] = {}
    for pair in filter(None, text.split(",")):
        record_id, _, version = pair.partition(":")
        parsed = whole_number(record_id), whole_number(version)
        if parsed[0] is None or parsed[1] is None:
            raise BadFile("The import form was damaged on the way. Check the file again.")
        versions[parsed[0]] = parsed[1]
    return versions

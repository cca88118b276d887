"""Every bad file the HTTP tests of the CSV import once uploaded one request at a time, read here as the import's
dry run reads an upload (webapp.csvio.decode, then webapp.csvio.read): each is refused before any row is checked,
with the message the page shows beside the file field. tests/test_import.py still uploads a few, to prove the
wiring: the 422 page, the message beside the field, nothing changed."""

from __future__ import annotations

import pytest

from webapp import csvio
from webapp.registry import HEROES


def csv_file(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
BAD_FILES = {
    "binary": (PNG, "not UTF-8 text"),
    "binary that decodes": (b"Name\r\nA\x00B\r\n", "holds binary data"),
    "a workbook": (b"PK\x03\x04\x14\x00\x06\x00", "spreadsheet workbook, not a CSV file"),
    "Latin-1 text": ("Name,Secret name\r\nJosé,Pepe\r\n".encode("latin-1"), "not UTF-8 text"),
    "empty": (b"", "The file is empty."),
    "blank": (b"\r\n \r\n", "The file is empty."),
    "header only": (b"ID,Name,Secret name\r\n", "a header row but no heroes"),
    "no Name column": (b"ID,Secret name\r\n1,Dive\r\n", "has no Name column"),
    "a column heroes lack": (b"Name,Power\r\nA,Flight\r\n", "a column “Power” that heroes do not have"),
    "a column twice": (b"Name,Age,name\r\nA,1,B\r\n", "names the column “Name” twice"),
    "the team export": (b"ID,Name,Headquarters,Heroes,Version\r\n", "a column “Headquarters”"),
    "broken quoting": (b'Name,Secret name\r\n"A"B,C\r\n', "not valid CSV"),
    "too many rows": (
        csv_file("Name,Secret name", *(f"Hero {n},Secret" for n in range(10_001))),
        "more than 10,000 rows",
    ),
}


@pytest.mark.parametrize(("content", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_before_any_row_with_a_readable_message(content: bytes, message: str) -> None:
    with pytest.raises(csvio.BadFile) as caught:
        csvio.read(HEROES, csvio.decode(content))
    assert message in str(caught.value)

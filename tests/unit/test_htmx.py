"""The page-or-fragment decision and the status message a redirect leaves in a cookie (webapp.htmx), on a real
Litestar Request built from an ASGI scope: no app, no server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Request

from webapp.htmx import FLASH_MAX, Undo, _read_flash, wants_fragment


def request(headers: dict[str, str]) -> Request[Any, Any, Any]:
    """A GET as a server would hand it over; header names as given (HTTP/2 sends them lowercase, HTTP/1 any)."""
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/heroes", "query_string": b"", "headers": raw})


def flash(text: str, undo: object = None) -> str:
    return json.dumps({"text": text, "undo": undo}, separators=(",", ":"))


# --- page or fragment ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({}, False),
        ({"HX-Request": "true"}, True),
        ({"hx-request": "true"}, True),
        ({"HX-Request": "true", "HX-Boosted": "true"}, False),
        ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
        ({"HX-Request": "true", "HX-Boosted": "false"}, True),
        ({"HX-Request": "false"}, False),
        ({"HX-Request": "1"}, False),
        ({"HX-Request": ""}, False),
        ({"HX-Boosted": "true"}, False),
        ({"HX-Target": "hero-rows", "HX-Current-URL": "http://test/heroes"}, False),
    ],
    ids=[
        "plain-browser",
        "htmx",
        "htmx-lowercase",
        "boosted",
        "history-restore",
        "not-boosted",
        "request-false",
        "request-one",
        "request-empty",
        "boosted-without-request",
        "other-htmx-headers-only",
    ],
)
def test_only_a_plain_htmx_request_wants_a_fragment(headers: dict[str, str], fragment: bool) -> None:
    assert wants_fragment(request(headers)) is fragment


# --- the flash cookie ---------------------------------------------------------------------------------------------


def test_no_cookie_is_no_message() -> None:
    assert _read_flash(None) == (None, None)
    assert _read_flash("") == (None, None)


@pytest.mark.parametrize("raw", ["Saved.", "Hero “Ann” saved", "<b>hi</b>", "123", "null", "[1,2]", '"quoted"'])
def test_cookie_that_is_not_our_json_is_ignored(raw: str) -> None:
    assert _read_flash(raw) == (None, None)


def test_message_without_undo() -> None:
    assert _read_flash(flash("Hero saved.")) == ("Hero saved.", None)


@pytest.mark.parametrize("kind", ["hero", "team"])
def test_message_with_undo_for_a_known_resource(kind: str) -> None:
    assert _read_flash(flash("Deleted.", [kind, 12, 3])) == ("Deleted.", Undo(kind, 12, 3))


def test_undo_ids_at_the_top_of_the_column_range_are_taken() -> None:
    assert _read_flash(flash("Deleted.", ["hero", 2**31 - 1, 2**31 - 1])) == (
        "Deleted.",
        Undo("hero", 2**31 - 1, 2**31 - 1),
    )


@pytest.mark.parametrize(
    "undo",
    [
        ["villain", 12, 3],
        ["heroes", 12, 3],
        ["Hero", 12, 3],
        ["hero", 0, 3],
        ["hero", 12, 0],
        ["hero", -1, 3],
        ["hero", 2**31, 3],
        ["hero", 12, 10**30],
        ["hero", "12", 3],
        ["hero", 12, "3"],
        ["hero", 12.0, 3],
        ["hero", True, 3],
        ["hero", None, 3],
        "abc",
    ],
    ids=repr,
)
def test_forged_undo_keeps_the_message_but_offers_no_undo(undo: object) -> None:
    assert _read_flash(flash("Deleted.", undo)) == ("Deleted.", None)


@pytest.mark.parametrize("undo", [["hero", 12], ["hero", 12, 3, 4], 5, {"kind": "hero"}, [["hero"], 12, 3]], ids=repr)
def test_undo_of_another_shape_is_ignored(undo: object) -> None:
    assert _read_flash(flash("Deleted.", undo)) == (None, None)


def test_deep_nesting_is_ignored() -> None:
    assert _read_flash("[" * 1500) == (None, None)


def test_deep_nesting_inside_the_undo_is_ignored() -> None:
    assert _read_flash('{"text":"Deleted.","undo":' + "[" * 1500) == (None, None)


def test_a_lone_surrogate_is_ignored() -> None:
    assert _read_flash('{"text":"\\ud800"}') == (None, None)


def test_over_long_message_is_cut_to_the_limit() -> None:
    assert _read_flash(flash("x" * (FLASH_MAX + 50))) == ("x" * FLASH_MAX, None)


def test_over_long_plain_text_is_ignored() -> None:
    assert _read_flash("y" * 5000) == (None, None)


def test_message_that_is_not_text_is_shown_as_text() -> None:
    assert _read_flash('{"text":42}') == ("42", None)


def test_json_without_text_is_ignored() -> None:
    assert _read_flash('{"message":"hi"}') == (None, None)


def test_a_message_cut_in_the_middle_is_ignored() -> None:
    assert _read_flash(flash("Deleted.", ["hero", 12, 3])[:-5]) == (None, None)

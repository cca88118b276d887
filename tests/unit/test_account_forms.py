"""Account forms (webapp.forms: sign-in, new user, user update, passwords) and numbers as typed
(webapp.numbers), without a database."""

from __future__ import annotations

import pytest

from webapp.forms import (
    change_password_form,
    login_form,
    new_user_form,
    set_password_form,
    user_update_form,
)
from webapp.numbers import version_of, whole_number

GOOD = "correct horse"
PATTERN = "Use letters, digits and . @ + - _ only."


def passwords(password: str = GOOD, confirm: str | None = None) -> dict[str, str]:
    return {"password": password, "password_confirm": password if confirm is None else confirm}


def new_user(**fields: str) -> dict[str, str]:
    return {"username": "ann", "role": "editor", **passwords(), **fields}


# --- sign-in ------------------------------------------------------------------------------------------------------


def test_login_form_accepts_username_and_password() -> None:
    form = login_form({"username": "  Ann ", "password": " secret "})
    assert form.is_valid
    assert form.values == {"username": "Ann"}


@pytest.mark.parametrize("username", ["", "   "])
def test_login_form_requires_a_username(username: str) -> None:
    assert login_form({"username": username, "password": GOOD}).errors == {"username": "Username is required."}


def test_login_form_requires_a_password() -> None:
    assert login_form({"username": "ann"}).errors == {"password": "Password is required."}


@pytest.mark.parametrize("username", ["an\x00n", "an\x1bn", "an\x85n"])
def test_login_form_refuses_control_characters_in_the_username(username: str) -> None:
    errors = login_form({"username": username, "password": GOOD}).errors
    assert errors == {"username": "Username contains characters that are not allowed."}


def test_login_form_refuses_an_over_long_password() -> None:
    assert login_form({"username": "ann", "password": "x" * 257}).errors == {"password": "Use at most 256 characters."}


def test_login_form_cuts_the_username_it_shows_again() -> None:
    assert login_form({"username": "a" * 400, "password": GOOD}).values == {"username": "a" * 150}


def test_login_form_never_keeps_the_password() -> None:
    assert "password" not in login_form({"username": "ann", "password": GOOD}).values


# --- new users ----------------------------------------------------------------------------------------------------


def test_new_user_form_casefolds_and_strips_the_username() -> None:
    form = new_user_form(new_user(username="  Ann.Lee@Example+1_x-y "))
    assert form.is_valid
    assert form.values == {"username": "ann.lee@example+1_x-y", "role": "editor"}


def test_new_user_form_without_a_role_has_no_role_field() -> None:
    form = new_user_form({"username": "ann", **passwords()}, with_role=False)
    assert form.is_valid
    assert form.values == {"username": "ann"}


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("", "Username is required."),
        ("   ", "Username is required."),
        ("a" * 151, "Username must be at most 150 characters."),
        ("ann lee", PATTERN),
        ("ann/lee", PATTERN),
        ("ann<script>", PATTERN),
        ("an\x00n", PATTERN),
        ("an\nn", PATTERN),
    ],
)
def test_new_user_form_refuses_a_bad_username(username: str, message: str) -> None:
    assert new_user_form(new_user(username=username)).errors == {"username": message}


def test_username_of_the_longest_length_is_accepted() -> None:
    assert new_user_form(new_user(username="a" * 150)).is_valid


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_new_user_form_accepts_every_role(role: str) -> None:
    assert new_user_form(new_user(role=role)).is_valid


@pytest.mark.parametrize("role", ["", "root", "Admin"])
def test_new_user_form_refuses_an_unknown_role(role: str) -> None:
    assert new_user_form(new_user(role=role)).errors == {"role": "Choose a role."}


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (passwords("x" * 7), {"password": "Use at least 8 characters."}),
        ({}, {"password": "Use at least 8 characters."}),
        (passwords("x" * 257), {"password": "Use at most 256 characters."}),
        (passwords(GOOD, GOOD + "!"), {"password_confirm": "The two passwords differ."}),
        (passwords(GOOD, ""), {"password_confirm": "The two passwords differ."}),
    ],
    ids=["short", "missing", "long", "differ", "no-confirmation"],
)
def test_set_password_form_refuses_a_bad_password(fields: dict[str, str], errors: dict[str, str]) -> None:
    assert set_password_form(fields).errors == errors


@pytest.mark.parametrize("length", [8, 256])
def test_passwords_at_the_length_bounds_are_accepted(length: int) -> None:
    assert set_password_form(passwords("p" * length)).is_valid


def test_new_user_form_checks_the_password_too() -> None:
    assert new_user_form(new_user(password_confirm="other password")).errors == {
        "password_confirm": "The two passwords differ."
    }


def test_account_forms_never_keep_passwords() -> None:
    assert set(new_user_form(new_user()).values) == {"username", "role"}
    assert set_password_form(passwords()).values == {}


# --- changing users and passwords ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "kept"), [("on", "on"), ("", ""), ("yes", ""), ("true", "")])
def test_user_update_form_reads_active_only_from_a_checked_box(sent: str, kept: str) -> None:
    form = user_update_form({"role": "viewer", "is_active": sent})
    assert form.is_valid
    assert form.values == {"role": "viewer", "is_active": kept}


def test_user_update_form_refuses_an_unknown_role() -> None:
    assert user_update_form({"role": "owner", "is_active": "on"}).errors == {"role": "Choose a role."}


def test_change_password_form_requires_the_current_password() -> None:
    assert change_password_form(passwords()).errors == {"current_password": "Enter your current password."}


def test_change_password_form_checks_the_new_password() -> None:
    form = change_password_form({"current_password": "old one", **passwords("short")})
    assert form.errors == {"password": "Use at least 8 characters."}


def test_change_password_form_accepts_current_and_new_password() -> None:
    assert change_password_form({"current_password": "old one", **passwords()}).is_valid


# --- numbers as typed ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0),
        ("42", 42),
        ("007", 7),
        ("999999999", 999_999_999),
        ("1000000000", None),
        ("", None),
        (" 4", None),
        ("-1", None),
        ("+1", None),
        ("1.0", None),
        ("1_000", None),
        ("٤٢", None),
        ("²", None),
        ("0x1f", None),
    ],
)
def test_whole_number_reads_only_plain_ascii_digits_that_fit_a_column(raw: str, expected: int | None) -> None:
    assert whole_number(raw) == expected


@pytest.mark.parametrize(("data", "expected"), [({"version": "3"}, 3), ({}, None), ({"version": "v3"}, None)])
def test_version_of_reads_the_form_version(data: dict[str, str], expected: int | None) -> None:
    assert version_of(data) == expected

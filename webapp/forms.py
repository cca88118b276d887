"""Form dict -> (validated model | field errors). What the user typed is always kept for re-rendering."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from webapp import usernames
from webapp.models import (
    AGE_MAX,
    HEADQUARTERS_MAX,
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    USERNAME_MAX,
    HeroCreate,
    Role,
    TeamCreate,
)

M = TypeVar("M", bound=BaseModel)

HERO_FIELDS = ("name", "secret_name", "age", "team_id")
TEAM_FIELDS = ("name", "headquarters")
LABELS = {"name": "Name", "secret_name": "Secret name", "age": "Age", "team_id": "Team", "headquarters": "Headquarters"}
MAX_LENGTHS = {"name": NAME_MAX, "secret_name": NAME_MAX, "headquarters": HEADQUARTERS_MAX}


@dataclass
class Form(Generic[M]):
    """Submitted values (as typed), the validated model when valid, and one message per invalid field."""

    values: dict[str, str]
    model: M | None = None
    errors: dict[str, str] = field(default_factory=dict)
    # The record version the form was filled from (sent back on save), and after an edit conflict what is
    # stored now, as shown to people, for each field where that differs from what the user typed.
    version: int | None = None
    conflict: Conflict | None = None

    @property
    def is_valid(self) -> bool:
        return self.model is not None and not self.errors


@dataclass(frozen=True)
class Conflict:
    """Someone else saved the record while this form was open."""

    by: str
    current: dict[str, str]


def whole_number(raw: str) -> int | None:
    """A count, id or version as typed: plain ASCII digits that fit an INTEGER column, else None."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def version_of(data: Mapping[str, str]) -> int | None:
    """The record version a form says it was filled from; None when missing or malformed (which can only
    mean an old or forged form, and is treated as out of date)."""
    return whole_number(str(data.get("version", "")))


def _clean(data: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    # Surrounding whitespace is never meaningful in these fields; a name of only spaces is a blank name.
    return {name: str(data.get(name, "")).strip() for name in names}


def _message(name: str, error_type: str) -> str:
    label = LABELS[name]
    if error_type in {"missing", "string_too_short"}:
        return f"{label} is required."
    if error_type == "string_too_long":
        return f"{label} must be at most {MAX_LENGTHS[name]} characters."
    if name == "age":
        return f"Age must be a whole number from 0 to {AGE_MAX}."
    if name == "team_id":
        return "Choose a team from the list."
    return f"{label} is not valid."


def _has_control_characters(text: str) -> bool:
    # PostgreSQL refuses NUL in text, and no control character belongs in a name.
    return any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text)


def _validate(model: type[M], values: dict[str, str], payload: dict[str, object]) -> Form[M]:
    errors = {
        name: f"{LABELS[name]} contains characters that are not allowed."
        for name, text in values.items()
        if _has_control_characters(text)
    }
    try:
        validated = model.model_validate(payload)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0])
            errors.setdefault(name, _message(name, error["type"]))
        return Form(values=values, errors=errors)
    return Form(values=values, model=None if errors else validated, errors=errors)


def _optional_int(raw: str) -> str | None:
    """Blank means "none". Only plain ASCII digits are a number: pydantic alone would also read "1_000" or
    other scripts' digits, which nobody means to type into an age or a team id."""
    if not raw:
        return None
    return raw if raw.isascii() and raw.removeprefix("-").isdigit() else "not a number"


def hero_form(data: Mapping[str, str]) -> Form[HeroCreate]:
    """A hero's fields. The team comes as `team_id` (the select; scripts) or, from the searchable picker, as a
    team's name in `team`, kept in `values["team"]` for the caller to look up (team_id stays None until then).
    Either way the team field's message is under "team_id"; a form sending both is read by its `team_id`."""
    values = _clean(data, HERO_FIELDS)
    payload: dict[str, object] = {
        "name": values["name"],
        "secret_name": values["secret_name"],
        "age": _optional_int(values["age"]),
        "team_id": _optional_int(values["team_id"]),
    }
    form = _validate(HeroCreate, values, payload)
    if "team" in data and "team_id" not in data:
        form.values["team"] = typed = str(data["team"]).strip()
        # No team's name is longer or holds control characters: refused here, before any lookup.
        if _has_control_characters(typed):
            form.errors["team_id"], form.model = "Team contains characters that are not allowed.", None
        elif len(typed) > NAME_MAX:
            form.errors["team_id"], form.model = f"Team must be at most {NAME_MAX} characters.", None
    return form


# What team fields, filters and CSV files say for "without a team"; so no team may be called that.
NO_TEAM = "No team"


def team_form(data: Mapping[str, str]) -> Form[TeamCreate]:
    values = _clean(data, TEAM_FIELDS)
    form = _validate(TeamCreate, values, dict(values))
    if values.get("name", "").casefold() == NO_TEAM.casefold():
        form.errors["name"] = f"“{NO_TEAM}” means a hero without a team, so no team can be called that."
        form.model = None
    return form


# --- accounts ---------------------------------------------------------------------------------------------

USERNAME_PATTERN = re.compile(r"^[\w.@+-]+$")
ROLE_CHOICES = tuple(role.value for role in Role)


@dataclass
class AccountForm:
    """Account forms validate by hand: their rules are few and passwords must never be echoed back."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.errors


def _username_error(username: str) -> str | None:
    if not username:
        return "Username is required."
    if len(username) > USERNAME_MAX:
        return f"Username must be at most {USERNAME_MAX} characters."
    if not USERNAME_PATTERN.match(username):
        return "Use letters, digits and . @ + - _ only."
    return None


def _password_errors(data: Mapping[str, str], errors: dict[str, str], name: str = "password") -> None:
    password, confirm = str(data.get(name, "")), str(data.get(f"{name}_confirm", ""))
    if len(password) < PASSWORD_MIN:
        errors[name] = f"Use at least {PASSWORD_MIN} characters."
    elif len(password) > PASSWORD_MAX:
        errors[name] = f"Use at most {PASSWORD_MAX} characters."
    elif password != confirm:
        errors[f"{name}_confirm"] = "The two passwords differ."


def login_form(data: Mapping[str, str]) -> AccountForm:
    form = AccountForm(values={"username": str(data.get("username", "")).strip()[:USERNAME_MAX]})
    if not form.values["username"]:
        form.errors["username"] = "Username is required."
    elif _has_control_characters(form.values["username"]):
        # No username has them, and PostgreSQL cannot even look up a NUL: refuse before the database does.
        form.errors["username"] = "Username contains characters that are not allowed."
    password = str(data.get("password", ""))
    if not password:
        form.errors["password"] = "Password is required."
    elif len(password) > PASSWORD_MAX:
        form.errors["password"] = f"Use at most {PASSWORD_MAX} characters."
    return form


def new_user_form(data: Mapping[str, str], *, with_role: bool = True) -> AccountForm:
    """A new account: username (in its stored spelling), password twice, and (except for the first admin) a role."""
    values = {"username": usernames.normalize(str(data.get("username", "")))}
    form = AccountForm(values=values)
    if error := _username_error(values["username"]):
        form.errors["username"] = error
    if with_role:
        values["role"] = str(data.get("role", ""))
        if values["role"] not in ROLE_CHOICES:
            form.errors["role"] = "Choose a role."
    _password_errors(data, form.errors)
    return form


def user_update_form(data: Mapping[str, str]) -> AccountForm:
    """An admin's change to a user: role and whether the account is active."""
    values = {"role": str(data.get("role", "")), "is_active": "on" if data.get("is_active") == "on" else ""}
    form = AccountForm(values=values)
    if values["role"] not in ROLE_CHOICES:
        form.errors["role"] = "Choose a role."
    return form


def set_password_form(data: Mapping[str, str]) -> AccountForm:
    form = AccountForm(values={})
    _password_errors(data, form.errors)
    return form


CODE_MAX = 20


def code_form(data: Mapping[str, str]) -> AccountForm:
    """A second-factor code as typed: six digits from the app, or a recovery code (checked by the caller)."""
    form = AccountForm(values={"code": str(data.get("code", "")).strip()})
    code = form.values["code"]
    if not code:
        form.errors["code"] = "Enter the code."
    elif len(code) > CODE_MAX or not code.isascii() or _has_control_characters(code):
        form.errors["code"] = "Enter the 6 digits from your app, or a recovery code."
    return form


def password_only_form(data: Mapping[str, str]) -> AccountForm:
    """Confirming a change to one's account with one's password (checked by the caller)."""
    form = AccountForm(values={"password": ""})
    password = str(data.get("password", ""))
    if not password:
        form.errors["password"] = "Enter your password."
    elif len(password) > PASSWORD_MAX:
        form.errors["password"] = f"Use at most {PASSWORD_MAX} characters."
    return form


def change_password_form(data: Mapping[str, str]) -> AccountForm:
    """A user's own change: the current password (checked by the caller) and the new one twice."""
    form = AccountForm(values={})
    if not data.get("current_password"):
        form.errors["current_password"] = "Enter your current password."
    _password_errors(data, form.errors)
    return form

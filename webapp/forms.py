"""Form dict -> (validated model | field errors). What the user typed is always kept for re-rendering.

A record's form is read by its resource's fields (webapp.resource): labels, lengths, number ranges and the
fields that point at another resource's record (a hero's team, sent as its id from a select or as its name
from a searchable picker).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from webapp import usernames
from webapp.models import NAME_MAX, PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX, Role
from webapp.resource import FieldSpec, Resource, none_label


@dataclass
class Form:
    """Submitted values (as typed), the validated model when valid, and one message per invalid field."""

    values: dict[str, str]
    model: BaseModel | None = None
    errors: dict[str, str] = field(default_factory=dict)
    # The record version the form was filled from (sent back on save), and after an edit conflict what is
    # stored now, as shown to people, for each field where that differs from what the user typed.
    version: int | None = None
    conflict: Conflict | None = None
    # Why the form came back although it was fine (the database did not answer): said above the form.
    unsaved: str | None = None
    # The one-time id it was sent with, when it comes back that way: sent again, it must count as a repeat, since
    # the change may have been saved (webapp.submissions). None: a fresh id.
    once: str | None = None
    # Filled from what was typed before the session ended (webapp.stash), not yet saved.
    restored: bool = False

    @property
    def is_valid(self) -> bool:
        return self.model is not None and not self.errors

    def refuse(self, name: str, message: str) -> None:
        """Mark a field invalid (a rule checked after validation: a name taken, a team gone)."""
        self.errors[name], self.model = message, None

    def dump(self) -> dict[str, Any]:
        assert self.model is not None
        return self.model.model_dump()


@dataclass(frozen=True)
class Conflict:
    """Someone else saved the record while this form was open."""

    by: str
    current: dict[str, str]
    # The user who saved meanwhile is the one editing (another tab or window of theirs).
    by_you: bool = False


def has_control_characters(text: str) -> bool:
    # PostgreSQL refuses NUL in text, and no control character belongs in a name.
    return any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text)


def _message(spec: FieldSpec, error_type: str) -> str:
    if error_type in {"missing", "string_too_short"}:
        return f"{spec.label} is required."
    if error_type == "string_too_long":
        return f"{spec.label} must be at most {spec.max_length} characters."
    if spec.is_number:
        return f"{spec.label} must be a whole number from 0 to {spec.maximum:,}."
    if spec.references:
        return f"Choose a {spec.references} from the list."
    return f"{spec.label} is not valid."


def _optional_int(raw: str) -> str | None:
    """Blank means "none". Only plain ASCII digits are a number: pydantic alone would also read "1_000" or
    other scripts' digits, which nobody means to type into an age or a team id."""
    if not raw:
        return None
    return raw if raw.isascii() and raw.removeprefix("-").isdigit() else "not a number"


def record_form(resource: Resource, data: Mapping[str, str]) -> Form:
    """A record's fields, validated by the resource's input model. A field pointing at another record comes
    as its id (`team_id`: the select, scripts) or, from the searchable picker, as that record's name under the
    referenced resource's name (`team`), kept in `values` for the caller to look up (controllers.pages.
    checked_form); the field's message is under its own name either way, and a form sending both is read by
    the id."""
    # Surrounding whitespace is never meaningful in these fields; a name of only spaces is a blank name.
    values = {spec.name: str(data.get(spec.name, "")).strip() for spec in resource.fields}
    payload: dict[str, object] = {
        spec.name: _optional_int(values[spec.name]) if spec.is_number or spec.references else values[spec.name]
        for spec in resource.fields
    }
    specs = {spec.name: spec for spec in resource.fields}
    errors = {
        name: f"{specs[name].label} contains characters that are not allowed."
        for name, text in values.items()
        if has_control_characters(text)
    }
    form = Form(values=values, errors=errors)
    try:
        form.model = resource.input_model.model_validate(payload)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0])
            form.errors.setdefault(name, _message(specs[name], error["type"]))
    if form.errors:
        form.model = None
    for spec in resource.references:
        _picked_name(form, spec, data)
    for referencing in resource.referenced_by:
        if resource.unique and values.get(resource.unique, "").casefold() == resource.none_label.casefold():
            form.refuse(
                resource.unique,
                f"“{resource.none_label}” means a {referencing.name} without a {resource.name}, so no "
                f"{resource.name} can be called that.",
            )
    return form


def _picked_name(form: Form, spec: FieldSpec, data: Mapping[str, str]) -> None:
    """A searchable picker's typed name, refused here when no record could have it (before any lookup)."""
    assert spec.references is not None
    key = spec.references
    if key not in data or spec.name in data:
        return
    form.values[key] = typed = str(data[key]).strip()
    if has_control_characters(typed):
        form.refuse(spec.name, f"{spec.label} contains characters that are not allowed.")
    elif len(typed) > NAME_MAX:
        form.refuse(spec.name, f"{spec.label} must be at most {NAME_MAX} characters.")


def means_none(typed: str, referenced: str) -> bool:
    """Blank, or "No team": a picker's way of saying the field points at nothing."""
    return typed.casefold() in {"", none_label(referenced).casefold()}


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
    elif has_control_characters(form.values["username"]):
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
    elif len(code) > CODE_MAX or not code.isascii() or has_control_characters(code):
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

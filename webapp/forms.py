"""Form dict -> (validated model | field errors). What the user typed is always kept for re-rendering."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from webapp.models import AGE_MAX, HEADQUARTERS_MAX, NAME_MAX, HeroCreate, TeamCreate

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

    @property
    def is_valid(self) -> bool:
        return self.model is not None and not self.errors


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
    # Blank optional numbers mean "none"; anything else goes to pydantic, which rejects non-integers.
    return raw or None


def hero_form(data: Mapping[str, str]) -> Form[HeroCreate]:
    values = _clean(data, HERO_FIELDS)
    payload: dict[str, object] = {
        "name": values["name"],
        "secret_name": values["secret_name"],
        "age": _optional_int(values["age"]),
        "team_id": _optional_int(values["team_id"]),
    }
    return _validate(HeroCreate, values, payload)


def team_form(data: Mapping[str, str]) -> Form[TeamCreate]:
    values = _clean(data, TEAM_FIELDS)
    return _validate(TeamCreate, values, dict(values))

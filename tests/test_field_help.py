"""Help text under the fields that have rules (a hero's age range, a team's unique name), tied to the field with
aria-describedby beside its error message when there is one. Read from the registry's fields, so it runs on every
resource and every field with help."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import HTMX, SUBJECTS, Client, Subject, each_resource, form_fields, id_of
from webapp.registry import BY_NAME

WITH_HELP = [(each, spec.name) for each in SUBJECTS for spec in each.resource.fields if spec.help]


def test_the_fields_with_rules_have_help() -> None:
    assert "0 to 10,000" in BY_NAME["hero"].spec("age").help
    assert "same name" in BY_NAME["team"].spec("name").help


@pytest.mark.parametrize(("subject", "name"), WITH_HELP, ids=lambda value: str(value))
@pytest.mark.parametrize("page", ["/new", "/{id}/edit"])
async def test_help_is_shown_under_the_field_and_describes_it(
    client: Client, db: AsyncSession, subject: Subject, name: str, page: str
) -> None:
    record_id = id_of(await subject.make(db))
    document = parse((await client.get(subject.path + page.format(id=record_id))).text)
    field = document.by_id(f"{subject.form_id}-{name}")
    assert field.attrs["aria-describedby"].split() == [f"{subject.form_id}-{name}-help"]
    assert document.by_id(f"{subject.form_id}-{name}-help").text == subject.resource.spec(name).help


@pytest.mark.parametrize(("subject", "name"), WITH_HELP, ids=lambda value: str(value))
async def test_an_invalid_field_is_described_by_its_error_and_its_help(
    client: Client, subject: Subject, name: str
) -> None:
    served = form_fields((await client.get(f"{subject.path}/new")).text, subject.form_id)
    bad = "x" * 101 if subject.resource.spec(name).max_length else "-1"
    response = await client.post(subject.path, data=served | subject.valid() | {name: bad})
    assert response.status_code == 422
    document = parse(response.text)
    field = document.by_id(f"{subject.form_id}-{name}")
    assert field.attrs["aria-invalid"] == "true"
    error, help_ = field.attrs["aria-describedby"].split()
    assert (error, help_) == (f"{subject.form_id}-{name}-error", f"{subject.form_id}-{name}-help")
    assert document.by_id(error).text
    assert document.by_id(help_).text == subject.resource.spec(name).help


@each_resource
async def test_inline_rows_point_at_no_help_they_do_not_show(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db))
    row = parse((await client.get(subject.url(record_id, "/edit"), headers=HTMX)).text)
    assert not [field for field in row.find_all("input") if "help" in field.attrs.get("aria-describedby", "")]

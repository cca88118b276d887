"""Edit conflicts: a save or delete applies only on top of the version the user loaded; otherwise 409 with
the user's values kept beside what was saved meanwhile, and a second Save applies them on top."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX
from tests.markup import parse
from tests.support import (
    audit_entries,
    database_state,
    fetch_hero,
    fetch_team,
    form_fields,
    id_of,
    make_hero,
    make_team,
)

Client = AsyncTestClient[Litestar]


@dataclass(frozen=True)
class Case:
    """One edit form (a hero's or a team's, full page or inline row) and two people's changes to it."""

    kind: str
    htmx: bool
    a_changes: dict[str, str]  # A saves first
    b_changes: dict[str, str]  # B saves on top of the same version
    saved_meanwhile: dict[str, str]  # field -> the "Saved meanwhile" value B sees (only where B's value differs)


def _hero_case(htmx: bool) -> Case:
    return Case(
        kind="hero",
        htmx=htmx,
        a_changes={"name": "Deadpond A", "age": "49"},
        b_changes={"name": "Deadpond B", "team_id": "{other}"},
        saved_meanwhile={"name": "Deadpond A", "age": "49", "team_id": "Preventers"},
    )


def _team_case(htmx: bool) -> Case:
    return Case(
        kind="team",
        htmx=htmx,
        a_changes={"name": "Preventers A"},
        b_changes={"name": "Preventers B"},
        saved_meanwhile={"name": "Preventers A"},
    )


CASES = [_hero_case(False), _hero_case(True), _team_case(False), _team_case(True)]


async def _arrange(db: AsyncSession, kind: str) -> tuple[int, dict[str, str]]:
    """A hero in Preventers (with Z-Force as the other team) or a team; returns its id and {other}'s value."""
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    if kind == "team":
        return id_of(team), {}
    other = await make_team(db, name="Z-Force", headquarters="Sister Margaret's")
    hero = await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=48, team=team)
    return id_of(hero), {"other": str(id_of(other))}


def _form_id(case: Case, record_id: int) -> str:
    return f"{case.kind}-{record_id}-form" if case.htmx else f"{case.kind}-form"


def _prefix(case: Case, record_id: int) -> str:
    return f"{case.kind}-{record_id}" if case.htmx else f"{case.kind}-form"


def _path(kind: str, record_id: int, action: str = "") -> str:
    plural = "heroes" if kind == "hero" else "teams"
    return f"/{plural}/{record_id}{action}"


async def _edit_form(client: Client, case: Case, record_id: int) -> dict[str, str]:
    """What the edit form (page or inline row) holds as served."""
    response = await client.get(_path(case.kind, record_id, "/edit"), headers=HTMX if case.htmx else None)
    assert response.status_code == 200
    return form_fields(response.text, _form_id(case, record_id))


async def _save(client: Client, case: Case, record_id: int, data: dict[str, str]) -> Any:
    return await client.post(
        _path(case.kind, record_id), data=data, headers=HTMX if case.htmx else None, follow_redirects=False
    )


async def _stored(db: AsyncSession, kind: str, record_id: int) -> tuple[dict[str, Any], int]:
    record = await fetch_hero(db, record_id) if kind == "hero" else await fetch_team(db, record_id)
    assert record is not None
    fields = ("name", "secret_name", "age", "team_id") if kind == "hero" else ("name", "headquarters")
    stored = {name: "" if getattr(record, name) is None else str(getattr(record, name)) for name in fields}
    await db.commit()
    return stored, record.version


# --- the conflict, the kept values, and saving again ------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.kind}-{'row' if c.htmx else 'page'}")
async def test_second_save_of_one_version_is_409_with_both_values_and_saving_again_applies_it(
    client: Client, db: AsyncSession, case: Case
) -> None:
    record_id, names = await _arrange(db, case.kind)
    form_a, form_b = await _edit_form(client, case, record_id), await _edit_form(client, case, record_id)
    assert form_a["version"] == form_b["version"] == "1"
    success = 200 if case.htmx else 303
    assert (await _save(client, case, record_id, form_a | case.a_changes)).status_code == success
    stored_by_a, _version = await _stored(db, case.kind, record_id)
    b_values = form_b | {name: value.format(**names) for name, value in case.b_changes.items()}

    response = await _save(client, case, record_id, b_values)

    assert response.status_code == 409
    document, prefix = parse(response.text), _prefix(case, record_id)
    again = form_fields(response.text, _form_id(case, record_id))
    for name in stored_by_a:
        assert again[name] == b_values[name], f"{name}: B's value is kept"
        control = document.by_id(f"{prefix}-{name}")
        note_id = f"{prefix}-{name}-current"
        if name in case.saved_meanwhile:
            assert document.by_id(note_id).text == f"Saved meanwhile: {case.saved_meanwhile[name]}"
            assert note_id in control.attrs["aria-describedby"].split()
        else:
            assert not document.has(id=note_id)
    alert_scope = document.by_id("toasts") if case.htmx else document.by_id(_form_id(case, record_id))
    assert f"eddie saved this {case.kind} while you were editing" in alert_scope.find(role="alert").text
    assert again["version"] == "2"
    assert await _stored(db, case.kind, record_id) == (stored_by_a, 2)

    assert (await _save(client, case, record_id, again)).status_code == success
    stored, version = await _stored(db, case.kind, record_id)
    assert (stored, version) == ({name: b_values[name] for name in stored}, 3)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
async def test_cancel_after_a_conflict_leaves_the_values_saved_meanwhile(
    client: Client, db: AsyncSession, htmx: bool
) -> None:
    case = _hero_case(htmx)
    hero_id, _names = await _arrange(db, "hero")
    form_a, form_b = await _edit_form(client, case, hero_id), await _edit_form(client, case, hero_id)
    await _save(client, case, hero_id, form_a | {"name": "Deadpond A"})
    conflict = await _save(client, case, hero_id, form_b | {"name": "Deadpond B"})
    assert conflict.status_code == 409
    cancel = parse(conflict.text).find("a", href=f"/heroes/{hero_id}")
    assert cancel.text == "Cancel"

    if htmx:
        response = await client.get(cancel.attrs["hx-get"], headers=HTMX)
        shown = parse(response.text).by_id(f"hero-{hero_id}").find_all("td")[0].text
    else:
        response = await client.get(cancel.attrs["href"])
        shown = parse(response.text).find("h1").text
    assert response.status_code == 200
    assert "Deadpond A" in shown
    assert (await _stored(db, "hero", hero_id))[0]["name"] == "Deadpond A"


# --- deleted meanwhile ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
async def test_saving_a_hero_deleted_meanwhile_is_409_with_a_link_to_the_trash(
    client: Client, db: AsyncSession, htmx: bool
) -> None:
    case = _hero_case(htmx)
    hero_id, _names = await _arrange(db, "hero")
    form_a, form_b = await _edit_form(client, case, hero_id), await _edit_form(client, case, hero_id)
    deleted = await client.post(
        f"/heroes/{hero_id}/delete", data={"version": form_a["version"]}, follow_redirects=False
    )
    assert deleted.status_code == 303
    before = await database_state(db)

    response = await _save(client, case, hero_id, form_b | {"name": "Deadpond B"})

    assert response.status_code == 409
    alert = parse(response.text).find(role="alert")
    assert "This hero was deleted" in alert.text
    assert "Your change was not saved" in alert.text
    assert alert.find("a", href="/trash").text == "Open the Trash"
    if htmx:
        assert response.headers["HX-Retarget"] == "#toasts"
    else:
        assert parse(response.text).find("h1").text == "This hero was deleted"
    assert await database_state(db) == before


# --- versions that do not match ---------------------------------------------------------------------------------


async def test_save_without_a_well_formed_current_version_is_409_and_saves_nothing(
    client: Client, db: AsyncSession
) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    form = form_fields((await client.get(f"/heroes/{hero_id}/edit")).text, "hero-form")
    before = await database_state(db)
    for version in (None, "", "abc", "1.0", "-1", " 1", "2", "0", "99999999999"):
        data = {name: value for name, value in form.items() if name not in {"version", "_once"}}
        data["name"] = "Changed"
        if version is not None:
            data["version"] = version
        response = await client.post(f"/heroes/{hero_id}", data=data, follow_redirects=False)
        assert response.status_code == 409, f"version {version!r}"
        assert await database_state(db) == before, f"version {version!r}"
    assert [entry for entry in await audit_entries(db) if entry.record_type == "hero"] == []


@pytest.mark.parametrize("kind", ["hero", "team"])
async def test_saving_unchanged_values_keeps_the_version_and_writes_no_history(
    client: Client, db: AsyncSession, kind: str
) -> None:
    record_id, _names = await _arrange(db, kind)
    form = await _edit_form(client, _hero_case(False) if kind == "hero" else _team_case(False), record_id)
    before = await database_state(db)

    response = await client.post(_path(kind, record_id), data=form, follow_redirects=False)

    assert response.status_code == 303
    assert (await _stored(db, kind, record_id))[1] == 1
    assert [entry for entry in await audit_entries(db) if entry.record_type == kind] == []
    after = await database_state(db)
    assert (after["hero"], after["team"]) == (before["hero"], before["team"])


# --- a stale delete ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
async def test_deleting_a_hero_changed_meanwhile_is_409_and_it_stays(
    client: Client, db: AsyncSession, htmx: bool
) -> None:
    hero_id, _names = await _arrange(db, "hero")
    confirm = form_fields((await client.get(f"/heroes/{hero_id}/delete")).text, "hero-delete")
    edit = form_fields((await client.get(f"/heroes/{hero_id}/edit")).text, "hero-form")
    saved = await client.post(f"/heroes/{hero_id}", data=edit | {"name": "Deadpond A"}, follow_redirects=False)
    assert saved.status_code == 303

    response = await client.post(
        f"/heroes/{hero_id}/delete", data=confirm, headers=HTMX if htmx else None, follow_redirects=False
    )

    assert response.status_code == 409
    document = parse(response.text)
    alert = document.by_id("toasts") if htmx else document.by_id("hero-delete").find(role="alert")
    assert "Not deleted: Deadpond A was changed by someone else meanwhile" in alert.text
    if htmx:
        assert "Deadpond A" in document.by_id(f"hero-{hero_id}").text
    else:
        assert form_fields(response.text, "hero-delete")["version"] == "2"
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    assert (hero.deleted_at, hero.version) == (None, 2)

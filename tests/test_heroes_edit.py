"""Editing heroes: the edit page, the inline row (htmx), saving with 303 or the saved row, validation (422).

Saves send the form back as served (its version and one-time id included); conflicts have their own file.
"""

from __future__ import annotations

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX
from tests.factories import fetch_hero, form_fields, id_of, make_hero, make_team
from tests.markup import Element, parse
from webapp.submissions import TOKEN

Client = AsyncTestClient[Litestar]

CHANGES = {"name": "Spider-Boy", "secret_name": "Pedro Parqueador", "age": "17", "team_id": ""}


async def stored(db: AsyncSession, hero_id: int) -> tuple[object, ...]:
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    return (hero.name, hero.secret_name, hero.age, hero.team_id)


async def version_of(db: AsyncSession, hero_id: int) -> int:
    """The stored version. Ends its read transaction: on SQLite the test session begins IMMEDIATE, and an open
    one would keep the app's writers waiting."""
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    await db.commit()
    return hero.version


async def edit_form(client: Client, hero_id: int, htmx: bool = False) -> dict[str, str]:
    """The edit form (full page, or the inline row) as a browser would send it back unchanged."""
    response = await client.get(f"/heroes/{hero_id}/edit", headers=HTMX if htmx else None)
    assert response.status_code == 200
    return form_fields(response.text, f"hero-{hero_id}-form" if htmx else "hero-form")


async def save(client: Client, hero_id: int, changes: dict[str, str], htmx: bool = False) -> Response:
    """Open the edit form (page or inline row), change what is given, and send it as the browser would."""
    data = await edit_form(client, hero_id, htmx) | changes
    return await client.post(f"/heroes/{hero_id}", data=data, headers=HTMX if htmx else None, follow_redirects=False)


def field_message(scope: Element, name: str) -> str:
    """The message an invalid field points to with aria-describedby ("" when the field is not marked invalid)."""
    control = scope.find(name=name)
    if control.attrs.get("aria-invalid") != "true":
        return ""
    return scope.by_id(control.attrs["aria-describedby"]).text


def toast(response: Response) -> str:
    return parse(response.text).by_id("toasts").text


# --- the edit form: full page or inline row -------------------------------------------------------------------


async def test_edit_hero_page_shows_the_current_values(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    team_id = id_of(team)
    hero_id = id_of(await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=48, team=team))
    response = await client.get(f"/heroes/{hero_id}/edit")
    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("h1").text == "Edit hero"
    form = page.by_id("hero-form")
    assert (form.attrs["method"], form.attrs["action"]) == ("post", f"/heroes/{hero_id}")
    values = [form.find("input", name=name).attrs["value"] for name in ("name", "secret_name", "age")]
    assert values == ["Deadpond", "Dive Wilson", "48"]
    assert "selected" in form.find("option", value=str(team_id)).attrs


async def test_edit_hero_htmx_returns_the_inline_row(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await client.get(f"/heroes/{hero_id}/edit", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    row = parse(response.text).by_id(f"hero-{hero_id}")
    assert row.tag == "tr"
    form = row.find("form")
    assert (form.attrs["method"], form.attrs["action"], form.attrs["hx-post"]) == (
        "post",
        f"/heroes/{hero_id}",
        f"/heroes/{hero_id}",
    )
    assert form.find("button", type="submit").text == "Save"
    controls = {node.attrs["name"]: node for node in row.find_all(form=form.attrs["id"])}
    assert list(controls) == ["name", "secret_name", "age", "team_id"]
    assert [node.attrs["aria-label"] for node in controls.values()] == ["Name", "Secret name", "Age", "Team"]
    assert controls["team_id"].tag == "select"


async def test_edit_hero_htmx_row_holds_the_current_values(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    team_id = id_of(team)
    hero_id = id_of(await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=48, team=team))
    row = parse((await client.get(f"/heroes/{hero_id}/edit", headers=HTMX)).text).by_id(f"hero-{hero_id}")
    values = [row.find("input", name=name).attrs["value"] for name in ("name", "secret_name", "age")]
    assert values == ["Deadpond", "Dive Wilson", "48"]
    assert "selected" in row.find("option", value=str(team_id)).attrs
    assert row.find("option", value="").text == "No team"


async def test_edit_hero_htmx_row_cancel_restores_the_row(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    row = parse((await client.get(f"/heroes/{hero_id}/edit", headers=HTMX)).text).by_id(f"hero-{hero_id}")
    cancel = row.find("a", href=f"/heroes/{hero_id}")
    assert cancel.text == "Cancel"
    assert cancel.attrs["hx-get"] == f"/heroes/{hero_id}/row"
    assert cancel.attrs["hx-target"] == f"#hero-{hero_id}"


async def test_edit_hero_boosted_returns_the_full_page(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await client.get(f"/heroes/{hero_id}/edit", headers=HTMX | {"HX-Boosted": "true"})
    assert "<html" in response.text
    assert parse(response.text).has("form", id="hero-form")


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
async def test_edit_hero_form_carries_the_stored_version_and_a_one_time_id(
    client: Client, db: AsyncSession, htmx: bool
) -> None:
    hero = await make_hero(db)
    hero.version = 7
    db.add(hero)
    await db.commit()
    first, second = await edit_form(client, id_of(hero), htmx), await edit_form(client, id_of(hero), htmx)
    assert first["version"] == second["version"] == "7"
    assert TOKEN.match(first["_once"])
    assert TOKEN.match(second["_once"])
    assert first["_once"] != second["_once"]


# --- the read-only row (what Cancel swaps back) ---------------------------------------------------------------


async def test_hero_row_htmx_returns_the_read_only_row(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=48))
    response = await client.get(f"/heroes/{hero_id}/row", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    row = parse(response.text).by_id(f"hero-{hero_id}")
    assert row.tag == "tr"
    assert [td.text for td in row.find_all("td")][:4] == ["Deadpond", "Dive Wilson", "48", "No team"]
    assert [field.attrs.get("name") for field in row.find_all("input")] == ["selected"]  # no edit fields


async def test_hero_row_plain_request_redirects_303_to_detail(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await client.get(f"/heroes/{hero_id}/row", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/heroes/{hero_id}"


# --- saving: plain browser ------------------------------------------------------------------------------------


async def test_update_hero_redirects_303_to_detail_and_saves(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", age=48))
    response = await save(client, hero_id, CHANGES)
    assert response.status_code == 303
    assert response.headers["location"] == f"/heroes/{hero_id}"
    assert await stored(db, hero_id) == ("Spider-Boy", "Pedro Parqueador", 17, None)


async def test_update_hero_bumps_the_version_and_the_next_form_carries_it(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    await save(client, hero_id, CHANGES)
    assert await version_of(db, hero_id) == 2
    again = await edit_form(client, hero_id)
    assert again["version"] == "2"
    response = await client.post(f"/heroes/{hero_id}", data=again | {"age": "18"}, follow_redirects=False)
    assert response.status_code == 303
    assert (await stored(db, hero_id))[2] == 18
    assert await version_of(db, hero_id) == 3


async def test_update_hero_toast_shows_once_after_the_redirect(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await save(client, hero_id, CHANGES)
    landing = await client.get(response.headers["location"])
    assert toast(landing) == "Saved hero Spider-Boy."
    assert parse(landing.text).find("h1").text == "Spider-Boy"
    assert toast(await client.get(response.headers["location"])) == ""


async def test_update_hero_clearing_team_stores_null(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, team=await make_team(db)))
    await save(client, hero_id, CHANGES | {"team_id": ""})
    assert (await stored(db, hero_id))[3] is None


async def test_update_hero_clearing_age_stores_null(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, age=48))
    await save(client, hero_id, CHANGES | {"age": ""})
    assert (await stored(db, hero_id))[2] is None


async def test_update_hero_moves_to_another_team(client: Client, db: AsyncSession) -> None:
    old_team = await make_team(db, name="Z-Force")
    new_team_id = id_of(await make_team(db, name="Preventers"))
    hero_id = id_of(await make_hero(db, team=old_team))
    await save(client, hero_id, CHANGES | {"team_id": str(new_team_id)})
    assert (await stored(db, hero_id))[3] == new_team_id


async def test_update_hero_strips_surrounding_whitespace(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    typed = {"name": " Spider-Boy\t", "secret_name": "\nPedro ", "age": " 17 ", "team_id": " "}
    await save(client, hero_id, typed)
    assert await stored(db, hero_id) == ("Spider-Boy", "Pedro", 17, None)


async def test_update_hero_leaves_other_heroes_alone(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    other_id = id_of(await make_hero(db, name="Rusty-Man", secret_name="Tommy Sharp", age=48))
    await save(client, hero_id, CHANGES)
    assert await stored(db, other_id) == ("Rusty-Man", "Tommy Sharp", 48, None)
    assert await version_of(db, other_id) == 1


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "\"'&"])
async def test_update_hero_stores_markup_exactly_and_renders_it_escaped(
    client: Client, db: AsyncSession, text: str
) -> None:
    hero_id = id_of(await make_hero(db))
    response = await save(client, hero_id, CHANGES | {"name": text}, htmx=True)
    assert response.status_code == 200
    assert text not in response.text
    assert parse(response.text).by_id(f"hero-{hero_id}").find_all("td")[0].text == text
    assert (await stored(db, hero_id))[0] == text


# --- saving: htmx inline row ----------------------------------------------------------------------------------


async def test_update_hero_htmx_returns_the_saved_read_only_row(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    team_id = id_of(team)
    hero_id = id_of(await make_hero(db))
    response = await save(client, hero_id, CHANGES | {"team_id": str(team_id)}, htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.text
    row = parse(response.text).by_id(f"hero-{hero_id}")
    assert row.tag == "tr"
    assert [td.text for td in row.find_all("td")][:4] == ["Spider-Boy", "Pedro Parqueador", "17", "Z-Force"]
    assert [field.attrs.get("name") for field in row.find_all("input")] == ["selected"]  # no edit fields
    assert await stored(db, hero_id) == ("Spider-Boy", "Pedro Parqueador", 17, team_id)
    assert await version_of(db, hero_id) == 2


async def test_update_hero_htmx_sends_the_toast_out_of_band(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await save(client, hero_id, CHANGES, htmx=True)
    toasts = parse(response.text).by_id("toasts")
    assert toasts.attrs["hx-swap-oob"] == "innerHTML"
    assert toasts.text == "Saved hero Spider-Boy."


async def test_update_hero_htmx_does_not_leave_a_toast_for_the_next_page(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    await save(client, hero_id, CHANGES, htmx=True)
    assert toast(await client.get("/heroes")) == ""


# --- invalid input: 422, the message beside the field, what was typed kept, nothing saved ----------------------

INVALID = [
    ("name", "", "Name is required."),
    ("name", "   ", "Name is required."),
    ("name", "N" * 101, "Name must be at most 100 characters."),
    ("name", "Dead\x00pond", "Name contains characters that are not allowed."),
    ("secret_name", "\t", "Secret name is required."),
    ("age", "-1", "Age must be a whole number from 0 to 10000."),
    ("age", "10001", "Age must be a whole number from 0 to 10000."),
    ("age", "abc", "Age must be a whole number from 0 to 10000."),
    ("age", "1.5", "Age must be a whole number from 0 to 10000."),
    ("team_id", "x", "Choose a team from the list."),
    ("team_id", "4242", "That team no longer exists. Choose another."),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
async def test_update_hero_invalid_field_rerenders_form_422(
    client: Client, db: AsyncSession, field: str, value: str, message: str
) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=48))
    response = await save(client, hero_id, CHANGES | {field: value})
    assert response.status_code == 422
    assert "<html" in response.text
    form = parse(response.text).by_id("hero-form")
    assert form.attrs["action"] == f"/heroes/{hero_id}"
    assert field_message(form, field) == message
    assert await stored(db, hero_id) == ("Deadpond", "Dive Wilson", 48, None)
    assert await version_of(db, hero_id) == 1


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
async def test_update_hero_htmx_invalid_field_returns_row_with_error_422(
    client: Client, db: AsyncSession, field: str, value: str, message: str
) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=48))
    response = await save(client, hero_id, CHANGES | {field: value}, htmx=True)
    assert response.status_code == 422
    assert "<html" not in response.text
    row = parse(response.text).by_id(f"hero-{hero_id}")
    assert row.tag == "tr"
    assert field_message(row, field) == message
    assert await stored(db, hero_id) == ("Deadpond", "Dive Wilson", 48, None)


async def test_update_hero_htmx_invalid_keeps_what_was_typed(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    typed = {"name": "", "secret_name": ' Pedro "P" <i> ', "age": "abc", "team_id": ""}
    row = parse((await save(client, hero_id, typed, htmx=True)).text).by_id(f"hero-{hero_id}")
    values = [row.find("input", name=name).attrs["value"] for name in ("name", "secret_name", "age")]
    assert values == ["", 'Pedro "P" <i>', "abc"]
    assert [node.attrs["name"] for node in row.find_all(aria_invalid="true")] == ["name", "age"]


async def test_update_hero_invalid_sets_no_toast(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await save(client, hero_id, CHANGES | {"name": ""})
    assert "flash" not in response.headers.get("set-cookie", "")
    assert toast(response) == ""


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
async def test_update_hero_invalid_form_keeps_the_version_so_the_corrected_form_saves(
    client: Client, db: AsyncSession, htmx: bool
) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    headers, form_id = (HTMX, f"hero-{hero_id}-form") if htmx else ({}, "hero-form")
    refused = await save(client, hero_id, {"name": ""}, htmx)
    assert refused.status_code == 422
    again = form_fields(refused.text, form_id)
    assert again["version"] == "1"
    response = await client.post(
        f"/heroes/{hero_id}", data=again | {"name": "Spider-Boy"}, headers=headers, follow_redirects=False
    )
    assert response.status_code == (200 if htmx else 303)
    assert (await stored(db, hero_id))[0] == "Spider-Boy"
    assert await version_of(db, hero_id) == 2

"""Creating heroes: the new-hero form, post/redirect/get with a toast, the htmx fragment, validation (422)."""

from __future__ import annotations

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX
from tests.factories import all_heroes, count_heroes, form_fields, make_hero, make_team, move_to_trash
from tests.markup import Element, parse

Client = AsyncTestClient[Litestar]

VALID = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": "48", "team_id": ""}


def field_message(form: Element, name: str) -> str:
    """The message an invalid field points to with aria-describedby ("" when the field is not marked invalid)."""
    control = form.find(name=name)
    if control.attrs.get("aria-invalid") != "true":
        return ""
    return form.by_id(control.attrs["aria-describedby"]).text


def toast(response: Response) -> str:
    return parse(response.text).by_id("toasts").text


# --- the form -------------------------------------------------------------------------------------------------


async def test_new_hero_page_has_labelled_empty_fields(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    response = await client.get("/heroes/new")
    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("h1").text == "New hero"
    form = page.by_id("hero-form")
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == "/heroes"
    labels = {label.text: label.attrs["for"] for label in form.find_all("label")}
    assert list(labels) == ["Name", "Secret name", "Age", "Team"]
    for label, name in zip(labels, ["name", "secret_name", "age", "team_id"], strict=True):
        control = form.by_id(labels[label])
        assert control.attrs["name"] == name
        assert control.attrs.get("value", "") == ""
    options = {option.text: option.attrs["value"] for option in form.find("select").find_all("option")}
    assert options == {"No team": "", "Z-Force": str(team.id)}
    assert form.find("button", type="submit").text == "Save"
    # A one-time id (a double submit creates one hero) and no version: there is nothing stored yet to be stale.
    hidden = {name for name in form_fields(response.text, "hero-form") if name.startswith("_") or name == "version"}
    assert hidden == {"_csrf", "_once"}


async def test_new_hero_htmx_returns_the_form_fragment(client: Client) -> None:
    response = await client.get("/heroes/new", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    form = parse(response.text).by_id("hero-form")
    assert form.attrs["hx-post"] == "/heroes"
    assert form.find("h2").text == "New hero"


# --- plain browser: post/redirect/get -------------------------------------------------------------------------


async def test_create_hero_redirects_303_to_the_new_hero(client: Client, db: AsyncSession) -> None:
    response = await client.post("/heroes", data=VALID, follow_redirects=False)
    assert response.status_code == 303
    [hero] = await all_heroes(db)
    assert response.headers["location"] == f"/heroes/{hero.id}"


async def test_create_hero_stores_every_field(client: Client, db: AsyncSession) -> None:
    team_id = (await make_team(db)).id
    await client.post("/heroes", data=VALID | {"team_id": str(team_id)}, follow_redirects=False)
    [hero] = await all_heroes(db)
    assert (hero.name, hero.secret_name, hero.age, hero.team_id) == ("Deadpond", "Dive Wilson", 48, team_id)
    assert (hero.version, hero.deleted_at, hero.deleted_by) == (1, None, None)


async def test_create_hero_blank_age_and_team_are_stored_as_null(client: Client, db: AsyncSession) -> None:
    await client.post("/heroes", data=VALID | {"age": "", "team_id": ""}, follow_redirects=False)
    [hero] = await all_heroes(db)
    assert (hero.age, hero.team_id) == (None, None)


async def test_create_hero_without_optional_fields_in_the_body(client: Client, db: AsyncSession) -> None:
    response = await client.post("/heroes", data={"name": "Deadpond", "secret_name": "Dive"}, follow_redirects=False)
    assert response.status_code == 303
    [hero] = await all_heroes(db)
    assert (hero.age, hero.team_id) == (None, None)


async def test_create_hero_strips_surrounding_whitespace(client: Client, db: AsyncSession) -> None:
    data = {"name": "  Deadpond \t", "secret_name": "\n Dive Wilson ", "age": " 48 ", "team_id": " "}
    response = await client.post("/heroes", data=data, follow_redirects=False)
    assert response.status_code == 303
    [hero] = await all_heroes(db)
    assert (hero.name, hero.secret_name, hero.age, hero.team_id) == ("Deadpond", "Dive Wilson", 48, None)


@pytest.mark.parametrize(("field", "value"), [("name", "N" * 100), ("secret_name", "é" * 100), ("age", "0")])
async def test_create_hero_accepts_boundary_values(client: Client, db: AsyncSession, field: str, value: str) -> None:
    response = await client.post("/heroes", data=VALID | {field: value}, follow_redirects=False)
    assert response.status_code == 303
    [hero] = await all_heroes(db)
    assert str(getattr(hero, field)) == value


async def test_create_hero_accepts_age_10000(client: Client, db: AsyncSession) -> None:
    await client.post("/heroes", data=VALID | {"age": "10000"}, follow_redirects=False)
    [hero] = await all_heroes(db)
    assert hero.age == 10000


async def test_create_hero_toast_shows_once_after_the_redirect(client: Client) -> None:
    response = await client.post("/heroes", data=VALID, follow_redirects=False)
    landing = await client.get(response.headers["location"])
    assert landing.status_code == 200
    assert toast(landing) == "Created hero Deadpond."
    assert parse(landing.text).find("h1").text == "Deadpond"
    again = await client.get(response.headers["location"])
    assert toast(again) == ""


async def test_create_hero_toast_keeps_a_non_ascii_name(client: Client) -> None:
    landing = await client.post("/heroes", data=VALID | {"name": "Zoë “Ñ” 東京; x"}, follow_redirects=True)
    assert toast(landing) == "Created hero Zoë “Ñ” 東京; x."


async def test_create_hero_toast_keeps_percent_signs_in_the_name(client: Client) -> None:
    landing = await client.post("/heroes", data=VALID | {"name": "Agent 100%41"}, follow_redirects=True)
    assert toast(landing) == "Created hero Agent 100%41."


async def test_create_hero_boosted_redirects_303(client: Client, db: AsyncSession) -> None:
    response = await client.post("/heroes", data=VALID, headers=HTMX | {"HX-Boosted": "true"}, follow_redirects=False)
    assert response.status_code == 303
    assert await count_heroes(db) == 1


async def test_create_hero_toast_is_in_a_status_region(client: Client) -> None:
    landing = await client.post("/heroes", data=VALID, follow_redirects=True)
    region = parse(landing.text).find(role="status")
    assert region.text == "Created hero Deadpond."


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "\"'&", "<b>Bold</b> & 'co'"])
async def test_create_hero_stores_markup_exactly_and_renders_it_escaped(
    client: Client, db: AsyncSession, text: str
) -> None:
    response = await client.post("/heroes", data=VALID | {"name": text, "secret_name": text}, follow_redirects=True)
    assert response.status_code == 200
    [hero] = await all_heroes(db)
    assert (hero.name, hero.secret_name) == (text, text)
    assert text not in response.text
    page = parse(response.text)
    assert page.find("h1").text == text
    assert all("src" in script.attrs for script in page.find_all("script"))
    assert not page.has("b")


# --- htmx: the new row, a fresh form, the count and the toast -------------------------------------------------


async def test_create_hero_htmx_returns_the_new_row_out_of_band(client: Client, db: AsyncSession) -> None:
    response = await client.post("/heroes", data=VALID, headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    [hero] = await all_heroes(db)
    row = parse(response.text).by_id(f"hero-{hero.id}")
    assert row.tag == "tr"
    assert row.find("td", data_label="Name").text == "Deadpond"
    oob = [node.attrs.get("hx-swap-oob") for node in row.ancestors()]
    assert "afterbegin:#hero-rows" in oob


async def test_create_hero_htmx_returns_a_fresh_empty_form(client: Client, db: AsyncSession) -> None:
    team = await make_team(db)
    response = await client.post("/heroes", data=VALID | {"team_id": str(team.id)}, headers=HTMX)
    form = parse(response.text).by_id("hero-form")
    assert form.attrs["hx-post"] == "/heroes"
    for name in ("name", "secret_name", "age"):
        assert form.find("input", name=name).attrs["value"] == ""
    assert not [option for option in form.find_all("option") if "selected" in option.attrs]
    assert not form.find_all(aria_invalid="true")


async def test_create_hero_htmx_updates_the_count_out_of_band(client: Client, db: AsyncSession) -> None:
    await make_hero(db, name="Rusty-Man")
    response = await client.post("/heroes", data=VALID, headers=HTMX)
    summary = parse(response.text).by_id("hero-summary")
    assert summary.attrs["hx-swap-oob"] == "true"
    assert summary.text == "2 heroes"


async def test_create_hero_htmx_sends_the_toast_out_of_band(client: Client) -> None:
    response = await client.post("/heroes", data=VALID, headers=HTMX)
    toasts = parse(response.text).by_id("toasts")
    assert toasts.attrs["hx-swap-oob"] == "innerHTML"
    assert toasts.text == "Created hero Deadpond."


async def test_create_hero_htmx_does_not_leave_a_toast_for_the_next_page(client: Client) -> None:
    await client.post("/heroes", data=VALID, headers=HTMX)
    assert toast(await client.get("/heroes")) == ""


# --- invalid input: 422, message beside the field, values kept, nothing stored --------------------------------

INVALID = [
    ("name", "", "Name is required."),
    ("name", "   ", "Name is required."),
    ("name", "N" * 101, "Name must be at most 100 characters."),
    ("name", "Dead\x00pond", "Name contains characters that are not allowed."),
    ("name", "Dead\npond", "Name contains characters that are not allowed."),
    ("secret_name", "", "Secret name is required."),
    ("secret_name", "é" * 101, "Secret name must be at most 100 characters."),
    ("secret_name", "Dive\x1bWilson", "Secret name contains characters that are not allowed."),
    ("age", "-1", "Age must be a whole number from 0 to 10000."),
    ("age", "10001", "Age must be a whole number from 0 to 10000."),
    ("age", "abc", "Age must be a whole number from 0 to 10000."),
    ("age", "1.5", "Age must be a whole number from 0 to 10000."),
    ("age", "99999999999999999999", "Age must be a whole number from 0 to 10000."),
    ("age", "1_000", "Age must be a whole number from 0 to 10000."),
    ("age", "٤٢", "Age must be a whole number from 0 to 10000."),
    ("team_id", "1_0", "Choose a team from the list."),
    ("age", "4\x00", "Age contains characters that are not allowed."),
    ("team_id", "x", "Choose a team from the list."),
    ("team_id", "4242", "That team no longer exists. Choose another."),
    ("team_id", "2147483648", "That team no longer exists. Choose another."),
    ("team_id", "-1", "That team no longer exists. Choose another."),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
async def test_create_hero_invalid_field_rerenders_form_422(
    client: Client, db: AsyncSession, field: str, value: str, message: str
) -> None:
    await make_hero(db, name="Rusty-Man")
    response = await client.post("/heroes", data=VALID | {field: value}, follow_redirects=False)
    assert response.status_code == 422
    assert "<html" in response.text
    form = parse(response.text).by_id("hero-form")
    assert field_message(form, field) == message
    assert form.find(role="alert").text
    assert await count_heroes(db) == 1


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
async def test_create_hero_htmx_invalid_field_returns_form_fragment_422(
    client: Client, db: AsyncSession, field: str, value: str, message: str
) -> None:
    response = await client.post("/heroes", data=VALID | {field: value}, headers=HTMX)
    assert response.status_code == 422
    assert "<html" not in response.text
    assert field_message(parse(response.text).by_id("hero-form"), field) == message
    assert await count_heroes(db) == 0


async def test_create_hero_in_a_team_in_the_trash_is_422(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    await move_to_trash(db, team)
    response = await client.post("/heroes", data=VALID | {"team_id": str(team.id)}, follow_redirects=False)
    assert response.status_code == 422
    form = parse(response.text).by_id("hero-form")
    assert field_message(form, "team_id") == "That team no longer exists. Choose another."
    assert [option.attrs["value"] for option in form.find_all("option")] == [""]
    assert await count_heroes(db) == 0


async def test_create_hero_htmx_invalid_form_still_posts_with_htmx(client: Client) -> None:
    response = await client.post("/heroes", data=VALID | {"name": ""}, headers=HTMX)
    form = parse(response.text).by_id("hero-form")
    assert (form.attrs["hx-post"], form.attrs["hx-target"]) == ("/heroes", "this")


async def test_create_hero_invalid_marks_only_the_invalid_fields(client: Client) -> None:
    response = await client.post("/heroes", data=VALID | {"name": "", "age": "abc"})
    form = parse(response.text).by_id("hero-form")
    assert [node.attrs["name"] for node in form.find_all(aria_invalid="true")] == ["name", "age"]


async def test_create_hero_invalid_keeps_what_was_typed(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    data = {"name": "", "secret_name": '  Dive "Wilson" <b>', "age": "abc", "team_id": str(team.id)}
    response = await client.post("/heroes", data=data)
    assert response.status_code == 422
    form = parse(response.text).by_id("hero-form")
    assert form.find("input", name="secret_name").attrs["value"] == 'Dive "Wilson" <b>'
    assert form.find("input", name="age").attrs["value"] == "abc"
    assert "selected" in form.find("option", value=str(team.id)).attrs


async def test_create_hero_invalid_sets_no_toast(client: Client) -> None:
    response = await client.post("/heroes", data=VALID | {"name": ""}, follow_redirects=False)
    assert "flash" not in response.headers.get("set-cookie", "")
    assert toast(response) == ""


async def test_create_hero_empty_body_is_422_not_json(client: Client, db: AsyncSession) -> None:
    response = await client.post("/heroes", content=b"", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert await count_heroes(db) == 0

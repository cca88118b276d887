"""What only a hero's forms have: the team select with "No team", the optional age and team stored as null, the
team checked against live teams (one in the trash is gone), and the toast's text through the flash cookie.

Every resource's create and edit behaviour is in test_records_create.py and test_records_edit.py; which values
the age and team fields refuse is proven without a server in tests/unit/test_record_forms.py, so a few go
through HTTP here: one for each message, on the page and in the htmx answer.
"""

from __future__ import annotations

import pytest
from httpx import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import (
    HTMX,
    Client,
    all_heroes,
    fetch_hero,
    field_message,
    form_fields,
    id_of,
    make_hero,
    make_team,
    move_to_trash,
    toast,
)

VALID = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": "48", "team_id": ""}
AGE = "Age must be a whole number from 0 to 10,000."
GONE = "That team no longer exists. Choose another."
INVALID = [
    ("age", "abc", AGE),
    ("team_id", "x", "Choose a team from the list."),
    ("team_id", "4242", GONE),
    ("team_id", "2147483648", GONE),  # past PostgreSQL's integer: looked up without an error
    ("team_id", "-1", GONE),
]


async def stored(db: AsyncSession, hero_id: int) -> tuple[object, ...]:
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    await db.commit()
    return (hero.name, hero.secret_name, hero.age, hero.team_id, hero.version)


async def save(client: Client, hero_id: int, changes: dict[str, str], htmx: bool = False) -> Response:
    """Open the edit form (page or inline row), change what is given, and send it as the browser would."""
    headers = HTMX if htmx else None
    served = await client.get(f"/heroes/{hero_id}/edit", headers=headers)
    data = form_fields(served.text, f"hero-{hero_id}-form" if htmx else "hero-form") | changes
    return await client.post(f"/heroes/{hero_id}", data=data, headers=headers, follow_redirects=False)


# --- creating -------------------------------------------------------------------------------------------------


async def test_new_hero_form_offers_no_team_and_every_live_team(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    form = parse((await client.get("/heroes/new")).text).by_id("hero-form")
    options = {option.text: option.attrs["value"] for option in form.find("select").find_all("option")}
    assert options == {"No team": "", "Z-Force": str(team.id)}


async def test_each_edit_form_selects_its_own_heros_team(client: Client, db: AsyncSession) -> None:
    # The teams are offered to one form after another, their options written once: each form selects its own
    # hero's team, and none for a hero without one.
    first, second = await make_team(db, name="Avengers"), await make_team(db, name='Z & "Force"')
    heroes = [
        await make_hero(db, name="Deadpond", team=first),
        await make_hero(db, name="Rusty", team=second),
        await make_hero(db, name="Loner"),
    ]
    for hero, expected in [*zip(heroes, [first, second, None], strict=True), (heroes[0], first)]:
        for headers, form_id in ((None, "hero-form"), (HTMX, f"hero-{hero.id}-form")):
            page = parse((await client.get(f"/heroes/{hero.id}/edit", headers=headers)).text)
            select = page.by_id(form_id).find("select") if headers is None else page.find("select")
            picked = [(o.attrs["value"], o.text) for o in select.find_all("option") if "selected" in o.attrs]
            assert picked == ([(str(expected.id), expected.name)] if expected else []), (hero.name, form_id)


async def test_create_hero_blank_age_and_team_are_stored_as_null(client: Client, db: AsyncSession) -> None:
    await client.post("/heroes", data=VALID | {"age": "", "team_id": ""}, follow_redirects=False)
    [hero] = await all_heroes(db)
    assert (hero.age, hero.team_id) == (None, None)


async def test_create_hero_without_optional_fields_in_the_body(client: Client, db: AsyncSession) -> None:
    response = await client.post("/heroes", data={"name": "Deadpond", "secret_name": "Dive"}, follow_redirects=False)
    assert response.status_code == 303
    [hero] = await all_heroes(db)
    assert (hero.age, hero.team_id) == (None, None)


@pytest.mark.parametrize("age", ["0", "10000"])
async def test_create_hero_accepts_the_ages_at_the_limits(client: Client, db: AsyncSession, age: str) -> None:
    response = await client.post("/heroes", data=VALID | {"age": age}, follow_redirects=False)
    assert response.status_code == 303
    [hero] = await all_heroes(db)
    assert hero.age == int(age)


@pytest.mark.parametrize("name", ["Zoë “Ñ” 東京; x", "Agent 100%41"], ids=["non-ascii", "percent-signs"])
async def test_create_hero_toast_keeps_the_name_as_typed(client: Client, name: str) -> None:
    landing = await client.post("/heroes", data=VALID | {"name": name}, follow_redirects=True)
    assert toast(landing) == f"Created hero {name}."


async def test_create_hero_toast_is_in_a_status_region(client: Client) -> None:
    landing = await client.post("/heroes", data=VALID, follow_redirects=True)
    assert parse(landing.text).find(role="status").text == "Created hero Deadpond."


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
async def test_create_hero_invalid_age_or_team_rerenders_form_422(
    client: Client, db: AsyncSession, field: str, value: str, message: str
) -> None:
    await make_hero(db, name="Rusty-Man")
    response = await client.post("/heroes", data=VALID | {field: value}, follow_redirects=False)
    assert response.status_code == 422
    assert "<html" in response.text
    form = parse(response.text).by_id("hero-form")
    assert field_message(form, field) == message
    assert form.find(role="alert").text
    assert len(await all_heroes(db)) == 1


@pytest.mark.parametrize(("field", "value", "message"), [INVALID[0], INVALID[2]])
async def test_create_hero_htmx_invalid_age_or_team_returns_form_fragment_422(
    client: Client, db: AsyncSession, field: str, value: str, message: str
) -> None:
    response = await client.post("/heroes", data=VALID | {field: value}, headers=HTMX)
    assert response.status_code == 422
    assert "<html" not in response.text
    assert field_message(parse(response.text).by_id("hero-form"), field) == message
    assert len(await all_heroes(db)) == 0


async def test_create_hero_in_a_team_in_the_trash_is_422(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    await move_to_trash(db, team)
    response = await client.post("/heroes", data=VALID | {"team_id": str(team.id)}, follow_redirects=False)
    assert response.status_code == 422
    form = parse(response.text).by_id("hero-form")
    assert field_message(form, "team_id") == GONE
    assert [option.attrs["value"] for option in form.find_all("option")] == [""]
    assert len(await all_heroes(db)) == 0


async def test_create_hero_invalid_marks_the_age_too_and_keeps_the_team_chosen(
    client: Client, db: AsyncSession
) -> None:
    team = await make_team(db, name="Z-Force")
    data = {"name": "", "secret_name": "Dive", "age": "abc", "team_id": str(team.id)}
    response = await client.post("/heroes", data=data)
    assert response.status_code == 422
    form = parse(response.text).by_id("hero-form")
    assert [node.attrs["name"] for node in form.find_all(aria_invalid="true")] == ["name", "age"]
    assert form.find("input", name="age").attrs["value"] == "abc"
    assert "selected" in form.find("option", value=str(team.id)).attrs


# --- editing --------------------------------------------------------------------------------------------------


async def test_update_hero_clearing_team_and_age_stores_null(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, age=48, team=await make_team(db)))
    assert (await save(client, hero_id, {"age": "", "team_id": ""})).status_code == 303
    assert (await stored(db, hero_id))[2:4] == (None, None)


async def test_update_hero_moves_to_another_team(client: Client, db: AsyncSession) -> None:
    old_team = await make_team(db, name="Z-Force")
    new_team_id = id_of(await make_team(db, name="Preventers"))
    hero_id = id_of(await make_hero(db, team=old_team))
    await save(client, hero_id, {"team_id": str(new_team_id)})
    assert (await stored(db, hero_id))[3] == new_team_id


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "row"])
@pytest.mark.parametrize(("field", "value", "message"), [INVALID[0], INVALID[1], INVALID[2]])
async def test_update_hero_invalid_age_or_team_is_422_and_saves_nothing(
    client: Client, db: AsyncSession, htmx: bool, field: str, value: str, message: str
) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=48))
    response = await save(client, hero_id, {field: value}, htmx)
    assert response.status_code == 422
    scope = parse(response.text).by_id(f"hero-{hero_id}" if htmx else "hero-form")
    assert scope.tag == ("tr" if htmx else "form")
    assert field_message(scope, field) == message
    assert await stored(db, hero_id) == ("Deadpond", "Dive Wilson", 48, None, 1)


async def test_update_hero_htmx_invalid_keeps_the_age_typed_and_marks_it(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    typed = {"name": "", "secret_name": ' Pedro "P" <i> ', "age": "abc", "team_id": ""}
    row = parse((await save(client, hero_id, typed, htmx=True)).text).by_id(f"hero-{hero_id}")
    values = [row.find("input", name=name).attrs["value"] for name in ("name", "secret_name", "age")]
    assert values == ["", 'Pedro "P" <i>', "abc"]
    assert [node.attrs["name"] for node in row.find_all(aria_invalid="true")] == ["name", "age"]

"""Deleting heroes: the confirmation page, post/redirect/get with a toast, the htmx answer that removes the row."""

from __future__ import annotations

from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX
from tests.factories import all_heroes, fetch_hero, fetch_team, id_of, make_hero, make_team
from tests.markup import parse

Client = AsyncTestClient[Litestar]


def toast(response: Response) -> str:
    return parse(response.text).by_id("toasts").text


# --- the confirmation page ------------------------------------------------------------------------------------


async def test_confirm_delete_page_has_a_delete_button_in_a_post_form(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    response = await client.get(f"/heroes/{hero_id}/delete")
    assert response.status_code == 200
    assert "<html" in response.text
    page = parse(response.text)
    assert page.find("h1").text == "Delete hero"
    form = page.by_id("hero-delete")
    assert (form.tag, form.attrs["method"], form.attrs["action"]) == ("form", "post", f"/heroes/{hero_id}/delete")
    assert form.find("button", type="submit").text == "Delete"
    assert "Deadpond" in form.text


async def test_confirm_delete_page_names_the_team(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", team=await make_team(db, name="Z-Force")))
    form = parse((await client.get(f"/heroes/{hero_id}/delete")).text).by_id("hero-delete")
    assert "Deadpond of Z-Force" in form.text


async def test_confirm_delete_page_cancel_goes_back_to_the_hero(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    form = parse((await client.get(f"/heroes/{hero_id}/delete")).text).by_id("hero-delete")
    assert form.find("a", href=f"/heroes/{hero_id}").text == "Cancel"


async def test_confirm_delete_page_does_not_delete(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    await client.get(f"/heroes/{hero_id}/delete")
    assert await fetch_hero(db, hero_id) is not None


async def test_confirm_delete_htmx_returns_the_confirmation_fragment(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await client.get(f"/heroes/{hero_id}/delete", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert parse(response.text).by_id("hero-delete").find("button").text == "Delete"


# --- plain browser: post/redirect/get -------------------------------------------------------------------------


async def test_delete_hero_redirects_303_to_the_list_and_removes_it(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await client.post(f"/heroes/{hero_id}/delete", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/heroes"
    assert await fetch_hero(db, hero_id) is None


async def test_delete_hero_toast_shows_once_after_the_redirect(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    response = await client.post(f"/heroes/{hero_id}/delete", follow_redirects=False)
    landing = await client.get(response.headers["location"])
    assert landing.status_code == 200
    assert toast(landing) == "Deleted hero Deadpond."
    assert not parse(landing.text).has(id=f"hero-{hero_id}")
    assert toast(await client.get("/heroes")) == ""


async def test_delete_hero_keeps_its_team_and_the_other_heroes(client: Client, db: AsyncSession) -> None:
    team = await make_team(db)
    team_id = id_of(team)
    hero_id = id_of(await make_hero(db, name="Deadpond", team=team))
    other_id = id_of(await make_hero(db, name="Rusty-Man", team=team))
    await client.post(f"/heroes/{hero_id}/delete", follow_redirects=False)
    assert [(hero.id, hero.team_id) for hero in await all_heroes(db)] == [(other_id, team_id)]
    assert await fetch_team(db, team_id) is not None


async def test_delete_hero_twice_is_404(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    first = await client.post(f"/heroes/{hero_id}/delete", follow_redirects=False)
    second = await client.post(f"/heroes/{hero_id}/delete", follow_redirects=False)
    assert (first.status_code, second.status_code) == (303, 404)
    assert "<html" in second.text
    assert "flash" not in second.headers.get("set-cookie", "")


async def test_deleted_hero_pages_are_404(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    await client.post(f"/heroes/{hero_id}/delete", follow_redirects=False)
    statuses = [(await client.get(f"/heroes/{hero_id}{suffix}")).status_code for suffix in ("", "/edit", "/delete")]
    assert statuses == [404, 404, 404]


# --- htmx: the row goes, the count and the toast come out of band ---------------------------------------------


async def test_delete_hero_htmx_returns_200_without_a_row(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await client.post(f"/heroes/{hero_id}/delete", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<tr" not in response.text
    assert await fetch_hero(db, hero_id) is None


async def test_delete_hero_htmx_updates_the_count_out_of_band(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    await make_hero(db, name="Rusty-Man")
    await make_hero(db, name="Spider-Boy")
    response = await client.post(f"/heroes/{hero_id}/delete", headers=HTMX)
    summary = parse(response.text).by_id("hero-summary")
    assert summary.attrs["hx-swap-oob"] == "true"
    assert summary.text == "2 heroes"


async def test_delete_last_hero_htmx_shows_the_empty_state(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    response = await client.post(f"/heroes/{hero_id}/delete", headers=HTMX)
    assert "No heroes yet" in parse(response.text).by_id("hero-summary").text


async def test_delete_hero_htmx_sends_the_toast_out_of_band(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    response = await client.post(f"/heroes/{hero_id}/delete", headers=HTMX)
    toasts = parse(response.text).by_id("toasts")
    assert toasts.attrs["hx-swap-oob"] == "innerHTML"
    assert toasts.text == "Deleted hero Deadpond."


async def test_delete_hero_htmx_does_not_leave_a_toast_for_the_next_page(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    await client.post(f"/heroes/{hero_id}/delete", headers=HTMX)
    assert toast(await client.get("/heroes")) == ""


async def test_delete_hero_twice_htmx_is_404_alert(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    await client.post(f"/heroes/{hero_id}/delete", headers=HTMX)
    response = await client.post(f"/heroes/{hero_id}/delete", headers=HTMX)
    assert response.status_code == 404
    assert "<html" not in response.text
    assert "Not found" in parse(response.text).find(role="alert").text

"""The trash: deletes land there (out of every list, count and choice), Undo and restore, purge and empty."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX, Clock, sign_in
from tests.factories import (
    all_heroes,
    all_teams,
    audit_entries,
    database_state,
    fetch_hero,
    fetch_team,
    form_fields,
    id_of,
    make_hero,
    make_team,
    make_user,
    move_to_trash,
)
from tests.markup import Element, parse
from webapp.models import Hero, Role, Team

Client = AsyncTestClient[Litestar]
PLURAL = {"hero": "heroes", "team": "teams"}


async def make(db: AsyncSession, kind: str, name: str) -> Hero | Team:
    return await make_hero(db, name=name) if kind == "hero" else await make_team(db, name=name)


async def fetch(db: AsyncSession, kind: str, record_id: int) -> Hero | Team | None:
    return await fetch_hero(db, record_id) if kind == "hero" else await fetch_team(db, record_id)


async def delete(client: Client, kind: str, record_id: int, headers: dict[str, str] | None = None) -> Response:
    """Delete as the row's button does, at version 1 (a fresh record's)."""
    path = f"/{PLURAL[kind]}/{record_id}/delete"
    return await client.post(path, data={"version": "1"}, headers=headers, follow_redirects=False)


async def signed_in_as(http: Client, db: AsyncSession, clock: Clock, role: Role) -> Client:
    await sign_in(http, db, await make_user(db, username=f"{role.value}1", role=role), clock)
    return http


def undo_form(response: Response) -> Element | None:
    """The Undo form in the status message, if it offers one."""
    forms = parse(response.text).by_id("toasts").find_all("form")
    assert len(forms) <= 1
    return forms[0] if forms else None


async def submit(client: Client, form: Element) -> Response:
    data = {field.attrs["name"]: field.attrs.get("value", "") for field in form.find_all("input")}
    return await client.post(form.attrs["action"], data=data, follow_redirects=False)


# --- deleting puts it in the trash, out of sight ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["hero", "team"])
async def test_deleted_record_is_listed_in_the_trash_with_who_and_when(
    client: Client, db: AsyncSession, clock: Clock, kind: str
) -> None:
    record_id = id_of(await make(db, kind, "Gone Soon"))
    assert (await delete(client, kind, record_id)).status_code == 303
    row = parse((await client.get("/trash")).text).by_id(f"trash-{kind}-{record_id}")
    assert "Gone Soon" in row.text
    assert row.find("td", data_label="By").text == "eddie"
    assert row.find("time").text == f"{clock.now:%Y-%m-%d %H:%M} UTC"
    stored = await fetch(db, kind, record_id)
    assert stored is not None
    assert stored.deleted_by == "eddie"
    assert stored.deleted_at is not None


async def test_deleted_hero_leaves_the_list_the_counts_and_its_teams_hero_list(
    client: Client, db: AsyncSession
) -> None:
    team = await make_team(db, name="Z-Force")
    gone = id_of(await make_hero(db, name="Deadpond", team=team))
    kept = id_of(await make_hero(db, name="Domino", team=team))
    await delete(client, "hero", gone)
    heroes = parse((await client.get("/heroes")).text)
    assert not heroes.has(id=f"hero-{gone}")
    assert heroes.has(id=f"hero-{kept}")
    assert heroes.by_id("hero-summary").text == "1 hero"
    teams = parse((await client.get("/teams")).text)
    assert teams.by_id(f"team-{id_of(team)}").find("td", data_label="Heroes").text == "1"
    detail = parse((await client.get(f"/teams/{id_of(team)}")).text)
    assert not detail.has(id=f"team-hero-{gone}")
    assert detail.has(id=f"team-hero-{kept}")
    assert [dd.text for dd in detail.find("dl").find_all("dd")] == ["Sharp Tower", "1"]  # headquarters, heroes


async def test_deleted_team_leaves_the_list_the_count_and_the_hero_forms_team_choices(
    client: Client, db: AsyncSession
) -> None:
    gone, kept = id_of(await make_team(db, name="Z-Force")), id_of(await make_team(db, name="Avengers"))
    hero_id = id_of(await make_hero(db))
    await delete(client, "team", gone)
    teams = parse((await client.get("/teams")).text)
    assert not teams.has(id=f"team-{gone}")
    assert teams.has(id=f"team-{kept}")
    assert teams.by_id("team-summary").text == "1 team"
    forms = [
        ((await client.get("/heroes/new")).text, "hero-form-team_id"),
        ((await client.get(f"/heroes/{hero_id}/edit")).text, "hero-form-team_id"),
        ((await client.get(f"/heroes/{hero_id}/edit", headers=HTMX)).text, f"hero-{hero_id}-team_id"),
    ]
    for html, select_id in forms:
        choices = [option.attrs["value"] for option in parse(html).by_id(select_id).find_all("option")]
        assert choices == ["", str(kept)], select_id


@pytest.mark.parametrize("kind", ["hero", "team"])
@pytest.mark.parametrize(
    ("suffix", "headers"),
    [pytest.param("", {}, id="detail"), pytest.param("/edit", {}, id="edit"), pytest.param("/row", HTMX, id="row")],
)
async def test_pages_of_a_deleted_record_answer_404_pointing_to_the_trash(
    client: Client, db: AsyncSession, kind: str, suffix: str, headers: dict[str, str]
) -> None:
    record = await make(db, kind, "Gone Soon")
    await move_to_trash(db, record)
    response = await client.get(f"/{PLURAL[kind]}/{id_of(record)}{suffix}", headers=headers)
    assert response.status_code == 404
    assert "Trash" in parse(response.text).find(role="alert").text


# --- Undo ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["hero", "team"])
async def test_htmx_delete_toast_offers_an_undo_that_restores(client: Client, db: AsyncSession, kind: str) -> None:
    record_id = id_of(await make(db, kind, "Gone Soon"))
    response = await delete(client, kind, record_id, headers=HTMX)
    assert response.status_code == 200
    form = undo_form(response)
    assert form is not None
    assert form.find("button").text == "Undo"
    assert form.attrs["action"] == f"/{PLURAL[kind]}/{record_id}/restore"
    assert form.find("input", name="version").attrs["value"] == "2"
    restored = await submit(client, form)
    assert restored.status_code == 303
    assert restored.headers["location"] == f"/{PLURAL[kind]}/{record_id}"
    stored = await fetch(db, kind, record_id)
    assert stored is not None
    assert stored.deleted_at is None
    assert stored.version == 3


@pytest.mark.parametrize("kind", ["hero", "team"])
async def test_delete_without_javascript_shows_the_undo_after_the_redirect(
    client: Client, db: AsyncSession, kind: str
) -> None:
    record_id = id_of(await make(db, kind, "Gone Soon"))
    response = await delete(client, kind, record_id)
    landing = await client.get(response.headers["location"])
    assert landing.status_code == 200
    assert f"Moved {kind} Gone Soon to the trash." in parse(landing.text).by_id("toasts").text
    form = undo_form(landing)
    assert form is not None
    assert form.attrs["action"] == f"/{PLURAL[kind]}/{record_id}/restore"
    assert form.find("input", name="version").attrs["value"] == "2"
    assert (await submit(client, form)).status_code == 303
    stored = await fetch(db, kind, record_id)
    assert stored is not None
    assert stored.deleted_at is None


FORGED_FLASH = [
    ("not json at all", False),
    (json.dumps({"text": "Hi", "undo": ["hero", "1", 2]}), False),
    (json.dumps({"text": "Hi", "undo": ["hero", 1, "2"]}), False),
    (json.dumps({"text": "Hi", "undo": ["villain", 1, 2]}), False),
    (json.dumps({"text": "Hi", "undo": ["hero", 0, 2]}), False),
    (json.dumps({"text": "Hi", "undo": ["hero", 2**31, 2]}), False),
    (json.dumps({"text": "Hi", "undo": ["hero", True, 2]}), False),
    (json.dumps({"text": "Hi", "undo": [["hero"], 1, 2]}), False),
    (json.dumps({"text": "Hi", "undo": ["hero", 1]}), False),
    (json.dumps({"text": "Hi", "undo": 5}), False),
    (json.dumps({"undo": ["hero", 1, 2]}), False),
    (json.dumps(["hero", 1, 2]), False),
    (json.dumps(None), False),
    ("[" * 1500, False),  # nesting deep enough to exhaust the JSON parser's recursion
    (json.dumps({"text": "Hi", "undo": ["hero", 1, 2]}), True),  # the real thing, so the check can see an Undo
]


async def test_forged_flash_cookie_never_fails_and_offers_undo_only_for_a_real_record(client: Client) -> None:
    for payload, offers_undo in FORGED_FLASH:  # one test over the table: each case is one cheap request
        client.cookies.set("flash", quote(payload))
        response = await client.get("/heroes")
        assert response.status_code == 200, payload
        form = undo_form(response)
        assert (form is not None) is offers_undo, payload
        if form is not None:
            assert form.attrs["action"] == "/heroes/1/restore"


# --- restore ---------------------------------------------------------------------------------------------------


async def test_restore_with_a_stale_version_is_409_and_leaves_it_in_the_trash(client: Client, db: AsyncSession) -> None:
    hero = await make_hero(db)
    await move_to_trash(db, hero)
    response = await client.post(f"/heroes/{id_of(hero)}/restore", data={"version": "1"})
    assert response.status_code == 409
    stored = await fetch_hero(db, id_of(hero))
    assert stored is not None
    assert stored.deleted_at is not None
    assert stored.version == 2


async def test_restore_of_a_live_record_is_409(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    response = await client.post(f"/heroes/{hero_id}/restore", data={"version": "1"})
    assert response.status_code == 409
    assert "not in the Trash any more" in parse(response.text).find(role="alert").text
    stored = await fetch_hero(db, hero_id)
    assert stored is not None
    assert stored.version == 1


async def test_restoring_a_team_brings_back_untouched_heroes_and_names_the_ones_moved_meanwhile(
    client: Client, db: AsyncSession
) -> None:
    team_id, other_id = id_of(await make_team(db, name="Z-Force")), id_of(await make_team(db, name="Avengers"))
    team = await fetch_team(db, team_id)
    stays = id_of(await make_hero(db, name="Domino", team=team))
    moved = id_of(await make_hero(db, name="Cable", secret_name="Nathan", team=team))
    await delete(client, "team", team_id)
    edit = {"name": "Cable", "secret_name": "Nathan", "age": "", "team_id": str(other_id), "version": "2"}
    assert (await client.post(f"/heroes/{moved}", data=edit, follow_redirects=False)).status_code == 303
    response = await client.post(f"/teams/{team_id}/restore", data={"version": "2"})
    assert response.status_code == 200  # followed to the team's page
    message = parse(response.text).by_id("toasts").text
    assert "1 of its heroes is back in it" in message
    assert "changed after the delete: Cable" in message
    assert [(hero.id, hero.team_id) for hero in await all_heroes(db)] == [(stays, team_id), (moved, other_id)]


async def test_restoring_a_team_whose_name_was_taken_meanwhile_is_409_and_changes_nothing(
    client: Client, db: AsyncSession
) -> None:
    team = await make_team(db, name="Z-Force")
    team_id = id_of(team)
    await make_hero(db, team=team)
    await delete(client, "team", team_id)
    await make_team(db, name="Z-Force", headquarters="Elsewhere")
    before = await database_state(db)
    response = await client.post(f"/teams/{team_id}/restore", data={"version": "2"})
    assert response.status_code == 409
    assert "Another team now has this team's name" in parse(response.text).find(role="alert").text
    assert await database_state(db) == before


async def test_a_team_name_can_be_reused_while_the_old_team_is_in_the_trash(client: Client, db: AsyncSession) -> None:
    old = await make_team(db, name="Z-Force")
    await move_to_trash(db, old)
    response = await client.post("/teams", data={"name": "Z-Force", "headquarters": "New HQ"}, follow_redirects=False)
    assert response.status_code == 303
    assert sorted((team.name, team.deleted_at is None) for team in await all_teams(db)) == [
        ("Z-Force", False),
        ("Z-Force", True),
    ]


# --- purge and empty (admins) ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.viewer, Role.editor])
async def test_purge_and_empty_trash_are_refused_403_to_non_admins(
    http: Client, db: AsyncSession, clock: Clock, role: Role
) -> None:
    hero = await make_hero(db)
    hero_id = id_of(hero)
    await move_to_trash(db, hero)
    client = await signed_in_as(http, db, clock, role)
    before = await database_state(db)
    for method, path in [
        ("GET", f"/heroes/{hero_id}/purge"),
        ("POST", f"/heroes/{hero_id}/purge"),
        ("GET", "/trash/empty"),
        ("POST", "/trash/empty"),
    ]:
        assert (await client.request(method, path)).status_code == 403, (method, path)
    assert await database_state(db) == before
    trash = parse((await client.get("/trash")).text)
    assert not trash.has("a", href=f"/heroes/{hero_id}/purge")
    assert not trash.has("a", href="/trash/empty")


async def test_admin_purge_removes_the_record_for_good_and_keeps_its_history(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    client = await signed_in_as(http, db, clock, Role.admin)
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    await delete(client, "hero", hero_id)
    page = await client.get(f"/heroes/{hero_id}/purge")
    assert page.status_code == 200
    purge_form = form_fields(page.text, "purge-form")
    assert purge_form["version"] == "2"
    response = await client.post(f"/heroes/{hero_id}/purge", data=purge_form, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/trash")
    assert await fetch_hero(db, hero_id) is None
    entries = await audit_entries(db)
    ours = [entry.action for entry in entries if (entry.record_type, entry.record_id) == ("hero", hero_id)]
    assert ours == ["delete", "purge"]
    history = await client.get(f"/heroes/{hero_id}/history")
    assert history.status_code == 200
    assert "History of Deadpond" in parse(history.text).find("h1").text


async def test_purge_of_a_live_record_is_refused(http: Client, db: AsyncSession, clock: Clock) -> None:
    client = await signed_in_as(http, db, clock, Role.admin)
    team_id = id_of(await make_team(db))
    assert (await client.get(f"/teams/{team_id}/purge")).status_code == 404
    response = await client.post(f"/teams/{team_id}/purge", data={"version": "1"})
    assert response.status_code == 409
    assert "is not in the Trash any more" in parse(response.text).find(role="alert").text
    assert await fetch_team(db, team_id) is not None


async def test_purge_of_a_record_restored_and_deleted_again_since_the_page_was_shown_is_refused(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    """The purge page was opened for one deletion; the record came back and went again meanwhile: the admin
    has not seen this state, so nothing is removed for good."""
    client = await signed_in_as(http, db, clock, Role.admin)
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    await delete(client, "hero", hero_id)
    purge_form = form_fields((await client.get(f"/heroes/{hero_id}/purge")).text, "purge-form")
    restored = await client.post(f"/heroes/{hero_id}/restore", data={"version": "2"}, follow_redirects=False)
    assert restored.status_code == 303
    deleted = await client.post(f"/heroes/{hero_id}/delete", data={"version": "3"}, follow_redirects=False)
    assert deleted.status_code == 303
    response = await client.post(f"/heroes/{hero_id}/purge", data=purge_form)
    assert response.status_code == 409
    assert "changed meanwhile" in parse(response.text).find(role="alert").text
    stored = await fetch_hero(db, hero_id)
    assert stored is not None
    assert (stored.deleted_at is not None, stored.version) == (True, 4)


async def test_empty_trash_purges_everything_in_it_and_leaves_live_records(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    client = await signed_in_as(http, db, clock, Role.admin)
    trashed_hero, live_hero = await make_hero(db, name="Gone"), id_of(await make_hero(db, name="Here"))
    trashed_team, live_team = await make_team(db, name="Gone Team"), id_of(await make_team(db, name="Here Team"))
    gone = [("hero", id_of(trashed_hero)), ("team", id_of(trashed_team))]
    for record in (trashed_hero, trashed_team):
        await move_to_trash(db, record)
    clock.advance(timedelta(minutes=1))  # the app's clock, past move_to_trash's real-time stamps
    page = await client.get("/trash/empty")
    assert page.status_code == 200
    late = await make_hero(db, name="Deleted after the confirmation")
    clock.advance(timedelta(seconds=1))
    late.deleted_at, late.deleted_by = clock(), "eddie"
    db.add(late)
    await db.commit()
    late_id = id_of(late)
    response = await client.post(
        "/trash/empty", data=form_fields(page.text, "empty-trash-form"), follow_redirects=False
    )
    assert (response.status_code, response.headers["location"]) == (303, "/trash")
    stored_late = await fetch_hero(db, late_id)
    assert stored_late is not None  # not shown on the confirmation: still in the trash
    await db.delete(stored_late)
    await db.commit()
    assert [hero.id for hero in await all_heroes(db)] == [live_hero]
    assert [team.id for team in await all_teams(db)] == [live_team]
    entries = await audit_entries(db)
    assert sorted((entry.record_type, entry.record_id) for entry in entries if entry.action == "purge") == gone


async def test_restoring_a_team_reattaches_heroes_beyond_one_statements_parameter_limit(
    client: Client, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL takes at most 32,767 parameters a statement, so the ids go in slices; slices of 2 here make
    five heroes cross several of them."""
    monkeypatch.setattr("webapp.data.writes.chunks", lambda items: [items[i : i + 2] for i in range(0, len(items), 2)])
    team = await make_team(db, name="Preventers")
    team_id = id_of(team)
    hero_ids = [id_of(await make_hero(db, name=f"Hero {n}", team=team)) for n in range(5)]
    assert (await delete(client, "team", team_id)).status_code == 303
    response = await client.post(f"/teams/{team_id}/restore", data={"version": "2"}, follow_redirects=False)
    assert response.status_code == 303
    assert [(await fetch_hero(db, hero_id) or Hero()).team_id for hero_id in hero_ids] == [team_id] * 5


async def test_a_new_record_never_takes_the_id_of_a_purged_one(http: Client, db: AsyncSession, clock: Clock) -> None:
    """History is kept by id: a new hero given a purged hero's id would show the old one's changes as its own."""
    client = await signed_in_as(http, db, clock, Role.admin)
    purged_id = id_of(await make_hero(db, name="Old"))
    await delete(client, "hero", purged_id)
    purge_form = form_fields((await client.get(f"/heroes/{purged_id}/purge")).text, "purge-form")
    assert (await client.post(f"/heroes/{purged_id}/purge", data=purge_form, follow_redirects=False)).status_code == 303
    created = await client.post(
        "/heroes", data={"name": "New", "secret_name": "Fresh", "age": "", "team_id": ""}, follow_redirects=False
    )
    assert created.status_code == 303
    assert created.headers["location"] != f"/heroes/{purged_id}"


async def test_the_trash_pages_each_list_on_its_own(client: Client, db: AsyncSession, clock: Clock) -> None:
    """Every item in the trash can be reached to restore it: 100 a page, newest deletions first."""
    db.add_all(
        Hero(name=f"Gone {n:03d}", secret_name="x", deleted_at=clock.now + timedelta(seconds=n), deleted_by="eddie")
        for n in range(101)
    )
    await db.commit()
    first = parse((await client.get("/trash")).text)
    heroes = first.find("table", aria_label="Heroes in the trash")
    names = [row.find("a").text for row in heroes.find("tbody").find_all("tr")]
    assert (len(names), names[0], names[-1]) == (100, "Gone 100", "Gone 001")
    next_link = first.find("a", rel="next")
    assert next_link.attrs["href"] == "?teams_page=1&heroes_page=2"
    second = parse((await client.get("/trash" + next_link.attrs["href"])).text)
    rows = second.find("table", aria_label="Heroes in the trash").find("tbody").find_all("tr")
    assert [row.find("a").text for row in rows] == ["Gone 000"]
    assert second.find("a", rel="prev").attrs["href"] == "?teams_page=1&heroes_page=1"

"""The trash: deletes land there (out of every list, count and choice), Undo and restore, purge and empty.

What every resource does is written once and runs on each; what a team's delete and restore do to its heroes,
and a team's name being free again while it is in the trash, are tests of their own. A record in the trash
answering 404 on its pages is in test_records_pages.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from httpx import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import Element, parse
from tests.support import (
    HEROES,
    HTMX,
    TEAMS,
    Client,
    Clock,
    Subject,
    all_heroes,
    all_teams,
    database_state,
    each_resource,
    fetch_hero,
    fetch_team,
    id_of,
    make_hero,
    make_team,
    move_to_trash,
)
from webapp.models import Hero
from webapp.registry import RESOURCES


async def delete(client: Client, subject: Subject, record_id: int, headers: dict[str, str] | None = None) -> Response:
    """Delete as the row's button does, at version 1 (a fresh record's)."""
    path = subject.url(record_id, "/delete")
    return await client.post(path, data={"version": "1"}, headers=headers, follow_redirects=False)


def undo_form(response: Response) -> Element | None:
    """The Undo form in the status message, if it offers one."""
    forms = parse(response.text).by_id("toasts").find_all("form")
    assert len(forms) <= 1
    return forms[0] if forms else None


async def submit(client: Client, form: Element) -> Response:
    data = {field.attrs["name"]: field.attrs.get("value", "") for field in form.find_all("input")}
    return await client.post(form.attrs["action"], data=data, follow_redirects=False)


# --- deleting puts it in the trash, out of sight ---------------------------------------------------------------


@each_resource
async def test_deleted_record_is_listed_in_the_trash_with_who_and_when(
    client: Client, db: AsyncSession, clock: Clock, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    assert (await delete(client, subject, record_id)).status_code == 303
    row = parse((await client.get("/trash")).text).by_id(f"trash-{subject.name}-{record_id}")
    assert "Gone Soon" in row.text
    assert row.find("td", data_label="By").text == "eddie"
    assert row.find("time").text == f"{clock.now:%Y-%m-%d %H:%M} UTC"
    stored = await subject.stored(db, record_id)
    assert stored.deleted_by == "eddie"
    assert stored.deleted_at is not None


async def test_deleted_hero_leaves_the_list_the_counts_and_its_teams_hero_list(
    client: Client, db: AsyncSession
) -> None:
    team = await make_team(db, name="Z-Force")
    gone = id_of(await make_hero(db, name="Deadpond", team=team))
    kept = id_of(await make_hero(db, name="Domino", team=team))
    await delete(client, HEROES, gone)
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
    await delete(client, TEAMS, gone)
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


@each_resource
async def test_the_trash_pages_each_list_on_its_own(
    client: Client, db: AsyncSession, clock: Clock, subject: Subject
) -> None:
    """Every item in the trash can be reached to restore it: 100 a page, newest deletions first."""
    db.add_all(
        subject.new(f"Gone {n:03d}", deleted_at=clock.now + timedelta(seconds=n), deleted_by="eddie")
        for n in range(101)
    )
    await db.commit()
    title = f"{subject.resource.title} in the trash"
    first = parse((await client.get("/trash")).text)
    names = [row.find("a").text for row in first.find("table", aria_label=title).find("tbody").find_all("tr")]
    assert (len(names), names[0], names[-1]) == (100, "Gone 100", "Gone 001")
    others = "&".join(f"{other.plural}_page=1" for other in RESOURCES if other is not subject.resource)
    next_link = first.find("a", rel="next")
    assert next_link.attrs["href"] == f"?{others}&{subject.resource.plural}_page=2"
    second = parse((await client.get("/trash" + next_link.attrs["href"])).text)
    rows = second.find("table", aria_label=title).find("tbody").find_all("tr")
    assert [row.find("a").text for row in rows] == ["Gone 000"]
    assert second.find("a", rel="prev").attrs["href"] == f"?{others}&{subject.resource.plural}_page=1"


# --- Undo ------------------------------------------------------------------------------------------------------


@each_resource
async def test_htmx_delete_toast_offers_an_undo_that_restores(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    response = await delete(client, subject, record_id, headers=HTMX)
    assert response.status_code == 200
    form = undo_form(response)
    assert form is not None
    assert form.find("button").text == "Undo"
    assert form.attrs["action"] == subject.url(record_id, "/restore")
    assert form.find("input", name="version").attrs["value"] == "2"
    restored = await submit(client, form)
    assert restored.status_code == 303
    assert restored.headers["location"] == subject.url(record_id)
    stored = await subject.stored(db, record_id)
    assert (stored.deleted_at, stored.version) == (None, 3)


@each_resource
async def test_delete_without_javascript_shows_the_undo_after_the_redirect(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id = id_of(await subject.make(db, "Gone Soon"))
    response = await client.post(subject.url(record_id, "/delete"), data={"version": "1"}, follow_redirects=False)
    landing = await client.get(response.headers["location"])
    assert landing.status_code == 200
    assert f"Moved {subject.name} Gone Soon to the trash." in parse(landing.text).by_id("toasts").text
    form = undo_form(landing)
    assert form is not None
    assert form.attrs["action"] == subject.url(record_id, "/restore")
    assert form.find("input", name="version").attrs["value"] == "2"
    assert (await submit(client, form)).status_code == 303
    assert (await subject.stored(db, record_id)).deleted_at is None


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


@each_resource
async def test_restore_with_a_stale_version_is_409_and_leaves_it_in_the_trash(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record = await subject.make(db)
    await move_to_trash(db, record)
    response = await client.post(subject.url(id_of(record), "/restore"), data={"version": "1"})
    assert response.status_code == 409
    stored = await subject.stored(db, id_of(record))
    assert (stored.deleted_at is not None, stored.version) == (True, 2)


@each_resource
async def test_restore_of_a_live_record_is_409(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    response = await client.post(subject.url(record_id, "/restore"), data={"version": "1"})
    assert response.status_code == 409
    assert "not in the Trash any more" in parse(response.text).find(role="alert").text
    assert (await subject.stored(db, record_id)).version == 1


async def test_restoring_a_team_brings_back_untouched_heroes_and_names_the_ones_moved_meanwhile(
    client: Client, db: AsyncSession
) -> None:
    team_id, other_id = id_of(await make_team(db, name="Z-Force")), id_of(await make_team(db, name="Avengers"))
    team = await fetch_team(db, team_id)
    stays = id_of(await make_hero(db, name="Domino", team=team))
    moved = id_of(await make_hero(db, name="Cable", secret_name="Nathan", team=team))
    await delete(client, TEAMS, team_id)
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
    await delete(client, TEAMS, team_id)
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


async def test_restoring_a_team_reattaches_heroes_beyond_one_statements_parameter_limit(
    client: Client, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL takes at most 32,767 parameters a statement, so the ids go in slices; slices of 2 here make
    five heroes cross several of them."""
    monkeypatch.setattr("webapp.data.writes.chunks", lambda items: [items[i : i + 2] for i in range(0, len(items), 2)])
    team = await make_team(db, name="Preventers")
    team_id = id_of(team)
    hero_ids = [id_of(await make_hero(db, name=f"Hero {n}", team=team)) for n in range(5)]
    assert (
        await client.post(f"/teams/{team_id}/delete", data={"version": "1"}, follow_redirects=False)
    ).status_code == 303
    response = await client.post(f"/teams/{team_id}/restore", data={"version": "2"}, follow_redirects=False)
    assert response.status_code == 303
    assert [(await fetch_hero(db, hero_id) or Hero()).team_id for hero_id in hero_ids] == [team_id] * 5

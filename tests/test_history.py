"""History: every change is recorded field by field with who and which request; the History page and panel
show it newest first; a revert goes back to before an entry, version-checked, and is itself recorded."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import HTMX, Clock, sign_in
from tests.markup import Element, parse
from tests.support import (
    audit_entries,
    database_state,
    fetch_hero,
    fetch_team,
    form_fields,
    id_of,
    make_hero,
    make_team,
    make_user,
)
from webapp.models import AuditEntry, Role, User

Client = AsyncTestClient[Litestar]


async def _post(client: Client, path: str, data: dict[str, str], expect: int = 303) -> Any:
    response = await client.post(path, data=data, follow_redirects=False)
    assert response.status_code == expect, f"POST {path}: {response.status_code}"
    return response


async def _edit(client: Client, kind: str, record_id: int, changes: dict[str, str]) -> Any:
    """Save the edit form as served, with `changes` typed in."""
    path = f"/{'heroes' if kind == 'hero' else 'teams'}/{record_id}"
    form = form_fields((await client.get(f"{path}/edit")).text, f"{kind}-form")
    return await _post(client, path, form | changes)


async def _entries(db: AsyncSession, record_type: str, record_id: int) -> list[AuditEntry]:
    return [e for e in await audit_entries(db) if (e.record_type, e.record_id) == (record_type, record_id)]


def _shown(entry: AuditEntry) -> tuple[Any, ...]:
    return (entry.action, entry.changes, entry.username, entry.user_id, entry.request_id)


def _change_rows(item: Element) -> list[tuple[str, ...]]:
    """The (field, before, after) rows an entry of the History page shows."""
    return [tuple(cell.text for cell in row.children) for row in item.find("tbody").find_all("tr")]


def _revert_form(html: str, entry_id: int) -> tuple[str, dict[str, str]]:
    """The revert button's form for one entry on a History page: its action and its hidden fields."""
    [form] = [f for f in parse(html).find_all("form") if f.attrs["action"].endswith(f"/history/{entry_id}/revert")]
    return form.attrs["action"], {i.attrs["name"]: i.attrs["value"] for i in form.find_all("input")}


async def _lifecycle(client: Client, db: AsyncSession) -> tuple[int, int, list[str]]:
    """A hero created, edited twice, deleted and restored over HTTP: (hero id, team id, each request's id)."""
    team_id = id_of(await make_team(db, name="Preventers"))
    form = form_fields((await client.get("/heroes/new")).text, "hero-form")
    new = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": "48", "team_id": str(team_id)}
    created = await _post(client, "/heroes", form | new)
    hero_id = int(created.headers["location"].rsplit("/", 1)[1])
    renamed = await _edit(client, "hero", hero_id, {"name": "Spider-Boy"})
    changed = await _edit(client, "hero", hero_id, {"age": "17", "team_id": ""})
    delete_form = form_fields((await client.get(f"/heroes/{hero_id}/delete")).text, "hero-delete")
    deleted = await _post(client, f"/heroes/{hero_id}/delete", delete_form)
    restored = await _post(client, f"/heroes/{hero_id}/restore", {"version": "4"})
    responses = (created, renamed, changed, deleted, restored)
    return hero_id, team_id, [r.headers["X-Request-ID"] for r in responses]


# --- what is recorded -------------------------------------------------------------------------------------------


async def test_hero_history_records_each_change_field_by_field_with_who_and_request(
    client: Client, db: AsyncSession, editor: User
) -> None:
    editor_id = editor.id  # read before re-reading the database expires the session's objects
    hero_id, team_id, request_ids = await _lifecycle(client, db)

    entries = await _entries(db, "hero", hero_id)

    assert all(request_ids)
    assert len(set(request_ids)) == 5
    assert [_shown(entry) for entry in entries] == [
        ("create", {"name": [None, "Deadpond"], "secret_name": [None, "Dive Wilson"], "age": [None, 48], "team_id": [None, team_id]}, "eddie", editor_id, request_ids[0]),  # noqa: E501
        ("update", {"name": ["Deadpond", "Spider-Boy"]}, "eddie", editor_id, request_ids[1]),
        ("update", {"age": [48, 17], "team_id": [team_id, None]}, "eddie", editor_id, request_ids[2]),
        ("delete", None, "eddie", editor_id, request_ids[3]),
        ("restore", None, "eddie", editor_id, request_ids[4]),
    ]  # fmt: skip


async def test_history_page_lists_the_changes_newest_first_with_team_names(client: Client, db: AsyncSession) -> None:
    hero_id, _team_id, _request_ids = await _lifecycle(client, db)
    entry_ids = [id_of(entry) for entry in await _entries(db, "hero", hero_id)]  # type: ignore[arg-type]

    response = await client.get(f"/heroes/{hero_id}/history")

    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("h1").text == "History of Spider-Boy"
    items = page.by_id("history-panel").find_all("li", **{"class": "history-entry"})
    assert [item.attrs["id"] for item in items] == [f"entry-{n}" for n in reversed(entry_ids)]
    assert [item.find("strong").text for item in items] == ["eddie"] * 5
    by_id = {item.attrs["id"]: item for item in items}
    assert _change_rows(by_id[f"entry-{entry_ids[1]}"]) == [("Name", "Deadpond", "Spider-Boy")]
    assert _change_rows(by_id[f"entry-{entry_ids[2]}"]) == [("Age", "48", "17"), ("Team", "Preventers", "No team")]


async def test_history_htmx_returns_the_panel_fragment(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    await _edit(client, "hero", hero_id, {"name": "Spider-Boy"})

    response = await client.get(f"/heroes/{hero_id}/history", headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]
    [root] = [node for node in parse(response.text).children if node.tag == "section"]
    assert root.attrs["id"] == "history-panel"
    assert len(root.find_all("li", **{"class": "history-entry"})) == 1


async def test_team_rename_is_recorded_and_shown_in_its_history(client: Client, db: AsyncSession) -> None:
    form = form_fields((await client.get("/teams/new")).text, "team-form")
    created = await _post(client, "/teams", form | {"name": "Preventers", "headquarters": "Sharp Tower"})
    team_id = int(created.headers["location"].rsplit("/", 1)[1])
    renamed = await _edit(client, "team", team_id, {"name": "Z-Force"})

    entries = await _entries(db, "team", team_id)
    page = parse((await client.get(f"/teams/{team_id}/history")).text)

    assert [(e.action, e.changes, e.request_id) for e in entries] == [
        (
            "create",
            {"name": [None, "Preventers"], "headquarters": [None, "Sharp Tower"]},
            created.headers["X-Request-ID"],
        ),
        ("update", {"name": ["Preventers", "Z-Force"]}, renamed.headers["X-Request-ID"]),
    ]
    assert _change_rows(page.by_id(f"entry-{entries[1].id}")) == [("Name", "Preventers", "Z-Force")]


async def test_hero_history_names_teams_even_once_in_the_trash(client: Client, db: AsyncSession) -> None:
    old, new = await make_team(db, name="Preventers"), await make_team(db, name="Z-Force")
    hero_id = id_of(await make_hero(db, name="Deadpond", team=old))
    await _edit(client, "hero", hero_id, {"team_id": str(id_of(new))})
    await _post(client, f"/teams/{id_of(old)}/delete", {"version": "1"})

    page = parse((await client.get(f"/heroes/{hero_id}/history")).text)

    [entry] = await _entries(db, "hero", hero_id)
    assert _change_rows(page.by_id(f"entry-{entry.id}")) == [("Team", "Preventers (in the trash)", "Z-Force")]


# --- revert -----------------------------------------------------------------------------------------------------


async def _edited_twice(client: Client, db: AsyncSession) -> tuple[int, list[int]]:
    """Deadpond (48) renamed Spider-Boy, then aged 17: the hero id and the two entries' ids."""
    hero_id = id_of(await make_hero(db, name="Deadpond", age=48))
    await _edit(client, "hero", hero_id, {"name": "Spider-Boy"})
    await _edit(client, "hero", hero_id, {"age": "17"})
    return hero_id, [id_of(entry) for entry in await _entries(db, "hero", hero_id)]  # type: ignore[arg-type]


async def _stored_hero(db: AsyncSession, hero_id: int) -> tuple[Any, ...]:
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    return (hero.name, hero.age, hero.version)


async def test_revert_button_restores_the_fields_of_that_change_and_is_recorded(
    client: Client, db: AsyncSession
) -> None:
    hero_id, [_renamed, aged] = await _edited_twice(client, db)
    action, form = _revert_form((await client.get(f"/heroes/{hero_id}/history")).text, aged)

    response = await _post(client, action, form)

    assert response.headers["location"] == f"/heroes/{hero_id}/history"
    assert await _stored_hero(db, hero_id) == ("Spider-Boy", 48, 4)
    last = (await _entries(db, "hero", hero_id))[-1]
    assert (last.action, last.changes, last.request_id) == (
        "revert",
        {"age": [17, 48]},
        response.headers["X-Request-ID"],
    )


async def test_revert_of_an_earlier_change_also_undoes_the_later_ones(client: Client, db: AsyncSession) -> None:
    hero_id, [renamed, _aged] = await _edited_twice(client, db)
    action, form = _revert_form((await client.get(f"/heroes/{hero_id}/history")).text, renamed)

    await _post(client, action, form)

    assert await _stored_hero(db, hero_id) == ("Deadpond", 48, 4)


async def test_revert_with_a_stale_version_is_409_and_changes_nothing(client: Client, db: AsyncSession) -> None:
    hero_id, [renamed, _aged] = await _edited_twice(client, db)
    action, form = _revert_form((await client.get(f"/heroes/{hero_id}/history")).text, renamed)
    await _edit(client, "hero", hero_id, {"secret_name": "Someone Else"})
    before = await database_state(db)

    response = await _post(client, action, form, expect=409)

    assert "changed after you opened its history" in parse(response.text).by_id("history-panel").find(role="alert").text
    assert await database_state(db) == before
    assert "revert" not in [entry.action for entry in await audit_entries(db)]


async def test_revert_of_another_records_entry_or_of_a_create_or_delete_is_404(
    client: Client, db: AsyncSession
) -> None:
    hero_id, _team_id, _request_ids = await _lifecycle(client, db)
    other_id, [other_entry, _aged] = await _edited_twice(client, db)
    create, _renamed, _changed, delete, restore = await _entries(db, "hero", hero_id)
    entry_ids = (other_entry, create.id, delete.id, restore.id, 999_999)
    before = await database_state(db)

    for entry_id in entry_ids:
        response = await _post(client, f"/heroes/{hero_id}/history/{entry_id}/revert", {"version": "5"}, expect=404)
        assert "<html" in response.text
    assert await database_state(db) == before
    assert await _stored_hero(db, other_id) == ("Spider-Boy", 17, 3)


async def test_revert_to_a_team_now_in_the_trash_is_409_and_says_why(client: Client, db: AsyncSession) -> None:
    old, new = await make_team(db, name="Preventers"), await make_team(db, name="Z-Force")
    hero_id = id_of(await make_hero(db, name="Deadpond", team=old))
    await _edit(client, "hero", hero_id, {"team_id": str(id_of(new))})
    await _post(client, f"/teams/{id_of(old)}/delete", {"version": "1"})
    [moved] = await _entries(db, "hero", hero_id)
    revert = f"/heroes/{hero_id}/history/{moved.id}/revert"
    before = await database_state(db)

    response = await _post(client, revert, {"version": "2"}, expect=409)

    assert "Restore the team first" in parse(response.text).find(role="alert").text
    assert await database_state(db) == before


async def test_revert_of_a_team_to_a_name_now_taken_is_409(client: Client, db: AsyncSession) -> None:
    team_id = id_of(await make_team(db, name="Preventers"))
    await _edit(client, "team", team_id, {"name": "Z-Force"})
    await make_team(db, name="Preventers", headquarters="Elsewhere")
    [renamed] = await _entries(db, "team", team_id)
    revert = f"/teams/{team_id}/history/{renamed.id}/revert"
    before = await database_state(db)

    response = await _post(client, revert, {"version": "2"}, expect=409)

    assert "Another team now has the name this one had then" in parse(response.text).find(role="alert").text
    assert await database_state(db) == before
    team = await fetch_team(db, team_id)
    assert team is not None
    assert (team.name, team.version) == ("Z-Force", 2)


async def test_viewers_see_no_revert_buttons_and_are_refused_403(
    client: Client, db: AsyncSession, clock: Clock
) -> None:
    hero_id, [renamed, _aged] = await _edited_twice(client, db)
    await sign_in(client, db, await make_user(db, username="vera", role=Role.viewer), clock)
    before = await database_state(db)

    page = await client.get(f"/heroes/{hero_id}/history")
    response = await _post(client, f"/heroes/{hero_id}/history/{renamed}/revert", {"version": "3"}, expect=403)

    assert page.status_code == 200
    assert len(parse(page.text).find_all("li", **{"class": "history-entry"})) == 2
    assert not [form for form in parse(page.text).find_all("form") if "/revert" in form.attrs.get("action", "")]
    assert "Revert" not in page.text
    assert "<html" in response.text
    after = await database_state(db)
    assert (after["hero"], after["team"]) == (before["hero"], before["team"])


async def test_team_revert_across_its_delete_and_restore_goes_back_to_the_old_name(
    client: Client, db: AsyncSession
) -> None:
    """A team's delete entry lists the heroes it detached rather than field changes; a revert passes over it."""
    team_id = id_of(await make_team(db, name="Alpha"))
    await _edit(client, "team", team_id, {"name": "Beta"})
    renamed = (await _entries(db, "team", team_id))[-1]
    await _post(client, f"/teams/{team_id}/delete", {"version": "2"})
    await _post(client, f"/teams/{team_id}/restore", {"version": "3"})

    await _post(client, f"/teams/{team_id}/history/{renamed.id}/revert", {"version": "4"})

    team = await fetch_team(db, team_id)
    assert team is not None
    assert (team.name, team.version) == ("Alpha", 5)

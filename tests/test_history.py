"""History: every change is recorded field by field with who and which request; the History page and panel show
it newest first; a revert goes back to before an entry, version-checked, and is itself recorded. What every
resource does is written once and runs on each; how a hero's history names its teams, and what stops a revert
of a hero to a team in the trash or of a team to a name taken since, are tests of their own."""

from __future__ import annotations

from typing import Any

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
    audit_entries,
    database_state,
    each_resource,
    form_fields,
    id_of,
    make_hero,
    make_team,
    make_user,
    sign_in,
    subject,
)
from webapp.models import AuditEntry, Role, User


async def post(client: Client, path: str, data: dict[str, str], expect: int = 303) -> Response:
    response = await client.post(path, data=data, follow_redirects=False)
    assert response.status_code == expect, f"POST {path}: {response.status_code}"
    return response


async def edit(client: Client, subject: Subject, record_id: int, changes: dict[str, str]) -> Response:
    """Save the edit form as served, with `changes` typed in."""
    form = form_fields((await client.get(subject.url(record_id, "/edit"))).text, subject.form_id)
    return await post(client, subject.url(record_id), form | changes)


async def entries(db: AsyncSession, record_type: str, record_id: int) -> list[AuditEntry]:
    return [e for e in await audit_entries(db) if (e.record_type, e.record_id) == (record_type, record_id)]


def change_rows(item: Element) -> list[tuple[str, ...]]:
    """The (field, before, after) rows an entry of the History page shows."""
    return [tuple(cell.text for cell in row.children) for row in item.find("tbody").find_all("tr")]


async def full_form(db: AsyncSession, subject_: Subject) -> tuple[dict[str, str], dict[str, Any]]:
    """A create form with every field filled in (references to a new "Z-Force"), and what history records of it."""
    form, recorded = subject_.valid(), dict[str, Any]()
    for spec in subject_.resource.fields:
        if spec.is_number:
            form[spec.name] = "48"
        elif spec.references:
            form[spec.name] = str(id_of(await subject(subject_.resource.targets[spec.name]).make(db, "Z-Force")))
        value = form[spec.name]
        recorded[spec.name] = [None, int(value) if spec.is_number or spec.references else value]
    return form, recorded


# What a delete records besides the fact: a team's lists the heroes it left without a team (none here).
DELETE_CHANGES = {"heroes": None, "teams": {"heroes": {}}}


async def lifecycle(client: Client, db: AsyncSession, subject: Subject) -> tuple[int, dict[str, Any], list[str]]:
    """A record created (every field filled in), renamed, its other field changed, deleted and restored over
    HTTP: its id, what its creation records, and each request's id."""
    form, recorded = await full_form(db, subject)
    new = form_fields((await client.get(f"{subject.path}/new")).text, subject.form_id)
    created = await post(client, subject.path, new | form)
    record_id = int(created.headers["location"].rsplit("/", 1)[1])
    renamed = await edit(client, subject, record_id, {"name": "Renamed"})
    changed = await edit(client, subject, record_id, {subject.other_field: "Changed"})
    confirm = form_fields((await client.get(subject.url(record_id, "/delete"))).text, f"{subject.name}-delete")
    deleted = await post(client, subject.url(record_id, "/delete"), confirm)
    restored = await post(client, subject.url(record_id, "/restore"), {"version": "4"})
    return record_id, recorded, [r.headers["X-Request-ID"] for r in (created, renamed, changed, deleted, restored)]


# --- what is recorded -------------------------------------------------------------------------------------------


@each_resource
async def test_each_change_is_recorded_field_by_field_with_who_and_request(
    client: Client, db: AsyncSession, editor: User, subject: Subject
) -> None:
    editor_id = editor.id  # read before re-reading the database expires the session's objects
    record_id, recorded, request_ids = await lifecycle(client, db, subject)

    assert all(request_ids)
    assert len(set(request_ids)) == 5
    name, other = recorded["name"][1], recorded[subject.other_field][1]
    assert [
        (entry.action, entry.changes, entry.username, entry.user_id, entry.request_id)
        for entry in await entries(db, subject.name, record_id)
    ] == [
        ("create", recorded, "eddie", editor_id, request_ids[0]),
        ("update", {"name": [name, "Renamed"]}, "eddie", editor_id, request_ids[1]),
        ("update", {subject.other_field: [other, "Changed"]}, "eddie", editor_id, request_ids[2]),
        ("delete", DELETE_CHANGES[subject.resource.plural], "eddie", editor_id, request_ids[3]),
        ("restore", None, "eddie", editor_id, request_ids[4]),
    ]


@each_resource
async def test_history_page_lists_the_changes_newest_first(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id, recorded, _request_ids = await lifecycle(client, db, subject)
    entry_ids = [id_of(entry) for entry in await entries(db, subject.name, record_id)]

    response = await client.get(subject.url(record_id, "/history"))

    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("h1").text == "History of Renamed"
    items = page.by_id("history-panel").find_all("li", **{"class": "history-entry"})
    assert [item.attrs["id"] for item in items] == [f"entry-{n}" for n in reversed(entry_ids)]
    assert [item.find("strong").text for item in items] == ["eddie"] * 5
    label = subject.resource.spec(subject.other_field).label
    assert change_rows(page.by_id(f"entry-{entry_ids[1]}")) == [("Name", recorded["name"][1], "Renamed")]
    assert change_rows(page.by_id(f"entry-{entry_ids[2]}")) == [(label, recorded[subject.other_field][1], "Changed")]


@each_resource
async def test_history_htmx_returns_the_panel_fragment(client: Client, db: AsyncSession, subject: Subject) -> None:
    record_id = id_of(await subject.make(db))
    await edit(client, subject, record_id, {"name": "Renamed"})

    response = await client.get(subject.url(record_id, "/history"), headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]
    [root] = [node for node in parse(response.text).children if node.tag == "section"]
    assert root.attrs["id"] == "history-panel"
    assert len(root.find_all("li", **{"class": "history-entry"})) == 1


# --- a hero's teams, by name ------------------------------------------------------------------------------------


async def test_hero_history_names_its_teams_and_no_team(client: Client, db: AsyncSession) -> None:
    team_id = id_of(await make_team(db, name="Preventers"))
    hero_id = id_of(await make_hero(db, name="Deadpond", age=48))
    await edit(client, HEROES, hero_id, {"team_id": str(team_id)})
    await edit(client, HEROES, hero_id, {"age": "17", "team_id": ""})
    joined, left = await entries(db, "hero", hero_id)

    page = parse((await client.get(f"/heroes/{hero_id}/history")).text)

    assert (joined.changes, left.changes) == (
        {"team_id": [None, team_id]},
        {"age": [48, 17], "team_id": [team_id, None]},
    )
    assert change_rows(page.by_id(f"entry-{joined.id}")) == [("Team", "No team", "Preventers")]
    assert change_rows(page.by_id(f"entry-{left.id}")) == [("Age", "48", "17"), ("Team", "Preventers", "No team")]


async def test_hero_history_names_teams_even_once_in_the_trash(client: Client, db: AsyncSession) -> None:
    old, new = await make_team(db, name="Preventers"), await make_team(db, name="Z-Force")
    hero_id = id_of(await make_hero(db, name="Deadpond", team=old))
    await edit(client, HEROES, hero_id, {"team_id": str(id_of(new))})
    await post(client, f"/teams/{id_of(old)}/delete", {"version": "1"})

    page = parse((await client.get(f"/heroes/{hero_id}/history")).text)

    [entry] = await entries(db, "hero", hero_id)
    assert change_rows(page.by_id(f"entry-{entry.id}")) == [("Team", "Preventers (in the trash)", "Z-Force")]


# --- revert -----------------------------------------------------------------------------------------------------


def revert_form(html: str, entry_id: int) -> tuple[str, dict[str, str]]:
    """The revert button's form for one entry on a History page: its action and its hidden fields."""
    revert = f"/history/{entry_id}/revert"
    [form] = [f for f in parse(html).find_all("form") if f.attrs.get("action", "").endswith(revert)]
    return form.attrs["action"], {i.attrs["name"]: i.attrs["value"] for i in form.find_all("input")}


def second_change(subject: Subject) -> dict[str, str]:
    """The second edit of `edited_twice`: the other text field, and every number (made at 48) to 17."""
    return {subject.other_field: "Changed"} | {spec.name: "17" for spec in subject.resource.fields if spec.is_number}


async def edited_twice(
    client: Client, db: AsyncSession, subject: Subject, name: str = "Original", renamed: str = "Renamed"
) -> tuple[int, list[int]]:
    """A record (numbers at 48) renamed, then given `second_change`: its id and the two entries' ids."""
    numbers = {spec.name: 48 for spec in subject.resource.fields if spec.is_number}
    record_id = id_of(await subject.make(db, name, **numbers))
    await edit(client, subject, record_id, {"name": renamed})
    await edit(client, subject, record_id, second_change(subject))
    return record_id, [id_of(entry) for entry in await entries(db, subject.name, record_id)]


@each_resource
async def test_revert_button_restores_the_fields_of_that_change_and_is_recorded(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id, [_renamed, changed] = await edited_twice(client, db, subject)
    original = await subject.values(db, record_id) | {
        subject.other_field: subject.valid()[subject.other_field],
        **{name: "48" for name in second_change(subject) if name != subject.other_field},
    }
    action, form = revert_form((await client.get(subject.url(record_id, "/history"))).text, changed)

    response = await post(client, action, form)

    assert response.headers["location"] == subject.url(record_id, "/history")
    assert await subject.values(db, record_id) == original
    assert (await subject.stored(db, record_id)).version == 4
    last = (await entries(db, subject.name, record_id))[-1]
    reverted = {subject.other_field: ["Changed", subject.valid()[subject.other_field]]}
    reverted |= {name: [17, 48] for name in second_change(subject) if name != subject.other_field}
    assert (last.action, last.changes, last.request_id) == ("revert", reverted, response.headers["X-Request-ID"])


@each_resource
async def test_revert_of_an_earlier_change_also_undoes_the_later_ones(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id, [renamed, _changed] = await edited_twice(client, db, subject)
    action, form = revert_form((await client.get(subject.url(record_id, "/history"))).text, renamed)

    await post(client, action, form)

    stored = await subject.values(db, record_id)
    assert (stored["name"], stored[subject.other_field]) == ("Original", subject.valid()[subject.other_field])
    assert {name: stored[name] for name in second_change(subject) if name != subject.other_field} == {
        name: "48" for name in second_change(subject) if name != subject.other_field
    }
    assert (await subject.stored(db, record_id)).version == 4


@each_resource
async def test_revert_with_a_stale_version_is_409_and_changes_nothing(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id, [renamed, _changed] = await edited_twice(client, db, subject)
    action, form = revert_form((await client.get(subject.url(record_id, "/history"))).text, renamed)
    await edit(client, subject, record_id, {subject.other_field: "Someone Else"})
    before = await database_state(db)

    response = await post(client, action, form, expect=409)

    alert = parse(response.text).by_id("history-panel").find(role="alert")
    assert "changed after you opened its history" in alert.text
    assert await database_state(db) == before
    assert "revert" not in [entry.action for entry in await audit_entries(db)]


@each_resource
async def test_revert_of_another_records_entry_or_of_a_create_delete_or_restore_is_404(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    record_id, _recorded, _request_ids = await lifecycle(client, db, subject)
    other_id, [other_entry, _changed] = await edited_twice(client, db, subject, "Other", "Other Renamed")
    create, _renamed, _changed_entry, delete, restore = await entries(db, subject.name, record_id)
    entry_ids = (other_entry, create.id, delete.id, restore.id, 999_999)
    before = await database_state(db)

    for entry_id in entry_ids:
        path = subject.url(record_id, f"/history/{entry_id}/revert")
        response = await post(client, path, {"version": "5"}, expect=404)
        assert "<html" in response.text
    assert await database_state(db) == before
    other = await subject.stored(db, other_id)
    assert (other.name, getattr(other, subject.other_field), other.version) == ("Other Renamed", "Changed", 3)


@each_resource
async def test_viewers_see_no_revert_buttons_and_are_refused_403(
    client: Client, db: AsyncSession, clock: Clock, subject: Subject
) -> None:
    record_id, [renamed, _changed] = await edited_twice(client, db, subject)
    await sign_in(client, db, await make_user(db, username="vera", role=Role.viewer), clock)
    before = await database_state(db)

    page = await client.get(subject.url(record_id, "/history"))
    response = await post(client, subject.url(record_id, f"/history/{renamed}/revert"), {"version": "3"}, expect=403)

    assert page.status_code == 200
    assert len(parse(page.text).find_all("li", **{"class": "history-entry"})) == 2
    assert not [form for form in parse(page.text).find_all("form") if "/revert" in form.attrs.get("action", "")]
    assert "Revert" not in page.text
    assert "<html" in response.text
    after = await database_state(db)
    assert (after["hero"], after["team"]) == (before["hero"], before["team"])


@each_resource
async def test_revert_across_a_delete_and_restore_goes_back_to_the_old_name(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    """A delete entry records no field changes (a team's lists the heroes it detached); a revert passes over it."""
    record_id = id_of(await subject.make(db, "Alpha"))
    await edit(client, subject, record_id, {"name": "Beta"})
    renamed = (await entries(db, subject.name, record_id))[-1]
    await post(client, subject.url(record_id, "/delete"), {"version": "2"})
    await post(client, subject.url(record_id, "/restore"), {"version": "3"})

    await post(client, subject.url(record_id, f"/history/{renamed.id}/revert"), {"version": "4"})

    stored = await subject.stored(db, record_id)
    assert (stored.name, stored.version) == ("Alpha", 5)


async def test_revert_to_a_team_now_in_the_trash_is_409_and_says_why(client: Client, db: AsyncSession) -> None:
    old, new = await make_team(db, name="Preventers"), await make_team(db, name="Z-Force")
    hero_id = id_of(await make_hero(db, name="Deadpond", team=old))
    await edit(client, HEROES, hero_id, {"team_id": str(id_of(new))})
    await post(client, f"/teams/{id_of(old)}/delete", {"version": "1"})
    [moved] = await entries(db, "hero", hero_id)
    revert = f"/heroes/{hero_id}/history/{moved.id}/revert"
    before = await database_state(db)

    response = await post(client, revert, {"version": "2"}, expect=409)

    assert "Restore the team first" in parse(response.text).find(role="alert").text
    assert await database_state(db) == before


async def test_revert_of_a_team_to_a_name_now_taken_is_409(client: Client, db: AsyncSession) -> None:
    team_id = id_of(await make_team(db, name="Preventers"))
    await edit(client, TEAMS, team_id, {"name": "Z-Force"})
    await make_team(db, name="Preventers", headquarters="Elsewhere")
    [renamed] = await entries(db, "team", team_id)
    revert = f"/teams/{team_id}/history/{renamed.id}/revert"
    before = await database_state(db)

    response = await post(client, revert, {"version": "2"}, expect=409)

    assert "Another team now has the name this one had then" in parse(response.text).find(role="alert").text
    assert await database_state(db) == before
    team = await TEAMS.stored(db, team_id)
    assert (team.name, team.version) == ("Z-Force", 2)

"""The Activity page: every change newest first, filters by type and user, sign-in events for admins only,
keyset paging, and the htmx fragment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from httpx import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import form_token, submit_login
from tests.markup import parse
from tests.support import HTMX, TEST_PASSWORD, Client, Clock, audit_entries, make_user, sign_in
from webapp.config import utcnow
from webapp.models import AuditEntry, Role, User


async def add_entries(db: AsyncSession, *rows: tuple[str, str, User | None]) -> list[int]:
    """Audit entries straight into the log, oldest first: (record_type, action, user). Returns their ids."""
    now = utcnow()
    entries = [
        AuditEntry(
            at=now + timedelta(seconds=n),
            user_id=user.id if user else None,
            username=user.username if user else "someone",
            action=action,
            record_type=record_type,
            record_id=1 if record_type != "account" else None,
            label=f"{record_type} {n}",
        )
        for n, (record_type, action, user) in enumerate(rows)
    ]
    db.add_all(entries)
    await db.commit()
    return [entry.id for entry in entries if entry.id is not None]


def shown_ids(response: Response) -> list[int]:
    """The entry ids the page lists, in page order."""
    assert response.status_code == 200, response.text
    items = parse(response.text).by_id("activity").find_all("li", **{"class": "history-entry"})
    return [int(item.attrs["id"].removeprefix("entry-")) for item in items]


async def test_activity_lists_changes_to_heroes_and_teams_newest_first(client: Client, db: AsyncSession) -> None:
    team = await client.post("/teams", data={"name": "Z-Force", "headquarters": "X"}, follow_redirects=False)
    hero = {"name": "Domino", "secret_name": "Neena", "age": "", "team_id": ""}
    assert team.status_code == 303
    assert (await client.post("/heroes", data=hero, follow_redirects=False)).status_code == 303
    response = await client.get("/activity")
    entries = await audit_entries(db)
    assert [(entry.record_type, entry.action) for entry in entries] == [("team", "create"), ("hero", "create")]
    assert shown_ids(response) == [entries[1].id, entries[0].id]
    page = parse(response.text)
    assert "eddie created hero Domino" in page.by_id(f"entry-{entries[1].id}").text
    assert "eddie created team Z-Force" in page.by_id(f"entry-{entries[0].id}").text


@pytest.mark.parametrize("record_type", ["hero", "team"])
async def test_activity_filters_by_record_type(
    client: Client, db: AsyncSession, editor: User, record_type: str
) -> None:
    ids = await add_entries(db, ("hero", "create", editor), ("team", "create", editor), ("hero", "update", editor))
    wanted = [n for n, kind in zip(ids, ["hero", "team", "hero"], strict=True) if kind == record_type]
    assert shown_ids(await client.get("/activity", params={"type": record_type})) == wanted[::-1]


async def test_activity_filters_by_user(client: Client, db: AsyncSession, editor: User) -> None:
    other = await make_user(db, username="olga", role=Role.editor)
    ids = await add_entries(db, ("hero", "create", editor), ("team", "update", other), ("hero", "delete", other))
    assert shown_ids(await client.get("/activity", params={"user": str(other.id)})) == [ids[2], ids[1]]
    assert shown_ids(await client.get("/activity", params={"user": str(editor.id)})) == [ids[0]]


@pytest.mark.parametrize("role", [Role.viewer, Role.editor])
async def test_non_admins_asking_for_sign_in_events_are_refused_403(
    http: Client, db: AsyncSession, clock: Clock, role: Role
) -> None:
    user = await make_user(db, username="someone", role=role)
    user_id = user.id
    await sign_in(http, db, user, clock)
    response = await http.get("/activity", params={"type": "account"})
    assert response.status_code == 403
    refusals = [(e.user_id, e.note) for e in await audit_entries(db) if e.action == "refused"]
    assert refusals == [(user_id, "GET /activity: sign-in events are for admins")]


async def test_non_admins_never_see_sign_in_events_in_the_unfiltered_list(
    client: Client, db: AsyncSession, editor: User
) -> None:
    ids = await add_entries(
        db,
        ("account", "sign_in", editor),
        ("hero", "create", editor),
        ("account", "refused", editor),
        ("account", "sign_in_failed", None),
    )
    response = await client.get("/activity")
    assert shown_ids(response) == [ids[1]]
    choices = [option.attrs["value"] for option in parse(response.text).by_id("activity-type").find_all("option")]
    assert "account" not in choices


async def test_admins_see_sign_ins_failures_sign_outs_and_refusals(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    admin = await make_user(db, username="ada", role=Role.admin)
    assert (await submit_login(http, "ada", "not the password")).status_code == 422
    assert (await submit_login(http, "ada", TEST_PASSWORD)).status_code == 303
    assert (await http.post("/heroes", data={"name": "No token"})).status_code == 403  # CSRF refusal, recorded
    token = await form_token(http, "/heroes")
    assert (await http.post("/logout", data={"_csrf": token}, follow_redirects=False)).status_code == 303
    await sign_in(http, db, admin, clock)
    response = await http.get("/activity", params={"type": "account"})
    entries = await audit_entries(db)
    assert [entry.action for entry in entries] == ["sign_in_failed", "sign_in", "refused", "sign_out"]
    assert shown_ids(response) == [entry.id for entry in reversed(entries)]
    page = parse(response.text)
    verbs = ["failed to sign in", "signed in", "was refused", "signed out"]
    for entry, verb in zip(entries, verbs, strict=True):
        assert f"ada {verb}" in page.by_id(f"entry-{entry.id}").text
    assert shown_ids(await http.get("/activity")) == shown_ids(response)  # unfiltered, admins see them too


MALFORMED = [{"user": "abc"}, {"user": "-1"}, {"user": "1.5"}, {"before": "x"}, {"before": "١"}, {"type": "villain"}]


async def test_malformed_activity_filters_are_400(client: Client) -> None:
    for query in MALFORMED:
        assert (await client.get("/activity", params=query)).status_code == 400, query


async def test_before_pages_to_older_entries_without_overlap(client: Client, db: AsyncSession, editor: User) -> None:
    ids = await add_entries(db, *[("hero", "update", editor)] * 60)
    first = await client.get("/activity")
    first_ids = shown_ids(first)
    assert first_ids == ids[::-1][:50]
    older = parse(first.text).by_id("activity").find("a", rel="next")
    assert older.text == "Older changes"
    assert f"before={first_ids[-1]}" in older.attrs["href"]
    second = await client.get(older.attrs["href"])
    assert shown_ids(second) == ids[::-1][50:]
    assert not parse(second.text).by_id("activity").has("a", rel="next")


async def test_htmx_activity_request_returns_only_the_activity_fragment(
    client: Client, db: AsyncSession, editor: User
) -> None:
    ids = await add_entries(db, ("hero", "create", editor), ("team", "create", editor))
    response = await client.get("/activity", params={"type": "team"}, headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["vary"]
    roots = parse(response.text).children
    assert [(root.tag, root.attrs.get("id")) for root in roots] == [("section", "activity")]
    assert shown_ids(response) == [ids[1]]

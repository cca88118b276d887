"""Finding 9 of the outside audit: a signed-in user cannot flood the audit log with refusals, what they chose
(the path) stays short and marked, and sign-in events stay findable under their own filter."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import browser, submit_login
from tests.conftest import Clock, sign_in
from tests.markup import parse
from tests.support import TEST_PASSWORD, Client, audit_entries, id_of, make_hero, make_user
from webapp import throttle
from webapp.models import Role

FLOOD = 60


async def test_a_flood_of_refused_requests_records_only_the_limit(http: Client, db: AsyncSession, clock: Clock) -> None:
    hero_id = id_of(await make_hero(db))
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    for _ in range(FLOOD):
        assert (await http.get(f"/heroes/{hero_id}/edit", follow_redirects=False)).status_code == 403
    refused = [entry for entry in await audit_entries(db) if entry.action == "refused"]
    assert len(refused) == throttle.LOGGED_PER_SESSION.limit
    assert refused[-1].note.endswith("further refusals from this session or address are not recorded for a few minutes")


async def test_refusals_are_recorded_again_after_the_window(http: Client, db: AsyncSession, clock: Clock) -> None:
    hero_id = id_of(await make_hero(db))
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    for _ in range(throttle.LOGGED_PER_SESSION.limit + 5):
        await http.get(f"/heroes/{hero_id}/edit", follow_redirects=False)
    clock.advance(throttle.LOGGED_PER_SESSION.window + timedelta(seconds=1))
    await http.get(f"/heroes/{hero_id}/edit", follow_redirects=False)
    refused = [entry for entry in await audit_entries(db) if entry.action == "refused"]
    assert len(refused) == throttle.LOGGED_PER_SESSION.limit + 1


async def test_new_sessions_from_one_address_cannot_go_past_the_address_limit(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    hero_id = id_of(await make_hero(db))
    viewer = await make_user(db, username="vic", role=Role.viewer)
    for _ in range(2 * throttle.LOGGED_PER_ADDRESS.limit // throttle.LOGGED_PER_SESSION.limit):
        await sign_in(http, db, viewer, clock)  # a fresh session each round
        for _ in range(throttle.LOGGED_PER_SESSION.limit):
            await http.get(f"/heroes/{hero_id}/edit", follow_redirects=False)
    refused = [entry for entry in await audit_entries(db) if entry.action == "refused"]
    assert len(refused) == throttle.LOGGED_PER_ADDRESS.limit


async def test_a_long_or_odd_path_is_kept_short_and_marked_as_sent(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    # Litestar reads an int path parameter with int(), which takes other scripts' digits: a path of the client's
    # choosing reaches the role check (and the log) before the canonical-id check refuses it.
    digits = "\u0661" * 150
    response = await http.post(f"/heroes/{digits}/delete", data={"version": "1"}, follow_redirects=False)
    assert response.status_code == 403
    (refused,) = [entry for entry in await audit_entries(db) if entry.action == "refused"]
    assert refused.note.startswith('POST "/heroes/' + "\u0661" * 40)
    assert '…" (as sent, shortened): needs the editor role' in refused.note
    assert len(refused.note) < 150


async def test_sign_in_events_stay_findable_under_a_flood(http: Client, db: AsyncSession, clock: Clock) -> None:
    hero_id = id_of(await make_hero(db))
    await make_user(db, username="root", role=Role.admin)
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    for _ in range(FLOOD):
        await http.get(f"/heroes/{hero_id}/edit", follow_redirects=False)
    async with browser(http) as admin:
        assert (await submit_login(admin, "root", TEST_PASSWORD)).status_code == 303
        page = await admin.get("/activity", params={"type": "account"})
    entries = [item.text for item in parse(page.text).by_id("activity").find_all("li", **{"class": "history-entry"})]
    assert any("root signed in" in text for text in entries)
    assert sum("was refused" in text for text in entries) == throttle.LOGGED_PER_SESSION.limit

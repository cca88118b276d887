"""Sign-in throttling: 5 failures per account in 15 minutes, 20 per client address in 5; 429 with Retry-After.

Only failures count, the counters live in the database (every worker sees them), and X-Forwarded-For, which
the app does not trust, cannot reset them.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import form_token, session_rows, set_cookie, submit_login, throttle_counts
from tests.conftest import Clock
from tests.markup import parse
from tests.support import TEST_PASSWORD, Client, make_user
from webapp.app import create_app
from webapp.config import Settings

WRONG = "not the password"


async def fail(client: httpx.AsyncClient, username: str, times: int, **headers: str) -> str:
    """`times` failed sign-ins (each a 422); returns the form token, reusable for the next attempt."""
    token = await form_token(client)
    for _ in range(times):
        response = await submit_login(client, username, WRONG, token=token, headers=headers or None)
        assert response.status_code == 422
    return token


def assert_throttled(response: httpx.Response, longest_wait: timedelta) -> None:
    """A readable 429: Retry-After in seconds within the window, the sign-in page with a message, no session."""
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/html")
    wait = int(response.headers["retry-after"])
    assert 0 < wait <= longest_wait.total_seconds()
    page = parse(response.text)
    assert page.find(role="alert").text.startswith("Too many failed sign-ins. Try again in")
    assert page.has("form", action="/login")
    assert set_cookie(response, "session") is None


# --- per account ------------------------------------------------------------------------------------------------


async def test_sixth_attempt_on_an_account_is_throttled_even_with_the_right_password(
    http: Client, db: AsyncSession
) -> None:
    await make_user(db, username="alice")
    token = await fail(http, "alice", 5)
    response = await submit_login(http, "alice", TEST_PASSWORD, token=token)
    assert_throttled(response, timedelta(minutes=15))
    assert await session_rows(db) == []


async def test_account_throttle_says_how_long_to_wait(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    token = await fail(http, "alice", 5)
    response = await submit_login(http, "alice", TEST_PASSWORD, token=token)
    # The clock stood still since the first failure: the whole window remains.
    assert response.headers["retry-after"] == "900"
    assert parse(response.text).find(role="alert").text == "Too many failed sign-ins. Try again in 15 minutes."


async def test_four_failures_do_not_throttle_the_account(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    token = await fail(http, "alice", 4)
    response = await submit_login(http, "alice", TEST_PASSWORD, token=token)
    assert response.status_code == 303


async def test_account_throttle_counts_whatever_case_the_username_is_typed_in(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    token = await form_token(http)
    for typed in ("alice", "ALICE", "Alice", " alice", "aLiCe"):
        assert (await submit_login(http, typed, WRONG, token=token)).status_code == 422
    response = await submit_login(http, "alice", TEST_PASSWORD, token=token)
    assert response.status_code == 429


async def test_account_throttle_ends_after_the_window(http: Client, db: AsyncSession, clock: Clock) -> None:
    await make_user(db, username="alice")
    token = await fail(http, "alice", 5)
    assert (await submit_login(http, "alice", TEST_PASSWORD, token=token)).status_code == 429
    clock.advance(timedelta(minutes=15))
    response = await submit_login(http, "alice", TEST_PASSWORD, token=token)
    assert response.status_code == 303


async def test_account_throttle_still_holds_just_before_the_window_ends(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    await make_user(db, username="alice")
    token = await fail(http, "alice", 5)
    clock.advance(timedelta(minutes=14, seconds=30))
    response = await submit_login(http, "alice", TEST_PASSWORD, token=token)
    assert_throttled(response, timedelta(seconds=30))


async def test_account_throttle_leaves_other_accounts_alone(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    await make_user(db, username="bob")
    token = await fail(http, "alice", 5)
    assert (await submit_login(http, "bob", TEST_PASSWORD, token=token)).status_code == 303


async def test_failures_spread_over_more_than_the_window_do_not_throttle(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    await make_user(db, username="alice")
    token = await fail(http, "alice", 3)
    clock.advance(timedelta(minutes=16))
    await fail(http, "alice", 4)
    assert (await submit_login(http, "alice", TEST_PASSWORD, token=token)).status_code == 303


# --- only failures count ----------------------------------------------------------------------------------------


async def test_successful_sign_ins_do_not_count_toward_the_limit(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    for _ in range(6):
        http.cookies.delete("session")
        response = await submit_login(http, "alice", TEST_PASSWORD)
        assert response.status_code == 303
    assert set((await throttle_counts(db)).values()) <= {0}
    assert len(await session_rows(db)) == 6


async def test_throttled_attempts_are_not_recorded_as_failures(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    token = await fail(http, "alice", 5)
    for _ in range(3):
        assert (await submit_login(http, "alice", WRONG, token=token)).status_code == 429
    assert (await throttle_counts(db))["account:alice"] == 5


# --- per client address -----------------------------------------------------------------------------------------


async def test_twenty_failures_from_one_address_throttle_every_account(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    token = await form_token(http)
    # Four each on five names: no single account reaches its own limit.
    for n in range(20):
        assert (await submit_login(http, f"guess{n % 5}", WRONG, token=token)).status_code == 422
    assert_throttled(await submit_login(http, "alice", TEST_PASSWORD, token=token), timedelta(minutes=5))
    assert_throttled(await submit_login(http, "newcomer", WRONG, token=token), timedelta(minutes=5))


async def test_nineteen_failures_from_one_address_do_not_throttle(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    token = await form_token(http)
    for n in range(19):
        assert (await submit_login(http, f"guess{n % 5}", WRONG, token=token)).status_code == 422
    assert (await submit_login(http, "alice", TEST_PASSWORD, token=token)).status_code == 303


async def test_address_throttle_ends_after_five_minutes(http: Client, db: AsyncSession, clock: Clock) -> None:
    await make_user(db, username="alice")
    token = await form_token(http)
    for n in range(20):
        await submit_login(http, f"guess{n}", WRONG, token=token)
    assert (await submit_login(http, "alice", TEST_PASSWORD, token=token)).status_code == 429
    clock.advance(timedelta(minutes=5))
    assert (await submit_login(http, "alice", TEST_PASSWORD, token=token)).status_code == 303


async def test_changing_x_forwarded_for_does_not_reset_the_address_count(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    token = await form_token(http)
    for n in range(20):
        spoofed = {"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"}
        response = await submit_login(http, f"guess{n}", WRONG, token=token, headers=spoofed)
        assert response.status_code == 422
    fresh = {"X-Forwarded-For": "192.0.2.99", "Forwarded": "for=192.0.2.99"}
    response = await submit_login(http, "alice", TEST_PASSWORD, token=token, headers=fresh)
    assert_throttled(response, timedelta(minutes=5))
    # Counted against the connection's own address, never the one the client claimed.
    addresses = {key: count for key, count in (await throttle_counts(db)).items() if key.startswith("address:")}
    assert addresses == {"address:testclient": 20}


async def test_changing_x_forwarded_for_does_not_reset_the_account_count(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    token = await form_token(http)
    for n in range(5):
        response = await submit_login(http, "alice", WRONG, token=token, headers={"X-Forwarded-For": f"203.0.113.{n}"})
        assert response.status_code == 422
    response = await submit_login(http, "alice", TEST_PASSWORD, token=token, headers={"X-Forwarded-For": "192.0.2.1"})
    assert response.status_code == 429


# --- shared through the database --------------------------------------------------------------------------------


async def test_failures_are_stored_in_the_database(http: Client, db: AsyncSession, clock: Clock) -> None:
    await fail(http, "Alice", 2)
    assert await throttle_counts(db) == {"account:alice": 2, "address:testclient": 2}


async def test_a_second_app_on_the_same_database_sees_the_failures(
    http: Client, db: AsyncSession, settings: Settings, engine: AsyncEngine
) -> None:
    await make_user(db, username="alice")
    await fail(http, "alice", 5)
    async with AsyncTestClient(app=create_app(settings)) as other_worker:
        response = await submit_login(other_worker, "alice", TEST_PASSWORD)
    assert_throttled(response, timedelta(minutes=15))

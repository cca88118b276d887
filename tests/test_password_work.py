"""Findings 1-4 of the outside audit: password checks leak nothing through their cost, cannot be raced past the
throttle, hold no database lock, and the current-password check is throttled like sign-in.

The bursts run real concurrent requests (the app on the test's event loop, as in tests/concurrent.py) on SQLite
and PostgreSQL; "checked" is counted as argon2 verifications through a wrapper on the app's hasher.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from litestar import Litestar
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import form_token, stored_users, submit_login, throttle_counts
from tests.concurrent import Overlap
from tests.conftest import TEST_HOST, Clock, sign_in
from tests.password_checks import count_verifications
from tests.support import TEST_PASSWORD, Client, make_user
from webapp import throttle

WRONG = "not the password"
BURST = 40
NEW = "a brand new passphrase"


# --- 1. every refusal does the same work ------------------------------------------------------------------------

REFUSALS = {
    "unknown user": ("nobody", TEST_PASSWORD),
    "deactivated user": ("dora", TEST_PASSWORD),
    "wrong password": ("alice", WRONG),
}


@pytest.mark.parametrize("case", REFUSALS)
async def test_every_refused_sign_in_runs_exactly_one_password_verification(
    http: Client, db: AsyncSession, case: str
) -> None:
    await make_user(db, username="alice")
    await make_user(db, username="dora", is_active=False)
    counting = count_verifications(http.app)
    username, password = REFUSALS[case]
    response = await submit_login(http, username, password)
    assert response.status_code == 422
    assert len(counting.verifications) == 1


async def test_a_successful_sign_in_also_runs_one_verification(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    counting = count_verifications(http.app)
    assert (await submit_login(http, "alice", TEST_PASSWORD)).status_code == 303
    assert len(counting.verifications) == 1


# --- 2. the limits hold under concurrency -----------------------------------------------------------------------


@asynccontextmanager
async def concurrent_browser(app: Litestar) -> AsyncIterator[tuple[httpx.AsyncClient, Overlap, str]]:
    """A signed-out browser driving the app on the test's own event loop, with the sign-in form's token."""
    overlap = Overlap(app)
    transport = httpx.ASGITransport(app=overlap)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url=f"http://{TEST_HOST}") as client:
        yield client, overlap, await form_token(client)


async def test_a_burst_of_wrong_passwords_at_one_account_checks_exactly_the_limit(
    app: Litestar, db: AsyncSession
) -> None:
    await make_user(db, username="alice")
    async with concurrent_browser(app) as (client, overlap, token):
        counting = count_verifications(app)
        responses = await asyncio.gather(*(submit_login(client, "alice", WRONG, token=token) for _ in range(BURST)))
    statuses = sorted(response.status_code for response in responses)
    assert overlap.peak > 1
    assert statuses == [422] * throttle.ACCOUNT.limit + [429] * (BURST - throttle.ACCOUNT.limit)
    assert len(counting.verifications) == throttle.ACCOUNT.limit
    assert (await throttle_counts(db))["account:alice"] == throttle.ACCOUNT.limit


async def test_a_burst_of_usernames_from_one_address_checks_exactly_the_limit(app: Litestar, db: AsyncSession) -> None:
    burst = 3 * throttle.ADDRESS.limit
    async with concurrent_browser(app) as (client, overlap, token):
        counting = count_verifications(app)
        responses = await asyncio.gather(*(submit_login(client, f"guess{n}", WRONG, token=token) for n in range(burst)))
    statuses = sorted(response.status_code for response in responses)
    assert overlap.peak > 1
    assert statuses == [422] * throttle.ADDRESS.limit + [429] * (burst - throttle.ADDRESS.limit)
    assert len(counting.verifications) == throttle.ADDRESS.limit


# --- 3. no write lock (nor any transaction) is held during the password work -------------------------------------


async def test_sign_in_checks_the_password_with_no_transaction_open(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    counting = count_verifications(http.app)
    assert (await submit_login(http, "alice", WRONG)).status_code == 422
    assert (await submit_login(http, "alice", TEST_PASSWORD)).status_code == 303
    assert [v.connections_held for v in counting.verifications] == [0, 0]
    assert {v.sqlite_write_lock_free for v in counting.verifications} <= {True, None}


async def test_password_change_checks_the_current_password_with_no_transaction_open(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    await sign_in(http, db, await make_user(db, username="alice"), clock)
    counting = count_verifications(http.app)
    form = {"current_password": TEST_PASSWORD, "password": NEW, "password_confirm": NEW}
    assert (await http.post("/account/password", data=form | {"current_password": WRONG})).status_code == 422
    assert (await http.post("/account/password", data=form, follow_redirects=False)).status_code == 303
    assert [v.connections_held for v in counting.verifications] == [0, 0]
    assert {v.sqlite_write_lock_free for v in counting.verifications} <= {True, None}


# --- 4. the current-password check is throttled like sign-in -----------------------------------------------------


async def test_wrong_current_passwords_are_throttled_even_before_the_right_one(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    alice = await make_user(db, username="alice")
    old_hash = alice.password_hash
    await sign_in(http, db, alice, clock)
    form = {"current_password": WRONG, "password": NEW, "password_confirm": NEW}
    for _ in range(throttle.ACCOUNT.limit):
        assert (await http.post("/account/password", data=form)).status_code == 422
    right = await http.post("/account/password", data=form | {"current_password": TEST_PASSWORD})
    assert right.status_code == 429
    assert 0 < int(right.headers["retry-after"]) <= timedelta(minutes=15).total_seconds()
    assert right.headers["content-type"].startswith("text/html")
    assert (await stored_users(db))["alice"].password_hash == old_hash


async def test_wrong_current_passwords_count_toward_sign_in_throttling_too(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    """The same password is being guessed either way, so the same limit covers both forms."""
    await sign_in(http, db, await make_user(db, username="alice"), clock)
    form = {"current_password": WRONG, "password": NEW, "password_confirm": NEW}
    for _ in range(throttle.ACCOUNT.limit):
        assert (await http.post("/account/password", data=form)).status_code == 422
    http.cookies.clear()
    del http.headers["X-CSRF-Token"]  # signed out now: the sign-in form's own token
    assert (await submit_login(http, "alice", TEST_PASSWORD)).status_code == 429

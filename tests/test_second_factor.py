"""The second factor over HTTP: setting it up (QR code and key, a code to confirm, ten recovery codes), signing in
with a code or a recovery code, throttled and recorded failures, no replay, and turning it off."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import new_session_cookie, session_rows, stored_session, submit_login, user_id
from tests.conftest import SECOND_FACTOR_KEY, Clock, sign_in
from tests.hostile_checks import assert_refused
from tests.markup import parse
from tests.second_factor_support import SetUp, recovery_codes, set_up_second_factor, setup_form, stored_user
from tests.support import TEST_PASSWORD, Client, audit_entries, field_error, make_user
from webapp import throttle
from webapp.totp import Secrets, matching_step, recovery_digest


async def with_second_factor(http: Client, db: AsyncSession, clock: Clock, username: str = "alice") -> SetUp:
    """`username` signed in, with a second factor set up through the pages, then signed out."""
    await sign_in(http, db, await make_user(db, username=username), clock)
    set_up = await set_up_second_factor(http, clock())
    http.cookies.clear()
    del http.headers["X-CSRF-Token"]
    return set_up


async def code_step(http: Client, next_path: str = "/teams") -> str:
    """Sign in with the password; returns where that leads (the code step)."""
    response = await submit_login(http, "alice", TEST_PASSWORD, next_path=next_path)
    assert response.status_code == 303
    return str(response.headers["location"])


async def send_code(http: Client, code: str, next_path: str = "/teams") -> object:
    page = await http.get(f"/login/code?next={next_path}")
    assert page.status_code == 200
    csrf = parse(page.text).find("input", name="_csrf").attrs["value"]
    return await http.post("/login/code", data={"_csrf": csrf, "code": code, "next": next_path}, follow_redirects=False)


# --- setting it up --------------------------------------------------------------------------------------------


async def test_set_up_page_shows_a_qr_code_and_the_key_as_text(client: Client) -> None:
    page = await client.get("/account/two-factor/setup")
    assert page.status_code == 200
    document = parse(page.text)
    figure = document.find("figure", **{"class": "qr"})
    assert figure.find_all("svg")
    secret, sealed = setup_form(page.text)
    assert len(secret) == 32
    assert secret not in sealed  # the form carries it encrypted
    assert document.find("label", **{"for": "setup-code"}).text == "Code from the app"


async def test_set_up_stores_the_secret_encrypted_and_ten_hashed_recovery_codes(
    client: Client, db: AsyncSession, clock: Clock
) -> None:
    set_up = await set_up_second_factor(client, clock())
    assert len(set_up.recovery_codes) == 10
    stored = await stored_user(db, "eddie")
    assert stored.totp_secret is not None
    assert set_up.secret not in stored.totp_secret
    assert Secrets((SECOND_FACTOR_KEY,)).decrypt(stored.totp_secret) == set_up.secret
    digests = [row.digest for row in await recovery_codes(db, user_id(stored))]
    assert sorted(digests) == sorted(recovery_digest(code) for code in set_up.recovery_codes)
    assert not set(digests) & set(set_up.recovery_codes)
    assert [e.action for e in await audit_entries(db)] == ["second_factor_enabled"]


async def test_a_wrong_code_at_set_up_stores_nothing(client: Client, db: AsyncSession) -> None:
    page = await client.get("/account/two-factor/setup")
    secret, sealed = setup_form(page.text)
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    response = await client.post("/account/two-factor/setup", data={"sealed": sealed, "code": wrong})
    assert_refused(response, 422)
    assert field_error(response.text, "setup-code")
    assert (await stored_user(db, "eddie")).totp_secret is None


async def test_a_sealed_secret_made_for_someone_else_is_refused(client: Client, db: AsyncSession) -> None:
    secret = pyotp.random_base32()
    sealed = Secrets((SECOND_FACTOR_KEY,)).encrypt(f"999:{secret}")
    response = await client.post("/account/two-factor/setup", data={"sealed": sealed, "code": pyotp.TOTP(secret).now()})
    assert_refused(response, 400)
    assert (await stored_user(db, "eddie")).totp_secret is None


def test_a_code_is_good_for_its_step_and_one_either_side(clock: Clock) -> None:
    secret, now = pyotp.random_base32(), clock()
    step = pyotp.TOTP(secret).timecode(now)
    for offset in (-1, 0, 1):
        assert matching_step(secret, pyotp.TOTP(secret).at(now, counter_offset=offset), now=now) == step + offset
    for offset in (-3, -2, 2, 3):
        code = pyotp.TOTP(secret).at(now, counter_offset=offset)
        if code not in {pyotp.TOTP(secret).at(now, counter_offset=near) for near in (-1, 0, 1)}:
            assert matching_step(secret, code, now=now) is None


# --- signing in -----------------------------------------------------------------------------------------------


async def test_after_the_password_comes_the_code_step_and_nothing_else(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    await with_second_factor(http, db, clock)
    assert (await code_step(http)).startswith("/login/code?")
    # The password alone opens nothing: every page sends the browser back to the code step.
    for path in ("/heroes", "/teams", "/account/password", "/users"):
        response = await http.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"].split("?")[0]) == (303, "/login/code")
    refused = await http.post("/teams", data={"name": "X", "headquarters": "Y"}, follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/login/code")


async def test_the_right_code_signs_in_with_a_fresh_session(http: Client, db: AsyncSession, clock: Clock) -> None:
    set_up = await with_second_factor(http, db, clock)
    await code_step(http)
    pending = http.cookies["session"]
    response = await send_code(http, set_up.code(clock(), offset=1))  # the current one was used up at set-up
    assert (response.status_code, response.headers["location"]) == (303, "/teams")  # type: ignore[attr-defined]
    token = new_session_cookie(response)  # type: ignore[arg-type]
    assert token != pending
    assert await stored_session(db, pending) is None
    row = await stored_session(db, token)
    assert row is not None
    assert row.stage == "signed_in"
    assert (await http.get("/heroes")).status_code == 200
    assert [e.action for e in await audit_entries(db)][-1] == "sign_in"


async def test_a_code_works_once_within_its_window(http: Client, db: AsyncSession, clock: Clock) -> None:
    set_up = await with_second_factor(http, db, clock)
    code = set_up.code(clock(), offset=1)  # not the one the set-up used up
    await code_step(http)
    assert (await send_code(http, code)).status_code == 303  # type: ignore[attr-defined]
    http.cookies.clear()
    await code_step(http)
    replayed = await send_code(http, code)
    assert replayed.status_code == 422  # type: ignore[attr-defined]
    assert "second_factor_failed" in [e.action for e in await audit_entries(db)]


async def test_a_wrong_code_is_refused_and_recorded(http: Client, db: AsyncSession, clock: Clock) -> None:
    set_up = await with_second_factor(http, db, clock)
    await code_step(http)
    wrong = f"{(int(set_up.code(clock())) + 500_000) % 1_000_000:06d}"
    response = await send_code(http, wrong)
    assert_refused(response, 422)  # type: ignore[arg-type]
    failed = [(e.action, e.username) for e in await audit_entries(db) if e.action == "second_factor_failed"]
    assert failed == [("second_factor_failed", "alice")]


async def test_wrong_codes_are_throttled_even_before_the_right_one(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    set_up = await with_second_factor(http, db, clock)
    await code_step(http)
    for _ in range(throttle.SECOND_FACTOR.limit):
        assert (await send_code(http, "000000")).status_code == 422  # type: ignore[attr-defined]
    response = await send_code(http, set_up.code(clock(), offset=1))
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert 0 < int(response.headers["retry-after"]) <= 15 * 60  # type: ignore[attr-defined]
    clock.advance(throttle.SECOND_FACTOR.window)
    await code_step(http)  # the code step lasts ten minutes: start again
    assert (await send_code(http, set_up.code(clock()))).status_code == 303  # type: ignore[attr-defined]


async def test_a_recovery_code_signs_in_once(http: Client, db: AsyncSession, clock: Clock) -> None:
    set_up = await with_second_factor(http, db, clock)
    code = set_up.recovery_codes[3]
    await code_step(http)
    assert (await send_code(http, code.upper())).status_code == 303  # type: ignore[attr-defined]
    http.cookies.clear()
    await code_step(http)
    assert (await send_code(http, code)).status_code == 422  # type: ignore[attr-defined]
    alice = await stored_user(db, "alice")
    assert [row.used_at is not None for row in await recovery_codes(db, user_id(alice))].count(True) == 1


async def test_the_code_step_ends_after_ten_minutes(http: Client, db: AsyncSession, clock: Clock) -> None:
    set_up = await with_second_factor(http, db, clock)
    await code_step(http)
    clock.advance(timedelta(minutes=11))
    response = await http.post("/login/code", data={"code": set_up.code(clock())}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?")
    assert [row.stage for row in await session_rows(db)] == ["signed_in"]  # the one alice set the factor up in


# --- managing it ----------------------------------------------------------------------------------------------


async def test_new_recovery_codes_replace_the_old_ones(client: Client, db: AsyncSession, clock: Clock) -> None:
    old = await set_up_second_factor(client, clock())
    response = await client.post("/account/two-factor/recovery-codes", data={"password": TEST_PASSWORD})
    assert response.status_code == 200
    new = [item.text for item in parse(response.text).find("ul", **{"aria-label": "Recovery codes"}).find_all("li")]
    digests = {row.digest for row in await recovery_codes(db, user_id(await stored_user(db, "eddie")))}
    assert digests == {recovery_digest(code) for code in new}
    assert not digests & {recovery_digest(code) for code in old.recovery_codes}


async def test_turning_it_off_needs_the_password(client: Client, db: AsyncSession, clock: Clock) -> None:
    await set_up_second_factor(client, clock())
    wrong = await client.post("/account/two-factor/disable", data={"password": "not it"})
    assert_refused(wrong, 422)
    assert (await stored_user(db, "eddie")).totp_secret is not None
    right = await client.post("/account/two-factor/disable", data={"password": TEST_PASSWORD}, follow_redirects=False)
    assert right.status_code == 303
    eddie = await stored_user(db, "eddie")
    assert eddie.totp_secret is None
    assert await recovery_codes(db, user_id(eddie)) == []
    assert [e.action for e in await audit_entries(db)][-1] == "second_factor_disabled"

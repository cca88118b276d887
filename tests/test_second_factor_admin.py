"""Second factors required per role (set up right after the password, before anything else), the admins' reset,
the command line's reset for a locked-out admin, and a server without SECOND_FACTOR_KEY."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import session_rows, submit_login, user_id
from tests.conftest import Clock, sign_in
from tests.hostile_checks import assert_refused
from tests.route_table import Endpoint, arrange_sample, collected_endpoints, endpoint_id, fill, with_second_factor
from tests.second_factor_support import set_up_second_factor, stored_user
from tests.support import TEST_PASSWORD, Client, audit_entries, database_state, make_user
from tests.test_cli_users import run_cli, sqlite_url
from webapp import accounts
from webapp.app import create_app
from webapp.auth import SAFE_METHODS
from webapp.config import Settings
from webapp.db import create_engine, session_factories
from webapp.logs import PROBES
from webapp.models import Role

ROUTES = collected_endpoints()
# Every route a signed-in user has, but the set-up itself: a session that still has to set a factor up reaches none.
# The probes are outside sessions altogether (no lookup, so nothing to send to the set-up), OPTIONS included.
SIGNED_IN_ROUTES = sorted(
    endpoint
    for endpoint, access in ROUTES.items()
    if access not in {"public", "setup_step", "code_step"} and endpoint[1] not in PROBES
)


async def require_for_editors(db: AsyncSession) -> None:
    await accounts.require_second_factor(db, role=Role.editor.value, required=True)
    await db.commit()


# --- required per role ----------------------------------------------------------------------------------------


async def test_an_admin_requires_a_second_factor_for_a_role_and_it_is_recorded(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    await sign_in(http, db, await make_user(db, username="root", role=Role.admin), clock)
    response = await http.post("/users/second-factor-policy", data={"require_editor": "on"}, follow_redirects=False)
    assert response.status_code == 303
    assert await accounts.roles_requiring_second_factor(db) == {"editor"}
    await db.commit()
    (entry,) = [e for e in await audit_entries(db) if e.action == "second_factor_policy"]
    assert (entry.username, entry.changes) == ("root", {"editor": [False, True]})


async def test_an_account_of_that_role_sets_one_up_right_after_the_password(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    await require_for_editors(db)
    await make_user(db, username="eddie", role=Role.editor)
    response = await submit_login(http, "eddie", TEST_PASSWORD, next_path="/teams")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/two-factor/setup?")
    set_up = await set_up_second_factor(http, clock())
    assert len(set_up.recovery_codes) == 10
    # Set up, and signed in: the page with the codes leads on to where sign-in was going.
    assert (await http.get("/teams")).status_code == 200
    assert [row.stage for row in await session_rows(db)] == ["signed_in"]


@pytest.mark.parametrize("endpoint", SIGNED_IN_ROUTES, ids=endpoint_id)
async def test_before_setting_it_up_the_account_can_do_nothing_else(
    endpoint: Endpoint, http: Client, db: AsyncSession, clock: Clock
) -> None:
    """Every signed-in route (even of the least role) sends such a session to the set-up page and changes
    nothing, whatever it carries."""
    method, template = endpoint
    await require_for_editors(db)
    target = await make_user(db, username="tess", role=Role.viewer)
    sample = await arrange_sample(db, template, user_id=user_id(target), setup_token="x", username="tess")
    eddie = await make_user(db, username="eddie", role=Role.editor)
    token, row = await accounts.start_session(db, user=eddie, now=clock(), stage="enroll")
    await db.commit()
    csrf = row.csrf_token
    http.cookies.set("session", token)
    before = await database_state(db)
    data = None if method in SAFE_METHODS else {"_csrf": csrf, "name": "X", "headquarters": "Y"}
    response = await http.request(method, fill(template, sample), data=data, follow_redirects=False)
    assert response.status_code == 303, (response.status_code, response.headers.get("location"))
    assert response.headers["location"].startswith("/account/two-factor/setup?")
    assert await database_state(db) == before


async def test_turning_it_off_is_refused_while_the_role_requires_it(
    client: Client, db: AsyncSession, clock: Clock
) -> None:
    await set_up_second_factor(client, clock())
    await require_for_editors(db)
    response = await client.post("/account/two-factor/disable", data={"password": TEST_PASSWORD})
    assert_refused(response, 409)
    assert (await stored_user(db, "eddie")).totp_secret is not None


# --- resets ---------------------------------------------------------------------------------------------------


async def test_an_admin_resets_a_users_second_factor_signs_them_out_and_it_is_recorded(
    http: Client, db: AsyncSession, clock: Clock
) -> None:
    eddie = await make_user(db, username="eddie", role=Role.editor)
    eddie_id = user_id(eddie)
    await with_second_factor(db, eddie)
    await accounts.start_session(db, user=eddie, now=clock())
    await db.commit()
    await sign_in(http, db, await make_user(db, username="root", role=Role.admin), clock)
    response = await http.post(f"/users/{eddie_id}/second-factor/reset", follow_redirects=False)
    assert response.status_code == 303
    assert (await stored_user(db, "eddie")).totp_secret is None
    assert await session_rows(db, eddie_id) == []
    (entry,) = [e for e in await audit_entries(db) if e.action == "second_factor_reset"]
    assert (entry.username, entry.label, entry.record_id) == ("root", "eddie", eddie_id)


async def test_the_command_line_resets_a_locked_out_admin(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "cli.db")
    assert (await run_cli("users", "create", "root", "--role", "admin", database_url=url, stdin=TEST_PASSWORD))[0] == 0
    engine = create_engine(Settings(database_url=url))
    try:
        _reader, writer = session_factories(engine)
        async with writer() as db:
            await with_second_factor(db, await stored_user(db, "root"))
        code, out, _err = await run_cli("users", "reset-2fa", "ROOT", database_url=url)
        assert (code, out.strip()) == (0, "Removed the second factor of 'root' and signed them out everywhere.")
        async with writer() as db:
            assert (await stored_user(db, "root")).totp_secret is None
            assert [(e.action, e.username, e.label) for e in await audit_entries(db)] == [
                ("user_created", "command line", "root"),
                ("second_factor_reset", "command line", "root"),
            ]
    finally:
        await engine.dispose()
    assert (await run_cli("users", "reset-2fa", "nobody", database_url=url))[0] == 1


# --- no key ---------------------------------------------------------------------------------------------------


async def test_without_a_key_no_second_factor_can_be_set_up(
    settings: Settings, engine: AsyncEngine, db: AsyncSession, clock: Clock
) -> None:
    app = create_app(replace(settings, second_factor_keys=()))
    async with AsyncTestClient(app=app) as browser:
        await sign_in(browser, db, await make_user(db, username="eddie"), clock)
        assert_refused(await browser.get("/account/two-factor/setup"), 409)
        page = await browser.get("/account/two-factor")
        assert "SECOND_FACTOR_KEY" in page.text
    assert (await stored_user(db, "eddie")).totp_secret is None

"""`users list`, `set-password`, `set-role` and `deactivate`: real subprocesses against the test's database
(SQLite and PostgreSQL), the outcome re-read from it and, where it matters, proven through HTTP."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import session_rows, stored_users, submit_login, user_id
from tests.cli_support import run_cli
from tests.conftest import Clock
from tests.support import TEST_PASSWORD, Client, audit_entries, make_user, sign_in
from webapp.config import Settings
from webapp.models import Role

NEW_PASSWORD = "a new cli passphrase"


def signed_out(http: Client) -> None:
    """The browser forgets its session (`sign_in` also set the CSRF header htmx would send)."""
    http.cookies.clear()
    http.headers.pop("X-CSRF-Token", None)


async def test_users_list_shows_each_user_role_and_state_in_columns(settings: Settings, db: AsyncSession) -> None:
    await make_user(db, username="zoe", role=Role.viewer)
    await make_user(db, username="adam", role=Role.admin)
    await make_user(db, username="gone", role=Role.editor, is_active=False)
    code, out, err = await run_cli("users", "list", database_url=settings.database_url)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["USERNAME", "ROLE", "STATE", "2FA", "LAST", "SIGN-IN"]
    assert [line.split()[:4] for line in lines[1:]] == [
        ["adam", "admin", "active", "no"],
        ["gone", "editor", "deactivated", "no"],
        ["zoe", "viewer", "active", "no"],
    ]
    # In columns: each column starts at the same place on every line.
    for column in (["ROLE", "admin", "editor", "viewer"], ["STATE", "active", "deactivated", "active"]):
        assert len({line.index(cell) for line, cell in zip(lines, column, strict=True)}) == 1


async def test_users_list_of_an_empty_database_says_so(settings: Settings, db: AsyncSession) -> None:
    code, out, err = await run_cli("users", "list", database_url=settings.database_url)
    assert (code, out, err) == (0, "No users yet.\n", "")


async def test_set_password_from_stdin_signs_in_with_it_and_ends_old_sessions(
    settings: Settings, db: AsyncSession, http: Client, clock: Clock
) -> None:
    alice = await make_user(db, username="alice", role=Role.editor)
    alice_id = user_id(alice)
    await sign_in(http, db, alice, clock)
    code, out, err = await run_cli(
        "users", "set-password", "Alice", database_url=settings.database_url, stdin=NEW_PASSWORD + "\n"
    )
    assert code == 0, err
    assert out == "Set a new password for 'alice' and signed them out everywhere.\n"
    assert await session_rows(db, alice_id) == []
    assert PasswordHasher().verify((await stored_users(db))["alice"].password_hash, NEW_PASSWORD)
    signed_out(http)
    assert (await submit_login(http, "alice", TEST_PASSWORD)).status_code == 422
    assert (await submit_login(http, "alice", NEW_PASSWORD)).status_code == 303
    (entry,) = [entry for entry in await audit_entries(db) if entry.action == "password_set"]
    assert (entry.username, entry.record_id) == ("command line", alice_id)


async def test_set_password_refuses_a_short_one_and_changes_nothing(settings: Settings, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    before = (await stored_users(db))["alice"].password_hash
    code, out, err = await run_cli("users", "set-password", "alice", database_url=settings.database_url, stdin="short")
    assert (code, out) == (1, "")
    assert err == "password: Use at least 8 characters.\n"
    assert (await stored_users(db))["alice"].password_hash == before


async def test_set_role_changes_the_role_and_records_it(settings: Settings, db: AsyncSession) -> None:
    vera = await make_user(db, username="vera", role=Role.viewer)
    vera_id = user_id(vera)
    code, out, err = await run_cli("users", "set-role", "vera", "editor", database_url=settings.database_url)
    assert code == 0, err
    assert out == "'vera' is now editor.\n"
    assert (await stored_users(db))["vera"].role == Role.editor.value
    (entry,) = [entry for entry in await audit_entries(db) if entry.action == "user_changed"]
    assert (entry.record_id, entry.changes) == (vera_id, {"role": ["viewer", "editor"]})


async def test_set_role_refuses_to_demote_the_last_active_admin(settings: Settings, db: AsyncSession) -> None:
    await make_user(db, username="root", role=Role.admin)
    await make_user(db, username="old", role=Role.admin, is_active=False)
    code, out, err = await run_cli("users", "set-role", "root", "viewer", database_url=settings.database_url)
    assert (code, out) == (1, "")
    assert err == "'root' is the last active admin: make someone else an admin first.\n"
    assert (await stored_users(db))["root"].role == Role.admin.value


async def test_set_role_demotes_an_admin_when_another_remains(settings: Settings, db: AsyncSession) -> None:
    await make_user(db, username="root", role=Role.admin)
    await make_user(db, username="second", role=Role.admin)
    code, _out, err = await run_cli("users", "set-role", "root", "viewer", database_url=settings.database_url)
    assert code == 0, err
    assert (await stored_users(db))["root"].role == Role.viewer.value


async def test_set_role_refuses_an_unknown_role_with_usage(settings: Settings, db: AsyncSession) -> None:
    await make_user(db, username="vera", role=Role.viewer)
    code, _out, err = await run_cli("users", "set-role", "vera", "root", database_url=settings.database_url)
    assert code == 2
    assert "invalid choice: 'root'" in err


async def test_deactivate_ends_the_users_sessions_and_their_sign_in(
    settings: Settings, db: AsyncSession, http: Client, clock: Clock
) -> None:
    eddie = await make_user(db, username="eddie", role=Role.editor)
    eddie_id = user_id(eddie)
    await sign_in(http, db, eddie, clock)
    assert (await http.get("/heroes", follow_redirects=False)).status_code == 200
    code, out, err = await run_cli("users", "deactivate", "eddie", database_url=settings.database_url)
    assert code == 0, err
    assert out == "Deactivated 'eddie' and signed them out everywhere.\n"
    assert await session_rows(db, eddie_id) == []
    assert (await http.get("/heroes", follow_redirects=False)).status_code == 303  # to sign-in
    signed_out(http)
    assert (await submit_login(http, "eddie", TEST_PASSWORD)).status_code == 422
    assert (await stored_users(db))["eddie"].is_active is False
    (entry,) = [entry for entry in await audit_entries(db) if entry.action == "user_changed"]
    assert entry.changes == {"is_active": [True, False]}


async def test_deactivate_refuses_the_last_active_admin(settings: Settings, db: AsyncSession) -> None:
    await make_user(db, username="root", role=Role.admin)
    await make_user(db, username="eddie", role=Role.editor)
    code, out, err = await run_cli("users", "deactivate", "root", database_url=settings.database_url)
    assert (code, out) == (1, "")
    assert err == "'root' is the last active admin: make someone else an admin first.\n"
    assert (await stored_users(db))["root"].is_active is True


async def test_deactivate_twice_says_nothing_changed(settings: Settings, db: AsyncSession) -> None:
    await make_user(db, username="gone", role=Role.viewer, is_active=False)
    code, out, err = await run_cli("users", "deactivate", "gone", database_url=settings.database_url)
    assert (code, out, err) == (0, "'gone' is already deactivated; nothing changed.\n", "")


async def test_changes_to_an_unknown_user_fail_naming_them(settings: Settings, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    for args, stdin in (
        (("set-role", "Nobody", "admin"), ""),
        (("deactivate", "nobody"), ""),
        (("set-password", "nobody"), NEW_PASSWORD),
    ):
        code, out, err = await run_cli("users", *args, database_url=settings.database_url, stdin=stdin)
        assert (code, out, err) == (1, "", "No user named 'nobody'.\n"), args


async def test_two_admins_deactivated_at_once_leave_one_active(settings: Settings, db: AsyncSession) -> None:
    await make_user(db, username="ann", role=Role.admin)
    await make_user(db, username="bob", role=Role.admin)
    # The schema recorded first, as serve leaves it: the race under test is the admins', not two first migrations.
    assert (await run_cli("users", "list", database_url=settings.database_url))[0] == 0
    outcomes = await asyncio.gather(
        *(run_cli("users", "deactivate", name, database_url=settings.database_url) for name in ("ann", "bob"))
    )
    assert sorted(code for code, _out, _err in outcomes) == [0, 1]
    (refused,) = [err for code, _out, err in outcomes if code == 1]
    assert refused.endswith("is the last active admin: make someone else an admin first.\n")
    users = await stored_users(db)
    assert sorted(user.is_active for user in users.values()) == [False, True]

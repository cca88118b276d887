"""The command line for accounts: `users create NAME --role ROLE` (password on stdin), and the one-time set-up
link `serve` prints while there are no users. Real subprocesses against the database in DATABASE_URL."""

from __future__ import annotations

import asyncio
import re
import shlex
import sys
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import new_session_cookie, stored_session, stored_users, submit_login
from tests.cli_support import cli_env, run_cli, serving, sqlite_url
from tests.conftest import TEST_HOST
from tests.markup import parse
from tests.support import make_user, password_hash
from webapp.app import create_app
from webapp.config import Settings
from webapp.models import Role

PASSWORD = "cli chosen passphrase"
SETUP_LINK = re.compile(r"http://127\.0\.0\.1:(\d+)/setup/([\w-]+)")


# --- users create -----------------------------------------------------------------------------------------------


async def test_users_create_in_a_fresh_database_then_sign_in_over_http(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fresh" / "cli.db")
    code, out, err = await run_cli("users", "create", "Alice", "--role", "editor", database_url=url, stdin=PASSWORD)
    assert code == 0, err
    assert "Created editor 'alice'" in out
    async with AsyncTestClient(app=create_app(Settings(database_url=url, allowed_hosts=(TEST_HOST,)))) as http:
        response = await submit_login(http, "alice", PASSWORD)
        assert response.status_code == 303
        assert new_session_cookie(response)
        assert (await http.get("/heroes")).status_code == 200


async def test_users_create_stores_role_and_hash_in_the_apps_database(
    settings: Settings, engine: AsyncEngine, db: AsyncSession
) -> None:
    code, _out, err = await run_cli(
        "users", "create", "Vera", "--role", "viewer", database_url=settings.database_url, stdin=PASSWORD + "\n"
    )
    assert code == 0, err
    users = await stored_users(db)
    assert list(users) == ["vera"]
    assert (users["vera"].role, users["vera"].is_active) == ("viewer", True)
    assert users["vera"].password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(users["vera"].password_hash, PASSWORD)


async def test_users_create_admin_can_open_the_users_screen(
    settings: Settings, engine: AsyncEngine, db: AsyncSession
) -> None:
    url = settings.database_url
    code, _out, err = await run_cli("users", "create", "root", "--role", "admin", database_url=url, stdin=PASSWORD)
    assert code == 0, err
    async with AsyncTestClient(app=create_app(settings)) as http:
        response = await submit_login(http, "root", PASSWORD)
        assert await stored_session(db, new_session_cookie(response)) is not None
        assert (await http.get("/users")).status_code == 200


async def test_users_create_refuses_a_short_password(settings: Settings, engine: AsyncEngine, db: AsyncSession) -> None:
    code, out, err = await run_cli(
        "users", "create", "alice", "--role", "editor", database_url=settings.database_url, stdin="short12\n"
    )
    assert code == 1
    assert "password: Use at least 8 characters." in err
    assert "Created" not in out
    assert await stored_users(db) == {}


async def test_users_create_refuses_an_existing_name_whatever_the_case(
    settings: Settings, engine: AsyncEngine, db: AsyncSession
) -> None:
    await make_user(db, username="alice", role=Role.viewer)
    code, _out, err = await run_cli(
        "users", "create", "ALICE", "--role", "admin", database_url=settings.database_url, stdin=PASSWORD
    )
    assert code == 1
    assert "A user named 'alice' already exists." in err
    users = await stored_users(db)
    assert list(users) == ["alice"]
    assert (users["alice"].role, users["alice"].password_hash) == ("viewer", password_hash())


async def test_users_create_refuses_a_bad_username(tmp_path: Path) -> None:
    code, _out, err = await run_cli(
        "users", "create", "bad name", "--role", "editor", database_url=sqlite_url(tmp_path / "cli.db"), stdin=PASSWORD
    )
    assert code == 1
    assert err.startswith("username: ")


async def test_users_create_refuses_an_unknown_role(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    code, _out, err = await run_cli(
        "users", "create", "alice", "--role", "root", database_url=sqlite_url(database), stdin=PASSWORD
    )
    assert code == 2
    assert "invalid choice: 'root'" in err
    assert not database.exists()


# --- the set-up link that serve prints --------------------------------------------------------------------------


# One `serve` start (seconds, on a loaded machine) for both what is printed and what the link does, on the same
# fresh database.
async def test_serve_boxes_a_working_setup_link_once_after_start_up_and_logs_only_a_redacted_form(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path / "serve.db")
    async with serving(url) as served, httpx.AsyncClient() as browser:
        match = SETUP_LINK.search(served.out)
        assert match, served.out
        token = match[2]
        box = served.out.split("\n")[2:-2]  # after "Serving …" and a blank line, up to the trailing blank line
        assert box[0] == box[-1] == "+" + "-" * (len(box[0]) - 2) + "+"
        assert all(line.startswith("| ") and line.endswith(" |") and len(line) == len(box[0]) for line in box[1:-1])
        assert sum(match[0] in line for line in box) == 1
        assert served.out.count(token) == 1
        assert token not in served.log
        assert f"/setup/{token[:4]}…" in served.log
        # uvicorn's start-up lines all came before the box (they cannot push it out of view).
        assert "Application startup complete" in served.log

        # The link works: it makes the first admin, once.
        assert int(match[1]) == served.port
        link = match[0]
        form = await browser.get(link)
        assert form.status_code == 200
        assert "Create the first admin" in form.text
        data = {"_csrf": parse(form.text).find("input", name="_csrf").attrs["value"], "username": "root"}
        data |= {"password": PASSWORD, "password_confirm": PASSWORD}
        created = await browser.post(link, data=data)
        assert created.status_code == 303
        assert created.headers["location"] == "/heroes"
        assert (await browser.get(link)).status_code == 410
    async with AsyncTestClient(app=create_app(Settings(database_url=url, allowed_hosts=(TEST_HOST,)))) as http:
        assert (await submit_login(http, "root", PASSWORD)).status_code == 303


async def test_the_printed_fallback_command_creates_the_first_admin_from_anywhere(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "serve.db")
    async with serving(url) as served:
        (command,) = [line[2:-2].strip() for line in served.out.splitlines() if "users create" in line]
    assert command == f"{sys.executable} -m webapp users create NAME --role admin"
    # Another directory, and a PATH without the project's venv: the command names its interpreter in full.
    env = cli_env(url) | {"PATH": "/usr/bin:/bin"}
    argv = shlex.split(command.replace("NAME", "first"))
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=tmp_path, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    out, _err = await asyncio.wait_for(process.communicate(PASSWORD.encode()), timeout=120)
    assert process.returncode == 0
    assert "Created admin 'first'" in out.decode()
    async with AsyncTestClient(app=create_app(Settings(database_url=url, allowed_hosts=(TEST_HOST,)))) as http:
        assert (await submit_login(http, "first", PASSWORD)).status_code == 303


async def test_serve_prints_no_setup_link_once_a_user_exists(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "serve.db")
    code, _out, err = await run_cli("users", "create", "alice", "--role", "admin", database_url=url, stdin=PASSWORD)
    assert code == 0, err
    async with serving(url) as served:
        assert "Serving the hero admin" in served.out
        assert "/setup/" not in served.out + served.log
        assert "No users yet" not in served.out + served.log

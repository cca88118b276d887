"""Finding 10 of the outside audit: usernames are stored and matched in one spelling (NFKC + casefold), and a
new name that looks like an existing one (the same UTS #39 confusable skeleton) is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import stored_users, submit_login
from tests.concurrent import Overlap
from tests.conftest import TEST_HOST, Clock, sign_in
from tests.support import TEST_PASSWORD, Client, field_error, make_user
from tests.test_cli_users import run_cli, sqlite_url
from webapp.models import Role
from webapp.usernames import normalize, skeleton

PASSWORD = "a long enough one"


def new_user(username: str) -> dict[str, str]:
    return {"username": username, "role": "viewer", "password": PASSWORD, "password_confirm": PASSWORD}


@pytest.fixture
async def admin_client(http: Client, db: AsyncSession, clock: Clock) -> Client:
    await sign_in(http, db, await make_user(db, username="admin", role=Role.admin), clock)
    return http


def test_skeletons_follow_unicode_confusables() -> None:
    assert skeleton("аdmin") == skeleton("admin")  # Cyrillic а
    assert skeleton("paypa1") == skeleton("paypal")
    assert skeleton("rnary") == skeleton("mary")
    assert skeleton("alice") != skeleton("alicia")


def test_usernames_are_stored_in_nfkc_and_casefolded() -> None:
    assert normalize("ＡＤＭＩＮ") == "admin"
    assert normalize(" Straße ") == "strasse"
    assert normalize("Ame\u0301lie") == "am\u00e9lie"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("ａｄｍｉｎ", "That username is taken."),  # full-width: the same name once normalised
        ("ADMIN", "That username is taken."),
        ("аdmin", "That username looks like admin, which is taken. Choose another."),  # Cyrillic а
        ("adrnin", "That username looks like admin, which is taken. Choose another."),  # r n for m
    ],
    ids=["full-width", "upper-case", "cyrillic-a", "rn-for-m"],
)
async def test_a_name_that_is_or_looks_like_an_existing_one_is_refused(
    admin_client: Client, db: AsyncSession, typed: str, message: str
) -> None:
    response = await admin_client.post("/users", data=new_user(typed), follow_redirects=False)
    assert response.status_code == 409
    assert field_error(response.text, "user-username") == message
    assert sorted(await stored_users(db)) == ["admin"]


async def test_a_name_unlike_the_others_is_stored_normalised(admin_client: Client, db: AsyncSession) -> None:
    response = await admin_client.post("/users", data=new_user("Ｇｒａｃｅ"), follow_redirects=False)
    assert response.status_code == 303
    assert sorted(await stored_users(db)) == ["admin", "grace"]


@pytest.mark.parametrize("typed", ["ＡＤＭＩＮ", "Admin", " admin "])
async def test_sign_in_matches_the_name_however_it_is_typed(http: Client, db: AsyncSession, typed: str) -> None:
    await make_user(db, username="admin", role=Role.admin)
    assert (await submit_login(http, typed, TEST_PASSWORD)).status_code == 303


async def test_a_look_alike_of_the_name_does_not_sign_in(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="admin", role=Role.admin)
    assert (await submit_login(http, "аdmin", TEST_PASSWORD)).status_code == 422


async def test_two_look_alikes_created_at_once_store_one(app: Litestar, db: AsyncSession, clock: Clock) -> None:
    """The skeleton is a unique column: whichever way concurrent creates interleave, one look-alike is stored."""
    root = await make_user(db, username="root", role=Role.admin)
    overlap = Overlap(app)
    transport = httpx.ASGITransport(app=overlap)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url=f"http://{TEST_HOST}") as client:
        await sign_in(client, db, root, clock)
        responses = await asyncio.gather(
            *(client.post("/users", data=new_user(name)) for name in ("mary", "rnary", "mαry"))
        )
    assert overlap.peak > 1
    assert sorted(response.status_code for response in responses) == [303, 409, 409]
    assert len(await stored_users(db)) == 2


async def test_the_command_line_refuses_a_look_alike(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "cli.db")
    assert (await run_cli("users", "create", "admin", "--role", "admin", database_url=url, stdin=PASSWORD))[0] == 0
    code, _out, err = await run_cli("users", "create", "аdmin", "--role", "viewer", database_url=url, stdin=PASSWORD)
    assert code == 1
    assert "looks like the existing user 'admin'" in err

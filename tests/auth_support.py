"""Helpers for the sign-in, session and user tests: the real sign-in form, cookies as sent, session rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookies import Morsel, SimpleCookie

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from webapp.accounts import digest
from webapp.models import Throttle, User, UserSession


async def form_token(client: httpx.AsyncClient, path: str = "/login") -> str:
    """Open a form page as a browser would and return its `_csrf` field (the page also sets the csrf cookie)."""
    response = await client.get(path, follow_redirects=False)
    assert response.status_code == 200, response.text
    return parse(response.text).find("input", name="_csrf").attrs["value"]


async def submit_login(
    client: httpx.AsyncClient,
    username: str,
    password: str,
    *,
    token: str | None = None,
    next_path: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST the sign-in form; opens the page first for a token unless one is given."""
    data = {"_csrf": token or await form_token(client), "username": username, "password": password}
    if next_path is not None:
        data["next"] = next_path
    return await client.post("/login", data=data, headers=headers, follow_redirects=False)


def set_cookie(response: httpx.Response, name: str) -> Morsel[str] | None:
    """The Set-Cookie the response sends for `name`, parsed (None when it sends none)."""
    found = None
    for line in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(line)
        if name in jar:
            found = jar[name]
    return found


def new_session_cookie(response: httpx.Response, name: str = "session") -> str:
    """The session id a response hands out (fails when it hands out none or clears the cookie)."""
    morsel = set_cookie(response, name)
    assert morsel is not None, f"no {name} cookie in {response.headers.get_list('set-cookie')}"
    assert morsel.value, "the cookie was cleared, not set"
    return morsel.value


def clears_cookie(response: httpx.Response, name: str = "session") -> bool:
    morsel = set_cookie(response, name)
    return morsel is not None and not morsel.value and morsel["max-age"] == "0"


def use_session(client: httpx.AsyncClient, token: str) -> None:
    """Make `client` send exactly this session cookie (replaying an old one, or one set elsewhere)."""
    client.cookies.delete("session")
    client.cookies.set("session", token)


@asynccontextmanager
async def browser(running: AsyncTestClient[Litestar]) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A second browser on the same app, with its own cookies and headers.

    It shares the running client's portal: the app (and its database pool) lives on that portal's event loop,
    and starting the lifespan a second time would replace the app's engine.
    """
    client: AsyncTestClient[Litestar] = AsyncTestClient(app=running.app)
    client.blocking_portal = running.blocking_portal
    yield client


async def session_rows(db: AsyncSession, user_id: int | None = None) -> list[UserSession]:
    """Stored sessions (of one user, when given), re-read. Ends the read so the app's writers are not kept
    waiting on SQLite."""
    db.expire_all()
    statement = select(UserSession).order_by(col(UserSession.created_at))
    if user_id is not None:
        statement = statement.where(UserSession.user_id == user_id)
    rows = list((await db.exec(statement)).all())
    await db.commit()
    return rows


async def stored_session(db: AsyncSession, token: str) -> UserSession | None:
    """The stored session behind a cookie value (the database keeps only the SHA-256 of the id)."""
    db.expire_all()
    row = (await db.exec(select(UserSession).where(UserSession.id == digest(token)))).first()
    await db.commit()
    return row


async def throttle_counts(db: AsyncSession) -> dict[str, int]:
    """Every failure counter ("account:alice", "address:testclient", ...) with its count, re-read."""
    db.expire_all()
    rows = {row.key: row.count for row in (await db.exec(select(Throttle))).all()}
    await db.commit()
    return rows


def signed_in_as(response: httpx.Response) -> str | None:
    """The username a page shows in its header, or None when the page is not a signed-in page."""
    found = parse(response.text).find_all("a", **{"class": "username"})
    return found[0].text if found else None


def user_id(user: User) -> int:
    """A stored user's id as a plain int; read it before re-reading rows (that expires loaded objects)."""
    assert user.id is not None
    return user.id


async def stored_users(db: AsyncSession) -> dict[str, User]:
    """Every stored user by username, re-read (and the read ended, as above)."""
    db.expire_all()
    users = {user.username: user for user in (await db.exec(select(User))).all()}
    await db.commit()
    return users

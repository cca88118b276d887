"""Callers of the app in the authorization tests: a signed-in session per role (or none), each request sent
with only that caller's cookies and token, and what its answer amounts to."""

from __future__ import annotations

from dataclasses import dataclass

from httpx import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import Clock
from tests.markup import parse
from tests.support import (
    Client,
    fetch_hero,
    fetch_user,
)
from webapp import accounts
from webapp.middleware import SAFE_METHODS
from webapp.models import Hero, Role, User

PUBLIC, VIEWER, EDITOR, ADMIN = "public", "viewer", "editor", "admin"
# The steps of signing in after the password (entering a code, setting a second factor up): anyone signed in may
# use them too (and is sent on), so in this matrix they answer like a viewer's route.
CODE_STEP, SETUP_STEP = "code_step", "setup_step"
AS_ROLE = {CODE_STEP: VIEWER, SETUP_STEP: VIEWER}


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role | None
    cookies: dict[str, str]
    csrf: str
    """The caller's own valid token: the session's, or (signed out) the one in the csrf cookie."""

    def may(self, least: str) -> bool:
        least = AS_ROLE.get(least, least)
        return least == PUBLIC or (self.role is not None and self.role.allows(Role(least)))


async def signed_in(db: AsyncSession, clock: Clock, user: User) -> Caller:
    token, row = await accounts.start_session(db, user=user, now=clock())
    await db.commit()
    return Caller(user.username, Role(user.role), {"session": token}, row.csrf_token)


async def send(
    http: Client, caller: Caller, method: str, url: str, form: dict[str, str], headers: dict[str, str]
) -> Response:
    """One request as `caller`, from a browser holding only that caller's cookies, with its own CSRF token."""
    http.cookies.clear()
    for name, value in caller.cookies.items():
        http.cookies.set(name, value)
    if method in SAFE_METHODS:
        return await http.request(method, url, headers=headers, follow_redirects=False)
    data = form | {"_csrf": caller.csrf}
    return await http.request(method, url, data=data, headers=headers, follow_redirects=False)


def outcome(response: Response) -> str:
    """What the response amounts to, in words the expectations use."""
    status, headers = response.status_code, response.headers
    if status == 303 and headers.get("location", "").startswith("/login?"):
        return f"sign-in {headers['location']}"
    if status == 401 and "hx-redirect" in headers:
        return f"sign-in {headers['hx-redirect']}"
    if status in (401, 403):
        if not headers.get("content-type", "").startswith("text/html"):
            return f"{status} {headers.get('content-type')}"
        document = parse(response.text)
        if document.has("h1"):
            return f"{status} page {document.find('h1').text}"
        alerts = document.find_all(role="alert")
        return f"{status} fragment {alerts[0].find('strong').text.rstrip('.')}" if alerts else f"{status} ?"
    return "allowed" if status < 500 else f"server error {status}"


def id_of_user(user: User) -> int:
    assert user.id is not None
    return user.id


async def stored_user(db: AsyncSession, user_id: int) -> User:
    user = await fetch_user(db, user_id)
    assert user is not None
    return user


async def stored_hero(db: AsyncSession, hero_id: int) -> Hero:
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    return hero

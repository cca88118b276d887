"""Signing in and out, the first admin's set-up link, and changing one's own password."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import accounts, audit
from webapp.auth import (
    OPEN,
    VIEWERS,
    anonymous_csrf_cookie,
    clear_anonymous_csrf,
    current_user,
    make_cookie,
    safe_next,
    session_cookie_name,
)
from webapp.config import Settings
from webapp.controllers.common import read_form
from webapp.forms import AccountForm, change_password_form, login_form, new_user_form
from webapp.htmx import redirect, render
from webapp.middleware import request_id
from webapp.models import Role, User
from webapp.passwords import Passwords

ACCOUNT_WINDOW, ACCOUNT_LIMIT = timedelta(minutes=15), 5
CLIENT_WINDOW, CLIENT_LIMIT = timedelta(minutes=5), 20
BAD_CREDENTIALS = "Invalid username or password."


def _settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _account_event(
    request: Request[Any, Any, Any], action: str, *, username: str, user_id: int | None, note: str = ""
) -> dict[str, Any]:
    actor = audit.Actor(user_id, username, request_id(request.scope), _settings(request).clock())
    return audit.entry(actor, action=action, record_type="account", record_id=user_id, label=username, note=note)


def _passwords(request: Request[Any, Any, Any]) -> Passwords:
    return request.app.state.passwords  # type: ignore[no-any-return]


def _login_page(
    request: Request[Any, Any, Any],
    form: AccountForm,
    next_path: str,
    *,
    status_code: int = 200,
    alert: str | None = None,
    headers: dict[str, str] | None = None,
) -> Template:
    context = {"form": form, "next": next_path, "alert": alert}
    response = render(request, page="account/login.html", context=context, status_code=status_code, headers=headers)
    return anonymous_csrf_cookie(request, response)


async def _retry_after(session: AsyncSession, *, username: str, client: str, now: datetime) -> int | None:
    """Seconds until sign-in is allowed again, or None: 5 failures per account in 15 minutes, 20 per address in 5."""
    for window, limit, key in ((ACCOUNT_WINDOW, ACCOUNT_LIMIT, "username"), (CLIENT_WINDOW, CLIENT_LIMIT, "client")):
        count, oldest = await accounts.failures_since(
            session, since=now - window, **{key: username if key == "username" else client}
        )
        if count >= limit and oldest is not None:
            return max(1, math.ceil((oldest + window - now).total_seconds()))
    return None


class AccountController(Controller):
    opt = OPEN

    @get("/login", name="login", status_code=200)
    async def login_page(
        self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
    ) -> Template | Redirect:
        target = safe_next(next, request.app.route_reverse("heroes:list"))
        if current_user(request):
            return redirect(target)
        return _login_page(request, AccountForm(values={}), target)

    @post("/login", name="login:submit", status_code=303)
    async def login(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Template | Redirect:
        data = await read_form(request)
        form = login_form(data)
        target = safe_next(data.get("next"), request.app.route_reverse("heroes:list"))
        if not form.is_valid:
            return _login_page(request, form, target, status_code=422)
        settings, now = _settings(request), _settings(request).clock()
        username = accounts.normalize_username(form.values["username"])
        # The socket's address: X-Forwarded-For is only honoured by uvicorn for proxies in FORWARDED_ALLOW_IPS.
        client = request.client.host if request.client else "unknown"
        if wait := await _retry_after(session, username=username, client=client, now=now):
            minutes = math.ceil(wait / 60)
            alert = f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
            return _login_page(request, form, target, status_code=429, alert=alert, headers={"Retry-After": str(wait)})
        # Counted before the (slow) password check, so parallel guesses cannot slip past the limit.
        await accounts.record_failure(session, username=username, client=client, now=now)
        await session.commit()
        user = await accounts.get_user_by_username(session, username=username)
        known = user is not None and user.is_active
        if user is None or not await _passwords(request).verify(
            user.password_hash if known else None, data["password"]
        ):
            reason = "unknown user" if user is None else "wrong password" if user.is_active else "deactivated account"
            note = f"{reason}, from {client}"
            failed = _account_event(request, "sign_in_failed", username=username, user_id=None, note=note)
            await audit.write(session, [failed])
            await session.commit()
            return _login_page(request, form, target, status_code=422, alert=BAD_CREDENTIALS)
        await accounts.forget_failures(session, username=username, before=now - timedelta(days=1))
        if _passwords(request).needs_rehash(user.password_hash):
            user.password_hash = await _passwords(request).hash(data["password"])
        user.last_login_at = now
        session.add(user)
        # Always a brand-new session (fresh id and CSRF token), whatever cookie the browser came with.
        token, _row = await accounts.start_session(session, user=user, now=now)
        signed_in = _account_event(request, "sign_in", username=user.username, user_id=user.id, note=f"from {client}")
        await audit.write(session, [signed_in])
        await session.commit()
        response = redirect(target)
        response.cookies.append(make_cookie(settings, session_cookie_name(settings), token))
        return clear_anonymous_csrf(request, response)

    @post("/logout", name="logout", status_code=303, opt=VIEWERS)
    async def logout(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Redirect:
        user = current_user(request)
        assert user is not None  # the guard let a signed-in user through
        await accounts.end_session(session, session_id=user.session_id)
        await audit.write(session, [_account_event(request, "sign_out", username=user.username, user_id=user.id)])
        await session.commit()
        settings = _settings(request)
        response = redirect(request.app.route_reverse("login"), flash="You have signed out.")
        response.cookies.append(make_cookie(settings, session_cookie_name(settings), "", clear=True))
        return response

    @get("/setup/{token:str}", name="setup", status_code=200)
    async def setup_page(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], token: FromPath[str]
    ) -> Template:
        await _check_setup(request, session, token)
        response = render(request, page="account/setup.html", context={"form": AccountForm(values={}), "token": token})
        return anonymous_csrf_cookie(request, response)

    @post("/setup/{token:str}", name="setup:submit", status_code=303)
    async def setup(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], token: FromPath[str]
    ) -> Template | Redirect:
        await _check_setup(request, session, token)
        data = await read_form(request)
        form = new_user_form(data, with_role=False)
        if not form.is_valid:
            page = render(request, page="account/setup.html", context={"form": form, "token": token}, status_code=422)
            return anonymous_csrf_cookie(request, page)
        settings, now = _settings(request), _settings(request).clock()
        password_hash = await _passwords(request).hash(data["password"])
        user = User(
            username=form.values["username"], password_hash=password_hash, role=Role.admin.value, created_at=now
        )
        session.add(user)
        await accounts.use_setup_token(session, token=token)
        await session.flush()
        session_token, _row = await accounts.start_session(session, user=user, now=now)
        user.last_login_at = now
        await session.commit()
        response = redirect(request.app.route_reverse("heroes:list"), flash=f"Welcome, {user.username}.")
        response.cookies.append(make_cookie(settings, session_cookie_name(settings), session_token))
        return clear_anonymous_csrf(request, response)

    @get("/account/password", name="account:password", status_code=200, opt=VIEWERS)
    async def password_page(self, request: Request[Any, Any, Any]) -> Template:
        return render(request, page="account/password.html", context={"form": AccountForm(values={})})

    @post("/account/password", name="account:password:submit", status_code=303, opt=VIEWERS)
    async def change_password(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Template | Redirect:
        current = current_user(request)
        assert current is not None
        data = await read_form(request)
        form = change_password_form(data)
        user = await accounts.get_user(session, user_id=current.id, for_update=True)
        assert user is not None
        if "current_password" not in form.errors and not await _passwords(request).verify(
            user.password_hash, data["current_password"]
        ):
            form.errors["current_password"] = "That is not your current password."
        if not form.is_valid:
            return render(request, page="account/password.html", context={"form": form}, status_code=422)
        settings, now = _settings(request), _settings(request).clock()
        user.password_hash = await _passwords(request).hash(data["password"])
        session.add(user)
        # Other browsers signed in as this user are signed out; this one continues under a fresh id.
        await accounts.end_user_sessions(session, user_id=current.id)
        token, _row = await accounts.start_session(session, user=user, now=now)
        changed = _account_event(request, "password_changed", username=user.username, user_id=user.id)
        await audit.write(session, [changed])
        await session.commit()
        response = redirect(request.app.route_reverse("heroes:list"), flash="Your password has been changed.")
        response.cookies.append(make_cookie(settings, session_cookie_name(settings), token))
        return response


async def _check_setup(request: Request[Any, Any, Any], session: AsyncSession, token: str) -> None:
    """The set-up link works once, only while no user exists, and only until it expires."""
    now = _settings(request).clock()
    # The token first: on a POST its row lock makes a second, simultaneous submit wait and then find no token.
    locking = request.method == "POST"
    if not await accounts.setup_token_valid(session, token=token, now=now, for_update=locking):
        raise NotFoundException()
    if await accounts.count_users(session):
        raise NotFoundException()

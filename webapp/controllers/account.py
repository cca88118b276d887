"""Signing in (password, then a second factor where there is one) and out, the first admin's set-up link, and
one's own account: password and second factor.

Password and code checks run with no database transaction open: on SQLite a write transaction holds the one
write lock, and holding it through an argon2 verification would stall every other writer in the app. Each
attempt is counted first, in a short transaction of its own (webapp.throttle), then checked, then the outcome
written in another short transaction.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import accounts, audit, throttle, totp
from webapp.auth import (
    CODE,
    ENROLL,
    OPEN,
    SECOND_FACTOR,
    SENT_MAX,
    SET_UP,
    VIEWERS,
    CurrentUser,
    anonymous_csrf_cookie,
    clear_anonymous_csrf,
    client_address,
    current_user,
    make_cookie,
    pending_user,
    safe_next,
    session_cookie_name,
    stash_cookie_name,
)
from webapp.config import Settings
from webapp.controllers.common import read_form
from webapp.errors import Refused
from webapp.forms import AccountForm, change_password_form, code_form, login_form, new_user_form, password_only_form
from webapp.htmx import redirect, render
from webapp.middleware import request_id
from webapp.models import Role, Theme, User
from webapp.passwords import Passwords

BAD_CREDENTIALS = "Invalid username or password."
BAD_CODE = "That code is not valid. Enter the current code from your app, or an unused recovery code."
NOT_CONFIGURED = (
    "Second factors cannot be set up on this server yet: its administrator has to set SECOND_FACTOR_KEY first."
)


def _settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _account_event(
    request: Request[Any, Any, Any], action: str, *, username: str, user_id: int | None, note: str = ""
) -> dict[str, Any]:
    actor = audit.Actor(user_id, username, request_id(request.scope), _settings(request).clock())
    return audit.entry(actor, action=action, record_type="account", record_id=user_id, label=username, note=note)


def _passwords(request: Request[Any, Any, Any]) -> Passwords:
    return request.app.state.passwords  # type: ignore[no-any-return]


def _secrets(request: Request[Any, Any, Any]) -> totp.Secrets:
    return request.app.state.second_factor  # type: ignore[no-any-return]


def _wait_message(wait: int, what: str) -> str:
    minutes = math.ceil(wait / 60)
    return f"Too many {what}. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


async def _login_page(
    request: Request[Any, Any, Any],
    form: AccountForm,
    next_path: str,
    *,
    status_code: int = 200,
    alert: str | None = None,
    headers: dict[str, str] | None = None,
) -> Template:
    # A form kept when the session ended (webapp.stash) waits for this sign-in: the page says so, and stays.
    kept = stash_cookie_name(_settings(request)) in request.cookies
    context = {"form": form, "next": next_path, "alert": alert, "kept": kept}
    response = render(request, page="account/login.html", context=context, status_code=status_code, headers=headers)
    return await anonymous_csrf_cookie(request, response)


async def _count_attempt(request: Request[Any, Any, Any], counters: list[tuple[throttle.Limit, str]]) -> int | None:
    """Count this attempt before checking it (so concurrent guesses cannot pass the limit); the seconds to wait
    when a limit is reached, else None."""
    async with request.app.state.writer() as session:
        verdict = await throttle.take(session, counters, now=_settings(request).clock())
    return verdict.retry_after


def _signed_in(request: Request[Any, Any, Any], token: str, target: str, *, flash: str | None = None) -> Redirect:
    settings = _settings(request)
    response = redirect(target, flash=flash)
    response.cookies.append(make_cookie(settings, session_cookie_name(settings), token))
    return clear_anonymous_csrf(request, response)


class AccountController(Controller):
    opt = OPEN

    @get("/login", name="login", status_code=200)
    async def login_page(
        self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
    ) -> Template | Redirect:
        target = safe_next(next, request.app.route_reverse("heroes:list"))
        if current_user(request):
            return redirect(target)
        return await _login_page(request, AccountForm(values={}), target)

    @post("/login", name="login:submit", status_code=303)
    async def login(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await read_form(request)
        form = login_form(data)
        target = safe_next(data.get("next"), request.app.route_reverse("heroes:list"))
        if not form.is_valid:
            return await _login_page(request, form, target, status_code=422)
        now = _settings(request).clock()
        username = accounts.normalize_username(form.values["username"])
        client = client_address(request)
        if wait := await _count_attempt(request, [(throttle.ACCOUNT, username), (throttle.ADDRESS, client)]):
            alert = _wait_message(wait, "failed sign-ins")
            return await _login_page(
                request, form, target, status_code=429, alert=alert, headers={"Retry-After": str(wait)}
            )
        async with request.app.state.reader() as session:
            user = await accounts.get_user_by_username(session, username=username)
        # Every refusal does the same work, one argon2 verification: against a stand-in hash when nobody may sign
        # in under this name, so the time taken does not tell which names exist.
        password_hash = user.password_hash if user is not None and user.is_active else None
        matched = await _passwords(request).verify(password_hash, data["password"])
        if not matched or user is None:
            reason = "unknown user" if user is None else "wrong password" if user.is_active else "deactivated account"
            typed = username if len(username) <= SENT_MAX else username[: SENT_MAX - 1] + "…"
            failed = _account_event(
                request, "sign_in_failed", username=typed, user_id=None, note=f"{reason}, from {client}"
            )
            async with request.app.state.writer() as session:
                await audit.write(session, [failed])
                await session.commit()
            return await _login_page(request, form, target, status_code=422, alert=BAD_CREDENTIALS)
        new_hash = None
        if _passwords(request).needs_rehash(user.password_hash):
            new_hash = await _passwords(request).hash(data["password"])
        async with request.app.state.writer() as session:
            user = await accounts.get_user(session, user_id=user.id or 0, for_update=True)
            if user is None or not user.is_active:  # deactivated or deleted while the password was checked
                return await _login_page(request, form, target, status_code=422, alert=BAD_CREDENTIALS)
            # Only failures count: this account's are forgotten, this attempt is given back to the address.
            await throttle.clear(session, throttle.ACCOUNT, username)
            await throttle.give_back(session, throttle.ADDRESS, client)
            if new_hash:
                user.password_hash = new_hash
            stage = "signed_in"
            if user.totp_secret:
                stage = SECOND_FACTOR
            elif await accounts.second_factor_required(session, role=user.role):
                stage = ENROLL
            if stage == "signed_in":
                user.last_login_at = now
                note = f"from {client}"
                await audit.write(
                    session, [_account_event(request, "sign_in", username=user.username, user_id=user.id, note=note)]
                )
            session.add(user)
            # Always a brand-new session (fresh id and CSRF token), whatever cookie the browser came with.
            token, _row = await accounts.start_session(session, user=user, now=now, stage=stage)
            await session.commit()
        if stage == SECOND_FACTOR:
            target = f"{request.app.route_reverse('login:code')}?{_next_query(target)}"
        elif stage == ENROLL:
            target = f"{request.app.route_reverse('two_factor:setup')}?{_next_query(target)}"
        return _signed_in(request, token, target)

    @get("/setup/{token:str}", name="setup", status_code=200)
    async def setup_page(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], token: FromPath[str]
    ) -> Template:
        await _check_setup(request, session, token)
        response = render(request, page="account/setup.html", context={"form": AccountForm(values={}), "token": token})
        return await anonymous_csrf_cookie(request, response)

    @post("/setup/{token:str}", name="setup:submit", status_code=303)
    async def setup(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession], token: FromPath[str]
    ) -> Template | Redirect:
        await _check_setup(request, session, token)
        data = await read_form(request)
        form = new_user_form(data, with_role=False)
        if not form.is_valid:
            page = render(request, page="account/setup.html", context={"form": form, "token": token}, status_code=422)
            return await anonymous_csrf_cookie(request, page)
        now = _settings(request).clock()
        password_hash = await _passwords(request).hash(data["password"])
        user = accounts.new_user(
            username=form.values["username"], password_hash=password_hash, role=Role.admin.value, now=now
        )
        session.add(user)
        await accounts.use_setup_token(session, token=token)
        await session.flush()
        session_token, _row = await accounts.start_session(session, user=user, now=now)
        user.last_login_at = now
        await session.commit()
        welcome = f"Welcome, {user.username}."
        return _signed_in(request, session_token, request.app.route_reverse("heroes:list"), flash=welcome)


def _next_query(target: str) -> str:
    return urlencode({"next": target})


class SignInCodeController(Controller):
    """The second step of signing in for an account with a second factor: a code from the app, or a recovery code."""

    path = "/login/code"
    opt = CODE

    @get("/", name="login:code", status_code=200)
    async def code_page(
        self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
    ) -> Template | Redirect:
        target = safe_next(next, request.app.route_reverse("heroes:list"))
        if current_user(request):  # signed in already (in another tab, say)
            return redirect(target)
        return _code_page(request, AccountForm(values={}), target)

    @post("/", name="login:code:submit", status_code=303)
    async def check_code(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await read_form(request)
        target = safe_next(data.get("next"), request.app.route_reverse("heroes:list"))
        pending = pending_user(request)
        if pending is None:  # signed in already: the guard lets a signed-in user through only to be sent on
            return redirect(target)
        form = code_form(data)
        if not form.is_valid:
            return _code_page(request, form, target, status_code=422)
        client = client_address(request)
        counters = [(throttle.SECOND_FACTOR, str(pending.id)), (throttle.ADDRESS, client)]
        if wait := await _count_attempt(request, counters):
            alert = _wait_message(wait, "wrong codes")
            return _code_page(request, form, target, status_code=429, alert=alert, headers={"Retry-After": str(wait)})
        code = form.values["code"]
        async with request.app.state.writer() as session:
            user = await accounts.get_user(session, user_id=pending.id, for_update=True)
            if user is None or not user.totp_secret:
                raise NotFoundException()
            how = await _accept_code(request, session, user, code)
            if how is None:
                failed = _account_event(
                    request, "second_factor_failed", username=user.username, user_id=user.id, note=f"from {client}"
                )
                await audit.write(session, [failed])
                await session.commit()
                return _code_page(request, form, target, status_code=422, alert=BAD_CODE)
            await throttle.clear(session, throttle.SECOND_FACTOR, str(pending.id))
            await throttle.give_back(session, throttle.ADDRESS, client)
            token = await _finish_sign_in(request, session, user, pending, note=f"from {client}, {how}")
            await session.commit()
        return _signed_in(request, token, target)


async def _accept_code(request: Request[Any, Any, Any], session: AsyncSession, user: User, code: str) -> str | None:
    """How the code signed the user in ("app code", "recovery code"), or None when it is no good."""
    assert user.id is not None
    assert user.totp_secret is not None
    now = _settings(request).clock()
    if totp.looks_like_recovery_code(code):
        used = await accounts.use_recovery_code(session, user_id=user.id, digest_=totp.recovery_digest(code), now=now)
        return "recovery code" if used else None
    secret = _secrets(request).decrypt(user.totp_secret)
    step = totp.matching_step(secret, code, now=now) if secret else None
    if step is not None and await accounts.accept_step(session, user_id=user.id, step=step):
        return "app code"
    return None


async def _finish_sign_in(
    request: Request[Any, Any, Any], session: AsyncSession, user: User, pending: CurrentUser, *, note: str
) -> str:
    """Every step done: the step's session ends and a signed-in one (a fresh id) begins. The caller commits."""
    now = _settings(request).clock()
    await accounts.end_session(session, session_id=pending.session_id)
    user.last_login_at = now
    session.add(user)
    token, _row = await accounts.start_session(session, user=user, now=now)
    await audit.write(session, [_account_event(request, "sign_in", username=user.username, user_id=user.id, note=note)])
    return token


def _code_page(
    request: Request[Any, Any, Any],
    form: AccountForm,
    target: str,
    *,
    status_code: int = 200,
    alert: str | None = None,
    headers: dict[str, str] | None = None,
) -> Template:
    context = {"form": form, "next": target, "alert": alert}
    return render(request, page="account/code.html", context=context, status_code=status_code, headers=headers)


class OwnAccountController(Controller):
    """What a signed-in user does to their own account."""

    opt = VIEWERS

    @post("/logout", name="logout", status_code=303)
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

    @get("/account/password", name="account:password", status_code=200)
    async def password_page(self, request: Request[Any, Any, Any]) -> Template:
        return render(request, page="account/password.html", context={"form": AccountForm(values={})})

    @post("/account/theme", name="account:theme", status_code=303)
    async def set_theme(self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]) -> Redirect:
        """The colour scheme of every page for this user, on every device they sign in on."""
        current = current_user(request)
        assert current is not None
        chosen = (await read_form(request)).get("theme", "")
        if chosen not in Theme.__members__:
            raise Refused(400, "Unknown theme", "Choose System, Light or Dark.")
        await accounts.set_theme(session, user_id=current.id, theme=Theme(chosen))
        await session.commit()
        return redirect(request.app.route_reverse("account:password"), flash=f"Theme set to {chosen}.")

    @post("/account/password", name="account:password:submit", status_code=303)
    async def change_password(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        current = current_user(request)
        assert current is not None
        data = await read_form(request)
        form = change_password_form(data)
        if "current_password" not in form.errors:
            refusal = await _check_own_password(request, current, data["current_password"], form, "current_password")
            if refusal is not None:
                return refusal
        if not form.is_valid:
            return render(request, page="account/password.html", context={"form": form}, status_code=422)
        now = _settings(request).clock()
        new_hash = await _passwords(request).hash(data["password"])
        async with request.app.state.writer() as session:
            user = await accounts.get_user(session, user_id=current.id, for_update=True)
            assert user is not None
            user.password_hash = new_hash
            session.add(user)
            # Other browsers signed in as this user are signed out; this one continues under a fresh id.
            await accounts.end_user_sessions(session, user_id=current.id)
            token, _row = await accounts.start_session(session, user=user, now=now)
            changed = _account_event(request, "password_changed", username=user.username, user_id=user.id)
            await audit.write(session, [changed])
            await session.commit()
        settings = _settings(request)
        response = redirect(request.app.route_reverse("heroes:list"), flash="Your password has been changed.")
        response.cookies.append(make_cookie(settings, session_cookie_name(settings), token))
        return response

    @get("/account/two-factor", name="two_factor", status_code=200)
    async def second_factor_page(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Template:
        return await _second_factor_page(request, session, AccountForm(values={}))

    @post("/account/two-factor/recovery-codes", name="two_factor:codes", status_code=200)
    async def new_recovery_codes(self, request: Request[Any, Any, Any]) -> Template:
        """New recovery codes (the old ones stop working), shown once on this page. Asks for the password."""
        current = current_user(request)
        assert current is not None
        data = await read_form(request)
        form = password_only_form(data)
        if form.is_valid and (refusal := await _check_own_password(request, current, data["password"], form)):
            return refusal
        async with request.app.state.writer() as session:
            user = await accounts.get_user(session, user_id=current.id, for_update=True)
            assert user is not None
            if not form.is_valid or not user.totp_secret:
                await session.rollback()
                status = 422 if not form.is_valid else 409
                return await _second_factor_page(request, session, form, status_code=status)
            codes = totp.new_recovery_codes()
            await accounts.replace_recovery_codes(
                session, user_id=current.id, codes=[totp.recovery_digest(c) for c in codes]
            )
            renewed = _account_event(request, "recovery_codes_renewed", username=user.username, user_id=user.id)
            await audit.write(session, [renewed])
            await session.commit()
        return _codes_page(request, codes, request.app.route_reverse("two_factor"))

    @post("/account/two-factor/disable", name="two_factor:disable", status_code=303)
    async def disable(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """Turn the second factor off (asks for the password); refused while the role requires one."""
        current = current_user(request)
        assert current is not None
        data = await read_form(request)
        form = password_only_form(data)
        if form.is_valid and (refusal := await _check_own_password(request, current, data["password"], form)):
            return refusal
        async with request.app.state.writer() as session:
            user = await accounts.get_user(session, user_id=current.id, for_update=True)
            assert user is not None
            required = await accounts.second_factor_required(session, role=user.role)
            if required:
                form.errors["password"] = f"Every {user.role} must sign in with a second factor, so it stays on."
            if not form.is_valid or not user.totp_secret:
                await session.rollback()
                status = 409 if required or form.is_valid else 422
                return await _second_factor_page(request, session, form, status_code=status)
            await accounts.set_second_factor(session, user=user, secret=None, codes=[])
            off = _account_event(request, "second_factor_disabled", username=user.username, user_id=user.id)
            await audit.write(session, [off])
            await session.commit()
        return redirect(request.app.route_reverse("two_factor"), flash="Your second factor is off.")


async def _check_own_password(
    request: Request[Any, Any, Any], current: CurrentUser, password: str, form: AccountForm, field: str = "password"
) -> Template | None:
    """The signed-in user's own password, checked like a sign-in: counted against the same limits first (a
    wrong one is a guess at the account's password), then verified outside any transaction. Returns the 429
    page when a limit is reached; marks the form when the password is wrong."""
    client = client_address(request)
    if wait := await _count_attempt(request, [(throttle.ACCOUNT, current.username), (throttle.ADDRESS, client)]):
        raise Refused(
            429,
            "Too many tries",
            _wait_message(wait, "wrong passwords"),
            (request.app.route_reverse("account:password"), "Back"),
            headers={"Retry-After": str(wait)},
        )
    async with request.app.state.reader() as session:
        user = await accounts.get_user(session, user_id=current.id)
    assert user is not None
    if await _passwords(request).verify(user.password_hash, password):
        async with request.app.state.writer() as session:
            await throttle.clear(session, throttle.ACCOUNT, current.username)
            await throttle.give_back(session, throttle.ADDRESS, client)
            await session.commit()
        return None
    form.errors[field] = "That is not your current password."
    failed = _account_event(
        request, "password_check_failed", username=current.username, user_id=current.id, note=f"from {client}"
    )
    async with request.app.state.writer() as session:
        await audit.write(session, [failed])
        await session.commit()
    return None


async def _second_factor_page(
    request: Request[Any, Any, Any], session: AsyncSession, form: AccountForm, *, status_code: int = 200
) -> Template:
    current = current_user(request)
    assert current is not None
    user = await accounts.get_user(session, user_id=current.id)
    assert user is not None
    context = {
        "form": form,
        "enabled": bool(user.totp_secret),
        "codes_left": await accounts.unused_recovery_codes(session, user_id=current.id),
        "required": await accounts.second_factor_required(session, role=user.role),
        "configured": _secrets(request).configured,
    }
    return render(request, page="account/two_factor.html", context=context, status_code=status_code)


def _codes_page(request: Request[Any, Any, Any], codes: list[str], next_path: str) -> Template:
    context = {"codes": [totp.shown(code) for code in codes], "next": next_path}
    return render(request, page="account/recovery_codes.html", context=context)


class SecondFactorSetupController(Controller):
    """Setting a second factor up: from one's account page, or right after the password when the role requires
    one. The secret travels in the form, encrypted with the server's key and bound to the user, until a code
    from the app proves it was copied; only then is it stored."""

    path = "/account/two-factor/setup"
    opt = SET_UP

    @get("/", name="two_factor:setup", status_code=200)
    async def setup_page(self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None) -> Template:
        user = _setting_up(request)
        if not _secrets(request).configured:
            raise Refused(409, "Not available", NOT_CONFIGURED)
        secret = totp.new_secret()
        return _setup_page(request, user, secret, AccountForm(values={}), _setup_target(request, next))

    @post("/", name="two_factor:setup:submit", status_code=200)
    async def confirm(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        user = _setting_up(request)
        if not _secrets(request).configured:
            raise Refused(409, "Not available", NOT_CONFIGURED)
        data = await read_form(request)
        target = _setup_target(request, data.get("next"))
        secret = _sealed_secret(request, user, data.get("sealed", ""))
        form = code_form(data)
        now = _settings(request).clock()
        step = totp.matching_step(secret, form.values["code"], now=now) if form.is_valid else None
        if step is None:
            form.errors.setdefault("code", "That code is not right. Enter the 6 digits your app shows now.")
            return _setup_page(request, user, secret, form, target, status_code=422)
        codes = totp.new_recovery_codes()
        async with request.app.state.writer() as session:
            stored = await accounts.get_user(session, user_id=user.id, for_update=True)
            if stored is None:
                raise NotFoundException()
            encrypted = _secrets(request).encrypt(secret)
            await accounts.set_second_factor(
                session, user=stored, secret=encrypted, codes=[totp.recovery_digest(c) for c in codes]
            )
            await accounts.accept_step(session, user_id=user.id, step=step)  # this code is used up
            enabled = _account_event(request, "second_factor_enabled", username=user.username, user_id=user.id)
            await audit.write(session, [enabled])
            token = None
            if user.stage == ENROLL:
                token = await _finish_sign_in(request, session, stored, user, note=f"from {client_address(request)}")
            await session.commit()
        page = _codes_page(request, codes, target)
        if token is not None:
            settings = _settings(request)
            page.cookies.append(make_cookie(settings, session_cookie_name(settings), token))
            clear_anonymous_csrf(request, page)
        return page


def _setting_up(request: Request[Any, Any, Any]) -> CurrentUser:
    user = current_user(request) or pending_user(request)
    assert user is not None  # the guard let only a signed-in user or a session at the set-up step through
    return user


def _setup_target(request: Request[Any, Any, Any], next_path: str | None) -> str:
    """Where to go once set up: the account page, or (signing in) where sign-in was heading."""
    if current_user(request) is not None:
        return request.app.route_reverse("two_factor")
    return safe_next(next_path, request.app.route_reverse("heroes:list"))


def _sealed_secret(request: Request[Any, Any, Any], user: CurrentUser, sealed: str) -> str:
    """The secret the set-up form carried: encrypted by us, for this user, and recent; else the form is refused."""
    opened = _secrets(request).decrypt(sealed, ttl=totp.SETUP_VALID_SECONDS) if sealed else None
    owner, _colon, secret = (opened or "").partition(":")
    if owner != str(user.id) or not secret:
        raise Refused(
            400,
            "This set-up has expired",
            "The set-up form was open too long, or it was not ours. Start again: you will get a new QR code.",
            (request.app.route_reverse("two_factor:setup"), "Start again"),
        )
    return secret


def _setup_page(
    request: Request[Any, Any, Any],
    user: CurrentUser,
    secret: str,
    form: AccountForm,
    target: str,
    *,
    status_code: int = 200,
) -> Template:
    uri = totp.provisioning_uri(secret, user.username)
    context = {
        "form": form,
        "qr": totp.qr_svg(uri),
        "secret": totp.grouped(secret),
        "sealed": _secrets(request).encrypt(f"{user.id}:{secret}"),
        "next": target,
        "signing_in": current_user(request) is None,
    }
    return render(request, page="account/two_factor_setup.html", context=context, status_code=status_code)


async def _check_setup(request: Request[Any, Any, Any], session: AsyncSession, token: str) -> None:
    """The set-up link works once, only while no user exists, and only until it expires."""
    now = _settings(request).clock()
    # The token first: on a POST its row lock makes a second, simultaneous submit wait and then find no token.
    locking = request.method == "POST"
    if not await accounts.setup_token_valid(session, token=token, now=now, for_update=locking):
        raise NotFoundException()
    if await accounts.count_users(session):
        raise NotFoundException()

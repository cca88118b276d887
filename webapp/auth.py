"""Who is asking and what they may do: database sessions, the role guard, CSRF and Origin checks.

Every route declares its access in `opt={"access": ...}`: PUBLIC, or the least Role it needs. A route that
declares nothing is refused, so a new route cannot be left open by accident.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from litestar import Litestar, Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import ClientException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import accounts, audit, outages, stash, throttle, totp
from webapp.config import Settings
from webapp.db import REQUEST_SESSION, release_request_session
from webapp.logs import PROBES, escape
from webapp.middleware import SAFE_METHODS, STATIC_PREFIX, SUBMITTED, request_id
from webapp.models import Role

logger = logging.getLogger(__name__)
R = TypeVar("R", bound=Response[Any])
PUBLIC = "public"
# Steps of signing in after the password: entering a second-factor code, and setting one up (when the role
# requires it; signed-in users set one up on the same routes).
CODE_STEP = "code_step"
SETUP_STEP = "setup_step"
SIGNED_IN, SECOND_FACTOR, ENROLL = "signed_in", "second_factor", "enroll"
ANONYMOUS_CSRF = "anonymous_csrf"
# The scope state key of a signed-in session found expired by this request (see SessionEnded).
ENDED = "ended_session"
# The change count the session lookup read along (reads.Choices).
CHOICES_CHANGED = "choices_changed"
# `opt` values for routes (and controllers, whose routes inherit them).
OPEN = {"access": PUBLIC}
CODE = {"access": CODE_STEP}
SET_UP = {"access": SETUP_STEP}
VIEWERS = {"access": Role.viewer}
EDITORS = {"access": Role.editor}
ADMINS = {"access": Role.admin}
CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"
# Writing last_seen_at on every request would turn every page view into a write; a minute's slack is enough
# against a 30-minute idle limit.
TOUCH_EVERY = timedelta(minutes=1)
# A sign-in waiting for its second factor (or its set-up) is abandoned after this long.
STEP_MAX_AGE = timedelta(minutes=10)
# Attacker-chosen text (a requested path) kept in the audit log: this many characters at most.
SENT_MAX = 60


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    role: Role
    session_id: str
    csrf_token: str
    stage: str = SIGNED_IN
    theme: str = "system"

    @property
    def can_edit(self) -> bool:
        return self.role.allows(Role.editor)

    @property
    def is_admin(self) -> bool:
        return self.role.allows(Role.admin)


class CsrfFailed(PermissionDeniedException):
    """A state-changing request without this site's token, or sent from another site."""

    title = "This page has expired"
    message = "The form was open too long, or it came from another site. Reload the page and try again."


async def prepare_security(app: Litestar) -> None:
    """At start-up: the stand-in password hash and the keys for second-factor secrets."""
    app.state.csrf_key = None
    await app.state.passwords.prepare()
    app.state.second_factor = totp.Secrets(app.state.settings.second_factor_keys)
    try:
        # Read now, so a worker that meets an outage later can still show the sign-in page (its form's token
        # is signed with this key); if the database is away already, it is read on first use instead.
        await csrf_key(app)
    except Exception as error:
        if (reason := outages.cause(error)) is None:
            raise
        logger.warning("the sign-in form's key is not read yet (the database did not answer): %s", reason)


async def csrf_key(app: Litestar) -> bytes:
    """The key that signs signed-out forms' CSRF tokens: made once and shared by every worker through the
    database; read on first use (two first uses at once read the same row)."""
    if app.state.csrf_key is None:
        async with app.state.writer() as session:
            app.state.csrf_key = (await accounts.app_secret(session, name="csrf")).encode()
    key: bytes = app.state.csrf_key
    return key


def session_cookie_name(settings: Settings) -> str:
    return "__Host-session" if settings.secure_cookies else "session"


def csrf_cookie_name(settings: Settings) -> str:
    return "__Host-csrf" if settings.secure_cookies else "csrf"


def make_cookie(settings: Settings, key: str, value: str, *, clear: bool = False, max_age: int | None = None) -> Cookie:
    # __Host- cookies must be Secure, Path=/ and have no Domain: that pins them to this exact origin.
    return Cookie(
        key=key,
        value="" if clear else value,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=0 if clear else max_age,
    )


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    """Who is signed in: only a session past every step of signing in."""
    user = connection.scope.get("user")
    return user if isinstance(user, CurrentUser) else None


def pending_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    """Whose password was right but who has a step of signing in left (a second factor to enter or set up)."""
    pending = connection.scope.get("state", {}).get("pending")
    return pending if isinstance(pending, CurrentUser) else None


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The socket's address: X-Forwarded-For is only honoured by uvicorn for proxies in FORWARDED_ALLOW_IPS."""
    return connection.client.host if connection.client else "unknown"


class SessionMiddleware:
    """Finds the signed-in user from the session cookie; ends expired sessions; rotates the id on a role change.

    It never adopts a session id the server did not issue: an unknown cookie is cleared, not used.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.cookie = session_cookie_name(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(STATIC_PREFIX) or scope["path"] in PROBES:
            # Static files and probes are public: no need to look the session up for each of them.
            scope["user"] = None
            await self.app(scope, receive, send)
            return
        token = ASGIConnection(scope).cookies.get(self.cookie)
        async with scope["app"].state.reader() as db:
            user, cookie = await self._resolve_or_degrade(scope, receive, db, token) if token else (None, None)
            signed_in = user is not None and user.stage == SIGNED_IN
            scope["user"] = user if signed_in else None
            scope["state"]["pending"] = None if signed_in else user

            async def send_with_cookie(message: Message) -> None:
                if cookie is not None and message["type"] == "http.response.start":
                    # A handler may set the cookie itself (sign-in, sign-out): its decision wins.
                    headers = MutableScopeHeaders.from_message(message)
                    if not any(value.startswith(f"{self.cookie}=") for value in headers.getall("set-cookie", [])):
                        headers.add("set-cookie", cookie.to_header(header=""))
                await send(message)

            if scope["method"] in SAFE_METHODS:
                # A request that only reads uses one database session (and connection) throughout: this
                # lookup's, then the handler's (db.provide_session takes it from the scope).
                scope.setdefault("state", {})[REQUEST_SESSION] = db
                await self.app(scope, receive, send_with_cookie)
                return
        # Others give the connection back before their handler's write transaction takes one.
        await self.app(scope, receive, send_with_cookie)

    async def _resolve_or_degrade(
        self, scope: Scope, receive: Receive, db: AsyncSession, token: str
    ) -> tuple[CurrentUser | None, Cookie | None]:
        """The session; or, when the database does not answer, signed out on public pages (sign-in keeps working),
        and the outage (a 503) everywhere else, with a submitted form kept for it to come back with."""
        try:
            return await self._resolve(scope, db, token)
        except Exception as error:
            reason = outages.cause(error)
            if reason is None:
                raise
            if _access(ASGIConnection(scope)) != PUBLIC:
                if scope.get("method") not in SAFE_METHODS:
                    await _keep_submitted(Request(scope, receive))
                raise
            scope["app"].state.outage_warnings.warning(
                f"signed out:{reason}",
                "request %s: session not looked up, treated as signed out: %s",
                request_id(scope),
                reason,
            )
            await db.close()
            return None, None

    async def _resolve(self, scope: Scope, db: AsyncSession, token: str) -> tuple[CurrentUser | None, Cookie | None]:
        state = scope["app"].state
        now = self.settings.clock()
        found = await accounts.find_session(db, token=token)
        if found is None:
            return None, make_cookie(self.settings, self.cookie, "", clear=True)
        expired = (
            not found.is_active
            or now - found.last_seen_at > self.settings.session_idle
            or now - found.created_at > self.settings.session_max_age
            or (found.stage != SIGNED_IN and now - found.created_at > STEP_MAX_AGE)
        )
        # A request never holds two connections at once (a burst of such requests would take the whole pool and
        # wait on each other): the lookup's session lets its connection go before a write takes one. The handler
        # later takes one again for its reads.
        if expired:
            if found.is_active and found.stage == SIGNED_IN:
                # Kept for this request only: a form it carries may be kept for after the next sign-in.
                scope["state"][ENDED] = CurrentUser(
                    found.user_id, found.username, Role(found.role), found.session_id, found.csrf_token
                )
            await db.close()
            async with state.writer() as writer:
                await accounts.end_session(writer, session_id=found.session_id)
                await writer.commit()
            return None, make_cookie(self.settings, self.cookie, "", clear=True)
        cookie = None
        session_id, csrf_token = found.session_id, found.csrf_token
        if found.session_role != found.role and found.stage == SIGNED_IN:
            # Privilege changed since sign-in: continue under a fresh id, so an id seen before the change
            # (for example one planted before sign-in) is worth nothing afterwards.
            await db.close()
            async with state.writer() as writer:
                await accounts.end_session(writer, session_id=found.session_id)
                token, row = await accounts.start_session(writer, user=found, now=now)
                await writer.commit()
            cookie = make_cookie(self.settings, self.cookie, token)
            session_id, csrf_token = row.id, row.csrf_token
        elif now - found.last_seen_at > TOUCH_EVERY:
            await db.close()
            async with state.writer() as writer:
                await accounts.touch_session(writer, session_id=found.session_id, now=now)
                await writer.commit()
        current = CurrentUser(
            id=found.user_id,
            username=found.username,
            role=Role(found.role),
            session_id=session_id,
            csrf_token=csrf_token,
            stage=found.stage,
            theme=found.theme,
        )
        scope["state"][CHOICES_CHANGED] = found.choices_changed
        return current, cookie


def choices_changed(request: Request[Any, Any, Any]) -> int | None:
    """The change count this request read at its start, for choices a worker kept (reads.Choices); None for a
    request that may write (it could change the choices itself before showing them) or that read none."""
    if request.method not in SAFE_METHODS:
        return None
    return cast("int | None", request.scope["state"].get(CHOICES_CHANGED))


class SignInUnfinished(NotAuthorizedException):
    """The password was right but a step of signing in is left: the answer leads there, not to sign-in."""


class SessionEnded(NotAuthorizedException):
    """A form sent after its session ended, kept for after signing in again (webapp.stash): the answer goes to
    sign-in with a cookie (`cookie`) that finds the form again, and on to the form's page (`form_page`)."""

    def __init__(self, cookie: Cookie, form_page: str) -> None:
        super().__init__()
        self.cookie, self.form_page = cookie, form_page


async def authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The one guard: signed in (unless public), CSRF on unsafe methods, then the route's role."""
    access = handler.opt.get("access")
    if access is None:
        raise PermissionDeniedException("this route declares no access rule")
    user, pending = current_user(connection), pending_user(connection)
    step = pending if pending is not None and _step_allows(access, pending.stage) else None
    if access == CODE_STEP and step is None and user is None:
        raise NotAuthorizedException()
    if access not in {PUBLIC, CODE_STEP} and user is None and step is None:
        if pending is not None:
            raise SignInUnfinished()
        raise await _kept_form(connection, handler) or NotAuthorizedException()
    if connection.scope.get("method") not in SAFE_METHODS:
        try:
            await check_csrf(connection, user or step)
        except CsrfFailed:
            await record_refusal(
                connection, user, "the request did not carry this site's token, or came from another site"
            )
            raise
    if access in Role.__members__ and user is not None and not user.role.allows(Role(access)):
        await record_refusal(connection, user, f"needs the {Role(access).value} role")
        raise PermissionDeniedException()


async def _kept_form(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> SessionEnded | None:
    """A record form sent just after its session ended: kept for the same user, if it passes the checks its
    session would have put it through (same site, that session's CSRF token). Never a file upload."""
    ended = connection.scope.get("state", {}).get(ENDED)
    form_page = handler.opt.get("form_page")
    if not isinstance(ended, CurrentUser) or form_page is None or connection.scope.get("method") in SAFE_METHODS:
        return None
    if not connection.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    try:
        await check_csrf(connection, ended)
    except CsrfFailed:
        return None
    group = (handler.name or "").rpartition(":")[0]
    path = connection.app.route_reverse(f"{group}:{form_page}", **connection.path_params)
    sent = (await submitted_form(connection)).dict()
    values = {name: texts[0] for name, texts in sent.items() if texts and isinstance(texts[0], str)}
    token = await stash.keep(connection.app, user_id=ended.id, path=path, values=values)
    settings: Settings = connection.app.state.settings
    cookie = make_cookie(settings, stash_cookie_name(settings), token, max_age=int(stash.KEEP.total_seconds()))
    return SessionEnded(cookie, path)


def stash_cookie_name(settings: Settings) -> str:
    return "__Host-restore" if settings.secure_cookies else "restore"


def _step_allows(access: str, stage: str) -> bool:
    return (access, stage) in {(CODE_STEP, SECOND_FACTOR), (SETUP_STEP, ENROLL)}


def as_sent(text: str) -> str:
    """Text a client chose, for the audit log, kept short: as it is when it is short and printable, else
    escaped, shortened and marked as what it is (someone's input, not the app's words)."""
    shown = escape(text)
    if shown == text and len(text) <= SENT_MAX:
        return text
    return f"{json.dumps(shown[: SENT_MAX - 1] + '…', ensure_ascii=False)} (as sent, shortened)"


async def record_refusal(connection: ASGIConnection[Any, Any, Any, Any], user: CurrentUser | None, why: str) -> None:
    """A signed-in user refused: recorded for the admins, in a transaction of its own (the request has none).
    Refusals of signed-out requests are not recorded: anyone can make those, as many as they like. Signed-in
    ones are recorded up to a limit per session and per address, so a flood cannot bury the sign-in events;
    the path, which the client chose, is kept short and marked as sent."""
    if user is None:
        return
    settings: Settings = connection.app.state.settings
    now = settings.clock()
    counters = [
        (throttle.LOGGED_PER_SESSION, user.session_id),
        (throttle.LOGGED_PER_ADDRESS, client_address(connection)),
    ]
    await release_request_session(connection.scope)  # one connection at a time (see SessionMiddleware._resolve)
    async with connection.app.state.writer() as session:
        verdict = await throttle.take(session, counters, now=now)
        if not verdict.allowed:
            return
        actor = audit.Actor(user.id, user.username, request_id(connection.scope), now)
        note = f"{connection.scope.get('method')} {as_sent(connection.scope['path'])}: {why}"
        if verdict.last:
            note += "; further refusals from this session or address are not recorded for a few minutes"
        entry = audit.entry(
            actor, action="refused", record_type="account", record_id=user.id, label=user.username, note=note
        )
        await audit.write(session, [entry])
        await session.commit()


def plain_fields(form: Any) -> dict[str, str]:
    """A parsed form as plain strings (first value per name); anything that is not text is ignored."""
    return {name: values[0] for name, values in form.dict().items() if values and isinstance(values[0], str)}


async def _keep_submitted(request: Request[Any, Any, Any]) -> None:
    """A form whose sender could not be looked up (the database did not answer): kept for the 503 to come back
    with, carrying the token it was sent with, so Save works once the database answers. The token goes back
    only to whoever sent it; nothing was checked or saved."""
    fields = plain_fields(await submitted_form(request))
    request.scope["state"][SUBMITTED] = fields
    request.scope["state"][ANONYMOUS_CSRF] = fields.get(CSRF_FIELD, "")


async def submitted_form(connection: ASGIConnection[Any, Any, Any, Any]) -> Any:
    """The request's parsed form. A multipart text part that is not UTF-8 makes Litestar raise while parsing:
    that is a malformed request (400), not a server error."""
    try:
        return await connection.form()  # type: ignore[attr-defined]
    except UnicodeDecodeError:
        raise ClientException("the form is not valid UTF-8 text") from None


async def check_csrf(connection: ASGIConnection[Any, Any, Any, Any], user: CurrentUser | None) -> None:
    settings: Settings = connection.app.state.settings
    headers = connection.headers
    # Browsers say where a request comes from; another site is refused even if it somehow has a token.
    if headers.get("sec-fetch-site", "same-origin") not in {"same-origin", "none"}:
        raise CsrfFailed()
    origin = headers.get("origin")
    scheme = connection.scope.get("scheme", "http")
    if origin is not None and not _same_origin(origin, scheme, headers.get("host", ""), settings.trusted_origins):
        raise CsrfFailed()
    if user is not None:
        expected: str | None = user.csrf_token
    else:
        # Before sign-in the token is a cookie of ours: it must be one this server signed, or anyone who can
        # plant a cookie (a sibling subdomain, a plain-HTTP page) could pick the token they then submit.
        expected = connection.cookies.get(csrf_cookie_name(settings))
        if expected is None or not anonymous_token_valid(await csrf_key(connection.app), expected):
            raise CsrfFailed()
    supplied = headers.get(CSRF_HEADER)
    if supplied is None and hasattr(connection, "form"):
        value = (await submitted_form(connection)).get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not expected or not supplied or not hmac.compare_digest(expected.encode(), supplied.encode()):
        raise CsrfFailed()


def _same_origin(origin: str, scheme: str, host: str, trusted: tuple[str, ...]) -> bool:
    if origin.rstrip("/") in trusted:
        return True
    parts = urlsplit(origin)
    # The scheme too: a page served over https is another origin than this http site, and the other way round.
    return parts.scheme == scheme and bool(host) and parts.netloc == host


def new_anonymous_token(key: bytes) -> str:
    """A token for a signed-out form: a random nonce and this server's HMAC of it."""
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_signature(key, nonce)}"


def anonymous_token_valid(key: bytes, token: str) -> bool:
    nonce, _dot, signature = token.partition(".")
    return bool(nonce) and len(token) <= 100 and hmac.compare_digest(_signature(key, nonce), signature)


def _signature(key: bytes, nonce: str) -> str:
    return hmac.new(key, f"anonymous-csrf:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def safe_next(target: str | None, default: str) -> str:
    """A path on this site to go to after sign-in; anything that could leave the site gives `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


async def anonymous_csrf_cookie(request: Request[Any, Any, Any], response: R) -> R:
    """Forms shown before sign-in (sign-in, set-up) carry a token that must match a cookie of ours."""
    settings: Settings = request.app.state.settings
    name, key = csrf_cookie_name(settings), await csrf_key(request.app)
    token = request.cookies.get(name)
    if not token or not anonymous_token_valid(key, token):
        token = new_anonymous_token(key)
        response.cookies.append(make_cookie(settings, name, token))
    request.scope.setdefault("state", {})[ANONYMOUS_CSRF] = token
    return response


def clear_anonymous_csrf(request: Request[Any, Any, Any], response: R) -> R:
    """Once signed in, the session's own token takes over (a fresh one: the token rotates at sign-in)."""
    settings: Settings = request.app.state.settings
    response.cookies.append(make_cookie(settings, csrf_cookie_name(settings), "", clear=True))
    return response


def csrf_token(context: Mapping[str, Any]) -> str:
    """For templates: the token forms and htmx requests send back."""
    request = context["request"]
    user = current_user(request) or pending_user(request)
    if user is not None and (user.stage == SIGNED_IN or _step_allows(_access(request), user.stage)):
        return user.csrf_token
    return str(request.scope.get("state", {}).get(ANONYMOUS_CSRF, ""))


def _access(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    handler = connection.scope.get("route_handler")
    return str(handler.opt.get("access", "")) if handler is not None else ""


def signed_in_user(context: Mapping[str, Any]) -> CurrentUser | None:
    """For templates: who is signed in (None on pages outside the middleware, like an unknown path's 404)."""
    return current_user(context["request"])

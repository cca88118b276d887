"""The first thing every routed request meets: the Host allow-list, header limits, and body limits enforced while
the body arrives, before anything parses it.

A form is refused as soon as it has more fields than any form of ours (or more bytes than the body limit), not
after a parser has built 150,000 empty fields: an anonymous client can send such a body to any POST route.
Refusals are exceptions, so the app's handlers turn them into its usual readable pages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from typing import Any

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.exceptions import ClientException, NotFoundException
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from webapp.config import Settings
from webapp.logs import PROBES
from webapp.middleware import request_id

logger = logging.getLogger(__name__)

# Our forms have a handful of fields; a body with more parts than this is not a form of ours.
MAX_FORM_FIELDS = 50
# Browsers send a couple of dozen headers in a few kilobytes.
MAX_HEADERS = 100
MAX_HEADER_BYTES = 16_384
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TooManyHeaders(ClientException):
    status_code = 431


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in scope["path"]):
            # No address of ours has control characters; a file name with a NUL would fail deep in the OS.
            raise NotFoundException()
        raw = list(scope["headers"])
        if len(raw) > MAX_HEADERS or sum(len(name) + len(value) for name, value in raw) > MAX_HEADER_BYTES:
            raise TooManyHeaders("too many or too large request headers")
        # Probes come from load balancers, which name the server by its address; they show nothing to rebind to.
        if scope["path"] not in PROBES and not self.settings.host_allowed(_host(raw)):
            # DNS rebinding: a name the attacker controls, pointed at this server, must not reach the app.
            raise ClientException("this server does not answer to that host name")
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        body = await self._read_body(Headers.from_scope(scope), receive)
        replayed = False

        async def replay() -> ReceiveMessage:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read_body(self, headers: Headers, receive: Receive) -> bytes:
        """The whole body, counting its fields as it arrives; refused at the first byte or field too many."""
        limit = self.settings.max_body_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ClientException("request body too large", status_code=413)
        counter = _field_counter(headers.get("content-type", ""))
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise ClientException("request body too large", status_code=413)
            if counter is not None and counter.feed(chunk) > MAX_FORM_FIELDS:
                raise ClientException("too many form fields")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _host(raw: list[tuple[bytes, bytes]]) -> str:
    """The first Host header's value (what Litestar's Headers.get gives), read without building the headers' map
    for a request that needs no other header here."""
    for name, value in raw:
        if name.lower() == b"host":
            return value.decode("latin-1")
    return ""


class _Separators:
    """Counts a form's fields from the separators seen so far, across chunk boundaries."""

    def __init__(self, separator: bytes, *, parts_after: int) -> None:
        self.separator = separator
        self.parts_after = parts_after  # fields = separators + parts_after
        self.tail = b""
        self.seen = 0
        self.started = False

    def feed(self, chunk: bytes) -> int:
        if chunk:
            self.started = True
        window = self.tail + chunk
        self.seen += window.count(self.separator) - self.tail.count(self.separator)
        self.tail = window[-(len(self.separator) - 1) :] if len(self.separator) > 1 else b""
        return self.seen + self.parts_after if self.started else 0


def _field_counter(content_type: str) -> _Separators | None:
    kind, _semicolon, parameters = content_type.partition(";")
    kind = kind.strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return _Separators(b"&", parts_after=1)
    if kind == "multipart/form-data":
        for parameter in parameters.split(";"):
            name, _equals, value = parameter.strip().partition("=")
            if name.lower() == "boundary" and value.strip('"'):
                # Each part opens with --boundary, and the body ends with --boundary-- (one more than the parts).
                return _Separators(b"--" + value.strip('"').encode("latin-1"), parts_after=-1)
    return None


STREAM_STATE = "streamed_body"


def stream_closed_on_stall(scope: Scope, body: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    """Register a streamed body for `SendTimeout` to close (freeing what it holds) if its client stalls."""
    scope.setdefault("state", {})[STREAM_STATE] = body
    return body


class ClientStalled(Exception):
    """The client stopped reading a streamed response: the response is abandoned and the connection closed."""


class SendTimeout:
    """For streamed responses: each part must be taken by the client within `settings.export_send_timeout`
    seconds. A client that stops reading (without closing the connection, which Litestar notices) would
    otherwise hold the stream, and whatever it holds (a database connection, an export slot), for ever."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        timeout = scope["app"].state.settings.export_send_timeout

        async def send_in_time(message: Message) -> None:
            try:
                await asyncio.wait_for(send(message), timeout)
            except TimeoutError:
                body = scope.get("state", {}).get(STREAM_STATE)
                if body is not None:
                    await body.aclose()  # its slot and connection are released now, not when collected
                raise ClientStalled(f"the client took no data for {timeout} s") from None

        try:
            await self.app(scope, receive, send_in_time)
        except Exception as exc:
            if not _caused_by_stall(exc):
                raise
            # The response is left unfinished, so the server closes the connection.
            logger.warning(
                "request %s: streaming abandoned, the client took no data for %s s", request_id(scope), timeout
            )


def _caused_by_stall(exc: BaseException | None) -> bool:
    """Litestar reports an exception after the response started as its own (caused by ours), from inside a task
    group (an exception group)."""
    if isinstance(exc, BaseExceptionGroup):
        return any(_caused_by_stall(inner) for inner in exc.exceptions)
    return exc is not None and (isinstance(exc, ClientStalled) or _caused_by_stall(exc.__cause__))

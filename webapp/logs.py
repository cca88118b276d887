"""Logging set-up: one line per record, whatever the values logged contain; and the request log.

Request paths, usernames and other values a client chooses end up in log messages; a CR or LF in one would start a
line of the client's making ("ERROR ... admin signed in"), a NUL or an escape sequence could hide text in a
terminal. The formatter escapes every control character in the message (its arguments included) and prefixes
each line of a traceback, so every line that starts a record is one this app wrote. With LOG_FORMAT=json each record
is one JSON object per line instead (JSON escapes control characters itself).

The request log is one line per request (`RequestLog`), written by the app rather than uvicorn's access log: it
names the route's template rather than the path sent (a set-up link's token stays out of the log), the user but
not the session, and the time spent in the database.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators (some viewers break lines there).
_CONTROLS = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x00": "\\x00"}
_ESCAPES = {code: _NAMED.get(chr(code), f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _CONTROLS}


def escape(text: str) -> str:
    """`text` with control characters written as escapes (a backslash is left alone: nothing decodes them)."""
    return text.translate(_ESCAPES)


class EscapingFormatter(logging.Formatter):
    """Formats a record on one line: the message escaped, a traceback's lines marked as its continuation."""

    def format(self, record: logging.LogRecord) -> str:
        # Not the base class's format: it reuses a traceback text that another handler may have cached unescaped.
        record.message = escape(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        text = self.formatMessage(record)
        if record.exc_info:
            text += "\n" + _continuation(super().formatException(record.exc_info))
        elif record.exc_text:
            text += "\n" + _continuation(record.exc_text)
        if record.stack_info:
            text += "\n" + _continuation(self.formatStack(record.stack_info))
        return text


def _continuation(text: str) -> str:
    return "\n".join(f"  | {escape(line)}" for line in text.splitlines())


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, the record's `fields` (the request log's
    values, each its own key), and a traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= getattr(record, FIELDS, {})
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


FORMATTERS: dict[str, type[logging.Formatter]] = {"text": EscapingFormatter, "json": JsonFormatter}


class _AppHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure` installs (found again by its class, so configuring twice replaces it)."""


def configure(level: int = logging.INFO, log_format: str = "text") -> None:
    """The root logger writes one line per record to stderr (idempotent: each app built replaces the handler)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _AppHandler)]:
        root.removeHandler(handler)
    handler = _AppHandler(sys.stderr)
    handler.setFormatter(FORMATTERS[log_format](FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


def uvicorn_config(log_format: str = "text") -> dict[str, object]:
    """uvicorn's own loggers (start-up, errors) through the same formatter. Its access log is off (serve passes
    access_log=False): `RequestLog` writes the app's own."""
    formatter = {"()": f"{__name__}.{FORMATTERS[log_format].__name__}", "fmt": FORMAT}
    handler = {"class": "logging.StreamHandler", "formatter": "escaped", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"escaped": formatter},
        "handlers": {"default": handler},
        "loggers": {
            name: {"handlers": ["default"], "level": "INFO", "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


class Repeats:
    """Warnings that come with every request while the database is away (a refusal, a session not looked up): the
    first of each kind is logged, then one per `every` seconds at most, counting those left out. Each refused
    request still has its line, with the cause, in the request log (OUTAGE_CAUSE): at hundreds of requests a
    second, a warning per request as well would double the log an outage leaves."""

    def __init__(self, logger: logging.Logger, every: float = 10.0) -> None:
        self.logger, self.every = logger, every
        self._last: dict[str, tuple[float, int]] = {}  # kind -> (when last logged, how many left out since)

    def warning(self, kind: str, message: str, *args: object) -> None:
        now = time.monotonic()
        logged, left_out = self._last.get(kind, (None, 0))
        if logged is not None and now - logged < self.every:
            self._last[kind] = (logged, left_out + 1)
            return
        self._last[kind] = (now, 0)
        if left_out and logged is not None:
            message += f" (and {left_out} more like it in the last {now - logged:.0f} s: see the request log)"
        self.logger.warning(message, *args)


# Where a request refused for an outage notes its cause (in the scope's state), for its line in the request log.
OUTAGE_CAUSE = "outage_cause"
# The request log's values on its records, for JsonFormatter to write as keys of their own.
FIELDS = "fields"
requests_logger = logging.getLogger("webapp.requests")
# Seconds this request has spent in database statements so far (a list, so tasks the request starts add to it).
_database_time: ContextVar[list[float] | None] = ContextVar("database_time", default=None)
# Probes of /healthz and /readyz come every few seconds: only their failures are logged.
PROBES = frozenset({"/healthz", "/readyz"})


def statement_started(*args: Any) -> None:
    """SQLAlchemy's before_cursor_execute (connection, cursor, statement, parameters, context, executemany): when
    this statement started, kept on its execution context."""
    args[4].started_at = time.perf_counter()


def statement_ended(*args: Any) -> None:
    """SQLAlchemy's after_cursor_execute (the same arguments): the statement's time added to the request's."""
    spent = _database_time.get()
    if spent is not None:
        spent[0] += time.perf_counter() - args[4].started_at


class RequestLog:
    """Around the whole app (unknown paths too): one line per request with its id (also the X-Request-ID header),
    user, method, route template, status, duration and database time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        spent = [0.0]
        reset = _database_time.set(spent)
        status = 0  # no response at all (the client went away first)

        async def noted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noted)
        finally:
            _database_time.reset(reset)
            if status >= 400 or scope["path"] not in PROBES:
                _log_request(scope, status, time.perf_counter() - started, spent[0])


def _log_request(scope: Scope, status: int, duration: float, database: float) -> None:
    user = getattr(scope.get("user"), "username", None)
    fields = {
        "request_id": scope.get("state", {}).get("request_id", "-"),
        "user": user,
        "method": scope.get("method", ""),
        # The template, not the path: no ids of a client's choosing, no set-up token.
        "route": scope.get("path_template") or "(no route)",
        "status": status,
        "duration_ms": round(duration * 1000, 1),
        "database_ms": round(database * 1000, 1),
    }
    message = "%s %s %s %s %s %.1fms db=%.1fms"
    values = [fields["request_id"], user or "-", fields["method"], fields["route"], status]
    values += [fields["duration_ms"], fields["database_ms"]]
    if cause := scope.get("state", {}).get(OUTAGE_CAUSE):
        fields["cause"] = cause
        message += " cause=%s"
        values.append(cause)
    requests_logger.info(message, *values, extra={FIELDS: fields})

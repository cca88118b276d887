"""Logging set-up: one line per record, whatever the values logged contain.

Request paths, usernames and other values a client chooses end up in log messages; a CR or LF in one would start a
line of the client's making ("ERROR ... admin signed in"), a NUL or an escape sequence could hide text in a
terminal. The formatter escapes every control character in the message (its arguments included) and prefixes
each line of a traceback, so every line that starts a record is one this app wrote.
"""

from __future__ import annotations

import logging
import sys

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


class _AppHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure` installs (found again by its class, so configuring twice replaces it)."""


def configure(level: int = logging.INFO) -> None:
    """The root logger writes escaped records to stderr (idempotent: each app built replaces the handler)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _AppHandler)]:
        root.removeHandler(handler)
    handler = _AppHandler(sys.stderr)
    handler.setFormatter(EscapingFormatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


def uvicorn_config() -> dict[str, object]:
    """uvicorn's own loggers (start-up, errors, access lines) through the same escaping formatter."""
    formatter = {"()": f"{__name__}.EscapingFormatter", "fmt": FORMAT}
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

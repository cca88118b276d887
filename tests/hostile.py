"""Hostile values for the hostile-input and browser security tests, each with a readable id.

Script payloads call `alert` (a dialog the browser tests watch for) and name URLs with "xss" in them (requests
the browser tests watch for), so a payload that ran or fetched anything is noticed, not just one that rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from markupsafe import escape


@dataclass(frozen=True)
class Hostile:
    id: str
    value: str

    def param(self) -> object:
        return pytest.param(self, id=self.id)


XSS = [
    Hostile("script-tag", "<script>alert('xss-script')</script>"),
    Hostile("img-onerror", '"><img src=/xss-img onerror=alert(1)>'),
    Hostile("javascript-href", '<a href="javascript:alert(1)">xss</a>'),
    Hostile("svg-onload", "<svg/onload=alert(1)>"),
    Hostile("quote-breakout", "' autofocus onfocus='alert(1)"),
    Hostile("title-breakout", "</title><script>alert(1)</script>"),
    Hostile("htmx-get-on-load", '<div hx-get="/heroes?xss=hx-get" hx-trigger="load">x</div>'),
    Hostile("htmx-on-click", '<div hx-on:click="alert(1)">'),
    Hostile("htmx-oob-swap", '<p id="toasts" hx-swap-oob="true">xss</p>'),
    Hostile("jinja-expression", "{{7*7}}"),
    Hostile("jinja-statement", "{% raw %}{%{% endraw %}"),
    Hostile("entities", "&lt;b&gt; &amp;amp; &#60;"),
]
SQL = [
    Hostile("sql-drop-table", "'; DROP TABLE hero; --"),
    Hostile("sql-or-true", '" OR 1=1 --'),
    Hostile("percent", "%"),
    Hostile("underscore", "_"),
    Hostile("backslash", "\\"),
]
UNICODE = [
    Hostile("rtl-override", "Dead\u202epond"),
    Hostile("zero-width-joiner", "\U0001f469\u200d\U0001f4bb coder"),
    Hostile("combining-marks", "Z\u0351\u0364\u036b\u0350algo"),
    Hostile("emoji-skin-tones", "\U0001f44d\U0001f3fd\U0001f44b\U0001f3ff"),
    Hostile("nfc", "Am\u00e9lie"),
    Hostile("nfd", "Ame\u0301lie"),
    Hostile("replacement-char", "\ufffd"),
    Hostile("padded", "  Deadpond  "),
]
LENGTHS = [
    Hostile("length-100", "x" * 100),
    Hostile("length-100-astral", "\U0001f600" * 100),
    Hostile("length-101", "x" * 101),
    Hostile("length-1000", "x" * 1000),
    Hostile("length-100000", "x" * 100_000),
]
CONTROL = [
    Hostile("nul", "a\x00b"),
    Hostile("bell", "a\x07b"),
    Hostile("ansi-escape", "\x1b[31mred"),
    Hostile("tab-inside", "a\tb"),
    Hostile("newline-inside", "a\nb"),
    Hostile("delete-char", "a\x7fb"),
    Hostile("c1-control", "a\x85b"),
]
TEXT = XSS + SQL + UNICODE + LENGTHS + CONTROL
"""For text fields: every value above."""
USERNAMES = [
    hostile
    for hostile in TEXT
    if hostile.id
    in {
        "script-tag",
        "img-onerror",
        "htmx-get-on-load",
        "jinja-expression",
        "sql-drop-table",
        "underscore",
        "rtl-override",
        "emoji-skin-tones",
        "nfc",
        "nfd",
        "padded",
        "length-101",
        "length-1000",
        "nul",
        "newline-inside",
    }
]
"""For usernames, which allow only letters, digits and . @ + - _: one or two values of each kind above."""

# Values for number and choice fields (age, team, role); none is a valid choice.
CHOICES = [
    Hostile("letters", "abc"),
    Hostile("negative", "-1"),
    Hostile("fraction", "1.5"),
    Hostile("exponent", "1e3"),
    Hostile("huge", "99999999999999999999"),
    Hostile("int32-overflow", "2147483648"),
    Hostile("arabic-indic-digit", "\u0661"),
    Hostile("fullwidth-digit", "\uff11"),
    Hostile("script", "<script>alert(1)</script>"),
    Hostile("sql", "1; DROP TABLE hero; --"),
    Hostile("nul", "1\x00"),
    Hostile("upper-case-role", "ADMIN"),
]

# Path segments standing for an id, already percent-encoded as they go in a URL; none names a row.
MALFORMED_IDS = [
    Hostile("letters", "abc"),
    Hostile("negative", "-1"),
    Hostile("zero", "0"),
    Hostile("fraction", "1.5"),
    Hostile("huge", "99999999999999999999"),
    Hostile("int32-overflow", "2147483648"),
    Hostile("nul", "%00"),
    Hostile("dot-dot-slash", "..%2F"),
    Hostile("arabic-indic-one", "%D9%A1"),
    Hostile("fullwidth-one", "%EF%BC%91"),
    Hostile("leading-zero", "01"),
    Hostile("plus-sign", "+1"),
    Hostile("space-padded", "%201%20"),
]

# Passwords: the ones of 8 to 256 characters are valid, and must be stored (as a hash) exactly as typed.
PASSWORDS = [
    Hostile("markup-and-sql", "\"'><script>alert('xss-password')</script> OR '1'='1' --"),
    Hostile("unicode-nul-padded", "  p\u00e4\u00df\x00w\u00f6rd \U0001f44d\U0001f3fd \u202e  "),
    Hostile("too-short", "<b>1234"),
    Hostile("length-257", "p" * 257),
    Hostile("length-100000", "p" * 100_000),
]


def is_control(ch: str) -> bool:
    return ord(ch) < 32 or 127 <= ord(ch) < 160


def valid_text(value: str, max_length: int) -> bool:
    """The documented rule for names: after stripping surrounding whitespace, 1 to max_length characters and
    no control characters."""
    text = value.strip()
    return 0 < len(text) <= max_length and not any(is_control(ch) for ch in text)


def escaped(value: str) -> str:
    return str(escape(value))


def collapsed(text: str) -> str:
    """Text as an HTML parser reads it back with whitespace collapsed (tests.markup.Element.text)."""
    return " ".join(text.split())

"""The second factor: TOTP (RFC 6238) codes from an authenticator app, and one-time recovery codes.

The TOTP secret is stored encrypted (Fernet, with the key in SECOND_FACTOR_KEY); without a key the app refuses to
set a second factor up rather than store a secret in the clear. Recovery codes are random (50 bits each), so their
SHA-256 is enough to store them: nobody can search that space, unlike a password's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from markupsafe import Markup

ISSUER = "Hero admin"
# A code is accepted for the step it was made in and the ones either side: clocks drift, and typing takes time.
DRIFT_STEPS = 1
RECOVERY_CODES = 10
# Lowercase letters and digits without look-alikes (0/o, 1/l/i): read off paper and typed by hand.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10
# How long a set-up form (its secret travels encrypted in the form) may stay open.
SETUP_VALID_SECONDS = 30 * 60


class NotConfigured(Exception):
    """SECOND_FACTOR_KEY is not set: secrets could only be stored in the clear, so they are not stored at all."""


class Secrets:
    """Encrypts and decrypts TOTP secrets with the keys from SECOND_FACTOR_KEY (comma-separated: the first
    encrypts, all decrypt, so a key can be replaced without losing the secrets made with the old one)."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys]) if keys else None

    @property
    def configured(self) -> bool:
        return self._fernet is not None

    def encrypt(self, text: str) -> str:
        if self._fernet is None:
            raise NotConfigured()
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str, *, ttl: int | None = None) -> str | None:
        """The text, or None when the token is not one of ours (or older than `ttl` seconds)."""
        if self._fernet is None:
            raise NotConfigured()
        try:
            return self._fernet.decrypt(token.encode(), ttl=ttl).decode()
        except (InvalidToken, UnicodeError, ValueError):
            return None


def new_secret() -> str:
    return pyotp.random_base32()


def matching_step(secret: str, code: str, *, now: datetime) -> int | None:
    """The time step whose code this is (within the allowed drift), or None. The caller refuses a step at or
    before the last one it accepted, so a code cannot be used twice."""
    code = code.replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return current + offset
    return None


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> Markup:
    """The QR code as inline SVG markup (no script, no style attribute: the strict CSP allows it)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", title="QR code")
    return Markup(svg)  # noqa: S704  (segno's own markup; the only text in it, the URI, is encoded as modules)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[n : n + 4] for n in range(0, len(secret), 4))


def new_recovery_codes() -> list[str]:
    return ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH)) for _ in range(RECOVERY_CODES)]


def recovery_digest(code: str) -> str:
    """What is stored for a recovery code; typing is forgiving about case, spaces and dashes."""
    typed = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(typed.encode()).hexdigest()


def shown(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def looks_like_recovery_code(code: str) -> bool:
    typed = code.strip().lower().replace("-", "").replace(" ", "")
    return len(typed) == RECOVERY_LENGTH and all(ch in RECOVERY_ALPHABET for ch in typed)

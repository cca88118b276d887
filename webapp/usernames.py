"""Usernames: one spelling per name (NFKC + casefold) and look-alikes refused by their confusable skeleton.

The skeleton is Unicode's (UTS #39, section 4): decompose (NFD), replace each character by the prototype that
Unicode's confusables.txt gives it, decompose again. Two names with the same skeleton look alike: "admin" and
"аdmin" with a Cyrillic а, "paypal" and "paypa1". The data file is Unicode's own (version 13.0), unchanged.
"""

from __future__ import annotations

import hashlib
import unicodedata
from functools import cache

from webapp.config import PROJECT_DIR

CONFUSABLES = PROJECT_DIR / "webapp" / "confusables.txt"


def normalize(username: str) -> str:
    """The stored form: NFKC folds full-width and compatibility letters (ａｄｍｉｎ is admin), casefold folds case;
    NFKC again because casefolding can undo it."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username.strip()).casefold())


@cache
def _prototypes() -> dict[str, str]:
    """{character: its prototype} from confusables.txt ("0430 ; 0061 ; MA # ( а → a ) ...")."""
    table: dict[str, str] = {}
    for line in CONFUSABLES.read_text(encoding="utf-8-sig").splitlines():
        data = line.partition("#")[0].strip()
        if not data:
            continue
        source, target, _kind = (field.strip() for field in data.split(";"))
        table[chr(int(source, 16))] = "".join(chr(int(point, 16)) for point in target.split())
    return table


def skeleton(text: str) -> str:
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(ch, ch) for ch in decomposed))


def skeleton_key(username: str) -> str:
    """What the unique `username_skeleton` column holds: the SHA-256 of the normalised name's skeleton."""
    return hashlib.sha256(skeleton(normalize(username)).encode()).hexdigest()

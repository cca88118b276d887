"""Passwords are hashed with argon2id at full strength unless a test asks for less."""

from __future__ import annotations

from argon2 import extract_parameters, profiles

from webapp.config import Settings
from webapp.passwords import Passwords


async def test_default_settings_hash_with_argon2id_at_the_recommended_cost() -> None:
    assert Settings().argon2_parameters is None
    password_hash = await Passwords(Settings().argon2_parameters).hash("correct horse battery")
    assert password_hash.startswith("$argon2id$")
    assert extract_parameters(password_hash) == profiles.RFC_9106_LOW_MEMORY


async def test_verify_accepts_the_right_password_only() -> None:
    passwords = Passwords(profiles.CHEAPEST)
    password_hash = await passwords.hash("correct horse battery")
    assert await passwords.verify(password_hash, "correct horse battery")
    assert not await passwords.verify(password_hash, "correct horse batterY")


async def test_an_unknown_user_never_verifies() -> None:
    assert not await Passwords(profiles.CHEAPEST).verify(None, "correct horse battery")

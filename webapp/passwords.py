"""Password hashing with argon2id, off the event loop so other users' pages stay fast while a login hashes."""

from __future__ import annotations

import asyncio

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """One per app (made in the lifespan, inside the running loop)."""

    def __init__(self, parameters: Parameters | None = None, concurrency: int = 2) -> None:
        # argon2id with the library's recommended parameters unless told otherwise.
        self.hasher = PasswordHasher.from_parameters(parameters) if parameters else PasswordHasher()
        # Each hash takes ~64 MiB and a core for tens of milliseconds: bound how many run at once.
        self._slots = asyncio.Semaphore(concurrency)
        self._dummy_hash: str | None = None

    async def prepare(self) -> None:
        """Make the stand-in hash that unknown users are checked against (at start-up, so that no sign-in pays
        for it and every refusal costs exactly one verification)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("not a real password; only for equal timing")

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when the password matches. None (no such user, or one who may not sign in) runs the same one
        verification against a stand-in hash, so a refusal takes the same time whoever was named."""
        await self.prepare()
        assert self._dummy_hash is not None
        async with self._slots:
            matched = await asyncio.to_thread(self._verify, password_hash or self._dummy_hash, password)
        return matched and password_hash is not None

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)

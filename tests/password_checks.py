"""Watching the app's password work: how many argon2 verifications ran, and what was held while they ran."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from litestar import Litestar


@dataclass
class Verification:
    connections_held: int
    """Database connections the app had checked out while the verification ran (a transaction needs one)."""
    sqlite_write_lock_free: bool | None
    """SQLite: whether another writer could have taken the write lock meanwhile (None on PostgreSQL)."""


@dataclass
class CountingHasher:
    """Stands in for the app's argon2 hasher: does the same work, and notes each verification."""

    hasher: PasswordHasher
    app: Litestar
    verifications: list[Verification] = field(default_factory=list)

    def verify(self, password_hash: str, password: str) -> bool:
        self.verifications.append(Verification(self._connections_held(), self._sqlite_write_lock_free()))
        return self.hasher.verify(password_hash, password)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.hasher, name)

    def _connections_held(self) -> int:
        return sum(int(engine.sync_engine.pool.checkedout()) for engine in self.app.state.engines)

    def _sqlite_write_lock_free(self) -> bool | None:
        engine = self.app.state.engine
        if engine.dialect.name != "sqlite":
            return None
        other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()
        return True


def count_verifications(app: Litestar) -> CountingHasher:
    """Put a counting hasher into the running app's Passwords (after its lifespan has started)."""
    passwords = app.state.passwords
    counting = CountingHasher(passwords.hasher, app)
    passwords.hasher = counting
    return counting

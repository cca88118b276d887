"""Settings: one frozen object, read from the environment only when asked."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_DIR / "var" / "heroes.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"
    templates_dir: Path = PROJECT_DIR / "templates"
    static_dir: Path = PROJECT_DIR / "static"
    page_size: int = 25
    # 1 MB is generous for forms of short text fields and keeps oversized bodies cheap to refuse.
    max_body_bytes: int = 1_048_576
    # asyncpg: seconds to wait for a connection / for one statement before failing the request.
    pg_connect_timeout: float = 10.0
    pg_command_timeout: float = 30.0
    # SQLite: milliseconds a writer waits for the lock before "database is locked".
    sqlite_busy_timeout_ms: int = 15_000
    pool_size: int = 5

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        defaults = cls()
        return cls(
            database_url=env.get("DATABASE_URL") or defaults.database_url,
            page_size=int(env.get("PAGE_SIZE", defaults.page_size)),
            pool_size=int(env.get("DB_POOL_SIZE", defaults.pool_size)),
        )

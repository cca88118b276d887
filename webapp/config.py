"""Settings: one frozen object, read from the environment only when asked."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import Parameters

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_DIR / "var" / "heroes.db"
TRUE = {"1", "true", "yes", "on"}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
LOG_FORMATS = ("text", "json")


def utcnow() -> datetime:
    """Aware UTC, as SQLModel's datetime columns require (they store UTC on both databases)."""
    return datetime.now(UTC)


# Reads a worker works on at once, by database (webapp.turns; fewer while a write is in progress). SQLite reads in
# place on the event loop's thread, so a read holds its turn for work. A PostgreSQL read holds its turn while it
# waits for the server, and two reads waiting left the worker idle: under wrk (floor_run, BENCHMARKS.md, 2026-12-07
# night), one worker's heroes list at 2, 4, 6 and 8 turns ran at 0.33, 0.36, 0.44 and 0.38 of the floor, its teams
# list at 0.35, 0.46, 0.52 and 0.51; with the pool's ping skipped for connections just given back
# (webapp.db.RECENTLY_CHECKED), 0.41 and 0.40 at 2, 0.41-0.52 and 0.61-0.62 at 4.
SQLITE_READ_TURNS = 2
POSTGRES_READ_TURNS = 4


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"
    templates_dir: Path = PROJECT_DIR / "templates"
    static_dir: Path = PROJECT_DIR / "static"
    page_size: int = 25
    # Up to this many live teams the hero forms offer a plain select; past it, a field that takes a team's name
    # and suggests matches as you type (a select of thousands is unusable and heavy to send).
    team_select_limit: int = 100
    # CSV exports streamed at once by one worker process; more are answered 429 with Retry-After.
    export_slots: int = 2
    # 1 MB is generous for forms of short text fields and keeps oversized bodies cheap to refuse.
    max_body_bytes: int = 1_048_576
    # Every request is answered within this many seconds, even when the database hangs: past it, a 503 that says
    # the change was not saved (webapp.outages). The database timeouts below fit inside it (see `from_env`).
    request_deadline: float = 5.0
    # asyncpg: seconds to open a connection / to run one statement before the request gives up on the database.
    pg_connect_timeout: float = 2.0
    pg_command_timeout: float = 4.0
    # SQLite: milliseconds a writer waits for the lock (another process's write) before "database is locked".
    sqlite_busy_timeout_ms: int = 4_000
    # SQLite: seconds a write transaction runs its statements on the event loop's thread (webapp.sqlite_trips)
    # before it goes back to trips to the driver's thread; 0 makes every statement a trip.
    sqlite_inline_seconds: float = 0.02
    # SQLite: seconds a reader's statement built once and kept (webapp.data.plain.rows) may run on the event loop's
    # thread (webapp.sqlite_trips.fetch) before it is stopped and made again as a trip; 0 makes each a trip.
    sqlite_read_in_place_seconds: float = 0.002
    # Seconds a request waits for a pooled connection (SQLite writers: for the one writer connection).
    pool_timeout: float = 3.0
    pool_size: int = 5
    # Connections past pool_size a worker may open at busy moments (closed again when given back).
    max_overflow: int = 10
    # Reads (GET pages, fragments, static files) a worker works on at once; more wait their turn in arrival order
    # (webapp.turns), so the event loop's turns stay short and /healthz is answered at once. None: the database's
    # own number (`read_turns`).
    reads_in_progress: int | None = None
    # What a 503 tells the client to wait (Retry-After, and the page's "Try again in N seconds").
    retry_after: int = 5
    # "text" (one escaped line per record) or "json" (one JSON object per line), from LOG_FORMAT.
    log_format: str = "text"
    # Sessions end after this long without a request, and after session_max_age whatever happens.
    session_idle: timedelta = timedelta(minutes=30)
    session_max_age: timedelta = timedelta(hours=12)
    # Over HTTPS: Secure cookies with the __Host- prefix. On by default in production mode.
    secure_cookies: bool = False
    # Origins (scheme://host[:port]) accepted on unsafe requests besides the request's own Host.
    trusted_origins: tuple[str, ...] = ()
    # The clock every time check uses; tests put in their own to move time.
    clock: Callable[[], datetime] = utcnow
    # argon2 cost; None is argon2-cffi's recommended profile. Only tests pass a cheaper one.
    argon2_parameters: Parameters | None = None
    # Host names (without port) the app answers to; anything else is refused, so a DNS name pointed at this
    # server by someone else (DNS rebinding) gets nowhere. "*" turns the check off. `serve` sets the served address.
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    # Fernet keys (comma-separated in SECOND_FACTOR_KEY; the first encrypts) for second-factor secrets at rest.
    # Without one, nobody can set a second factor up.
    second_factor_keys: tuple[str, ...] = ()
    # Seconds a CSV export waits for its client to take the next chunk before giving up (and its slot).
    export_send_timeout: float = 30.0

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def read_turns(self) -> int:
        """How many reads a worker works on at once: READS_IN_PROGRESS, else its database's number."""
        if self.reads_in_progress is not None:
            return self.reads_in_progress
        return SQLITE_READ_TURNS if self.is_sqlite else POSTGRES_READ_TURNS

    def host_allowed(self, host: str) -> bool:
        """Whether a Host header names this server (compared without its port, ignoring case)."""
        if "*" in self.allowed_hosts:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return bool(name) and name.lower() in self.allowed_hosts

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        defaults = cls()
        production = env.get("APP_ENV", "").lower() == "production"
        deadline = float(env.get("REQUEST_DEADLINE", defaults.request_deadline))
        log_format = env.get("LOG_FORMAT", defaults.log_format).lower()
        if log_format not in LOG_FORMATS:
            raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
        turns = env.get("READS_IN_PROGRESS")
        if turns is not None and not whole_above_zero(turns):
            raise ValueError(f"READS_IN_PROGRESS must be a whole number above 0, not {turns!r}")
        secure = env.get("SECURE_COOKIES")
        return cls(
            database_url=env.get("DATABASE_URL") or defaults.database_url,
            secure_cookies=secure.lower() in TRUE if secure else production,
            trusted_origins=tuple(
                o.strip().rstrip("/") for o in env.get("TRUSTED_ORIGINS", "").split(",") if o.strip()
            ),
            page_size=int(env.get("PAGE_SIZE", defaults.page_size)),
            team_select_limit=int(env.get("TEAM_SELECT_LIMIT", defaults.team_select_limit)),
            pool_size=int(env.get("DB_POOL_SIZE", defaults.pool_size)),
            max_overflow=int(env.get("DB_MAX_OVERFLOW", defaults.max_overflow)),
            reads_in_progress=int(turns) if turns is not None else None,
            # The database's own limits end before the request's, so the usual failure is the database's
            # (precise, and the connection is left clean) and the deadline is the net for a database that hangs.
            request_deadline=deadline,
            pg_connect_timeout=min(defaults.pg_connect_timeout, deadline * 0.4),
            pg_command_timeout=deadline * 0.8,
            sqlite_busy_timeout_ms=int(deadline * 800),
            pool_timeout=deadline * 0.6,
            log_format=log_format,
            allowed_hosts=_listed(env.get("ALLOWED_HOSTS", "")) or defaults.allowed_hosts,
            second_factor_keys=tuple(k.strip() for k in env.get("SECOND_FACTOR_KEY", "").split(",") if k.strip()),
        )


def whole_above_zero(value: str) -> bool:
    """Whether a setting's text is a whole number above 0."""
    return value.strip().isdigit() and int(value) > 0


def _listed(value: str) -> tuple[str, ...]:
    return tuple(name.strip().lower() for name in value.split(",") if name.strip())

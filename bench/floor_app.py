"""The floor reference app: what the hero admin's pages cost with nothing between the database and the template.

The same rows from the same database through the raw driver (aiosqlite or asyncpg), rendered by minimal Jinja
templates of about the app's HTML size, on Litestar and uvicorn started with the app's settings. No ORM, no
session lookup, no per-row includes or macros, no url_for. `bench/floor_run.py` measures the app against it in
the same invocation; figures are ratios to it.

    DATABASE_URL=sqlite+aiosqlite:///var/heroes.db .venv/bin/python bench/floor_app.py --port 8100

Routes (the app's URLs, so one wrk script drives both):
    GET  /heroes?size=50         the heroes list: 50 rows by (name, id) with team names
    GET  /teams?size=50          the teams list: 50 rows by name with each team's live hero count
    GET  /heroes/{id}/edit       the inline row form of one hero (what htmx asks for)
    POST /heroes/{id}            the inline save: version-checked UPDATE plus a history entry, one transaction
    POST /login                  sign-in: the user's argon2 hash checked off the loop, a session row written
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import hashlib
import hmac
import itertools
import json
import os
import re
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
import asyncpg  # type: ignore[import-untyped]
import uvicorn
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jinja2 import Environment, FileSystemLoader
from litestar import Litestar, MediaType, Request, get, post
from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Response, Template
from litestar.template.config import TemplateConfig

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "floor_templates"
# The app's engine: pool_size (DB_POOL_SIZE, default 5) plus SQLAlchemy's default overflow of 10.
POOL_OVERFLOW = 10
# The app's select of teams in a hero form gives way to a text field past this many teams (TEAM_SELECT_LIMIT).
TEAM_SELECT_LIMIT = int(os.environ.get("TEAM_SELECT_LIMIT", "100"))
SIZES = (25, 50, 100)
CSRF_STAND_IN = "f" * 43

HEROES_SQL = (
    "SELECT h.id, h.name, h.secret_name, h.age, h.team_id, h.version, t.name FROM hero h "
    "LEFT JOIN team t ON t.id = h.team_id AND t.deleted_at IS NULL "
    "WHERE h.deleted_at IS NULL ORDER BY h.name, h.id LIMIT ?"
)
TEAMS_SQL = (
    "SELECT t.id, t.name, t.headquarters, t.version, "
    "(SELECT count(*) FROM hero h WHERE h.team_id = t.id AND h.deleted_at IS NULL) FROM team t "
    "WHERE t.deleted_at IS NULL ORDER BY t.name, t.id LIMIT ?"
)
HERO_SQL = "SELECT id, name, secret_name, age, team_id, version FROM hero WHERE id = ? AND deleted_at IS NULL"
TEAM_CHOICES_SQL = "SELECT id, name FROM team WHERE deleted_at IS NULL ORDER BY name, id LIMIT ?"
TEAM_NAME_SQL = "SELECT name FROM team WHERE id = ?"
TEAM_BY_NAME_SQL = "SELECT id FROM team WHERE name = ? AND deleted_at IS NULL"
SAVE_SQL = (
    "UPDATE hero SET name = ?, secret_name = ?, age = ?, team_id = ?, version = version + 1 "
    "WHERE id = ? AND version = ? AND deleted_at IS NULL "
    "RETURNING id, name, secret_name, age, team_id, version"
)
AUDIT_SQL = (
    "INSERT INTO audit_entry (at, user_id, username, request_id, action, record_type, record_id, label, changes, note) "
    "VALUES (?, NULL, 'floor', '', 'update', 'hero', ?, ?, ?, '')"
)
USER_SQL = 'SELECT id, password_hash, role, is_active FROM "user" WHERE username = ?'
SESSION_SQL = (
    "INSERT INTO user_session (id, user_id, csrf_token, role, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)"
)


class Database(Protocol):
    """What the floor's handlers need from a driver: reads, and one write transaction at a time per call."""

    async def fetch(self, sql: str, *params: Any) -> list[Sequence[Any]]: ...

    def transaction(self) -> Any: ...  # an async context manager yielding a Writer

    async def close(self) -> None: ...

    def now(self) -> Any: ...


class Writer(Protocol):
    async def fetch(self, sql: str, *params: Any) -> list[Sequence[Any]]: ...

    async def execute(self, sql: str, *params: Any) -> None: ...


class SqliteDatabase:
    """aiosqlite connections with the app's pragmas, opened on demand up to the app's pool limit."""

    def __init__(self, path: str, limit: int) -> None:
        self._path = path
        self._idle: list[aiosqlite.Connection] = []
        self._slots = asyncio.Semaphore(limit)

    async def _open(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(self._path, timeout=15, isolation_level=None)
        for pragma in ("journal_mode=WAL", "busy_timeout=15000", "foreign_keys=ON", "synchronous=NORMAL"):
            await connection.execute(f"PRAGMA {pragma}")
        return connection

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._slots:
            connection = self._idle.pop() if self._idle else await self._open()
            try:
                yield connection
            finally:
                self._idle.append(connection)

    async def fetch(self, sql: str, *params: Any) -> list[Sequence[Any]]:
        async with self._connection() as connection:
            return list(await connection.execute_fetchall(sql, params))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqliteWriter]:
        async with self._connection() as connection:
            # The app's writes take the write lock up front (BEGIN IMMEDIATE), so concurrent saves queue.
            await connection.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteWriter(connection)
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
            await connection.execute("COMMIT")

    async def close(self) -> None:
        for connection in self._idle:
            await connection.close()

    def now(self) -> str:
        # How SQLAlchemy stores a datetime in SQLite, so the app can read the floor's rows.
        return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class _SqliteWriter:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def fetch(self, sql: str, *params: Any) -> list[Sequence[Any]]:
        return list(await self._connection.execute_fetchall(sql, params))

    async def execute(self, sql: str, *params: Any) -> None:
        await self._connection.execute(sql, params)


@functools.cache
def _numbered(sql: str) -> str:
    """asyncpg's placeholders ($1, $2, ...) for the `?` ones the statements above are written with (once each)."""
    count = itertools.count(1)
    return re.sub(r"\?", lambda _match: f"${next(count)}", sql)


class PostgresDatabase:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, url: str, size: int) -> PostgresDatabase:
        pool = await asyncpg.create_pool(
            url,
            min_size=size,
            max_size=size + POOL_OVERFLOW,
            # The app plans every statement with its values (see webapp/db.py); the floor pays the same.
            server_settings={"plan_cache_mode": "force_custom_plan"},
        )
        return cls(pool)

    async def fetch(self, sql: str, *params: Any) -> list[Sequence[Any]]:
        return list(await self._pool.fetch(_numbered(sql), *params))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_PostgresWriter]:
        async with self._pool.acquire() as connection, connection.transaction():
            yield _PostgresWriter(connection)

    async def close(self) -> None:
        await self._pool.close()

    def now(self) -> datetime:
        return datetime.now(UTC)


class _PostgresWriter:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def fetch(self, sql: str, *params: Any) -> list[Sequence[Any]]:
        return list(await self._connection.fetch(_numbered(sql), *params))

    async def execute(self, sql: str, *params: Any) -> None:
        await self._connection.execute(_numbered(sql), *params)


async def open_database(url: str, size: int) -> Database:
    """The app's DATABASE_URL (SQLAlchemy form) opened with the raw driver."""
    if url.startswith("sqlite"):
        return SqliteDatabase(url.split(":///", 1)[1], size + POOL_OVERFLOW)
    return await PostgresDatabase.connect(re.sub(r"^postgresql\+asyncpg", "postgresql", url), size)


def _db(request: Request[Any, Any, Any]) -> Database:
    database: Database = request.app.state.database
    return database


def _size(request: Request[Any, Any, Any]) -> int:
    try:
        size = int(request.query_params.get("size", "50"))
    except ValueError:
        return 50
    return size if size in SIZES else 50


def _cursor(value: Any, row_id: int) -> str:
    """The app's keyset cursor: base64url (no padding) of the compact JSON [value, id]; the floor builds its Next
    link the same way, so the page carries the same link."""
    raw = json.dumps([value, row_id], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _list_context(rows: list[Sequence[Any]], size: int) -> dict[str, Any]:
    # A fixed stand-in for the session's CSRF token: the floor keeps no sessions, but the page carries as many bytes.
    context = {"size": size, "csrf": CSRF_STAND_IN, "next": None}
    if len(rows) > size:
        context["next"] = _cursor(rows[size - 1][1], rows[size - 1][0])
    return context


@get("/heroes", status_code=200)
async def heroes(request: Request[Any, Any, Any]) -> Template:
    size = _size(request)
    rows = await _db(request).fetch(HEROES_SQL, size + 1)  # one more: is there a next page?
    return Template("heroes.html", context={"heroes": rows[:size], **_list_context(rows, size)})


@get("/teams", status_code=200)
async def teams(request: Request[Any, Any, Any]) -> Template:
    size = _size(request)
    rows = await _db(request).fetch(TEAMS_SQL, size + 1)
    return Template("teams.html", context={"teams": rows[:size], **_list_context(rows, size)})


@get("/heroes/{hero_id:int}/edit", status_code=200)
async def edit_row(request: Request[Any, Any, Any], hero_id: int) -> Template | Response[str]:
    database = _db(request)
    found = await database.fetch(HERO_SQL, hero_id)
    if not found:
        return Response("no such hero", status_code=404, media_type=MediaType.HTML)
    hero = found[0]
    choices = await database.fetch(TEAM_CHOICES_SQL, TEAM_SELECT_LIMIT + 1)
    context: dict[str, Any] = {"hero": hero, "teams": choices, "team_name": ""}
    if len(choices) > TEAM_SELECT_LIMIT:
        # Past the limit the app's form is a text field holding the team's name, and so is the floor's.
        context["teams"] = None
        if hero[4] is not None:
            context["team_name"] = (await database.fetch(TEAM_NAME_SQL, hero[4]))[0][0]
    return Template("row_form.html", context=context)


def _whole(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


@post("/heroes/{hero_id:int}", status_code=200)
async def save(request: Request[Any, Any, Any], hero_id: int) -> Template | Response[str]:
    form = await request.form()
    name, secret_name = str(form.get("name", "")).strip(), str(form.get("secret_name", "")).strip()
    age, version = _whole(form.get("age")), _whole(form.get("version"))
    if not name or not secret_name or version is None:
        return Response("invalid form", status_code=422, media_type=MediaType.HTML)
    database = _db(request)
    async with database.transaction() as writer:
        if "team" in form:
            team = str(form["team"]).strip()
            named = await writer.fetch(TEAM_BY_NAME_SQL, team) if team and team != "No team" else []
            team_id = named[0][0] if named else None
        else:
            team_id = _whole(form.get("team_id"))
        saved = await writer.fetch(SAVE_SQL, name, secret_name, age, team_id, hero_id, version)
        if not saved:
            # Names the row as the app's 409 form does, so the load generator can tell which hero it was.
            return Response(
                f'<tr id="hero-{hero_id}" class="editing conflict"></tr>', status_code=409, media_type=MediaType.HTML
            )
        changes = json.dumps({"age": [None, age]})
        await writer.execute(AUDIT_SQL, database.now(), hero_id, name, changes)
    return Template("row.html", context={"hero": saved[0]})


@post("/login", status_code=303)
async def login(request: Request[Any, Any, Any]) -> Redirect | Response[str]:
    form = await request.form()
    expected, supplied = request.cookies.get("csrf", ""), str(form.get("_csrf", ""))
    if not expected or not hmac.compare_digest(expected.encode(), supplied.encode()):
        return Response("expired", status_code=403, media_type=MediaType.HTML)
    database = _db(request)
    found = await database.fetch(USER_SQL, str(form.get("username", "")).lower())
    if not found or not await request.app.state.passwords.verify(found[0][1], str(form.get("password", ""))):
        return Response("wrong", status_code=422, media_type=MediaType.HTML)
    user_id, _hash, role, _active = found[0]
    token, now = secrets.token_urlsafe(32), database.now()
    async with database.transaction() as writer:
        session_id = hashlib.sha256(token.encode()).hexdigest()
        await writer.execute(SESSION_SQL, session_id, user_id, secrets.token_urlsafe(32), role, now, now)
    return Redirect("/heroes", status_code=303, cookies=[Cookie(key="session", value=token, httponly=True)])


class Passwords:
    """argon2id verification as the app does it: in a worker thread, at most two at once (webapp/passwords.py)."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher()
        self._slots = asyncio.Semaphore(2)

    async def verify(self, password_hash: str, password: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def create_app() -> Litestar:
    """The uvicorn factory: the database comes from DATABASE_URL, as the app's does."""
    url = os.environ["DATABASE_URL"]
    pool_size = int(os.environ.get("DB_POOL_SIZE", "5"))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.database = await open_database(url, pool_size)
        app.state.passwords = Passwords()
        try:
            yield
        finally:
            await app.state.database.close()

    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    return Litestar(
        route_handlers=[heroes, teams, edit_row, save, login],
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment)),
        lifespan=[lifespan],
        openapi_config=None,
        debug=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the floor reference app under uvicorn.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # The same uvicorn settings as `python -m webapp serve` (webapp/__main__.py), access log included.
    uvicorn.run(
        "floor_app:create_app",
        factory=True,
        app_dir=str(HERE),
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,
        server_header=False,
        log_level="info",
    )


if __name__ == "__main__":
    main()

"""The app against its floor, measured in the same invocation (issue 11).

    .venv/bin/python bench/floor_run.py --sizes 10000 --databases sqlite --seconds 10
    .venv/bin/python bench/floor_run.py --sizes 10000 --databases sqlite,postgresql --seconds 10 > results.md
    .venv/bin/python bench/floor_run.py --sizes 1000000 --databases postgresql --workers 1,2 --server-cpus 0,1
    .venv/bin/python bench/floor_run.py --sizes 10000 --databases sqlite --scenarios save --seconds 20
    .venv/bin/python bench/floor_run.py --sizes 10000 --databases sqlite --scenarios none --memory

For each database, size and worker count: make a database (SQLite in a temporary folder; PostgreSQL
`hero_bench_…` from BENCH_POSTGRES_URL, dropped afterwards), seed it with `python -m webapp demo`, add the
benchmark's users, start the app (`python -m webapp serve`) and the floor (`bench/floor_app.py`, the same rows
through the raw driver and a minimal template) under uvicorn pinned with taskset to --server-cpus, and drive
them with wrk (one thread, pinned to --wrk-cpus, Lua scripts in bench/lua/). Each app scenario runs between two
runs of its floor (the heroes list; the teams list, the save cycle and sign-in have floors of their own), and its
ratio is its req/s over the mean of those two, so load from other work on the machine moves both sides. Server
CPU ms per request comes from /proc (utime + stime of the server's process tree; on PostgreSQL the backends serving
the database are given apart). The app is reached only over HTTP and
the database only with SQL: no `webapp` imports, so the harness survives the app's modules moving.

Progress goes to stderr; the Markdown tables to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import json
import os
import platform
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote_plus, urlencode

import asyncpg  # type: ignore[import-untyped]
import httpx
from floor_app import open_database
from load import WRK, CpuMeter, Server, WrkResult, rss_bytes, run_wrk, served

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "a benchmark passphrase"  # noqa: S105 (the throwaway benchmark users' password)
VIEWER, EDITOR, SIGNER = "bench-viewer", "bench-editor", "bench-login"
# The search terms of bench/run.py (from webapp/demo.py's word lists): each matches about 2% of heroes by secret
# name; the first can use the trigram indexes, the second is too short for them.
SEARCH, SEARCH_SHORT, TEAM_SEARCH = "Nakamura", "Xu", "Harbor"
OK = frozenset({200})
NO_FASTAPI = "FastAPI is not installed: .venv/bin/pip install -r bench/requirements-docs-pattern.txt"

Kind = Literal["get", "save", "login"]


@dataclass(frozen=True)
class Facts:
    """What the scenarios' URLs need from the seeded database, read with SQL."""

    heroes: int
    middle_id: int
    middle_token: str
    """The cursor of the hero in the middle of the (name, id) order: base64url of the JSON [name, id]."""
    team: str
    save_pool: list[int]
    """Heroes the save scenarios edit, each leased to one save cycle at a time (bench/lua/save.lua)."""
    memory_ids: list[int]


@dataclass(frozen=True)
class Scenario:
    key: str
    name: str
    kind: Kind = "get"
    path: Callable[[Facts, int], str] | None = None
    """(facts, page size) -> the path, for "get" scenarios."""
    hx: bool = False
    role: str = VIEWER
    floor: str = "floor"
    """The floor scenario this one's ratio is taken against."""
    ok: frozenset[int] = OK
    server: Literal["app", "floor", "docs"] = "app"

    @property
    def is_floor(self) -> bool:
        return self.server == "floor"


def _list(path: str, size: int, **params: str) -> str:
    return f"{path}?{urlencode({'size': str(size), **params})}"


FLOORS = [
    Scenario("floor", "floor: heroes list", path=lambda f, size: _list("/heroes", size), server="floor"),
    Scenario(
        "floor-teams",
        "floor: teams list",
        path=lambda f, size: _list("/teams", size),
        floor="floor-teams",
        server="floor",
    ),
    Scenario("floor-save", "floor: inline-edit save cycle", kind="save", floor="floor-save", server="floor"),
    Scenario("floor-login", "floor: sign-in", kind="login", floor="floor-login", ok=frozenset({303}), server="floor"),
]
# In the order they run: scenarios compared with the same floor are neighbours, so the floor run between two of
# them serves as the after of one and the before of the next.
APP = [
    Scenario("heroes", "heroes, first page", path=lambda f, size: _list("/heroes", size)),
    Scenario("fragment", "heroes, table fragment (htmx)", path=lambda f, size: _list("/heroes", size), hx=True),
    Scenario(
        "deep", "heroes, a page deep in the list", path=lambda f, size: _list("/heroes", size, after=f.middle_token)
    ),
    Scenario("team", "heroes, filtered by a team", path=lambda f, size: _list("/heroes", size, team=f.team)),
    Scenario("ages", "heroes, ages 30 to 40", path=lambda f, size: _list("/heroes", size, min_age="30", max_age="40")),
    Scenario("age-desc", "heroes, sorted by age descending", path=lambda f, size: _list("/heroes", size, sort="-age")),
    Scenario("search", f"heroes, search “{SEARCH}”", path=lambda f, size: _list("/heroes", size, q=SEARCH)),
    Scenario(
        "search-2", f"heroes, search “{SEARCH_SHORT}”", path=lambda f, size: _list("/heroes", size, q=SEARCH_SHORT)
    ),
    Scenario("hero", "one hero (detail page)", path=lambda f, size: f"/heroes/{f.middle_id}"),
    Scenario("edit", "edit form (page)", path=lambda f, size: f"/heroes/{f.middle_id}/edit", role=EDITOR),
    Scenario(
        "edit-row", "edit form (inline row)", path=lambda f, size: f"/heroes/{f.middle_id}/edit", hx=True, role=EDITOR
    ),
    # Not the app: the heroes list as the SQLModel/FastAPI tutorials write it (bench/docs_pattern_app.py), when
    # FastAPI is installed in the benchmark's environment.
    Scenario(
        "docs-pattern",
        "reference: SQLModel-docs pattern (FastAPI, selectinload), heroes list",
        path=lambda f, size: _list("/heroes", size),
        server="docs",
    ),
    Scenario("teams", "teams, first page", path=lambda f, size: _list("/teams", size), floor="floor-teams"),
    Scenario(
        "teams-search",
        f"teams, search “{TEAM_SEARCH}”",
        path=lambda f, size: _list("/teams", size, q=TEAM_SEARCH),
        floor="floor-teams",
    ),
    Scenario("save", "inline-edit save cycle (GET row form + POST)", kind="save", role=EDITOR, floor="floor-save"),
    Scenario("login", "sign-in", kind="login", floor="floor-login", ok=frozenset({303})),
]


@dataclass
class Measured:
    scenario: Scenario
    result: WrkResult
    connections: int
    server_cpu: float
    database_cpu: float | None
    load: float
    note: str = ""
    body_bytes: int | None = None
    floors: tuple[Measured, Measured] | None = None
    """The paired floor's runs just before and just after this one (app scenarios only)."""

    @property
    def cpu_ms(self) -> float:
        return self.server_cpu / self.result.requests * 1000 if self.result.requests else float("nan")

    @property
    def floor(self) -> tuple[float, float] | None:
        """The paired floor's (req/s, CPU ms/req): the means of its runs just before and just after."""
        if self.floors is None:
            return None
        return (
            sum(m.result.rps for m in self.floors) / 2,
            sum(m.cpu_ms for m in self.floors) / 2,
        )

    @property
    def database_ms(self) -> float | None:
        if self.database_cpu is None or not self.result.requests:
            return None
        return self.database_cpu / self.result.requests * 1000


@dataclass
class Group:
    """One database, size and worker count: the app's scenarios and the floor runs around them, in order."""

    database: str
    heroes: int
    workers: int
    floors: list[Measured] = field(default_factory=list)
    app: list[Measured] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    memory: list[tuple[int, int]] = field(default_factory=list)
    seeding: float = 0.0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    seconds: float
    warmup: float
    connections: int
    login_connections: int
    page_size: int
    server_cpus: str
    wrk_cpus: str
    keep_logs: Path
    memory: tuple[int, ...]
    """Request counts after which to read the app's RSS (a fresh server); empty: no memory run."""
    login_seconds: float = 20


# --- databases ------------------------------------------------------------------------------------------------


def _plain(url: str) -> str:
    return re.sub(r"^postgresql\+asyncpg", "postgresql", url)


async def _execute(url: str, sql: str) -> None:
    connection = await asyncpg.connect(_plain(url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def _database(kind: str) -> Iterator[tuple[str, str | None]]:
    """(the app's DATABASE_URL, the PostgreSQL database's name or None)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hero_bench_") as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.db", None
        return
    name = f"hero_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_execute(POSTGRES, f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}", name
    finally:
        asyncio.run(_execute(POSTGRES, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _webapp(args: list[str], url: str, stdin: str | None = None) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "webapp", *args]
    subprocess.run(command, cwd=PROJECT, env=env, input=stdin, text=True, check=True, stdout=sys.stderr)


SIGNERS = 32


def _seed(kind: str, url: str, heroes: int) -> float:
    """Seed, add the users, settle the statistics; returns the seconds the demo command took."""
    print(f"seeding {kind} with {heroes:,} heroes", file=sys.stderr, flush=True)
    started = time.perf_counter()
    _webapp(["demo", "--heroes", str(heroes), "--teams", str(max(1, heroes // 100))], url)
    seconds = time.perf_counter() - started
    for name, role in ((VIEWER, "viewer"), (EDITOR, "editor"), (f"{SIGNER}-0", "viewer")):
        _webapp(["users", "create", name, "--role", role], url, stdin=PASSWORD + "\n")
    # More accounts for the sign-in scenario with the first one's hash (argon2 keeps its salt in the hash), so
    # one account never has two sign-ins in flight: the app throttles five failures per account, and counts
    # each attempt as a failure until its password checks out.
    asyncio.run(_clone_signers(url))
    if kind == "postgresql":
        asyncio.run(_execute(url, "VACUUM ANALYZE"))
    return seconds


async def _clone_signers(url: str) -> None:
    database = await open_database(url, 1)
    try:
        async with database.transaction() as writer:
            for n in range(1, SIGNERS):
                await writer.execute(
                    'INSERT INTO "user" (username, password_hash, role, is_active, created_at) '
                    'SELECT ?, password_hash, role, is_active, created_at FROM "user" WHERE username = ?',
                    f"{SIGNER}-{n}",
                    f"{SIGNER}-0",
                )
    finally:
        await database.close()


def _token(value: object, row_id: int) -> str:
    """The app's cursor token: base64url, unpadded, of the compact JSON [value, id]."""
    raw = json.dumps([value, row_id], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def _facts(url: str, heroes: int, pool: int) -> Facts:
    database = await open_database(url, 1)
    try:
        live = "FROM hero WHERE deleted_at IS NULL"
        count = int((await database.fetch(f"SELECT count(*) {live}"))[0][0])
        middle_sql = f"SELECT name, id {live} ORDER BY name, id LIMIT 1 OFFSET ?"
        name, middle = (await database.fetch(middle_sql, count // 2))[0]
        teams = int((await database.fetch("SELECT count(*) FROM team WHERE deleted_at IS NULL"))[0][0])
        team_sql = "SELECT name FROM team WHERE deleted_at IS NULL ORDER BY id LIMIT 1 OFFSET ?"
        team = str((await database.fetch(team_sql, teams // 2))[0][0])
        ids = [int(row[0]) for row in await database.fetch(f"SELECT id {live} ORDER BY id LIMIT ?", pool + 1000)]
    finally:
        await database.close()
    return Facts(heroes, int(middle), _token(name, int(middle)), team, ids[:pool], ids[-1000:])


async def _history(url: str, ids: list[int]) -> dict[int, tuple[int, int]]:
    """Each hero's version and number of update entries in its history."""
    database = await open_database(url, 1)
    try:
        marks = ",".join("?" * len(ids))  # placeholders only: the ids are bound
        history = (
            "SELECT h.id, h.version, (SELECT count(*) FROM audit_entry a WHERE a.record_type = 'hero' "
            "AND a.action = 'update' AND a.record_id = h.id) FROM hero h WHERE h.id IN "
        )
        rows = await database.fetch(history + f"({marks})", *ids)
    finally:
        await database.close()
    return {int(row[0]): (int(row[1]), int(row[2])) for row in rows}


def _check_saves(before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]], acks: dict[int, int]) -> str:
    """Every acknowledged save must be in the database: the version moved on by the number of 2xx answers for
    that hero, with as many history entries. A save applied whose answer wrk never read (in flight when the run
    ended) shows as one more version than answers; that is not a lost update, and is said apart."""
    lost = unacknowledged = history = 0
    for hero, (version, entries) in after.items():
        moved, acked = version - before[hero][0], acks.get(hero, 0)
        lost += max(0, acked - moved)
        unacknowledged += max(0, moved - acked)
        history += entries - before[hero][1] != moved
    return f"lost updates {lost}, history ≠ versions {history}, applied unacknowledged {unacknowledged}"


# --- signing in -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    cookie: str
    csrf: str


def _sign_in(base: str, username: str) -> Session:
    with httpx.Client(base_url=base, timeout=60) as http:
        http.get("/login")
        form = {"username": username, "password": PASSWORD, "_csrf": http.cookies.get("csrf", "")}
        answer = http.post("/login", data=form)
        if answer.status_code != 303:
            raise RuntimeError(f"sign-in as {username} answered {answer.status_code}")
        token = http.cookies["session"]
        page = http.get("/heroes?size=25")
        found = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
        if page.status_code != 200 or not found:
            raise RuntimeError(f"no CSRF token on the signed-in page ({page.status_code})")
        return Session(cookie=f"session={token}", csrf=found.group(1))


def _anonymous_csrf(base: str) -> str:
    with httpx.Client(base_url=base, timeout=60) as http:
        http.get("/login")
        return http.cookies["csrf"]


# --- measuring ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    server: Server
    sessions: dict[str, Session]
    csrf: str
    """An anonymous CSRF token (the csrf cookie's value) for sign-in forms."""
    postgres: str | None


def _wrk_args(scenario: Scenario, target: Target, facts: Facts, options: Options) -> tuple[str, list[str], int]:
    """(Lua script, its arguments, connections)."""
    session = target.sessions.get(scenario.role, Session("", ""))
    if scenario.kind == "save":
        heroes = [f"hero={hero}" for hero in facts.save_pool]
        return "save.lua", [f"cookie={session.cookie}", f"csrf={session.csrf}", *heroes], options.connections
    if scenario.kind == "login":
        users = [f"user={SIGNER}-{n}" for n in range(SIGNERS)]
        args = [f"csrf={target.csrf}", f"password={quote_plus(PASSWORD)}", *users]
        return "login.lua", args, options.login_connections
    assert scenario.path is not None
    args = [f"cookie={session.cookie}", f"path={scenario.path(facts, options.page_size)}"]
    return "get.lua", [*args, "hx=1"] if scenario.hx else args, options.connections


def _probe(scenario: Scenario, target: Target, facts: Facts, options: Options) -> int | None:
    """One request alone first: a wrong URL or a lost session shows here, not as a column of errors. Returns the
    body's size."""
    if scenario.kind != "get" or scenario.path is None:
        return None
    session = target.sessions.get(scenario.role, Session("", ""))
    headers = {"Cookie": session.cookie, **({"HX-Request": "true"} if scenario.hx else {})}
    path = scenario.path(facts, options.page_size)
    answer = httpx.get(target.server.base + path, headers=headers, timeout=60)
    if answer.status_code not in scenario.ok:
        raise RuntimeError(f"{scenario.key}: GET {path} answered {answer.status_code}")
    return len(answer.content)


def _measure(scenario: Scenario, target: Target, facts: Facts, url: str, options: Options) -> Measured:
    body_bytes = _probe(scenario, target, facts, options)
    script, args, connections = _wrk_args(scenario, target, facts, options)
    before = asyncio.run(_history(url, facts.save_pool)) if scenario.kind == "save" else {}
    meter = CpuMeter(target.server.pid, target.postgres)
    # A sign-in costs an argon2 hash (about 0.2 s of CPU here): ten seconds would see a few dozen.
    seconds = options.login_seconds if scenario.kind == "login" else options.seconds
    warm = None
    if options.warmup > 0:  # pool, caches, the planner's statistics
        warm = run_wrk(
            script, target.server.base, args, connections=connections, seconds=options.warmup, cpus=options.wrk_cpus
        )
        meter.settle()
    meter.start()
    result = run_wrk(script, target.server.base, args, connections=connections, seconds=seconds, cpus=options.wrk_cpus)
    server_cpu, database_cpu = meter.stop()
    meter.settle()  # before reading the database, and so the next run starts on a quiet server
    note = ""
    if scenario.kind == "save":
        acks = dict(result.acks)
        for hero, n in (warm.acks if warm else {}).items():
            acks[hero] = acks.get(hero, 0) + n
        after = asyncio.run(_history(url, facts.save_pool))
        saves = result.counters.get("saves", 0)
        note = f"{saves / result.seconds:.0f} saves/s; {_check_saves(before, after, acks)}"
        unparsed, starved = result.counters.get("unparsed", 0), result.counters.get("starved", 0)
        if unparsed or starved:
            note += f"; unreadable answers {unparsed}, starved {starved}"
    measured = Measured(scenario, result, connections, server_cpu, database_cpu, os.getloadavg()[0], note, body_bytes)
    errors = result.error_text(scenario.ok)
    print(
        f"  {scenario.key}: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
        f"CPU {measured.cpu_ms:.2f} ms/req, load {measured.load:.1f}"
        + (f", errors {errors}" if errors else "")
        + (f"; {note}" if note else ""),
        file=sys.stderr,
        flush=True,
    )
    return measured


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def has_fastapi() -> bool:
    return importlib.util.find_spec("fastapi") is not None


@contextmanager
def _servers(url: str, workers: int, options: Options, tag: str, *, docs: bool = False) -> Iterator[dict[str, Server]]:
    """The app and the floor (and the docs-pattern reference), each on its own port, all pinned to --server-cpus:
    only one is loaded at a time, and an idle one costs nothing."""
    env = {**os.environ, "DATABASE_URL": url}
    commands = {
        "app": ([sys.executable, "-m", "webapp", "serve"], "/login"),
        "floor": ([sys.executable, str(BENCH / "floor_app.py")], "/teams?size=25"),
    }
    if docs:
        commands["docs"] = ([sys.executable, str(BENCH / "docs_pattern_app.py")], "/heroes?size=25")
    with ExitStack() as stack:
        servers = {}
        for name, (command, ready) in commands.items():
            port = _free_port()
            servers[name] = stack.enter_context(
                served(
                    [*command, "--port", str(port), "--workers", str(workers)],
                    port=port,
                    workers=workers,
                    cpus=options.server_cpus,
                    env=env,
                    cwd=PROJECT,
                    ready=ready,
                    log=options.keep_logs / f"{tag}-{name}.log",
                )
            )
        yield servers


def _bench_group(kind: str, heroes: int, workers: int, scenarios: list[Scenario], options: Options) -> Group:
    group = Group(kind, heroes, workers)
    with _database(kind) as (url, postgres):
        group.seeding = _seed(kind, url, heroes)
        facts = asyncio.run(_facts(url, heroes, pool=4 * options.connections))
        tag = f"{kind}-{heroes}-w{workers}"
        docs = any(s.server == "docs" for s in scenarios) and has_fastapi()
        with _servers(url, workers, options, tag, docs=docs) as servers:
            app, floor = servers["app"], servers["floor"]
            sessions = {VIEWER: _sign_in(app.base, VIEWER), EDITOR: _sign_in(app.base, EDITOR)}
            # The floor keeps no sessions; a csrf cookie of any value matched by the form is all its sign-in asks.
            targets = {
                "app": Target(app, sessions, _anonymous_csrf(app.base), postgres),
                "floor": Target(floor, {}, "floor-csrf-token", postgres),
            }
            if docs:
                targets["docs"] = Target(servers["docs"], {}, "", postgres)
            print(f"{kind}, {heroes:,} heroes, {workers} worker(s)", file=sys.stderr, flush=True)
            _run_paired(group, scenarios, targets, facts, url, options)
            list_path = _list("/heroes", options.page_size)
            group.sizes = {
                "app": len(httpx.get(app.base + list_path, headers={"Cookie": sessions[VIEWER].cookie}).content),
                "floor": len(httpx.get(floor.base + list_path).content),
            }
        if options.memory:
            group.memory = _memory(url, workers, facts, options, tag)
    return group


def _run_paired(
    group: Group, scenarios: list[Scenario], targets: dict[str, Target], facts: Facts, url: str, options: Options
) -> None:
    """Each app scenario between two runs of its floor: F A F B F ... Other work on the machine comes and goes
    within minutes, so a floor measured far from a scenario (only at the start and the end) can be off by 2-4x;
    the runs adjacent to it saw about the same machine. Floors chosen without any app scenario run once each."""
    measured = {s.key: s for s in FLOORS}

    def floor_run(key: str) -> Measured:
        run = _measure(measured[key], targets["floor"], facts, url, options)
        group.floors.append(run)
        return run

    app = [s for s in scenarios if not s.is_floor]
    if not app:
        for scenario in (s for s in scenarios if s.is_floor):
            floor_run(scenario.key)
        return
    last: Measured | None = None
    for scenario in app:
        if scenario.server not in targets:
            group.skipped.append(f"{scenario.name}: not measured ({NO_FASTAPI}).")
            print(f"  {scenario.key}: skipped ({NO_FASTAPI})", file=sys.stderr, flush=True)
            continue
        before = last if last is not None and last.scenario.key == scenario.floor else floor_run(scenario.floor)
        run = _measure(scenario, targets[scenario.server], facts, url, options)
        last = floor_run(scenario.floor)
        run.floors = (before, last)
        group.app.append(run)


def _memory(url: str, workers: int, facts: Facts, options: Options, tag: str) -> list[tuple[int, int]]:
    """A fresh app server's RSS (its worker's, summed over workers) after each of --memory-requests requests of a
    mix: list pages (first, deep, filtered, sorted, searched; teams) and the detail pages of a thousand heroes."""
    with _servers(url, workers, options, f"{tag}-memory") as servers:
        app = servers["app"]
        session = _sign_in(app.base, VIEWER)
        size = options.page_size
        lists = [
            _list("/heroes", size),
            _list("/heroes", size, q=SEARCH),
            _list("/teams", size),
            _list("/heroes", size, team=facts.team),
            _list("/heroes", size, sort="-age"),
            _list("/heroes", size, after=facts.middle_token),
        ]
        # Every other request a list page (six kinds in turn), between them the detail pages of 1,000 heroes.
        paths = [path for n, hero in enumerate(facts.memory_ids) for path in (f"/heroes/{hero}", lists[n % len(lists)])]
        listed = options.keep_logs / f"{tag}-memory-paths.txt"
        listed.write_text("\n".join(paths) + "\n")
        args = [f"cookie={session.cookie}", f"paths={listed}"]
        meter, readings, done = CpuMeter(app.pid), [], 0
        print(f"memory: {', '.join(f'{mark:,}' for mark in options.memory)} requests", file=sys.stderr, flush=True)
        for mark in options.memory:
            result = run_wrk(
                "get.lua",
                app.base,
                args,
                connections=options.connections,
                seconds=3600,
                cpus=options.wrk_cpus,
                stop=mark - done,
            )
            done += result.requests
            meter.settle()  # the requests wrk left in flight are answered before reading
            rss = sum(rss_bytes(pid) for pid in app.worker_pids())
            readings.append((done, rss))
            print(
                f"  after {done:,} requests: RSS {rss / 2**20:.1f} MiB ({result.rps:.0f} req/s)",
                file=sys.stderr,
                flush=True,
            )
    return readings


# --- the report -----------------------------------------------------------------------------------------------


LEGEND = """Columns: *conns* wrk connections; *req/s* answers per second (the save cycle counts its GETs and POSTs);
*p50/p99* latency; *errors* answers with another status than expected (200; sign-in 303) and failed connections;
*floor req/s* the mean of the paired floor's runs just before and just after the scenario (both in parentheses);
*ratio* req/s over that floor (1.00 = as fast as the floor); *CPU ms/req* the server's CPU time (all its processes
and threads) per answer; *CPU ratio* that over the floor's; *server CPU* the server's CPU time over the run's wall
time (under 100% on one CPU: it waited, for the database, a lock, or a CPU shared with other work); *DB CPU ms/req*
PostgreSQL's backends for this database, per answer (SQLite's work is in the server's threads); *body bytes* one
answer's body (the POST scenarios: wrk's mean bytes per answer, headers included); *load* the one-minute load
average at the end."""

FLOOR_NAMES = {s.key: s.name.removeprefix("floor: ") for s in FLOORS}
HEADER = (
    "| scenario | conns | req/s | p50 ms | p99 ms | errors | floor req/s | ratio | CPU ms/req | CPU ratio | "
    "server CPU | DB CPU ms/req | body bytes | load | notes |"
)
ALIGN = "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"


def _row(m: Measured, name: str) -> str:
    r = m.result
    if not r.requests:
        return f"| {name} | {m.connections} | 0 | | | | | | | | | | | {m.load:.1f} | no answer within the run |"
    floor_text = ratio = cpu_ratio = ""
    if m.floor and m.floors:
        runs = " / ".join(f"{f.result.rps:.0f}" for f in m.floors)
        floor_text = f"{m.floor[0]:.0f} ({runs})"
        ratio, cpu_ratio = f"{r.rps / m.floor[0]:.2f}", f"{m.cpu_ms / m.floor[1]:.1f}"
    database = f"{m.database_ms:.2f}" if m.database_ms is not None else ""
    busy = f"{m.server_cpu / r.seconds * 100:.0f}%" if r.seconds else ""
    # The body of one answer as a browser gets it; for the POST scenarios, wrk's mean bytes per answer.
    body = f"{m.body_bytes:,}" if m.body_bytes is not None else f"{r.bytes // max(1, r.requests):,} (wire)"
    return (
        f"| {name} | {m.connections} | {r.rps:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors(m.scenario.ok)} | "
        f"{floor_text} | {ratio} | {m.cpu_ms:.2f} | {cpu_ratio} | {busy} | {database} | {body} | {m.load:.1f} | "
        f"{'; '.join(x for x in (r.error_text(m.scenario.ok), m.note) if x)} |"
    )


def _report(groups: list[Group], options: Options, command: str, loads: tuple[str, str]) -> None:
    wrk = subprocess.run([WRK, "--version"], capture_output=True, text=True, check=False).stdout.split()[:2]
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}: {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {' '.join(wrk)}. Servers pinned to CPU {options.server_cpus}, wrk (one "
        f"thread) to CPU {options.wrk_cpus}; {options.seconds:g} s per scenario ({options.login_seconds:g} s for "
        f"sign-in) after {options.warmup:g} s of "
        f"warm-up; lists of {options.page_size} rows. Load average (1, 5, 15 min): {loads[0]} at the start, "
        f"{loads[1]} at the end (the benchmark alone is about 1-2).\n"
    )
    print(f"Command: `{command}`\n")
    print(LEGEND)
    if any(g.workers > 1 for g in groups) and "," not in options.server_cpus and "-" not in options.server_cpus:
        print(
            f"\nNote: every worker is pinned to CPU {options.server_cpus}, so more workers share one CPU; give the "
            "servers more (--server-cpus 0,1, wrk then shares one) to see them scale."
        )
    for g in groups:
        print(f"\n### {g.database}, {g.heroes:,} heroes, {g.workers} worker{'s' if g.workers > 1 else ''}\n")
        if g.app:
            print(HEADER)
            print(ALIGN)
            for m in g.app:
                name = m.scenario.name
                if m.scenario.floor != "floor":
                    name += f" (vs the floor's {FLOOR_NAMES[m.scenario.floor]})"
                print(_row(m, name))
        if g.floors:
            print(f"\nFloor runs, in the order they ran, {g.database}:\n")
            print(HEADER)
            print(ALIGN)
            for m in g.floors:
                print(_row(m, m.scenario.name))
        notes = (
            [f"Heroes list body: app {g.sizes['app']:,} bytes, floor {g.sizes['floor']:,} bytes."] if g.sizes else []
        )
        first = next((m.result.rps for m in g.app if m.scenario.key == "heroes"), None)
        for m in g.app:
            if m.scenario.key.startswith("search") and first:
                notes.append(f"{m.scenario.name}: {m.result.rps / first:.2f} of the first page's req/s.")
        if g.memory:
            rss = ", ".join(f"{rss / 2**20:.1f} MiB after {n:,} requests" for n, rss in g.memory)
            change = (g.memory[-1][1] / g.memory[0][1] - 1) * 100
            notes.append(f"App worker RSS (a fresh server): {rss} ({change:+.1f}% from the first to the last).")
        notes += g.skipped
        notes.append(f"Seeding took {g.seeding:.1f} s.")
        print("\n" + "\n".join(f"- {note}" for note in notes))


def _chosen(keys: str) -> list[Scenario]:
    known = {s.key: s for s in FLOORS + APP}
    wanted = [key.strip() for key in keys.split(",") if key.strip() and key.strip() != "none"]
    unknown = [key for key in wanted if key not in known]
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(unknown)} (known: {', '.join(known)})")
    return [s for s in FLOORS + APP if s.key in wanted]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000", help="hero counts, comma-separated (teams: one per 100 heroes)")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--workers", default="1", help="uvicorn worker counts, comma-separated (e.g. 1,2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--login-connections", type=int, help="connections for sign-in (default: --connections)")
    parser.add_argument("--seconds", type=float, default=10, help="measuring time per scenario")
    parser.add_argument("--login-seconds", type=float, default=20, help="measuring time for sign-in (argon2 is slow)")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up time per scenario (0: none)")
    parser.add_argument("--page-size", type=int, default=50, choices=(25, 50, 100), help="rows per list page")
    parser.add_argument("--server-cpus", default="0", help="taskset CPU list for the servers")
    parser.add_argument("--wrk-cpus", default="1", help="taskset CPU list for wrk")
    parser.add_argument("--memory", action="store_true", help="also the app's RSS after 10,000 and 100,000 requests")
    parser.add_argument("--memory-requests", default="10000,100000", help="when --memory reads RSS (request counts)")
    parser.add_argument(
        "--logs", type=Path, default=Path(tempfile.gettempdir()) / "hero_bench_logs", help="server logs"
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(s.key for s in FLOORS + APP),
        help="comma-separated, from: " + ", ".join(s.key for s in FLOORS + APP) + " (floors are added as needed)",
    )
    args = parser.parse_args()
    options = Options(
        args.seconds,
        args.warmup,
        args.connections,
        args.login_connections or args.connections,
        args.page_size,
        args.server_cpus,
        args.wrk_cpus,
        args.logs,
        tuple(int(n) for n in args.memory_requests.split(",")) if args.memory else (),
        args.login_seconds,
    )
    if not Path(WRK).is_absolute():
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk)")
    options.keep_logs.mkdir(parents=True, exist_ok=True)
    scenarios = _chosen(args.scenarios)
    loads = " ".join(f"{x:.1f}" for x in os.getloadavg())
    groups = [
        _bench_group(kind, int(size), int(workers), scenarios, options)
        for kind in args.databases.split(",")
        for size in args.sizes.split(",")
        for workers in args.workers.split(",")
    ]
    command = shlex.join([".venv/bin/python", "bench/floor_run.py", *sys.argv[1:]])
    _report(groups, options, command, (loads, " ".join(f"{x:.1f}" for x in os.getloadavg())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

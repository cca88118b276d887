"""List benchmarks: seed a database, serve the app under uvicorn, and measure each list scenario with N
concurrent clients. Prints a Markdown table (requests per second, p50 and p99 latency) and the seeding times.

    .venv/bin/python bench/run.py                          # 10k, 100k and 1M heroes, SQLite and PostgreSQL
    .venv/bin/python bench/run.py --sizes 1000000 --databases postgresql --seconds 20
    .venv/bin/python bench/run.py --sizes 100000 --scenarios search,search-2 --seconds 5

Each size is seeded with `python -m webapp demo --heroes N --teams N/100` (the same data every time).
PostgreSQL comes from BENCH_POSTGRES_URL (default: the local server, trust auth); each run makes its own
database (`hero_bench_…`) and drops it, and runs VACUUM ANALYZE after seeding (what autovacuum would have done
to a table that size before anyone browses it). The server and the load generator share this machine, so the
figures are for comparing runs on one machine, not absolute capacities.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from webapp.listing import Cursor

PROJECT = Path(__file__).resolve().parent.parent

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
USER, PASSWORD = "bench", "a benchmark passphrase"
# Search terms chosen from webapp/demo.py's word lists. Both match about 2% of the heroes (a family name among
# 46, each hero's secret name has one), so the two searches differ only in how they are answered: three
# characters or more use the trigram indexes, two characters cannot and scan.
SEARCH = "Nakamura"
SEARCH_SHORT = "Xu"
TEAM_SEARCH = "Harbor"  # Harbor Point: every 24th generated team has its headquarters there
AGES = {"min_age": "30", "max_age": "40"}


@dataclass(frozen=True)
class Facts:
    """What the scenarios' URLs need from the seeded database."""

    heroes: int
    middle: Cursor
    """The hero in the middle of the (name, id) order: a page deep in the list starts after it."""
    team: str
    """A team's exact name, for the team filter (about 90 heroes each: 9 in 10 generated heroes have a team)."""


@dataclass(frozen=True)
class Scenario:
    key: str
    name: str
    path: Callable[[Facts], str]


def _query(path: str, **params: str) -> str:
    return f"{path}?{urlencode(params)}"


SCENARIOS = [
    Scenario("heroes", "heroes, first page", lambda facts: "/heroes"),
    Scenario("deep", "heroes, a page deep in the list", lambda facts: _query("/heroes", after=facts.middle.token)),
    Scenario("team", "heroes, filtered by a team", lambda facts: _query("/heroes", team=facts.team)),
    Scenario("ages", "heroes, ages 30 to 40", lambda facts: _query("/heroes", **AGES)),
    Scenario("age-desc", "heroes, sorted by age descending", lambda facts: _query("/heroes", sort="-age")),
    Scenario("search", f"heroes, search “{SEARCH}”", lambda facts: _query("/heroes", q=SEARCH)),
    Scenario("search-2", f"heroes, search “{SEARCH_SHORT}”", lambda facts: _query("/heroes", q=SEARCH_SHORT)),
    Scenario("teams", "teams, first page", lambda facts: "/teams"),
    Scenario("teams-search", f"teams, search “{TEAM_SEARCH}”", lambda facts: _query("/teams", q=TEAM_SEARCH)),
    Scenario("hero", "one hero", lambda facts: f"/heroes/{facts.middle.id}"),
]


@dataclass(frozen=True)
class Result:
    database: str
    heroes: int
    scenario: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    load: float
    """The machine's one-minute load average when the scenario ended: about 2 is this benchmark alone (server
    and clients); more means other work shared the CPUs."""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")


def _run(args: list[str], database_url: str, stdin: str | None = None) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    # Their messages go with the progress on stderr: stdout is the tables alone.
    command = [sys.executable, "-m", "webapp", *args]
    subprocess.run(command, cwd=PROJECT, env=env, input=stdin, text=True, check=True, stdout=sys.stderr)


def _plain(url: str) -> str:
    """asyncpg's form of an SQLAlchemy PostgreSQL URL."""
    return re.sub(r"^postgresql\+asyncpg", "postgresql", url)


async def _execute(url: str, sql: str) -> None:
    connection = await asyncpg.connect(_plain(url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def _database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
        return
    name = f"hero_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_execute(POSTGRES, f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_execute(POSTGRES, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _seed(kind: str, url: str, heroes: int) -> float:
    """Seed and settle the database; returns the seconds the demo command took."""
    print(f"seeding {kind} with {heroes:,} heroes", file=sys.stderr, flush=True)
    started = time.perf_counter()
    _run(["demo", "--heroes", str(heroes), "--teams", str(max(1, heroes // 100))], url)
    seconds = time.perf_counter() - started
    _run(["users", "create", USER, "--role", "viewer"], url, stdin=PASSWORD + "\n")
    if kind == "postgresql":
        asyncio.run(_execute(url, "VACUUM ANALYZE"))
    return seconds


async def _facts(url: str, heroes: int) -> Facts:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            count = (await connection.execute(text("SELECT count(*) FROM hero WHERE deleted_at IS NULL"))).scalar_one()
            middle = text("SELECT name, id FROM hero WHERE deleted_at IS NULL ORDER BY name, id LIMIT 1 OFFSET :n")
            name, hero_id = (await connection.execute(middle, {"n": count // 2})).one()
            teams = (await connection.execute(text("SELECT count(*) FROM team WHERE deleted_at IS NULL"))).scalar_one()
            a_team = text("SELECT name FROM team WHERE deleted_at IS NULL ORDER BY id LIMIT 1 OFFSET :n")
            team = (await connection.execute(a_team, {"n": teams // 2})).scalar_one()
    finally:
        await engine.dispose()
    return Facts(heroes=heroes, middle=Cursor(name, hero_id), team=team)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server(database_url: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "webapp", "serve", "--port", str(port)],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _signed_in(base: str, clients: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    http = httpx.AsyncClient(base_url=base, limits=limits, timeout=60)
    await http.get("/login")
    form = {"username": USER, "password": PASSWORD, "_csrf": http.cookies.get("csrf", "")}
    response = await http.post("/login", data=form)
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    return http


async def _measure(
    http: httpx.AsyncClient, path: str, clients: int, seconds: float
) -> tuple[int, Counter[str], list[float]]:
    """Requests made, what went wrong with those that were not 200 (status or timeout), every request's latency."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                status = str((await http.get(path)).status_code)
            except httpx.TimeoutException:
                status = "timeout"
            latencies.append(time.perf_counter() - started)
            if status != "200":
                errors[status] += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return len(latencies), errors, latencies


async def _bench(
    base: str, kind: str, facts: Facts, scenarios: list[Scenario], clients: int, seconds: float
) -> list[Result]:
    http = await _signed_in(base, clients)
    results = []
    try:
        for scenario in scenarios:
            path = scenario.path(facts)
            # One request alone first: a wrong URL shows up here, not as a column of errors.
            probe = await http.get(path)
            if probe.status_code != 200:
                raise RuntimeError(f"{scenario.key}: GET {path} answered {probe.status_code}")
            await _measure(http, path, clients, min(2.0, seconds))  # warm up: pool, caches, the planner's
            started = time.perf_counter()
            count, errors, latencies = await _measure(http, path, clients, seconds)
            elapsed = time.perf_counter() - started
            load = os.getloadavg()[0]
            result = Result(kind, facts.heroes, scenario.name, count, errors.total(), elapsed, latencies, load)
            results.append(result)
            print(
                f"  {kind} {facts.heroes:,} {scenario.name}: {count / elapsed:.0f} req/s "
                f"(one alone: {probe.elapsed.total_seconds() * 1000:.0f} ms, {len(probe.content):,} bytes; "
                f"load {load:.1f})" + (f", errors: {dict(errors)}" if errors else ""),
                file=sys.stderr,
                flush=True,
            )
    finally:
        await http.aclose()
    return results


def _chosen(keys: str) -> list[Scenario]:
    wanted = [key.strip() for key in keys.split(",") if key.strip()]
    known = {scenario.key: scenario for scenario in SCENARIOS}
    unknown = [key for key in wanted if key not in known]
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(unknown)} (known: {', '.join(known)})")
    return [scenario for scenario in SCENARIOS if scenario.key in wanted]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="hero counts, comma-separated")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=10, help="measuring time per scenario")
    parser.add_argument(
        "--scenarios",
        default=",".join(scenario.key for scenario in SCENARIOS),
        help="comma-separated, from: " + ", ".join(scenario.key for scenario in SCENARIOS),
    )
    args = parser.parse_args()
    scenarios = _chosen(args.scenarios)
    results: list[Result] = []
    seeding: list[tuple[str, int, float]] = []
    for kind in args.databases.split(","):
        for heroes in (int(size) for size in args.sizes.split(",")):
            with _database(kind) as url:
                seeding.append((kind, heroes, _seed(kind, url, heroes)))
                facts = asyncio.run(_facts(url, heroes))
                with _server(url) as base:
                    results.extend(asyncio.run(_bench(base, kind, facts, scenarios, args.clients, args.seconds)))
    print(f"\n{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, ", end="")
    print(f"{args.clients} clients, {args.seconds:g} s per scenario, one uvicorn worker\n")
    print("| database | heroes | scenario | req/s | p50 ms | p99 ms | errors | load |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r.database} | {r.heroes:,} | {r.scenario} | {r.rps:.0f} | {r.percentile(0.5):.1f} | "
            f"{r.percentile(0.99):.1f} | {r.errors} | {r.load:.1f} |"
        )
    print("\n| database | heroes | teams | seeding s |")
    print("| --- | ---: | ---: | ---: |")
    for kind, heroes, seconds in seeding:
        print(f"| {kind} | {heroes:,} | {max(1, heroes // 100):,} | {seconds:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""List benchmarks: seed a database, serve the app under uvicorn, and measure each list scenario with N
concurrent clients. Prints a Markdown table (requests per second, p50 and p99 latency).

    .venv/bin/python bench/run.py                          # 10k and 100k heroes, SQLite and PostgreSQL
    .venv/bin/python bench/run.py --sizes 1000000 --databases postgresql --seconds 20

PostgreSQL comes from BENCH_POSTGRES_URL (default: the local server, trust auth); each run makes its own
database (`hero_bench_…`) and drops it. The server and the load generator share this machine, so the figures
are for comparing runs on one machine, not absolute capacities.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

PROJECT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
USER, PASSWORD = "bench", "a benchmark passphrase"


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Callable[[int], str]
    """The path to request, given the number of heroes."""


SCENARIOS = [
    Scenario("heroes, first page", lambda heroes: "/heroes"),
    Scenario("heroes, a page deep in the list", lambda heroes: f"/heroes?page={max(1, heroes // 25 // 2)}"),
    Scenario("teams, first page", lambda heroes: "/teams"),
    Scenario("one hero", lambda heroes: f"/heroes/{max(1, heroes // 2)}"),
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

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")


def _run(args: list[str], database_url: str, stdin: str | None = None) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([sys.executable, "-m", "webapp", *args], cwd=PROJECT, env=env, input=stdin, text=True, check=True)


@contextmanager
def _database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
        return
    name = f"hero_bench_{uuid.uuid4().hex[:8]}"
    admin = re.sub(r"^postgresql\+asyncpg", "postgresql", POSTGRES)

    async def execute(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
    http = httpx.AsyncClient(base_url=base, limits=limits, timeout=30)
    await http.get("/login")
    form = {"username": USER, "password": PASSWORD, "_csrf": http.cookies.get("csrf", "")}
    response = await http.post("/login", data=form)
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    return http


async def _measure(http: httpx.AsyncClient, path: str, clients: int, seconds: float) -> tuple[int, int, list[float]]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await http.get(path)
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 200

    await asyncio.gather(*(client() for _ in range(clients)))
    return len(latencies), errors, latencies


async def _bench(base: str, kind: str, heroes: int, clients: int, seconds: float) -> list[Result]:
    http = await _signed_in(base, clients)
    results = []
    try:
        for scenario in SCENARIOS:
            path = scenario.path(heroes)
            await _measure(http, path, clients, min(2.0, seconds))  # warm up: pool, caches, JIT of the planner
            started = time.perf_counter()
            count, errors, latencies = await _measure(http, path, clients, seconds)
            elapsed = time.perf_counter() - started
            results.append(Result(kind, heroes, scenario.name, count, errors, elapsed, latencies))
            print(f"  {kind} {heroes:,} {scenario.name}: {count / elapsed:.0f} req/s", file=sys.stderr, flush=True)
    finally:
        await http.aclose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="hero counts, comma-separated")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=10, help="measuring time per scenario")
    args = parser.parse_args()
    results: list[Result] = []
    for kind in args.databases.split(","):
        for heroes in (int(size) for size in args.sizes.split(",")):
            with _database(kind) as url:
                print(f"seeding {kind} with {heroes:,} heroes", file=sys.stderr, flush=True)
                _run(["demo", "--heroes", str(heroes), "--teams", str(max(1, heroes // 100))], url)
                _run(["users", "create", USER, "--role", "viewer"], url, stdin=PASSWORD + "\n")
                with _server(url) as base:
                    results.extend(asyncio.run(_bench(base, kind, heroes, args.clients, args.seconds)))
    print(f"\n{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, ", end="")
    print(f"{args.clients} clients, {args.seconds:g} s per scenario, one uvicorn worker\n")
    print("| database | heroes | scenario | req/s | p50 ms | p99 ms | errors |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r.database} | {r.heroes:,} | {r.scenario} | {r.rps:.0f} | {r.percentile(0.5):.1f} | "
            f"{r.percentile(0.99):.1f} | {r.errors} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

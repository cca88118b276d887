"""The measuring side of the floor benchmark: wrk runs (pinned with taskset) and /proc readings of the server.

Nothing here knows the app: `floor_run.py` decides what to request and what counts as an answer.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

LUA = Path(__file__).resolve().parent / "lua"
# Absolute paths, found once: the benchmark needs both (Debian: apt-get install -y wrk; taskset is util-linux).
WRK = shutil.which("wrk") or "wrk"
TASKSET = shutil.which("taskset") or "taskset"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class WrkResult:
    """One wrk run as bench/lua/common.lua reports it."""

    requests: int
    seconds: float
    bytes: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: Counter[int]
    counters: dict[str, int] = field(default_factory=dict)
    """Script-specific counts (save.lua: saves, unparsed, starved)."""
    acks: dict[int, int] = field(default_factory=dict)
    """save.lua: acknowledged saves per hero id."""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def errors(self, ok: frozenset[int]) -> int:
        """Answers with a status outside `ok`, plus connections that failed (wrk's connect/read/write errors)."""
        return sum(n for status, n in self.statuses.items() if status not in ok) + self.socket_errors

    def error_text(self, ok: frozenset[int]) -> str:
        parts = [f"{status}: {n}" for status, n in sorted(self.statuses.items()) if status not in ok]
        if self.socket_errors:
            parts.append(f"socket: {self.socket_errors}")
        return ", ".join(parts)


def parse_wrk(output: str) -> WrkResult:
    values: dict[str, int] = {}
    statuses: Counter[int] = Counter()
    acks: dict[int, int] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[0] != "bench":
            continue
        if parts[1] == "status":
            statuses[int(parts[2])] += int(parts[3])
        elif parts[1] == "ack":
            acks[int(parts[2])] = acks.get(int(parts[2]), 0) + int(parts[3])
        else:
            values[parts[1]] = values.get(parts[1], 0) + int(parts[2])
    if "requests" not in values:
        raise RuntimeError(f"wrk gave no report:\n{output}")
    # A run stopped after N answers (stop=N) reports only its count and statuses.
    for key in ("duration_us", "bytes", "socket_errors", "p50_us", "p90_us", "p99_us", "max_us"):
        values.setdefault(key, 0)
    standard = ("requests", "duration_us", "bytes", "socket_errors", "timeouts", "p50_us", "p90_us", "p99_us", "max_us")
    return WrkResult(
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        bytes=values["bytes"],
        socket_errors=values["socket_errors"],
        p50_ms=values["p50_us"] / 1000,
        p90_ms=values["p90_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        max_ms=values["max_us"] / 1000,
        statuses=statuses,
        counters={key: value for key, value in values.items() if key not in standard},
        acks=acks,
    )


def run_wrk(
    script: str, base: str, args: list[str], *, connections: int, seconds: float, cpus: str, stop: int | None = None
) -> WrkResult:
    """wrk with one thread on `cpus`. With `stop`, the run ends after that many answers instead of after `seconds`.
    The timeout is a minute: wrk's own (2 s) counts slow answers again and again while they are in flight."""
    command = [TASKSET, "-c", cpus, WRK, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    command += ["--timeout", "60s", "-s", str(LUA / script), base, "--", *args]
    if stop is not None:
        command.append(f"stop={stop}")
    started = time.monotonic()
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr or finished.stdout}")
    result = parse_wrk(finished.stdout)
    if not result.seconds:
        result = dataclasses.replace(result, seconds=time.monotonic() - started)
    return result


# --- /proc: CPU time and memory of a process tree, and of PostgreSQL backends ---------------------------------


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    # The command name is in parentheses and may hold spaces: the fields proper start after the last ")".
    return text[text.rindex(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (uvicorn's worker processes, multiprocessing helpers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int(_stat_fields(int(entry.name))[1])
            except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User plus system CPU time of each process (all its threads: aiosqlite's and argon2's included)."""
    times = {}
    for pid in pids:
        try:
            fields = _stat_fields(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return times


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def postgres_backends(database: str) -> list[int]:
    """PostgreSQL's processes serving `database`: each backend's title is "postgres: [CLUSTER: ]USER DATABASE
    HOST(PORT) ..." (Debian names the cluster, "15/main: ")."""
    pattern = re.compile(rf"^postgres: (?:\S+: )?\S+ {re.escape(database)} ")
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
            if pattern.match(title):
                found.append(int(entry.name))
    return found


@dataclass
class CpuMeter:
    """CPU seconds spent between start() and stop() by the server's process tree and, on PostgreSQL, by the
    backends serving its database (they come and go with the pool: a backend that exits meanwhile is missed)."""

    server_pid: int
    postgres_database: str | None = None
    _server: dict[int, float] = field(default_factory=dict)
    _database: dict[int, float] = field(default_factory=dict)

    def _backends(self) -> list[int]:
        return postgres_backends(self.postgres_database) if self.postgres_database else []

    def start(self) -> None:
        self._server = cpu_seconds(descendants(self.server_pid))
        self._database = cpu_seconds(self._backends())

    def total(self) -> float:
        return sum(cpu_seconds(descendants(self.server_pid) + self._backends()).values())

    def settle(self, *, interval: float = 0.25, limit: float = 120) -> float:
        """Wait until the server (and its database backends) go quiet: wrk leaves requests in flight when a run
        ends, and the server works on them after. Left alone, that work would be charged to the next run, and a
        save still in flight would make the next run's first save of that hero stale. Returns the seconds waited."""
        started = time.monotonic()
        last = self.total()
        while time.monotonic() - started < limit:
            time.sleep(interval)
            now = self.total()
            if now - last <= 2 / TICKS:  # a tick or two: idle bookkeeping, the event loop's timers
                break
            last = now
        return time.monotonic() - started

    def stop(self) -> tuple[float, float | None]:
        """(server CPU seconds, database CPU seconds or None for SQLite, whose work is in the server's threads)."""
        server = _delta(self._server, cpu_seconds(descendants(self.server_pid)))
        if not self.postgres_database:
            return server, None
        return server, _delta(self._database, cpu_seconds(self._backends()))


def _delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# --- servers --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    base: str
    pid: int
    workers: int

    def worker_pids(self) -> list[int]:
        """The processes that answer requests: the server itself with one worker, else uvicorn's children
        (the multiprocessing resource tracker is not one of them)."""
        if self.workers == 1:
            return [self.pid]
        pids = descendants(self.pid)[1:]
        return [pid for pid in pids if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]


@contextmanager
def served(
    command: list[str], *, port: int, workers: int, cpus: str, env: dict[str, str], cwd: Path, ready: str, log: Path
) -> Iterator[Server]:
    """Start a server pinned to `cpus` and wait until `ready` answers; stop it (SIGTERM, then SIGKILL) afterwards."""
    with log.open("w") as output:
        process = subprocess.Popen(
            [TASKSET, "-c", cpus, *command], cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[:4]} exited with {process.returncode}; see {log}")
            try:
                httpx.get(base + ready, timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[:4]} did not answer within 120 s; see {log}") from None
                time.sleep(0.2)
        yield Server(base=base, pid=process.pid, workers=workers)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            print(f"  {command[:4]} ignored SIGTERM; killing it", file=sys.stderr)
            process.kill()
            process.wait()

"""The long soak, run by hand: many signed-in editors (reads, creates, edits; every acknowledged write in a ledger)
against `python -m webapp serve` for minutes, on SQLite and on a private PostgreSQL cluster, optionally with a
fault in the middle. Prints p50/p99/max per kind of request, the count of 5xx, and the acknowledged writes lost
or doubled. The fast tier of the same scenarios runs in CI: tests/faults/.

    .venv/bin/python bench/soak.py                                  # 30 clients, 3 minutes, both databases
    .venv/bin/python bench/soak.py --databases postgresql --fault freeze --fault-seconds 20
    .venv/bin/python bench/soak.py --databases sqlite --fault lock --seconds 60 --clients 30

PostgreSQL is a cluster of the soak's own (initdb in a temporary directory; as root, run as the postgres user),
so faults never touch a shared server. `--fault disk-full` needs root (it mounts a tmpfs for the SQLite file).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

# The harness lives with the fault tests that CI runs; the soak drives the same editors and ledger.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.databases import create_postgres_database
from tests.faults.cluster import Cluster, private_cluster
from tests.faults.load import Answer, Editors
from tests.faults.processes import Server, disk_full, tmpfs, write_lock_held
from tests.faults.scenario import DEADLINE_BOUND, HEALTH_BOUND, REFUSED_BOUND, Expect, Fault, problems

FAULTS = ("none", "restart", "stop", "freeze", "lock", "disk-full", "kill")
POSTGRES_FAULTS = {"restart", "stop", "freeze"}
SQLITE_FAULTS = {"lock", "disk-full"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(
    database: str, answers: list[Answer], seconds: float, found: list[str], fault: tuple[float, float] | None = None
) -> None:
    print(f"\n## {database}: {len(answers):,} requests in {seconds:.0f} s ({len(answers) / seconds:.0f}/s)\n")
    table(answers)
    if fault is not None:
        # The targets during a fault (reads while SQLite's lock is held elsewhere, /healthz while PostgreSQL is
        # frozen) are about its window: the requests sent from its start until the database answers again.
        started, ended = fault
        print(f"\nSent during the fault ({ended - started:.1f} s):\n")
        table([a for a in answers if started <= a.started <= ended])
    server_errors = sum(1 for a in answers if a.status is not None and a.status >= 500)
    print(f"\n5xx: {server_errors:,} (503: {sum(1 for a in answers if a.status == 503):,}); no answer: "
          f"{sum(1 for a in answers if a.status is None):,}")  # fmt: skip
    print("problems (lost or doubled writes, half-written rows; with a fault, its checks):")
    print("\n".join(f"- {line}" for line in found) or "- none")


def table(answers: list[Answer]) -> None:
    print("| kind | requests | p50 ms | p99 ms | max ms | statuses |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for kind in ("read", "create", "edit", "health"):
        mine = [a for a in answers if a.kind == kind]
        times = [a.seconds * 1000 for a in mine if a.status is not None]
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(Counter(a.status for a in mine).items(), key=str))
        print(
            f"| {kind} | {len(mine):,} | {percentile(times, 0.5):.0f} | {percentile(times, 0.99):.0f} "
            f"| {max(times, default=0):.0f} | {statuses} |"
        )


def injector(name: str, server: Server, cluster: Cluster | None, seconds: float) -> Callable[[Fault], None]:
    def inject(fault: Fault) -> None:
        database = Path(server.database_url.split("///", 1)[-1])
        if name == "restart" and cluster:
            cluster.restart()
        elif name == "stop" and cluster:
            cluster.stop()
            time.sleep(seconds)
            cluster.start()
        elif name == "freeze" and cluster:
            with cluster.frozen():
                time.sleep(seconds)
        elif name == "lock":
            with write_lock_held(database):
                time.sleep(seconds)
        elif name == "disk-full":
            with sqlite3.connect(database, timeout=30) as outside:
                outside.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            with disk_full(database.parent):
                time.sleep(seconds)
        elif name == "kill":
            server.kill()
            server.start()
        fault.over()

    return inject


def applies(fault: str, database: str) -> bool:
    """A fault of one database's own (a PostgreSQL freeze, a SQLite lock) is left out of the other's soak."""
    if fault in POSTGRES_FAULTS:
        return database == "postgresql"
    return database == "sqlite" if fault in SQLITE_FAULTS else True


def start_server(
    database: str, directory: Path, args: argparse.Namespace, stack: ExitStack
) -> tuple[Server, Cluster | None]:
    """The app on a new database: a private PostgreSQL cluster, or a SQLite file (on a tmpfs for disk-full)."""
    cluster = None
    if database == "postgresql":
        cluster = stack.enter_context(private_cluster())
        url = create_postgres_database(cluster.url)
    else:
        disk = directory / "disk"
        if args.fault == "disk-full":
            stack.enter_context(tmpfs(disk, "64m"))
        disk.mkdir(exist_ok=True)
        url = f"sqlite+aiosqlite:///{disk / 'soak.db'}"
    server = Server(url, args.logs / f"{database}.log", workers=args.workers)
    server.start()
    stack.callback(server.stop)
    return server, cluster


def soak(database: str, args: argparse.Namespace) -> None:
    fault = args.fault if applies(args.fault, database) else "none"
    with tempfile.TemporaryDirectory(prefix="hero-soak-") as temporary, ExitStack() as stack:
        server, cluster = start_server(database, Path(temporary), args, stack)
        started = time.monotonic()
        with Editors(server.url, server.database_url, args.clients, pause=args.pause, prefix="S") as editors:
            happened = Fault(server)
            if fault != "none":
                time.sleep(args.fault_at)
                happened.started, happened.log_at_start = time.monotonic(), server.log_bytes()
                print(f"{database}: {fault} at {happened.started - started:.0f} s", file=sys.stderr)
                injector(fault, server, cluster, args.fault_seconds)(happened)
                happened.log_at_end, happened.settled = server.log_bytes(), time.monotonic()
            time.sleep(max(0.0, started + args.seconds - time.monotonic()))
        elapsed = time.monotonic() - started
        if fault == "none":
            found = editors.ledger.verify(server.database_url)
        else:
            # The fault's own checks (no 500, answer bound, recovery, log volume), besides the ledger's.
            bound = REFUSED_BOUND if fault in {"restart", "stop"} else DEADLINE_BOUND
            killed = fault == "kill"
            expect = Expect(
                bound=bound, refused=frozenset(), unanswered=killed, health_bound=None if killed else HEALTH_BOUND
            )
            found = problems(editors, happened, expect)
        print(f"\nacknowledged writes: {editors.ledger.acknowledged:,}; fault: {fault}")
        window = (happened.started, happened.ended) if fault != "none" else None
        report(database, editors.answers, elapsed, found, window)
        if fault != "none":
            after = [a.ended for a in editors.answers if a.ok and a.group != "health" and a.ended >= happened.ended]
            first = f"{min(after) - happened.ended:.2f} s" if after else "none"
            print(f"first success after the database answered again: {first}; the server logged "
                  f"{happened.log_at_end - happened.log_at_start:,} bytes from the fault's start until writes went "
                  "through again")  # fmt: skip
        print(f"server log: {server.log}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--clients", type=int, default=30, help="concurrent editors")
    parser.add_argument("--seconds", type=float, default=180, help="how long each database is soaked")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds each editor waits between steps")
    parser.add_argument("--fault", choices=FAULTS, default="none", help="a fault in the middle of the soak")
    parser.add_argument("--fault-at", type=float, default=30, help="seconds into the soak the fault begins")
    parser.add_argument(
        "--fault-seconds", type=float, default=15, help="how long a stop, freeze, lock or full disk lasts"
    )
    parser.add_argument("--logs", type=Path, help="where the servers' logs are kept (default: a new directory)")
    args = parser.parse_args()
    args.logs = args.logs or Path(tempfile.mkdtemp(prefix="hero-soak-logs-"))
    args.logs.mkdir(parents=True, exist_ok=True)
    for database in args.databases.split(","):
        soak(database.strip(), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

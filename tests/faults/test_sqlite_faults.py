"""SQLite under load while another process holds the write lock, and while its disk is full: reads go on being
served, writes are refused with 503 in bounded time, and every acknowledged write is in the file exactly once."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.conftest import required
from tests.faults.processes import Server, disk_full, tmpfs, write_lock_held
from tests.faults.scenario import DEADLINE_BOUND, Expect, Fault, weathered

# Longer than the app's deadline (about 5 s), so writes waiting for the lock must be refused rather than wait.
LOCK_SECONDS = 8.0
DISK_FULL_SECONDS = 5.0
# Reads never wait for a writer (WAL): they stay quick while writes queue for the lock.
READ_BOUND = 1.0
WRITES = frozenset({"write"})


def database_file(server: Server) -> Path:
    return Path(server.database_url.split("///", 1)[1])


def test_write_lock_held_elsewhere_refuses_writes_and_keeps_reads(sqlite_server: Server) -> None:
    def hold(fault: Fault) -> None:
        with write_lock_held(database_file(sqlite_server)):
            time.sleep(LOCK_SECONDS)
        fault.over()

    expect = Expect(bound=DEADLINE_BOUND, refused=WRITES, served=frozenset({"read"}), read_bound=READ_BOUND)
    weathered(sqlite_server, hold, expect)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs of its own, for a SQLite file to fill."""
    try:
        with tmpfs(tmp_path / "disk", "16m"):
            yield tmp_path / "disk"
    except PermissionError as refused:
        required(f"the disk-full test mounts a tmpfs, which needs root: {refused}", "CI", "REQUIRE_FAULTS")


@pytest.fixture
def small_disk_server(small_disk: Path, tmp_path: Path) -> Iterator[Server]:
    """The app on a SQLite file alone on the small disk (its log elsewhere)."""
    server = Server(f"sqlite+aiosqlite:///{small_disk / 'faults.db'}", tmp_path / "server.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_disk_full_refuses_writes_and_keeps_reads(small_disk_server: Server) -> None:
    database = database_file(small_disk_server)

    def fill(fault: Fault) -> None:
        # An emptied WAL must grow with the next commit: the very first write after the disk fills needs space.
        with sqlite3.connect(database, timeout=30) as outside:
            outside.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with disk_full(database.parent):
            time.sleep(DISK_FULL_SECONDS)
        fault.over()

    expect = Expect(bound=DEADLINE_BOUND, refused=WRITES, served=frozenset({"read"}), read_bound=READ_BOUND)
    weathered(small_disk_server, fill, expect)

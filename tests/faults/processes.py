"""The app as an operator runs it: `python -m webapp serve` in a process group of its own (uvicorn's workers
included), its output in a log file whose growth the tests measure, stopped or killed as a whole."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from webapp.config import PROJECT_DIR


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`python -m webapp serve --workers N` on `database_url`, on a port kept across restarts."""

    def __init__(self, database_url: str, log: Path, *, workers: int = 2, env: dict[str, str] | None = None) -> None:
        self.database_url, self.log, self.workers = database_url, log, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DATABASE_URL": database_url, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "webapp", "serve", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_DIR, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        """Until every worker could be answering: a few answers in a row (each may come from either worker)."""
        assert self.process is not None
        deadline, answered = time.monotonic() + 60, 0
        while time.monotonic() < deadline and answered < 2 * self.workers:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{self.log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{self.url}/login", timeout=5) as response:
                    answered += response.status == 200
            except (OSError, urllib.error.HTTPError):
                answered = 0
                time.sleep(0.1)
        if answered < 2 * self.workers:
            raise RuntimeError(f"the server did not start:\n{self.log.read_text(errors='replace')}")

    def kill(self) -> None:
        """kill -9 of every process of the server at once: no shutdown, no flush, answers in flight never sent."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def log_bytes(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_text(self, since: int = 0) -> str:
        with self.log.open("rb") as log:
            log.seek(since)
            return log.read().decode(errors="replace")


# Run by another Python process: take SQLite's write lock, say so, and keep it until told to let go (a line on stdin).
_HOLD_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
connection.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
connection.close()
"""


@contextmanager
def write_lock_held(database: Path) -> Iterator[None]:
    """SQLite's write lock held by another process (a backup script, a second app, a stuck cron job) for the block."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        if holder.stdout.readline().strip() != "held":
            raise RuntimeError("the lock holder could not take the write lock")
        yield
    finally:
        holder.stdin.write("go\n")
        holder.stdin.close()
        holder.wait(timeout=30)


@contextmanager
def disk_full(directory: Path) -> Iterator[None]:
    """The file system of `directory` filled to the last byte for the block, by a file that is removed after."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        for size in (1 << 20, 4096, 1):  # big writes, then what is left of the last block
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(descriptor)
    try:
        yield
    finally:
        filler.unlink()


@contextmanager
def tmpfs(directory: Path, size: str) -> Iterator[None]:
    """A small tmpfs mounted at `directory` for the block. PermissionError when this process may not mount."""
    directory.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        raise PermissionError(f"cannot mount a tmpfs at {directory}: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield
    finally:
        subprocess.run(["umount", "--lazy", str(directory)], check=True)

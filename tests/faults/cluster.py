"""A private PostgreSQL cluster for fault tests: made with `initdb` in a temporary directory, on a free port, with
trust authentication, and removed afterwards. The faults (restart, stop, freeze) are done to it and never to the
shared server the other tests use.

`initdb` and the server refuse to run as root, so as root (CI) they run as the `postgres` user through `runuser`,
and the directory is handed to that user first.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.faults.processes import free_port

POSTGRES_ROOT = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"


def binaries() -> Path | None:
    """The newest installed server's bin directory (Debian keeps one per major version), or None."""
    if override := os.environ.get("PG_BINDIR"):
        return Path(override)
    versions = sorted(
        (path for path in POSTGRES_ROOT.glob("*/bin") if path.parent.name.isdigit() and (path / "pg_ctl").exists()),
        key=lambda path: int(path.parent.name),
    )
    if versions:
        return versions[-1]
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


class Cluster:
    """One running PostgreSQL server of our own: `url` reaches its maintenance database as `postgres`."""

    def __init__(self, bindir: Path, directory: Path, port: int) -> None:
        self.bindir, self.directory, self.port = bindir, directory, port
        self.data = directory / "data"
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVICE_USER, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=60)

    def _pg_ctl(self, action: str, *more: str) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "server.log"), "-o", options, "-w",
                  action, *more)  # fmt: skip

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        """A fast restart: sessions are ended, the server is down for a moment, then accepts connections."""
        self._pg_ctl("restart", "-m", "fast")

    def accepting(self) -> bool:
        done = self._run("pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-t", "1", check=False)
        return done.returncode == 0

    def processes(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer, walwriter, ...)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        return [postmaster, *(pid for pid, parent in _parents() if parent == postmaster)]

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Every process of the server stopped by SIGSTOP (a hung host, as a client sees it), then continued:
        connections stay open and nothing answers, not even a refusal."""
        stopped = self.processes()
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in reversed(stopped):
                os.kill(pid, signal.SIGCONT)

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-w", "stop", "-m", "immediate", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


def _parents() -> Iterator[tuple[int, int]]:
    """(pid, parent pid) of every process, from /proc (the command name in field 2 may hold spaces and parens)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        yield int(stat.parent.name), int(fields[1])


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A fresh cluster, started; stopped and removed on exit. Raises LookupError when PostgreSQL is not installed."""
    bindir = binaries()
    if bindir is None or not (bindir / "initdb").exists():
        raise LookupError(f"no PostgreSQL server binaries (initdb, pg_ctl) under {POSTGRES_ROOT} or on PATH")
    directory = Path(tempfile.mkdtemp(prefix="hero-faults-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SERVICE_USER)
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    cluster = Cluster(bindir, directory, free_port())
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.remove()

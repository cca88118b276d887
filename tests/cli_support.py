"""Running `python -m webapp …` in a subprocess, as an operator would, against a given database."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from webapp.config import Settings
from webapp.db import create_engine, upgrade_schema

PROJECT_DIR = Path(__file__).resolve().parent.parent


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def cli_env(database_url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    for name in ("APP_ENV", "SECURE_COOKIES", "FORWARDED_ALLOW_IPS"):
        env.pop(name, None)
    return env


async def run_cli(
    *args: str, database_url: str, stdin: str = "", env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """`python -m webapp ARGS` with `stdin` piped in (and `env` added to the environment); returns the exit code,
    stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "webapp",
        *args,
        cwd=PROJECT_DIR,
        env=cli_env(database_url) | (env or {}),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def migrate(database_url: str) -> None:
    """Bring the database to the newest schema in this process, with the code every command and `serve` run first
    (a subprocess for it cost a second or two of interpreter start per test; commands migrating a database
    themselves is proven in tests/test_cli.py and tests/test_cli_users.py)."""
    engine = create_engine(Settings(database_url=database_url))
    try:
        await upgrade_schema(engine)
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """What `serve` wrote up to the end of its start-up, stdout and stderr (the log) apart, and its port."""

    out: str
    log: str
    port: int


@asynccontextmanager
async def serving(database_url: str) -> AsyncIterator[Served]:
    """`python -m webapp serve` on a free port, up until the block ends; yields once uvicorn says it is running
    (and, while there are no users, once the set-up box after that line is complete)."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "webapp",
        "serve",
        "--port",
        str(port),
        cwd=PROJECT_DIR,
        env=cli_env(database_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    out: list[str] = []
    log: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not log or "Uvicorn running on" not in log[-1]:
                line = (await process.stderr.readline()).decode()
                assert line, f"serve stopped before starting: {''.join(log)}"
                log.append(line)
            # stdout: the "Serving" line, then with no users the box, which ends with a blank line after its rule.
            while not out or not out[-1].startswith("Serving"):
                out.append((await process.stdout.readline()).decode())
            if "No users yet" in "".join(log):
                while len(out) < 3 or not (out[-1] == "\n" and out[-2].startswith("+-")):
                    line = (await process.stdout.readline()).decode()
                    assert line, f"serve stopped before printing the set-up box: {''.join(out)}"
                    out.append(line)
        yield Served("".join(out), "".join(log), port)
    finally:
        process.terminate()
        await process.wait()

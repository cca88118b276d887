"""Running `python -m webapp …` in a subprocess, as an operator would, against a given database."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def cli_env(database_url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    for name in ("APP_ENV", "SECURE_COOKIES", "FORWARDED_ALLOW_IPS"):
        env.pop(name, None)
    return env


async def run_cli(*args: str, database_url: str, stdin: str = "") -> tuple[int, str, str]:
    """`python -m webapp ARGS` with `stdin` piped in; returns the exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "webapp",
        *args,
        cwd=PROJECT_DIR,
        env=cli_env(database_url),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()

"""CPU instructions per request, counted by valgrind (callgrind): a figure that does not move with the machine's
load, for comparing two versions of the app where timed runs on a shared 2-CPU machine move by 2x.

    .venv/bin/python bench/instructions.py                      # this checkout
    .venv/bin/python bench/instructions.py --compare f9f2eaa    # this checkout against another commit
    .venv/bin/python bench/instructions.py --heroes 100000 --requests 10
    .venv/bin/python bench/instructions.py --compare HEAD --only save,edit   # the scenarios named so

For each scenario, a child process builds the app (`create_app`) on a seeded SQLite database, signs in over
HTTP, warms up, then has callgrind count the instructions of N requests (httpx's in-process ASGI client; its own
share is in the figure, the same for both versions). Counts include every thread (aiosqlite's too) but not the
kernel. They are not time: a version that makes fewer instructions but waits more would not show it, which
`bench/floor_run.py` (wrk against uvicorn) measures. --compare checks the other commit out into a temporary
worktree and runs it with this checkout's interpreter and packages.

Needs valgrind (Debian: apt-get install -y valgrind).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

PROJECT = Path(__file__).resolve().parent.parent
PASSWORD = "a benchmark passphrase"  # noqa: S105 (the throwaway benchmark users' password)
# (name, user, path, htmx); path "save" is the inline-edit save cycle: GET the row form, POST it back.
SCENARIOS = [
    ("heroes, first page (50)", "viewer", "/heroes?size=50", False),
    ("heroes, table fragment (htmx)", "viewer", "/heroes?size=50", True),
    ("heroes, ages 30 to 40", "viewer", "/heroes?size=50&min_age=30&max_age=40", False),
    ("heroes, search", "viewer", "/heroes?size=50&q=Nakamura", False),
    ("teams, first page (50)", "viewer", "/teams?size=50", False),
    ("one hero", "viewer", "/heroes/5", False),
    ("edit form (inline row)", "editor", "/heroes/5/edit", True),
    ("inline-edit save cycle", "editor", "save", True),
]


def _field(body: str, name: str) -> str | None:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', body)
    return html.unescape(found.group(1)) if found else None


def _counting(state: str) -> None:
    """Callgrind counts this process's instructions from now on ("on") or no longer ("off"); synchronous, so the
    count starts and ends exactly here."""
    control = shutil.which("callgrind_control")
    assert control is not None
    subprocess.run([control, "-i", state, str(os.getpid())], check=True, capture_output=True)


async def _child(tree: Path, database: str, user: str, path: str, htmx: bool, requests: int) -> None:
    """Run inside valgrind: sign in, warm up, count `requests` requests between two callgrind_control toggles."""
    import logging

    import httpx

    sys.path.insert(0, str(tree))
    from webapp.app import create_app
    from webapp.config import Settings

    logging.disable(logging.CRITICAL)  # the request log's writes are the same for both versions
    app = create_app(Settings(database_url=database))
    base = "http://127.0.0.1:8000"
    transport = httpx.ASGITransport(app=cast(Any, app))  # a Litestar app is an ASGI callable
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url=base) as client:
        await client.get("/login")
        form = {"username": f"bench-{user}", "password": PASSWORD, "_csrf": client.cookies.get("csrf", "")}
        signed = await client.post("/login", data=form, headers={"Origin": base})
        assert signed.status_code == 303, f"sign-in answered {signed.status_code}"
        page = (await client.get("/heroes")).text
        token = re.search(r'X-CSRF-Token": "([^"]+)"', page)
        assert token is not None
        headers = {"Origin": base, "X-CSRF-Token": token.group(1), **({"HX-Request": "true"} if htmx else {})}

        async def one(turn: int) -> None:
            if path != "save":
                answer = await client.get(path, headers=headers)
                assert answer.status_code == 200, f"{path} answered {answer.status_code}"
                return
            hero = 100 + turn % 50
            body = (await client.get(f"/heroes/{hero}/edit", headers=headers)).text
            teams = re.search(r'name="team_id".*?</select>', body, re.S)
            team = re.search(r'<option value="(\d+)" selected', teams.group(0)) if teams else None
            data = {
                "name": _field(body, "name") or "",
                "secret_name": _field(body, "secret_name") or "",
                "age": str((int(_field(body, "age") or 0) + 1) % 1000),
                "version": _field(body, "version") or "",
                "team_id": team.group(1) if team else "",
                "_once": _field(body, "_once") or "",
            }
            answer = await client.post(f"/heroes/{hero}", data=data, headers=headers)
            assert answer.status_code == 200, f"the save answered {answer.status_code}"

        for turn in range(5):
            await one(turn)
        _counting("on")
        for turn in range(requests):
            await one(turn)
        _counting("off")


def _count(tree: Path, database: str, scenario: tuple[str, str, str, bool], requests: int, work: Path) -> int:
    _name, user, path, htmx = scenario
    out = work / "callgrind.out"
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        str(tree),
        database,
        user,
        path,
        "1" if htmx else "0",
        str(requests),
    ]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{path} under valgrind failed:\n{run.stderr[-2000:]}")
    totals = re.search(r"^totals:\s+(\d+)", out.read_text(), re.M)
    assert totals is not None
    out.unlink()
    return int(totals.group(1)) // requests


def _seed(work: Path, heroes: int) -> str:
    database = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    env = {**os.environ, "DATABASE_URL": database}
    webapp = [sys.executable, "-m", "webapp"]
    subprocess.run(
        [*webapp, "demo", "--heroes", str(heroes), "--teams", str(max(1, heroes // 100))],
        env=env,
        cwd=PROJECT,
        check=True,
        capture_output=True,
    )
    for role in ("viewer", "editor"):
        create = [*webapp, "users", "create", f"bench-{role}", "--role", role]
        subprocess.run(create, env=env, cwd=PROJECT, input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    return database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heroes", type=int, default=10_000, help="heroes in the seeded database (teams: 1 per 100)")
    parser.add_argument("--requests", type=int, default=20, help="requests counted per scenario")
    parser.add_argument("--compare", metavar="REV", help="also count another commit (checked out in a worktree)")
    parser.add_argument(
        "--only", metavar="WORDS", help="only the scenarios whose names hold one of these (comma-separated)"
    )
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        tree, database, user, path, htmx, requests = sys.argv[2:8]
        asyncio.run(_child(Path(tree), database, user, path, htmx == "1", int(requests)))
        return 0
    args = parser.parse_args()
    words = args.only.split(",") if args.only else [""]
    scenarios = [scenario for scenario in SCENARIOS if any(word in scenario[0] for word in words)]
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install -y valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="hero-instructions-") as folder:
        work = Path(folder)
        trees = [("this checkout", PROJECT)]
        git = shutil.which("git") or "git"
        if args.compare:
            other = work / "other"
            subprocess.run(
                [git, "worktree", "add", "--detach", str(other), args.compare],
                cwd=PROJECT,
                check=True,
                capture_output=True,
            )
            trees.insert(0, (args.compare, other))
        try:
            # One database for every version (seeded by this checkout's demo; the schema is the same).
            database = _seed(work, args.heroes)
            counts = {
                label: [_count(tree, database, scenario, args.requests, work) for scenario in scenarios]
                for label, tree in trees
            }
        finally:
            if args.compare:
                subprocess.run([git, "worktree", "remove", "--force", str(work / "other")], cwd=PROJECT, check=False)
    labels = [label for label, _tree in trees]
    print(f"Instructions per request (callgrind, {args.requests} requests each, {args.heroes:,} heroes, SQLite)\n")
    print("| scenario | " + " | ".join(labels) + (" | change |" if len(labels) == 2 else " |"))
    print("|---|" + "---:|" * (len(labels) + (1 if len(labels) == 2 else 0)))
    for index, (name, *_rest) in enumerate(scenarios):
        figures = [counts[label][index] for label in labels]
        cells = " | ".join(f"{figure / 1e6:.2f} M" for figure in figures)
        change = f" | {figures[1] / figures[0] - 1:+.1%}" if len(figures) == 2 else ""
        print(f"| {name} | {cells}{change} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A small concurrent load of signed-in editors, and the ledger of the writes the app acknowledged.

Each editor thread loops: a read (the heroes list or one of its heroes), then a write: a new hero, or an edit of
one it made. Every answer is recorded with its start and end. A write answered 303 is acknowledged and goes in
the ledger; any other outcome (503, no answer at all) leaves the write pending, and the editor sends the very
same form again, one-time id included, as a browser's retry would, until it is acknowledged: a write that was
committed but whose answer was lost must then lead where the first did and not be applied twice.

`Ledger.verify` re-reads the database afterwards: every acknowledged write is there exactly once, with its
history entry and its one-time id; nothing is half-written.
"""

from __future__ import annotations

import itertools
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func
from sqlmodel import col, select

from tests.databases import run_async
from tests.support import make_user
from webapp import accounts
from webapp.config import Settings, utcnow
from webapp.data.lists import live_count
from webapp.db import create_engine, session_factories
from webapp.models import AuditEntry, Hero, Role, Submission

# Longer than any bound a test asserts, so a slow answer is measured rather than cut short by the client.
CLIENT_TIMEOUT = 30.0
HEALTH_PERIOD = 0.1
PROBE = Path(__file__).with_name("probe.py")


@dataclass(frozen=True)
class Answer:
    """One request as the client saw it: `status` None means no answer (refused, reset, timed out)."""

    kind: str  # "read", "create", "edit" or "health" (the liveness probe)
    started: float  # time.monotonic()
    ended: float
    status: int | None
    retry_after: str | None = None
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def group(self) -> str:
        """ "read" or "write" (a create or an edit)."""
        return "write" if self.kind in {"create", "edit"} else self.kind

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400


@dataclass
class Write:
    """A form being sent until the app acknowledges it (303). `hero_id` is None for a create."""

    hero_id: int | None
    data: dict[str, str]

    @property
    def kind(self) -> str:
        return "create" if self.hero_id is None else "edit"


@dataclass
class Owned:
    """A hero an editor made: its name (kept by its edits) and the version its last acknowledged write left."""

    name: str
    version: int


@dataclass
class Ledger:
    """What the app acknowledged, and what was still pending (sent, never acknowledged) when the load stopped."""

    created: dict[str, int] = field(default_factory=dict)  # hero name -> id from the 303's Location
    edits: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))  # id -> secret names, in order
    pending: dict[int, str] = field(default_factory=dict)  # id -> secret name of an unacknowledged edit
    once_ids: list[str] = field(default_factory=list)  # one-time ids of acknowledged writes
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def acknowledged(self) -> int:
        return len(self.created) + sum(len(values) for values in self.edits.values())

    def verify(self, database_url: str) -> list[str]:
        """Every way the database disagrees with the ledger ([] when nothing acknowledged was lost or doubled)."""
        return run_async(self._verify(database_url))

    async def _verify(self, database_url: str) -> list[str]:
        engine = create_engine(Settings(database_url=database_url))
        try:
            _reader, writer = session_factories(engine)
            async with writer() as db:
                heroes = list((await db.exec(select(Hero))).all())
                history = list((await db.exec(select(AuditEntry).where(AuditEntry.record_type == "hero"))).all())
                stored = {s.id: s.location for s in (await db.exec(select(Submission))).all()}
                live = await live_count(db, "hero")
                counted = (
                    await db.exec(select(func.count()).select_from(Hero).where(col(Hero.deleted_at).is_(None)))
                ).one()
                await db.commit()
        finally:
            await engine.dispose()
        problems = self._compare(heroes, history, stored)
        if live != counted:
            problems.append(f"the live count says {live} heroes, the table has {counted}")
        return problems

    def _compare(self, heroes: list[Hero], history: list[AuditEntry], stored: dict[str, str]) -> list[str]:
        problems: list[str] = []
        by_name = Counter(hero.name for hero in heroes)
        by_id = {hero.id: hero for hero in heroes}
        problems += [f"hero {name!r} stored {n} times" for name, n in by_name.items() if n > 1]
        for name, hero_id in self.created.items():
            hero = by_id.get(hero_id)
            if hero is None or hero.name != name:
                problems.append(f"acknowledged create of {name!r} (id {hero_id}) is not in the database")
        actions = Counter((entry.record_id, entry.action) for entry in history)
        saved_values = Counter(
            (entry.record_id, (entry.changes or {}).get("secret_name", [None, None])[1])
            for entry in history
            if entry.action == "update"
        )
        for hero in heroes:
            if actions[(hero.id, "create")] != 1:
                problems.append(f"hero {hero.id} has {actions[(hero.id, 'create')]} create entries in its history")
            if actions[(hero.id, "update")] != hero.version - 1:
                problems.append(
                    f"hero {hero.id} is at version {hero.version} with {actions[(hero.id, 'update')]} edits"
                )
        for hero_id, values in self.edits.items():
            for value in values:
                if (times := saved_values[(hero_id, value)]) != 1:
                    problems.append(f"acknowledged edit {value!r} of hero {hero_id} is in its history {times} times")
            hero = by_id.get(hero_id)
            allowed = {values[-1], self.pending.get(hero_id)}
            if hero is not None and values and hero.secret_name not in allowed:
                problems.append(
                    f"hero {hero_id} reads {hero.secret_name!r}; its last acknowledged edit was {values[-1]!r}"
                )
        for once in self.once_ids:
            if not stored.get(once):
                problems.append(f"acknowledged form {once} has no stored one-time id with its outcome")
        return problems


class Editors:
    """`count` editor threads against `base_url`, each signed in with a session of its own."""

    def __init__(self, base_url: str, database_url: str, count: int, *, pause: float = 0.02, prefix: str = "F") -> None:
        self.base_url, self.count, self.pause = base_url, count, pause
        self.prefix = f"{prefix}{secrets.token_hex(3)}"
        self.ledger = Ledger()
        self.answers: list[Answer] = []
        self.crashes: list[str] = []
        self._stop = threading.Event()
        self._sessions = run_async(_sessions(database_url, count, self.prefix))
        self._threads = [threading.Thread(target=self._editor, args=(i,), daemon=True) for i in range(count)]
        self._threads.append(threading.Thread(target=self._prober, daemon=True))

    def __enter__(self) -> Editors:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=CLIENT_TIMEOUT + 5)

    def wait_for(self, acknowledged: int, timeout: float = 30.0) -> bool:
        """Until the load has `acknowledged` more writes than now (the app is working, under load); False if that
        took longer than `timeout`."""
        target, deadline = self.ledger.acknowledged + acknowledged, time.monotonic() + timeout
        while self.ledger.acknowledged < target and not self.crashes:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return not self.crashes

    def _prober(self) -> None:
        """A load balancer's liveness probe: /healthz ten times a second, which must never need the database. It
        runs in a process of its own (tests/faults/probe.py), so its times are the server's, not this process's
        threads waiting on each other."""
        command = [sys.executable, str(PROBE), self.base_url, str(HEALTH_PERIOD)]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as probe:
            assert probe.stdout is not None
            stopper = threading.Thread(target=lambda: (self._stop.wait(), probe.terminate()), daemon=True)
            stopper.start()
            for line in probe.stdout:
                started, ended, status, retry_after = line.split()
                answer = Answer(
                    "health",
                    float(started),
                    float(ended),
                    None if status == "-" else int(status),
                    None if retry_after == "-" else retry_after,
                )
                self.answers.append(answer)

    def _editor(self, index: int) -> None:
        try:
            self._edit(index)
        except Exception as exc:  # a bug of the harness: reported by the scenario rather than lost with the thread
            self.crashes.append(f"editor {index} stopped: {exc!r}")
            raise

    def _edit(self, index: int) -> None:
        token, csrf = self._sessions[index]
        owned: dict[int, Owned] = {}
        names = (f"{self.prefix}-{index}-{n}" for n in itertools.count())
        pending: Write | None = None
        turn = itertools.count()
        with httpx.Client(
            base_url=self.base_url,
            cookies={"session": token},
            headers={"X-CSRF-Token": csrf},
            timeout=CLIENT_TIMEOUT,
            follow_redirects=False,
        ) as http:
            while not self._stop.is_set():
                read = f"/heroes/{next(iter(owned))}" if owned and next(turn) % 2 else "/heroes/"
                self._send(http, "read", "GET", read)
                if pending is None:
                    pending = _next_write(owned, next(names))
                if pending.hero_id is not None:
                    with self.ledger.lock:
                        self.ledger.pending[pending.hero_id] = pending.data["secret_name"]
                answer, location = self._send_write(http, pending)
                if answer.status == 303 and location is not None:
                    self._acknowledge(pending, location, owned)
                    pending = None
                self._stop.wait(self.pause)

    def _send(
        self, http: httpx.Client, kind: str, method: str, path: str, **options: object
    ) -> tuple[Answer, httpx.Response | None]:
        started = time.monotonic()
        try:
            response = http.request(method, path, **options)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            answer = Answer(kind, started, time.monotonic(), None, error=f"{type(exc).__name__}: {exc}")
            self.answers.append(answer)
            return answer, None
        answer = Answer(kind, started, time.monotonic(), response.status_code, response.headers.get("retry-after"))
        self.answers.append(answer)
        return answer, response

    def _send_write(self, http: httpx.Client, write: Write) -> tuple[Answer, str | None]:
        path = "/heroes/" if write.hero_id is None else f"/heroes/{write.hero_id}"
        answer, response = self._send(http, write.kind, "POST", path, data=write.data)
        return answer, response.headers.get("location") if response is not None else None

    def _acknowledge(self, write: Write, location: str, owned: dict[int, Owned]) -> None:
        with self.ledger.lock:
            self.ledger.once_ids.append(write.data["_once"])
            if write.hero_id is None:
                hero_id = int(location.rstrip("/").rsplit("/", 1)[-1])
                self.ledger.created[write.data["name"]] = hero_id
                owned[hero_id] = Owned(write.data["name"], 1)
            else:
                self.ledger.edits[write.hero_id].append(write.data["secret_name"])
                self.ledger.pending.pop(write.hero_id, None)
                owned[write.hero_id].version += 1


def _next_write(owned: dict[int, Owned], label: str) -> Write:
    """Every third write (or so) an edit of one of the editor's heroes (the least edited), else a new hero. Each
    write's values are new (`label`), so where they ended up can be told apart."""
    fields = {"age": "30", "team_id": "", "_once": secrets.token_urlsafe(18)}
    if len(owned) < 2 or secrets.randbelow(3):
        return Write(None, {"name": label, "secret_name": f"{label} secret", **fields})
    hero_id = min(owned, key=lambda known: owned[known].version)
    values = {"name": owned[hero_id].name, "secret_name": f"{label} secret", "version": str(owned[hero_id].version)}
    return Write(hero_id, values | fields)


async def _sessions(database_url: str, count: int, prefix: str) -> list[tuple[str, str]]:
    """(session token, CSRF token) for `count` new editors, as signing in would make them."""
    engine = create_engine(Settings(database_url=database_url))
    try:
        _reader, writer = session_factories(engine)
        async with writer() as db:
            sessions = []
            for index in range(count):
                user = await make_user(db, username=f"{prefix.lower()}editor{index}", role=Role.editor)
                token, row = await accounts.start_session(db, user=user, now=utcnow())
                sessions.append((token, row.csrf_token))
            await db.commit()
            return sessions
    finally:
        await engine.dispose()


def during(answers: list[Answer], start: float, end: float) -> Iterator[Answer]:
    """The answers to requests that were in flight at some moment between `start` and `end`."""
    return (answer for answer in answers if answer.started < end and answer.ended > start)

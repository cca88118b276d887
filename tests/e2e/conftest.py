"""Browser tests: Debian's Chromium driven by Playwright against `python -m webapp serve` on each database.

Every page a test opens is watched: a console error, an uncaught exception or a CSP violation fails the test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, ViewportSize, sync_playwright
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import SECOND_FACTOR_KEY, _admin_url
from tests.databases import create_postgres_database, drop_postgres_database, reset_tables, run_async
from tests.support import make_user
from webapp import accounts
from webapp.config import PROJECT_DIR, Settings, utcnow
from webapp.db import create_engine, session_factories, upgrade_schema
from webapp.models import AppSecret, ChangeCount, LiveCount, Role

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
T = TypeVar("T")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveServer:
    url: str
    database_url: str
    # The session token of the user the test's browser pages are signed in as (see `server`).
    session_token: str = ""

    def sign_in(self, username: str = "eddie", role: Role = Role.editor) -> str:
        """Make a user with a session, as signing in would; returns the session token for the cookie."""

        async def go(db: AsyncSession) -> str:
            user = await make_user(db, username=username, role=role)
            token, _row = await accounts.start_session(db, user=user, now=utcnow())
            await db.commit()
            return token

        return self.run(go)

    def run(self, action: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `action` with a database session (for arranging data and checking it afterwards)."""

        async def go() -> T:
            engine = create_engine(Settings(database_url=self.database_url))
            try:
                _reader, writer = session_factories(engine)
                async with writer() as session:
                    return await action(session)
            finally:
                await engine.dispose()

        return run_async(go())

    def reset(self) -> None:
        async def go() -> None:
            engine = create_engine(Settings(database_url=self.database_url))
            try:
                if self.database_url.startswith("postgresql"):
                    await reset_tables(engine, keep=SERVER_KEPT | COUNTS_KEPT)
                else:
                    # The live counts stay too: their rows exist from the tables' creation and the delete triggers
                    # bring them back to zero, as they would for any delete.
                    async with engine.begin() as connection:
                        for table in reversed(SQLModel.metadata.sorted_tables):
                            if table.name not in SERVER_KEPT | COUNTS_KEPT and table is not LiveCount.__table__:
                                await connection.execute(table.delete())
            finally:
                await engine.dispose()

        run_async(go())


# What a reset leaves to the running server: the key its workers sign sign-in forms with, read by each worker at
# start-up. Deleting it under a server whose second worker is still starting gave that worker a new key, and forms
# one worker served failed the other's check ("This page has expired"); no deployment deletes it.
SERVER_KEPT = frozenset({str(AppSecret.__tablename__)})
# And the change counts: the server's workers keep choices (a hero's teams) while the count they read them with
# stays the same, and counts only grow under a running server. Emptying the teams counts as changes.
COUNTS_KEPT = frozenset({str(ChangeCount.__tablename__)})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not start:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server(database_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    admin = _admin_url()
    workdir = tmp_path_factory.mktemp(f"live-{database_kind}")
    if database_kind == "postgresql":
        assert admin is not None
        database_url = create_postgres_database(admin)
    else:
        database_url = f"sqlite+aiosqlite:///{workdir / 'live.db'}"
    run_async(_upgrade_schema(database_url))
    port = _free_port()
    log = workdir / "server.log"
    env = {**os.environ, "DATABASE_URL": database_url, "SECOND_FACTOR_KEY": SECOND_FACTOR_KEY}
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "webapp", "serve", "--port", str(port)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(url=f"http://127.0.0.1:{port}", database_url=database_url)
    try:
        _wait_until_up(server.url, process, log)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        if database_kind == "postgresql" and admin:
            drop_postgres_database(admin, database_url)


async def _upgrade_schema(database_url: str) -> None:
    engine = create_engine(Settings(database_url=database_url))
    try:
        await upgrade_schema(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required but missing at {CHROMIUM} (apt-get install -y chromium)")
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def server(live_server: LiveServer) -> LiveServer:
    """The live server with an empty database but for an editor, whom the browser pages are signed in as."""
    live_server.reset()
    live_server.session_token = live_server.sign_in()
    return live_server


class PageProblems:
    """What went wrong in the page while the test ran: console errors, uncaught exceptions, CSP violations."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._allowed: list[str] = []

    def allow(self, text: str) -> None:
        """Expect console errors containing `text` (htmx logs every error answer it swaps, e.g. a 404 alert)."""
        self._allowed.append(text)

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _on_console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.errors.append(f"CSP: {text}")
        elif message.type == "error" and not self._expected(text):
            self.errors.append(f"console {message.type}: {text}")

    def _expected(self, text: str) -> bool:
        # A 4xx answer to an htmx request is logged by the browser as a failed resource load: expected, since
        # 409/422 are part of our contract. Anything else at error level is a problem unless a test allowed it.
        return "Failed to load resource" in text or any(allowed in text for allowed in self._allowed)


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


def _new_context(
    browser: Browser, server: LiveServer, *, javascript: bool, session_token: str | None = None, **options: Any
) -> BrowserContext:
    """A browser context signed in with `session_token` (default: the editor's; "" for signed out)."""
    context = browser.new_context(base_url=server.url, java_script_enabled=javascript, **options)
    context.set_default_timeout(5_000)
    token = server.session_token if session_token is None else session_token
    if token:
        context.add_cookies([{"name": "session", "value": token, "url": server.url}])
    return context


@pytest.fixture
def new_page(browser: Browser, server: LiveServer, problems: PageProblems) -> Iterator[Callable[..., Page]]:
    """Open pages in contexts of their own (viewport, color_scheme, ...), watched like `page`."""
    contexts: list[BrowserContext] = []

    def open_page(*, javascript: bool = True, session_token: str | None = None, **options: Any) -> Page:
        context = _new_context(browser, server, javascript=javascript, session_token=session_token, **options)
        contexts.append(context)
        opened = context.new_page()
        problems.watch(opened)
        return opened

    yield open_page
    for context in contexts:
        context.close()
    assert problems.errors == [], problems.errors


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page signed in as the editor, watched for console errors and CSP violations."""
    return new_page()


@pytest.fixture
def nojs_page(new_page: Callable[..., Page]) -> Page:
    """A page in a browser with JavaScript turned off: only links and forms work."""
    return new_page(javascript=False)


SIZES: dict[str, ViewportSize] = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def sized_page(request: pytest.FixtureRequest, new_page: Callable[..., Page]) -> Page:
    """A signed-in page at desktop size, and again at a 390 px phone's."""
    return new_page(viewport=SIZES[request.param])

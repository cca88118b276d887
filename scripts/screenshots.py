"""Take the README's screenshots (docs/screenshots/*.png) of the main screens against a fresh demo database.

    .venv/bin/python scripts/screenshots.py [--chromium /usr/bin/chromium] [--out docs/screenshots]

It makes a demo database in a temporary folder (`python -m webapp demo`), creates an editor from the command line,
serves the app on a free port, signs in through the sign-in page and shows each screen in Chromium (Playwright):
the heroes list, an inline edit, an edit conflict, a hero's history, the home page, and the list on a phone. Run it
again after changing what those screens look like.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

PROJECT = Path(__file__).resolve().parent.parent
USERNAME, PASSWORD = "edith", "screenshots only"
DESKTOP = {"width": 1100, "height": 720}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _webapp(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    subprocess.run([sys.executable, "-m", "webapp", *args], cwd=PROJECT, env=env, input=stdin, text=True, check=True)


@contextmanager
def demo_server() -> Iterator[str]:
    """The app on a demo database of its own, for as long as the block runs; its address."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}"}
        _webapp(env, "demo")
        _webapp(env, "users", "create", USERNAME, "--role", "editor", stdin=PASSWORD + "\n")
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        with (Path(folder) / "server.log").open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "webapp", "serve", "--port", str(port)],
                cwd=PROJECT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_up(url)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the app did not start at {url}")


def signed_in(browser: Browser, url: str, **options: object) -> Page:
    page = browser.new_context(base_url=url, **options).new_page()  # type: ignore[arg-type]
    page.goto("/login")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def take(browser: Browser, url: str, out: Path) -> list[Path]:
    shots: list[Path] = []

    def shot(page: Page, name: str) -> None:
        path = out / f"{name}.png"
        page.screenshot(path=path)
        shots.append(path)

    page = signed_in(browser, url, viewport=DESKTOP)
    page.goto("/heroes")
    table = page.get_by_role("table", name="Heroes")
    expect(table.locator("tbody tr").first).to_be_visible()
    shot(page, "list")

    first = table.locator("tbody tr").first.get_by_role("link").first.inner_text()
    table.get_by_role("link", name=f"Edit {first}", exact=True).click()
    expect(table.get_by_role("textbox", name="Name", exact=True)).to_be_focused()
    table.get_by_role("textbox", name="Secret name").fill("Changed in place")
    shot(page, "inline-edit")
    table.get_by_role("button", name="Save").click()
    expect(table.get_by_role("textbox", name="Name", exact=True)).to_have_count(0)

    # An edit conflict: the same hero saved in another window while this one's form is open.
    hero_link = table.get_by_role("link", name=first, exact=True).get_attribute("href")
    page.goto(f"{hero_link}/edit")
    other = signed_in(browser, url, viewport=DESKTOP)
    other.goto(f"{hero_link}/edit")
    other.get_by_label("Age").fill("41")
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other.get_by_role("heading", name=first)).to_be_visible()
    page.get_by_label("Age").fill("39")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert").first).to_be_visible()
    shot(page, "conflict")

    page.goto(f"{hero_link}/history")
    shot(page, "history")

    page.goto("/")
    page.wait_for_load_state()
    shot(page, "home")

    phone = signed_in(browser, url, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=1)
    phone.goto("/heroes")
    expect(phone.get_by_label("Sort by")).to_be_visible()
    # From the count line down: the compact rows and the "Sort by" control, rather than the search form.
    phone.locator(".list-head").evaluate("element => element.scrollIntoView()")
    shot(phone, "phone")
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with demo_server() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--headless", "--no-sandbox"])
        try:
            for path in take(browser, url, args.out):
                print(f"{path}: {path.stat().st_size:,} bytes")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

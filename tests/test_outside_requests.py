"""Findings 5-7 and 11-12 of the outside audit: requests that are refused before they cost anything, cookies and
log lines a client cannot forge, the Host and Origin checks, and the production headers."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.auth_support import form_token, session_rows, set_cookie, submit_login
from tests.conftest import TEST_HOST, Clock, sign_in
from tests.hostile_checks import assert_refused
from tests.support import TEST_PASSWORD, Client, all_teams, make_hero, make_user
from webapp.app import create_app
from webapp.config import Settings
from webapp.models import Role

# --- 5. oversized forms and headers are refused before they are parsed -------------------------------------------


async def drive(
    app: Litestar, method: str, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]
) -> tuple[int, int]:
    """One request straight through ASGI, its body in `chunks`: (status, how many chunks the app read)."""
    read = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read >= len(chunks):
            return {"type": "http.disconnect"}
        read += 1
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", TEST_HOST.encode()), *headers],
        "client": ("127.0.0.1", 5000),
        "server": (TEST_HOST, 80),
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    return status, read


async def test_an_overfull_form_is_refused_at_the_first_chunk_past_the_limit_without_signing_in(
    http: Client,
) -> None:
    """150,000 empty fields in a 1 MB body: the 51st field is in the first chunk, so nothing after it is read."""
    body = b"&" * 150_000
    chunks = [body[n : n + 10_000] for n in range(0, len(body), 10_000)]
    form = [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", str(len(body)).encode())]
    status, read = await drive(http.app, "POST", "/login", chunks, form)
    assert (status, read) == (400, 1)


async def test_an_overfull_multipart_form_is_refused_as_its_parts_arrive(http: Client) -> None:
    part = b'--XX\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n'
    chunks = [part * 40, part * 40, part * 40, b"--XX--\r\n"]
    headers = [(b"content-type", b"multipart/form-data; boundary=XX")]
    status, read = await drive(http.app, "POST", "/login", chunks, headers)
    assert (status, read) == (400, 2)


async def test_a_body_over_the_limit_is_refused_as_it_arrives(http: Client, settings: Settings) -> None:
    """No Content-Length (chunked): refused at the chunk that passes the limit, not after reading it all."""
    chunk = b"name=" + b"x" * 300_000
    chunks = [chunk] * 10
    status, read = await drive(
        http.app, "POST", "/login", chunks, [(b"content-type", b"application/x-www-form-urlencoded")]
    )
    assert status == 413
    assert read == settings.max_body_bytes // len(chunk) + 1


async def test_fifty_fields_in_many_small_chunks_are_still_read(client: Client, db: AsyncSession) -> None:
    fields = "&".join(["name=Many", "headquarters=Many", *(f"f{n}=x" for n in range(48))])
    response = await client.post(
        "/teams",
        content=fields.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert [team.name for team in await all_teams(db)] == ["Many"]


@pytest.mark.parametrize("headers", ["many", "large"])
async def test_too_many_or_too_large_headers_are_a_431_page(http: Client, headers: str) -> None:
    sent = {f"x-h{n}": "v" for n in range(5_000)} if headers == "many" else {"x-big": "v" * 20_000}
    response = await http.get("/login", headers=sent)
    assert_refused(response, 431)


# --- 6. the flash cookie ------------------------------------------------------------------------------------------

LONE_SURROGATE = '{"text":"\\ud800"}'


@pytest.mark.parametrize("path", ["/heroes", "/teams", "/activity", "/heroes/{hero}"])
async def test_a_malformed_flash_cookie_is_ignored_and_cleared(client: Client, db: AsyncSession, path: str) -> None:
    hero = await make_hero(db)
    client.cookies.set("flash", quote(LONE_SURROGATE))
    response = await client.get(path.format(hero=hero.id))
    assert response.status_code == 200
    cleared = set_cookie(response, "flash")
    assert cleared is not None
    assert (cleared.value, cleared["max-age"]) == ("", "0")


async def test_an_error_page_clears_the_flash_cookie_too(client: Client) -> None:
    client.cookies.set("flash", quote(LONE_SURROGATE))
    response = await client.get("/heroes/999999")
    assert_refused(response, 404)
    cleared = set_cookie(response, "flash")
    assert cleared is not None
    assert cleared.value == ""


async def test_over_https_the_flash_cookie_is_host_prefixed_and_a_planted_one_is_ignored(
    settings: Settings, engine: AsyncEngine, db: AsyncSession, clock: Clock
) -> None:
    app = create_app(replace(settings, secure_cookies=True))
    async with AsyncTestClient(app=app, base_url=f"https://{TEST_HOST}") as browser:
        await sign_in(browser, db, await make_user(db, username="eddie"), clock)
        browser.cookies.set("__Host-session", browser.cookies["session"])
        created = await browser.post("/teams", data={"name": "Z-Force", "headquarters": "X"}, follow_redirects=False)
        assert created.status_code == 303
        flash = set_cookie(created, "__Host-flash")
        assert flash is not None
        assert (flash["secure"], flash["path"], flash["httponly"]) == (True, "/", True)
        assert set_cookie(created, "flash") is None
        browser.cookies.clear("testserver.local")
        await sign_in(browser, db, await make_user(db, username="olga"), clock)
        browser.cookies.set("__Host-session", browser.cookies["session"])
        browser.cookies.set("flash", quote('{"text":"Planted","undo":["hero",1,1]}'))
        page = await browser.get("/heroes")
        assert "Planted" not in page.text


# --- 7. control characters in paths and in the log ----------------------------------------------------------------


async def test_a_nul_in_a_static_path_is_a_404_page(http: Client) -> None:
    response = await http.get("/static/x%00%0aERROR%20-%20FORGED%20admin%20signed%20in")
    assert_refused(response, 404)


def test_logged_values_cannot_start_a_line_of_their_own(settings: Settings, capfd: pytest.CaptureFixture[str]) -> None:
    create_app(settings)  # sets logging up
    forged = "/static/x\x00\r\nERROR - 2026-12-06 FORGED admin signed in\x1b[2K"
    logging.getLogger("webapp.errors").error("request %s failed: GET %s", "abc", forged)
    try:
        raise ValueError(f"bad path {forged}")
    except ValueError:
        logging.getLogger("webapp.errors").exception("request %s failed", "def")
    lines = capfd.readouterr().err.splitlines()
    forged_lines = [line for line in lines if "FORGED" in line]
    assert len(forged_lines) == 2
    assert forged_lines[0].endswith(
        "request abc failed: GET /static/x\\x00\\r\\nERROR - 2026-12-06 FORGED admin signed in\\x1b[2K"
    )
    # A traceback's lines (the exception's message among them) are all marked as the record's continuation.
    assert forged_lines[1].startswith("  | ")
    assert not any(ch in line for line in lines for ch in "\x00\r\x1b")


# --- 11. host names, origins and the tokens of signed-out forms ----------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "testserver.local.evil.example", ""])
async def test_a_request_for_another_host_name_is_refused(http: Client, host: str) -> None:
    response = await http.get("/login", headers={"host": host})
    assert_refused(response, 400)


async def test_the_allowed_host_with_a_port_is_served(http: Client) -> None:
    assert (await http.get("/login", headers={"host": f"{TEST_HOST}:8122"})).status_code == 200


def test_allowed_hosts_come_from_the_environment() -> None:
    settings = Settings.from_env({"ALLOWED_HOSTS": "Admin.Example.com, other.example"})
    assert settings.allowed_hosts == ("admin.example.com", "other.example")
    assert settings.host_allowed("admin.example.com:443")
    assert not settings.host_allowed("evil.example")
    assert Settings.from_env({}).allowed_hosts == ("127.0.0.1", "localhost", "[::1]")


@pytest.mark.parametrize("origin", ["https://testserver.local", "ws://testserver.local", "ftp://testserver.local"])
async def test_an_origin_with_another_scheme_is_refused(client: Client, db: AsyncSession, origin: str) -> None:
    response = await client.post(
        "/teams", data={"name": "Z-Force", "headquarters": "X"}, headers={"Origin": origin}, follow_redirects=False
    )
    assert_refused(response, 403)
    assert await all_teams(db) == []


async def test_a_signed_out_token_the_server_did_not_issue_is_refused(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    http.cookies.set("csrf", "attackerchosen")
    response = await http.post(
        "/login",
        data={"_csrf": "attackerchosen", "username": "alice", "password": TEST_PASSWORD},
        follow_redirects=False,
    )
    assert_refused(response, 403)
    assert await session_rows(db) == []


async def test_a_signed_out_token_the_server_issued_works(http: Client, db: AsyncSession) -> None:
    await make_user(db, username="alice")
    response = await submit_login(http, "alice", TEST_PASSWORD, token=await form_token(http))
    assert response.status_code == 303


# --- 12. production headers ---------------------------------------------------------------------------------------


async def test_hsts_for_a_year_over_https(settings: Settings, engine: AsyncEngine) -> None:
    async with AsyncTestClient(
        app=create_app(replace(settings, secure_cookies=True)), base_url=f"https://{TEST_HOST}"
    ) as browser:
        for path in ("/login", "/static/css/app.css", "/no-such-page"):
            assert (await browser.get(path)).headers["strict-transport-security"] == "max-age=31536000"


async def test_no_hsts_without_secure_cookies(http: Client) -> None:
    assert "strict-transport-security" not in (await http.get("/login")).headers


@pytest.mark.parametrize("path", ["/login", "/heroes", "/no-such-page", "/static/css/app.css"])
async def test_every_response_forbids_framing(client: Client, path: str) -> None:
    assert (await client.get(path)).headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", ["/account/password", "/logout", "/heroes", "/users"])
async def test_an_anonymous_options_request_on_a_signed_in_route_is_sent_to_sign_in(http: Client, path: str) -> None:
    response = await http.options(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?")
    assert "allow" not in response.headers


async def test_a_signed_in_options_request_is_answered(http: Client, db: AsyncSession, clock: Clock) -> None:
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    response = await http.options("/account/password")
    assert response.status_code == 204
    assert "POST" in response.headers["allow"]

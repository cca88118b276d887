"""Error pages (404, 405, 413, 500) as HTML or htmx alerts, and the headers every response carries."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.route_table import record_change
from tests.support import HTMX, Client, all_heroes, all_teams, is_full_page, make_hero, make_team, move_to_trash
from webapp.config import Settings
from webapp.db import create_tables

LEAKS = ("Traceback", 'File "', "OperationalError", "ProgrammingError", "UndefinedTable", "no such table", "SELECT")


def shown_request_id(html: str) -> str:
    (code,) = [
        c for c in parse(html).find_all("code") if c.parent is not None and c.parent.attrs.get("class") == "request-id"
    ]
    return code.text


# --- 404 / 405 ---------------------------------------------------------------------------------------------


async def test_unknown_path_is_a_404_html_page(client: Client, db: AsyncSession) -> None:
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert is_full_page(response.text)
    assert [h.text for h in parse(response.text).find_all("h1")] == ["Not found"]


async def test_404_page_shows_the_request_id_from_the_header(client: Client, db: AsyncSession) -> None:
    response = await client.get("/no-such-page")
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert shown_request_id(response.text) == request_id


async def test_each_request_gets_its_own_request_id(client: Client, db: AsyncSession) -> None:
    first = await client.get("/no-such-page")
    second = await client.get("/no-such-page")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/no-such-page", 404), ("GET", "/teams/999", 404), ("DELETE", "/teams", 405), ("PUT", "/heroes", 405)],
)
async def test_htmx_error_is_an_alert_fragment_retargeted_to_toasts(
    client: Client, db: AsyncSession, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, headers=HTMX)
    document = parse(response.text)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["hx-retarget"] == "#toasts"
    assert not is_full_page(response.text)
    assert len(document.find_all(role="alert")) == 1
    assert shown_request_id(response.text) == response.headers["x-request-id"]


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/teams"), ("PUT", "/heroes"), ("POST", "/teams/new")])
async def test_wrong_method_is_a_405_html_page(client: Client, db: AsyncSession, method: str, path: str) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")
    assert [h.text for h in parse(response.text).find_all("h1")] == ["Method not allowed"]


# --- 413 ---------------------------------------------------------------------------------------------------


def oversized_form(settings: Settings, **fields: str) -> dict[str, str]:
    return {**fields, "padding": "x" * (settings.max_body_bytes + 1)}


async def test_oversized_team_form_gets_413_and_stores_nothing(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    form = oversized_form(settings, name="Preventers", headquarters="Sharp Tower")
    response = await client.post("/teams", data=form, follow_redirects=False)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert await all_teams(db) == []


async def test_oversized_hero_form_gets_413_and_stores_nothing(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    form = oversized_form(settings, name="Deadpond", secret_name="Dive Wilson")
    response = await client.post("/heroes", data=form, follow_redirects=False)
    assert response.status_code == 413
    assert await all_heroes(db) == []


async def test_oversized_update_gets_413_and_changes_nothing(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    team = await make_team(db, name="Preventers", headquarters="Sharp Tower")
    form = oversized_form(settings, name="Z-Force", headquarters="Bar")
    response = await client.post(f"/teams/{team.id}", data=form, follow_redirects=False)
    assert response.status_code == 413
    assert [(t.name, t.headquarters) for t in await all_teams(db)] == [("Preventers", "Sharp Tower")]


async def test_form_just_under_the_limit_is_accepted(client: Client, db: AsyncSession, settings: Settings) -> None:
    # The limit is on the body, not on a field: a big but allowed body still reaches validation.
    form = {"name": "Preventers", "headquarters": "Sharp Tower", "padding": "x" * (settings.max_body_bytes // 2)}
    response = await client.post("/teams", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert len(await all_teams(db)) == 1


# --- 500 ---------------------------------------------------------------------------------------------------


@pytest.fixture
async def broken(engine: AsyncEngine) -> AsyncIterator[None]:
    """A real failure: the table the hero list reads is gone. On PostgreSQL it is made again afterwards: the
    schema is made once per worker there, for the tests that follow (each SQLite test has a copy of its own)."""
    async with engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE hero")
    yield
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            await connection.exec_driver_sql("CREATE SCHEMA public")
        await create_tables(engine)


async def test_server_error_is_a_500_html_page_without_internals(
    client: Client, db: AsyncSession, broken: None
) -> None:
    response = await client.get("/heroes")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert [h.text for h in parse(response.text).find_all("h1")] == ["Something went wrong"]
    assert [leak for leak in LEAKS if leak in response.text] == []


async def test_server_error_page_shows_the_request_id_the_log_records(
    client: Client, db: AsyncSession, broken: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await client.get("/heroes")
    request_id = response.headers["x-request-id"]
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR and request_id in r.getMessage()]
    assert shown_request_id(response.text) == request_id
    assert len(logged) == 1
    assert logged[0].exc_info is not None


async def test_server_error_htmx_is_an_alert_fragment(client: Client, db: AsyncSession, broken: None) -> None:
    response = await client.get("/heroes", headers=HTMX)
    assert response.status_code == 500
    assert response.headers["hx-retarget"] == "#toasts"
    assert not is_full_page(response.text)
    assert [leak for leak in LEAKS if leak in response.text] == []


async def test_server_error_on_a_form_post_is_a_500_page(client: Client, db: AsyncSession, broken: None) -> None:
    response = await client.post("/heroes", data={"name": "Deadpond", "secret_name": "Dive Wilson"})
    assert response.status_code == 500
    assert "Something went wrong" in response.text


# --- headers on every kind of response ---------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    method: str
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] | None = None
    oversized: bool = False


TEAM = {"name": "Preventers", "headquarters": "Sharp Tower"}
KINDS = {
    "page": Kind("GET", "/teams", 200),
    "fragment": Kind("GET", "/teams", 200, headers=HTMX),
    "redirect": Kind("POST", "/teams", 303, data=TEAM),
    "htmx-create": Kind("POST", "/teams", 200, headers=HTMX, data=TEAM),
    "invalid": Kind("POST", "/teams", 422, data={"name": ""}),
    "not-found": Kind("GET", "/no-such-page", 404),
    "not-found-htmx": Kind("GET", "/no-such-page", 404, headers=HTMX),
    "wrong-method": Kind("DELETE", "/teams", 405),
    "too-large": Kind("POST", "/teams", 413, data=TEAM, oversized=True),
    "static": Kind("GET", "/static/css/app.css", 200),
}
DYNAMIC = [name for name in KINDS if name != "static"]


async def send(client: Client, kind: Kind, settings: Settings) -> Response:
    data: dict[str, Any] | None = kind.data
    if kind.oversized:
        data = oversized_form(settings, **(kind.data or {}))
    response = await client.request(kind.method, kind.path, headers=kind.headers, data=data, follow_redirects=False)
    assert response.status_code == kind.status
    return response


def header_values(response: Response, name: str) -> list[str]:
    return [value.strip().lower() for header in response.headers.get_list(name) for value in header.split(",")]


@pytest.mark.parametrize("kind", list(KINDS))
async def test_every_response_has_a_strict_content_security_policy(
    client: Client, db: AsyncSession, settings: Settings, kind: str
) -> None:
    response = await send(client, KINDS[kind], settings)
    policy = response.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["script-src"] == ["'self'"] or directives.get("default-src") == ["'self'"]


@pytest.mark.parametrize("kind", list(KINDS))
async def test_every_response_has_nosniff_and_a_same_origin_referrer_policy(
    client: Client, db: AsyncSession, settings: Settings, kind: str
) -> None:
    response = await send(client, KINDS[kind], settings)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize("kind", DYNAMIC)
async def test_every_non_static_response_is_no_store_and_varies_on_hx_request(
    client: Client, db: AsyncSession, settings: Settings, kind: str
) -> None:
    response = await send(client, KINDS[kind], settings)
    assert "no-store" in header_values(response, "cache-control")
    assert "hx-request" in header_values(response, "vary")


# --- assets ------------------------------------------------------------------------------------------------

HTMX_SCRIPT = re.compile(r"/static/vendor/htmx-2\.0\.\d+(\.min)?\.js(\?v=[0-9a-f]+)?")
PAGES = [
    "/heroes",
    "/heroes/new",
    "/heroes/{hero}",
    "/heroes/{hero}/edit",
    "/heroes/{hero}/delete",
    "/teams",
    "/teams/new",
    "/teams/{team}",
    "/teams/{team}/edit",
    "/teams/{team}/delete",
    "/heroes/{hero}/history",
    "/teams/{team}/history",
    "/activity",
    "/trash",
    "/no-such-page",
]


async def page_paths(db: AsyncSession) -> dict[str, str]:
    """A team with a hero with a change in its history (a revert button), and a hero in the trash."""
    team = await make_team(db)
    hero = await make_hero(db, team=team)
    await record_change(db, hero, "name", "Deadpool")
    await move_to_trash(db, await make_hero(db, name="Rusty-Man", secret_name="Tommy Sharp"))
    return {"team": str(team.id), "hero": str(hero.id)}


async def test_htmx_is_served_from_static_vendor_with_its_version_in_the_name(client: Client, db: AsyncSession) -> None:
    page = await client.get("/teams")
    sources = [s.attrs.get("src", "") for s in parse(page.text).find_all("script")]
    (htmx_src,) = [src for src in sources if HTMX_SCRIPT.fullmatch(src)]
    script = await client.get(htmx_src)
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "htmx" in script.text


@pytest.mark.parametrize("path", PAGES)
async def test_page_references_no_external_script_or_stylesheet(client: Client, db: AsyncSession, path: str) -> None:
    response = await client.get(path.format(**await page_paths(db)))
    document = parse(response.text)
    references = [s.attrs.get("src", "") for s in document.find_all("script")]
    references += [link.attrs.get("href", "") for link in document.find_all("link")]
    assert document.has("script")
    assert document.has("link", rel="stylesheet")
    assert [ref for ref in references if not ref.startswith("/")] == []
    assert [ref for ref in references if ref.startswith("//")] == []


@pytest.mark.parametrize("path", PAGES)
async def test_page_has_nothing_inline_the_policy_would_block(client: Client, db: AsyncSession, path: str) -> None:
    response = await client.get(path.format(**await page_paths(db)))
    elements = parse(response.text).find_all()
    assert [e.tag for e in elements if e.tag == "style" or (e.tag == "script" and not e.attrs.get("src"))] == []
    assert [e.tag for e in elements if "style" in e.attrs] == []
    assert [name for e in elements for name in e.attrs if name.startswith("on")] == []


async def test_stylesheet_is_served_from_static(client: Client, db: AsyncSession) -> None:
    page = await client.get("/teams")
    (href,) = [link.attrs["href"] for link in parse(page.text).find_all("link", rel="stylesheet")]
    response = await client.get(href)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")

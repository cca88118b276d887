"""/healthz and /readyz for load balancers, and the request log: one line per request, without secrets."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

import pytest
from litestar.types import Message
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.support import HEROES, Client, Clock, asgi_get, id_of
from webapp import accounts, logs
from webapp.app import create_app
from webapp.config import Settings
from webapp.db import newest_revision


async def test_healthz_answers_any_host_without_a_session(http: Client) -> None:
    http.cookies.set("session", "made-up")
    response = await http.get("/healthz", headers={"Host": "10.0.0.7:8000"})
    assert (response.status_code, response.text) == (200, "ok")
    assert response.headers["content-type"].startswith("text/plain")
    assert "set-cookie" not in response.headers


async def test_healthz_is_answered_without_yielding_to_the_event_loop(settings: Settings) -> None:
    # On a busy loop each turn runs every other request's next step: a probe that yields even once waits for all of
    # them (the request deadline's task cost /healthz three turns or more).
    app = create_app(settings)
    loop = asyncio.get_running_loop()
    turns = 0
    counting = True

    def count_turns() -> None:
        nonlocal turns
        if counting:
            turns += 1
            loop.call_soon(count_turns)

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = asgi_get("/healthz", [(b"host", b"10.0.0.7")], ("127.0.0.1", 8000))
    async with app.lifespan():
        loop.call_soon(count_turns)
        await app(scope, receive, send)  # type: ignore[arg-type]
        counting = False
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert (sent[0]["status"], sent[1]["body"]) == (200, b"ok")
    assert turns == 0


async def test_readyz_is_ready_only_at_the_newest_migration(http: Client, db: AsyncSession) -> None:
    response = await http.get("/readyz", headers={"Host": "10.0.0.7"})
    assert (response.status_code, response.text, response.headers["retry-after"]) == (503, "not ready", "5")
    await db.exec(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))  # type: ignore[call-overload]
    await db.exec(text("INSERT INTO alembic_version VALUES ('0001')"))  # type: ignore[call-overload]
    await db.commit()
    try:
        assert (await http.get("/readyz")).status_code == 503
        await db.exec(text(f"UPDATE alembic_version SET version_num = '{newest_revision()}'"))  # type: ignore[call-overload]
        await db.commit()
        response = await http.get("/readyz")
        assert (response.status_code, response.text) == (200, "ready")
    finally:
        await db.exec(text("DROP TABLE alembic_version"))  # type: ignore[call-overload]
        await db.commit()


def request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "webapp.requests"]


async def test_one_line_per_request_with_id_user_route_status_and_times(
    client: Client, db: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    hero_id = id_of(await HEROES.make(db, "Logged"))
    caplog.set_level(logging.INFO, logger="webapp.requests")
    response = await client.get(f"/heroes/{hero_id}")
    missing = await client.get("/no/such/page")
    [line, unknown] = request_lines(caplog)
    fields = line.fields  # type: ignore[attr-defined]
    assert fields["request_id"] == response.headers["x-request-id"]
    assert {key: fields[key] for key in ("user", "method", "route", "status")} == {
        "user": "eddie",
        "method": "GET",
        "route": "/heroes/{record_id}",
        "status": 200,
    }
    assert fields["duration_ms"] > 0
    assert 0 < fields["database_ms"] <= fields["duration_ms"]
    assert unknown.fields["status"] == missing.status_code == 404  # type: ignore[attr-defined]
    assert unknown.fields["request_id"] == missing.headers["x-request-id"]  # type: ignore[attr-defined]
    assert client.cookies["session"] not in line.getMessage()
    # LOG_FORMAT=json: the same line as one JSON object, each value a key of its own.
    entry = json.loads(logs.JsonFormatter().format(line))
    assert entry["logger"] == "webapp.requests"
    assert {key: entry[key] for key in fields} == fields


async def test_the_log_names_routes_not_paths_so_no_set_up_token_is_written(
    http: Client, db: AsyncSession, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    token = await accounts.issue_setup_token(db, now=clock(), valid_for=timedelta(hours=1))
    await db.commit()
    caplog.set_level(logging.INFO)
    assert (await http.get(f"/setup/{token}")).status_code == 200
    assert (await http.get("/healthz")).status_code == 200  # probes that succeed are not logged
    [line] = request_lines(caplog)
    assert line.fields["route"] == "/setup/{token}"  # type: ignore[attr-defined]
    assert not [
        record for record in caplog.records if record.name.startswith("webapp") and token in record.getMessage()
    ]

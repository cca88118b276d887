"""Probes for load balancers and orchestrators: /healthz (the process answers) and /readyz (it can serve: the
database answers within a second or two and its schema is at the newest migration).

Both are public, answer a word of plain text, and say nothing about the cause (the log does, once per change).
They skip the session lookup and the Host allow-list (a balancer probes by address), and only their failures are
in the request log (their paths are webapp.logs.PROBES).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import MediaType, Request, Response, get

from webapp import outages
from webapp.auth import OPEN
from webapp.db import newest_revision, schema_revision

logger = logging.getLogger(__name__)


@get(
    "/healthz",
    name="healthz",
    opt=OPEN | {outages.NEVER_WAITS: True},
    media_type=MediaType.TEXT,
    include_in_schema=False,
    sync_to_thread=False,
)
def healthz() -> str:
    """Alive: answered by the process alone, so it stays fast whatever the database does, and without yielding to
    the event loop (no request deadline's task, no turn to wait for: webapp.turns), so however busy the loop, the
    answer is written in the turn that starts the request."""
    return "ok"


@get("/readyz", name="readyz", opt=OPEN, media_type=MediaType.TEXT, include_in_schema=False)
async def readyz(request: Request[Any, Any, Any]) -> Response[str]:
    state = request.app.state
    timeout = min(2.0, state.settings.request_deadline / 2)
    try:
        async with asyncio.timeout(timeout), state.reader() as session:
            revision = await schema_revision(session)
    except Exception as error:
        reason = outages.cause(error)
        if reason is None:
            raise  # a bug: the usual 500, with its traceback
        return _verdict(request, f"the database did not answer: {reason}")
    if revision != newest_revision():
        return _verdict(request, f"the schema is at revision {revision}, not the newest ({newest_revision()})")
    return _verdict(request, None)


def _verdict(request: Request[Any, Any, Any], problem: str | None) -> Response[str]:
    state = request.app.state
    if problem != getattr(state, "readiness_problem", None):
        # Logged when readiness changes, not on every probe of an outage.
        if problem is None:
            logger.info("ready again")
        else:
            logger.warning("not ready: %s", problem)
        state.readiness_problem = problem
    if problem is None:
        return Response("ready", media_type=MediaType.TEXT)
    return Response(
        "not ready",
        status_code=503,
        media_type=MediaType.TEXT,
        headers={"Retry-After": str(state.settings.retry_after)},
    )

"""The front door: the home page a signed-in user lands on (what there is, what changed lately, the lists one
click away), and the site icon browsers ask for at /favicon.ico."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.datastructures import CacheControlHeader
from litestar.response import File, Template

from webapp.auth import current_user
from webapp.controllers.common import Session
from webapp.data import reads
from webapp.data.lists import live_count
from webapp.htmx import render
from webapp.registry import RESOURCES

# Entries in each of the home page's two lists of recent changes (Activity has them all).
RECENT_SHOWN = 8
RECORD_TYPES = tuple(resource.name for resource in RESOURCES)


@get("/", name="home", status_code=200, include_in_schema=False)
async def home(request: Request[Any, Any, Any], session: Session) -> Template:
    user = current_user(request)
    assert user is not None  # served to viewers and up: the guard sent anyone signed out to sign in
    everyone = await reads.activity(session, record_types=RECORD_TYPES, limit=RECENT_SHOWN)
    yours = await reads.activity(session, record_types=RECORD_TYPES, user_id=user.id, limit=RECENT_SHOWN)
    context = {
        # The live counts the triggers keep: one row read per resource, whatever the table's size.
        "counts": [(resource, await live_count(session, resource.model.__tablename__)) for resource in RESOURCES],
        "everyone": everyone.items,
        "yours": yours.items,
        "live": await reads.live_ids(session, RESOURCES, entries=[*everyone.items, *yours.items]),
    }
    return render(request, page="home.html", context=context)


@get(
    "/",
    name="favicon",
    include_in_schema=False,
    cache_control=CacheControlHeader(max_age=86_400, public=True),
)
async def favicon(request: Request[Any, Any, Any]) -> File:
    """Browsers ask for /favicon.ico whatever the pages name (they name the SVG); public, like static files."""
    icon = request.app.state.settings.static_dir / "favicon.ico"
    return File(icon, media_type="image/x-icon", content_disposition_type="inline")

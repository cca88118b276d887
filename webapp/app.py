"""create_app(settings): wiring only. Nothing happens at import time."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from webapp import health, logs, outages, templating
from webapp.auth import OPEN, VIEWERS, SessionMiddleware, csrf_token, prepare_security, signed_in_user
from webapp.config import Settings
from webapp.controllers.account import (
    AccountController,
    OwnAccountController,
    SecondFactorSetupController,
    SignInCodeController,
)
from webapp.controllers.bulk import BulkController
from webapp.controllers.changes import ChangesController
from webapp.controllers.common import ResourceController, for_resource, provide_submitted
from webapp.controllers.history import ActivityController, TrashController
from webapp.controllers.home import favicon, home
from webapp.controllers.imports import ImportController
from webapp.controllers.records import OptionsController, RecordController
from webapp.controllers.users import UserController
from webapp.data import reads
from webapp.db import make_lifespan, provide_session
from webapp.errors import exception_handlers
from webapp.guards import every_route
from webapp.limits import MAX_FORM_FIELDS, LimitsMiddleware
from webapp.links import Links
from webapp.listing import COUNT_CAP
from webapp.middleware import add_response_headers
from webapp.registry import BY_NAME, REFERENCES, RESOURCES
from webapp.resource import Resource
from webapp.static import asset_url
from webapp.submissions import new_token
from webapp.turns import ReadTurns

# History shows account changes too: their fields' labels beside the resources'.
ACCOUNT_LABELS = {"role": "Role", "is_active": "Active"}


# Allocations (less frees) between two passes of the collector over its youngest generation, while the app serves.
YOUNG_THRESHOLD = 10_000


@asynccontextmanager
async def _long_lived_frozen(_app: Litestar) -> AsyncIterator[None]:
    """What the process holds once started (modules, routes, the app: some 140,000 objects) is left out of the
    garbage collector's full passes while the app serves.

    A full pass walks every object the collector tracks, and took about 100 ms here: a pause of every request in
    progress, /healthz's too, which measured up to 264 ms under load. These objects live as long as the app, so
    walking them finds nothing; frozen, a full pass walks only what requests made since (a few thousand objects,
    about 2 ms). Unfrozen when the app stops, so a process that runs apps one after another (the tests) gets their
    garbage collected.

    And the collector's youngest generation is collected after YOUNG_THRESHOLD allocations, not Python's 700.
    Requests in progress keep their objects alive across young passes, which so moved them into older
    generations and made a full pass every 600 or so list pages. A page's own objects are freed as it ends (its
    templates leave no cycle: webapp.templating), so fewer passes leave little more garbage waiting. Measured
    under wrk (32 connections, list pages, 2026-12-07): 43-47 us of collection a page with 700, 11-13 us with
    10,000, no full pass in 10 s, and p99 70-81 ms against 83-93."""
    thresholds = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, *thresholds[1:])
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def _template_engine(settings: Settings) -> JinjaTemplateEngine:
    environment = templating.environment(settings)
    environment.globals |= {
        "count_cap": COUNT_CAP,
        "resources": BY_NAME,
        "references": REFERENCES,
        "field_labels": {spec.name: spec.label for resource in RESOURCES for spec in resource.fields} | ACCOUNT_LABELS,
    }
    engine = JinjaTemplateEngine.from_environment(environment)
    engine.register_template_callable("asset", asset_url(settings.static_dir))
    engine.register_template_callable("csrf_token", csrf_token)
    engine.register_template_callable("signed_in_user", signed_in_user)
    engine.register_template_callable("once_token", lambda _context: new_token())
    return engine


def _resource_controllers() -> list[type[ResourceController]]:
    """Each resource's routes: its screens, history and trash, bulk actions and export; CSV import where it
    takes one; name suggestions where other resources point at it."""

    def wanted(resource: Resource) -> list[type[ResourceController]]:
        bases: list[type[ResourceController]] = [RecordController, ChangesController, BulkController]
        bases += [ImportController] if resource.importable else []
        bases += [OptionsController] if resource.referenced_by else []
        return [for_resource(base, resource) for base in bases]

    return [controller for resource in RESOURCES for controller in wanted(resource)]


def create_app(settings: Settings) -> Litestar:
    logs.configure(log_format=settings.log_format)
    app = Litestar(
        route_handlers=[
            # In a router of its own so the OPTIONS handler Litestar adds to "/" inherits the access rule too
            # (at app level it would declare none, and the guard refuses such routes to everyone).
            Router(path="/", route_handlers=[home], opt=VIEWERS),
            Router(path="/favicon.ico", route_handlers=[favicon], opt=OPEN),
            AccountController,
            OwnAccountController,
            SignInCodeController,
            SecondFactorSetupController,
            *_resource_controllers(),
            ActivityController,
            TrashController,
            UserController,
            # A router of their own, like "/" above, so the OPTIONS handlers Litestar adds are public too.
            Router(path="/", route_handlers=[health.healthz, health.readyz], opt=OPEN),
            create_static_files_router(
                path="/static",
                directories=[settings.static_dir],
                name="static",
                opt=OPEN,
                # Asset URLs carry a content hash (webapp.static), so a changed file gets a new URL.
                cache_control=CacheControlHeader(max_age=31_536_000, public=True),
            ),
        ],
        dependencies={"session": Provide(provide_session), "submitted": Provide(provide_submitted)},
        guards=[every_route],
        template_config=TemplateConfig(instance=_template_engine(settings)),
        lifespan=[make_lifespan(settings), _long_lived_frozen],
        on_startup=[prepare_security],
        # Limits first: an oversized or overfull request is refused before anything reads it. The deadline then
        # counts from a request fully received, and covers everything that may wait: a read's turn, the database.
        middleware=[
            DefineMiddleware(LimitsMiddleware, settings=settings),
            outages.Deadline,
            ReadTurns,
            DefineMiddleware(SessionMiddleware, settings=settings),
        ],
        before_send=[add_response_headers],
        exception_handlers=exception_handlers,
        request_max_body_size=settings.max_body_bytes,
        # Our forms have a handful of fields; a body with hundreds of parts is not a form of ours.
        multipart_form_part_limit=MAX_FORM_FIELDS,
        openapi_config=None,
        # Logging is set up by webapp.logs (one escaping handler); Litestar's own would log unescaped beside it.
        logging_config=None,
        debug=False,
    )
    app.state.settings = settings
    # Per process (each worker's own log lines), like the log itself.
    app.state.outage_warnings = logs.Repeats(logging.getLogger("webapp.errors"))
    app.state.links = Links(app)
    app.state.choices = reads.Choices()
    engine = app.template_engine
    assert isinstance(engine, JinjaTemplateEngine)
    # Litestar's url_for looks each route up; ours reads the route table read once (webapp.links).
    engine.engine.globals |= {"links": app.state.links, "url_for": app.state.links.url}
    # Around the app's own handler, so unknown paths and refusals before routing are in the request log too.
    app.asgi_handler = logs.RequestLog(app.asgi_handler)
    return app

"""create_app(settings): wiring only. Nothing happens at import time."""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Litestar, Request, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from webapp import logs
from webapp.auth import OPEN, VIEWERS, SessionMiddleware, authorize, csrf_token, prepare_security, signed_in_user
from webapp.config import Settings
from webapp.controllers.account import (
    AccountController,
    OwnAccountController,
    SecondFactorSetupController,
    SignInCodeController,
)
from webapp.controllers.bulk import HeroBulkController, TeamBulkController
from webapp.controllers.common import canonical_ids, readable_form
from webapp.controllers.heroes import HeroController
from webapp.controllers.history import ActivityController, TrashController
from webapp.controllers.teams import TeamController
from webapp.controllers.transfer import TransferController
from webapp.controllers.users import UserController
from webapp.db import make_lifespan, provide_session
from webapp.errors import exception_handlers
from webapp.limits import MAX_FORM_FIELDS, LimitsMiddleware
from webapp.listing import COUNT_CAP
from webapp.middleware import add_response_headers
from webapp.static import asset_url
from webapp.submissions import new_token


@get("/", name="home", status_code=303, include_in_schema=False, opt=VIEWERS)
async def home(request: Request) -> Redirect:  # type: ignore[type-arg]
    return Redirect(request.app.route_reverse("heroes:list"), status_code=303)


def _template_engine(settings: Settings) -> JinjaTemplateEngine:
    # StrictUndefined: a misspelt variable fails a test instead of rendering as an empty string.
    environment = Environment(
        loader=FileSystemLoader(settings.templates_dir), autoescape=True, undefined=StrictUndefined
    )
    environment.globals["count_cap"] = COUNT_CAP
    engine = JinjaTemplateEngine.from_environment(environment)
    engine.register_template_callable("asset", asset_url(settings.static_dir))
    engine.register_template_callable("csrf_token", csrf_token)
    engine.register_template_callable("signed_in_user", signed_in_user)
    engine.register_template_callable("once_token", lambda _context: new_token())
    return engine


def create_app(settings: Settings) -> Litestar:
    logs.configure()
    app = Litestar(
        route_handlers=[
            # In a router of its own so the OPTIONS handler Litestar adds to "/" inherits the access rule too
            # (at app level it would declare none, and the guard refuses such routes to everyone).
            Router(path="/", route_handlers=[home], opt=VIEWERS),
            AccountController,
            OwnAccountController,
            SignInCodeController,
            SecondFactorSetupController,
            HeroController,
            HeroBulkController,
            TeamController,
            TeamBulkController,
            ActivityController,
            TrashController,
            TransferController,
            UserController,
            create_static_files_router(
                path="/static",
                directories=[settings.static_dir],
                name="static",
                opt=OPEN,
                # Asset URLs carry a content hash (webapp.static), so a changed file gets a new URL.
                cache_control=CacheControlHeader(max_age=31_536_000, public=True),
            ),
        ],
        dependencies={"session": Provide(provide_session)},
        guards=[authorize, canonical_ids, readable_form],
        template_config=TemplateConfig(instance=_template_engine(settings)),
        lifespan=[make_lifespan(settings)],
        on_startup=[prepare_security],
        # Limits first: an oversized or overfull request is refused before anything reads it.
        middleware=[
            DefineMiddleware(LimitsMiddleware, settings=settings),
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
    return app

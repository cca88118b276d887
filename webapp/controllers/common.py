"""What every controller reads from a request: forms, numbers in the query, who acts, the one-time form id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from litestar import Controller, Request
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotFoundException
from litestar.handlers import BaseRouteHandler
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp import submissions
from webapp.audit import Actor
from webapp.auth import current_user, plain_fields, submitted_form
from webapp.middleware import SUBMITTED, request_id
from webapp.numbers import whole_number
from webapp.resource import Resource

T = TypeVar("T")


async def read_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted form as plain strings (first value per name); anything that is not text is ignored."""
    form = await submitted_form(request)  # its size and field count were checked as it arrived (webapp.limits)
    fields = plain_fields(form)
    request.scope.setdefault("state", {})[SUBMITTED] = fields  # for the form to come back if the database fails
    return fields


def page_number(request: Request[Any, Any, Any], name: str = "page") -> int:
    """The requested page; anything that is not a positive number means the first page."""
    return whole_number(request.query_params.get(name, "1")) or 1


def query_number(request: Request[Any, Any, Any], name: str) -> int | None:
    """An optional number in the query (a filter, a history position): absent or blank is None, anything
    else that is not a plain number is refused (400) rather than guessed at."""
    raw = request.query_params.get(name, "")
    if not raw:
        return None
    number = whole_number(raw)
    if number is None:
        raise ClientException(f"malformed {name}")
    return number


def actor(request: Request[Any, Any, Any]) -> Actor:
    user = current_user(request)
    assert user is not None  # every route that changes records is for signed-in editors
    return Actor(user.id, user.username, request_id(request.scope), request.app.state.settings.clock())


@dataclass
class Submitted:
    """A form that changes records: its fields, and its one-time id, claimed in this request's transaction
    (`session`'s)."""

    data: dict[str, str]
    claim: submissions.Claim | None = None
    session: AsyncSession | None = None

    async def leads_to(self, location: str) -> None:
        """Where this change leads: a repeat of the form is sent there (stored in the change's transaction, so
        before the handler commits)."""
        if self.claim is not None and self.session is not None:
            await submissions.lead(self.session, self.claim, location)


# What handlers ask for by name: the request's database session (webapp.db) and its submitted form.
Session = NamedDependency[AsyncSession]
Posted = NamedDependency[Submitted]


async def provide_submitted(request: Request[Any, Any, Any], session: Session) -> Submitted:
    """The form, with its one-time id claimed (see webapp.submissions). A repeat of a form already applied
    raises AlreadySent, answered with where the first one led (webapp.errors)."""
    data = await read_form(request)
    token = data.get(submissions.FIELD)
    if token is None:  # a client that sends none (a script) gets no protection, and needs none from us
        return Submitted(data, None)
    if not submissions.well_formed(token):
        raise ClientException("malformed form id")
    user = current_user(request)
    assert user is not None
    now = request.app.state.settings.clock()
    claimed = await submissions.claim(session, token=token, data=data, user_id=user.id, now=now)
    if isinstance(claimed, str):
        raise submissions.AlreadySent(claimed)
    return Submitted(data, claimed, session)


def found(value: T | None) -> T:
    if value is None:
        raise NotFoundException()
    return value


# Under this key in a resource route's `opt`: its resource (for what handles its errors, outside the controller).
RESOURCE = "resource"


class ResourceController(Controller):
    """A controller for one resource: its routes' names (given in the decorators as the action alone) are
    made the resource's (`heroes:list`), and their `opt` names it."""

    resource: ClassVar[Resource]

    def get_route_handlers(self) -> list[BaseRouteHandler]:
        handlers = super().get_route_handlers()
        for handler in handlers:
            handler.name = self.resource.route(handler.name)  # type: ignore[arg-type]
            handler.opt = {**handler.opt, RESOURCE: self.resource}
        return handlers


def for_resource(base: type[ResourceController], resource: Resource) -> type[ResourceController]:
    """`base`'s routes for `resource`, at /<plural>."""
    return type(f"{resource.title}{base.__name__}", (base,), {"path": f"/{resource.plural}", "resource": resource})

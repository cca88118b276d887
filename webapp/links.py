"""URLs of the app's named routes, from its route table read once at start-up.

A list page links every row to its detail, edit, delete and row routes: Litestar's route_reverse looks each up
and checks its parameters (measured: about 250 lookups a page). Here a route's path is split once into its
literal parts and parameter names, and a URL is those parts joined.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

from webapp.resource import Action, Resource

_PARAMETER = re.compile(r"\{(\w+):\w+\}")


class Links:
    def __init__(self, app: Litestar) -> None:
        self._app = app
        # name -> the path's pieces: literal text, or (a one-tuple) the name of the parameter standing there
        self._paths: dict[str, list[str | tuple[str]]] = {}
        for route in app.routes:
            if not isinstance(route, HTTPRoute):
                continue
            pieces: list[str | tuple[str]] = []
            for number, piece in enumerate(_PARAMETER.split(route.path)):
                pieces.append((piece,) if number % 2 else piece)
            for handler in route.route_handlers:
                if handler.name:
                    self._paths.setdefault(handler.name, pieces)

    def url(self, name: str, **params: Any) -> str:
        pieces = self._paths.get(name)
        if pieces is None:  # not ours (none today): Litestar knows it, or says it does not exist
            return self._app.route_reverse(name, **params)
        return "".join(piece if isinstance(piece, str) else str(params[piece[0]]) for piece in pieces)

    def pieces(self, resource: Resource, action: Action) -> tuple[str, str]:
        """A record route's path around its id, for a page to join with each row's id: ("/heroes/", "/edit")."""
        head, parameter, tail = self._paths[resource.route(action)]
        assert parameter == ("record_id",)
        return str(head), str(tail)

    def pointed(self, resource: Resource) -> SimpleNamespace:
        """Each reference field's target detail page as pieces, by field name: a row cell writes
        `pointed.team_id[0]`. A namespace, not a dict: Jinja looks `.team_id` up as an attribute first, and on a
        dict that lookup misses and takes a second, the item's (webapp.templating)."""
        return SimpleNamespace(**{name: self.pieces(target, "detail") for name, target in resource.targets.items()})

    def to(self, resource: Resource, action: Action, record_id: int | None = None, **params: Any) -> str:
        """The URL of `resource`'s route for `action` (of the record `record_id`, for a record's routes)."""
        if record_id is not None:
            params["record_id"] = record_id
        return self.url(resource.route(action), **params)

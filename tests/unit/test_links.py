"""Route URLs from the table read once at start-up (webapp.links) agree with Litestar's own route_reverse, for an
app built from default settings (building it opens no database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.exceptions import NoRouteMatchFoundException
from litestar.routes import HTTPRoute

from webapp.app import create_app
from webapp.config import Settings
from webapp.links import Links
from webapp.registry import HEROES, RESOURCES, TEAMS
from webapp.resource import Action, Resource

# Distinct sample ids, so a URL with two ids shows which went where.
SAMPLE_IDS = {"record_id": 42, "entry_id": 7, "user_id": 3}


@pytest.fixture(scope="module")
def built() -> Litestar:
    return create_app(Settings())


@pytest.fixture(scope="module")
def links(built: Litestar) -> Links:
    return Links(built)


def named_routes(app: Litestar) -> Iterator[tuple[str, dict[str, type]]]:
    """Each named HTTP route handler with its path parameters' types."""
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            types = {name: parameter.type for name, parameter in route.path_parameters.items()}
            for handler in route.route_handlers:
                if handler.name:
                    yield handler.name, types


def int_routes(app: Litestar) -> dict[str, dict[str, int]]:
    """The named routes whose parameters are all ids (or that have none), with sample ids for them."""
    return {
        name: {parameter: SAMPLE_IDS[parameter] for parameter in types}
        for name, types in named_routes(app)
        if all(kind is int for kind in types.values())
    }


def test_every_int_route_gives_the_url_litestar_gives(built: Litestar, links: Links) -> None:
    routes = int_routes(built)
    differ = {
        name: (links.url(name, **params), built.route_reverse(name, **params))
        for name, params in routes.items()
        if links.url(name, **params) != built.route_reverse(name, **params)
    }
    assert differ == {}


def test_the_comparison_covers_every_resource_route(built: Litestar) -> None:
    # Guards the test above against comparing nothing (say, if route names or parameter types changed).
    routes = int_routes(built)
    for resource in RESOURCES:
        for action in ("list", "detail", "edit", "row", "delete", "history", "restore", "purge", "export"):
            assert resource.route(action) in routes
    assert routes[HEROES.route("revert")] == {"record_id": 42, "entry_id": 7}
    assert routes["users:edit"] == {"user_id": 3}


@pytest.mark.parametrize(
    ("name", "params", "url"),
    [
        ("home", {}, "/"),
        ("heroes:list", {}, "/heroes"),
        ("heroes:new", {}, "/heroes/new"),
        ("heroes:detail", {"record_id": 42}, "/heroes/42"),
        ("teams:revert", {"record_id": 42, "entry_id": 7}, "/teams/42/history/7/revert"),
        ("users:password", {"user_id": 3}, "/users/3/password"),
        ("trash:empty", {}, "/trash/empty"),
    ],
)
def test_links_url_spells_the_route(links: Links, name: str, params: dict[str, int], url: str) -> None:
    assert links.url(name, **params) == url


def test_a_route_with_a_text_parameter_is_filled_in_too(built: Litestar, links: Links) -> None:
    assert links.url("setup", token="abc") == built.route_reverse("setup", token="abc") == "/setup/abc"


def test_an_unknown_route_name_is_an_error(links: Links) -> None:
    with pytest.raises(NoRouteMatchFoundException):
        links.url("villains:list")


@pytest.mark.parametrize(
    ("resource", "action", "record_id", "url"),
    [
        (HEROES, "list", None, "/heroes"),
        (HEROES, "detail", 42, "/heroes/42"),
        (HEROES, "confirm_delete", 42, "/heroes/42/delete"),
        (HEROES, "import_check", None, "/heroes/import"),
        (TEAMS, "edit", 42, "/teams/42/edit"),
        (TEAMS, "restore", 42, "/teams/42/restore"),
        (TEAMS, "options", None, "/teams/options"),
        (TEAMS, "export", None, "/teams/export.csv"),
    ],
)
def test_links_to_builds_a_resource_route(
    links: Links, resource: Resource, action: Action, record_id: int | None, url: str
) -> None:
    assert links.to(resource, action, record_id) == url


def test_links_to_takes_further_parameters(links: Links) -> None:
    assert links.to(HEROES, "revert", 42, entry_id=7) == "/heroes/42/history/7/revert"


def test_app_links_are_built_at_start_up(built: Litestar) -> None:
    assert isinstance(built.state.links, Links)
    assert built.state.links.to(TEAMS, "detail", 5) == "/teams/5"

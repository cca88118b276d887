"""The app's own route table for the security matrices, and sample values to fill its paths and forms.

The matrices are derived from the routes the app really registers, so a route added later is covered (or
fails a test that names it) without anyone remembering to list it here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyotp
from litestar import Litestar
from litestar.routes import HTTPRoute
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import SECOND_FACTOR_KEY
from tests.support import TEST_PASSWORD, id_of, make_hero, make_team, move_to_trash
from webapp.app import create_app
from webapp.config import Settings, utcnow
from webapp.middleware import SAFE_METHODS
from webapp.models import AuditEntry, Hero, Team, User
from webapp.totp import Secrets

Endpoint = tuple[str, str]
"""(method, path template as the app declares it), e.g. ("POST", "/heroes/{record_id:int}")."""

NEW_PASSWORD = "a brand new passphrase"
# The authenticator secret of every account the second-factor routes act on (see with_second_factor).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SECOND_FACTOR_ROUTES = ("/login/code", "/account/two-factor", "/second-factor")


def about_second_factors(template: str) -> bool:
    return any(part in template for part in SECOND_FACTOR_ROUTES)


async def with_second_factor(db: AsyncSession, user: User) -> None:
    """Give `user` the second factor TOTP_SECRET (encrypted with the tests' key, as the app stores it)."""
    user.totp_secret = Secrets((SECOND_FACTOR_KEY,)).encrypt(TOTP_SECRET)
    db.add(user)
    await db.commit()


def sealed_for(user_id: int) -> str:
    """The set-up form's sealed secret for this user (TOTP_SECRET), as the set-up page would give it."""
    return Secrets((SECOND_FACTOR_KEY,)).encrypt(f"{user_id}:{TOTP_SECRET}")


def current_code() -> str:
    return pyotp.TOTP(TOTP_SECRET).now()


PARAMETER = re.compile(r"\{(\w+):\w+\}")


def endpoints(app: Litestar) -> dict[Endpoint, str]:
    """Every (method, path) the app answers, with the access it declares ("undeclared" when none).

    Litestar adds an OPTIONS handler to every path; it is a route like any other and is listed too.
    Websocket or ASGI routes (none today) are listed under their type, so a new one cannot go unnoticed.
    """
    found: dict[Endpoint, str] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            found[(type(route).__name__, route.path)] = "undeclared"
            continue
        for handler in route.route_handlers:
            access = handler.opt.get("access")
            for method in handler.http_methods:
                found[(method, route.path)] = "undeclared" if access is None else str(access)
    return found


def collected_endpoints() -> dict[Endpoint, str]:
    """The route table at collection time (building the app touches no database)."""
    return endpoints(create_app(Settings()))


def unsafe(table: dict[Endpoint, str]) -> list[Endpoint]:
    return sorted(endpoint for endpoint in table if endpoint[0] not in SAFE_METHODS)


def endpoint_id(endpoint: Endpoint) -> str:
    return f"{endpoint[0]} {endpoint[1]}"


@dataclass(frozen=True)
class Sample:
    """Real rows to point paths and forms at."""

    hero_id: int
    team_id: int
    user_id: int
    setup_token: str
    username: str
    """Someone who can sign in with TEST_PASSWORD."""
    entry_id: int = 0
    """A change in the history of the hero or team the path names (what a revert goes back before)."""
    version: int = 1
    """The version of the hero or team the route acts on (the team for /teams routes, else the hero): what a form
    filled from it carries."""
    sealed: str = ""
    """For the second-factor set-up: the secret TOTP_SECRET sealed for the caller, as the set-up page gives it."""


def acts_on_the_trash(template: str) -> bool:
    """Routes that show or act on what is in the trash: the trash itself, emptying it, restore and purge."""
    return template.endswith(("/restore", "/purge")) or template.startswith("/trash")


async def record_change(
    db: AsyncSession, record: Hero | Team, field: str, before: object, *, entry_id: int | None = None
) -> int:
    """A history entry (as an edit writes it) saying `field` was `before` until it became what it is now."""
    await db.refresh(record)  # a re-read elsewhere may have expired it
    entry = AuditEntry(
        id=entry_id,
        at=utcnow(),
        username="eddie",
        action="update",
        record_type="hero" if isinstance(record, Hero) else "team",
        record_id=id_of(record),
        label=record.name,
        changes={field: [before, getattr(record, field)]},
    )
    db.add(entry)
    await db.commit()
    assert entry.id is not None
    return entry.id


async def arrange_sample(db: AsyncSession, template: str, *, user_id: int, setup_token: str, username: str) -> Sample:
    """A team with a hero in it, each with a change in its history, for the path and its form to act on. For
    the routes that act on the trash, a second team and hero, both in the trash, which the path then names."""
    team = await make_team(db)
    hero = await make_hero(db, team=team)
    entries = {
        "hero": await record_change(db, hero, "name", "Deadpool"),
        "team": await record_change(db, team, "name", "Preventers of Old"),
    }
    if acts_on_the_trash(template):
        team = await make_team(db, name="Z-Force", headquarters="Sister Margaret's Bar")
        hero = await make_hero(db, name="Rusty-Man", secret_name="Tommy Sharp", team=team)
        await move_to_trash(db, hero)
        await move_to_trash(db, team)
    named: Hero | Team = team if template.startswith("/teams") else hero
    return Sample(
        id_of(hero),
        id_of(team),
        user_id,
        setup_token,
        username,
        entries["team" if named is team else "hero"],
        named.version,
    )


def fill(template: str, sample: Sample) -> str:
    """The path with its parameters replaced by the sample's ids."""
    values = {
        "record_id": sample.team_id if template.startswith("/teams") else sample.hero_id,
        "user_id": sample.user_id,
        "entry_id": sample.entry_id,
        "token": sample.setup_token,
        "file_path": "css/app.css",
    }

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no sample value for path parameter {name!r} of {template}: add one in fill()"
        return str(values[name])

    return PARAMETER.sub(value, template)


def effective_form(endpoint: Endpoint, sample: Sample) -> dict[str, str]:
    """A form the route accepts and acts on: were a refused request let through, the database would change."""
    new_password = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    version = {"version": str(sample.version)}
    forms: dict[Endpoint, dict[str, str]] = {
        ("POST", "/login"): {"username": sample.username, "password": TEST_PASSWORD},
        ("POST", "/logout"): {},
        ("POST", "/setup/{token:str}"): {"username": "founder"} | new_password,
        ("POST", "/account/password"): {"current_password": TEST_PASSWORD} | new_password,
        ("POST", "/account/theme"): {"theme": "dark"},
        ("POST", "/heroes"): {"name": "Forged Hero", "secret_name": "Forger", "age": "30", "team_id": ""},
        ("POST", "/heroes/{record_id:int}"): {"name": "Renamed", "secret_name": "Renamed", "age": "1", "team_id": ""}
        | version,
        ("POST", "/heroes/{record_id:int}/delete"): version,
        ("POST", "/heroes/{record_id:int}/restore"): version,
        ("POST", "/heroes/{record_id:int}/purge"): version,
        ("POST", "/heroes/{record_id:int}/history/{entry_id:int}/revert"): version,
        # The dry run changes nothing whoever sends it; the apply step takes the checked file back as text.
        ("POST", "/heroes/import"): {"content": "Name,Secret name\r\nForged Hero,Forger\r\n"},
        ("POST", "/heroes/import/apply"): {"content": "Name,Secret name\r\nForged Hero,Forger\r\n"},
        # A bulk delete of the hero (or team) the sample names, at its version, as the preview's confirm form sends it.
        ("POST", "/heroes/bulk/apply"): {"action": "delete", "selected": f"{sample.hero_id}:{sample.version}"},
        ("POST", "/teams"): {"name": "Forged Team", "headquarters": "Nowhere"},
        ("POST", "/teams/bulk/apply"): {"action": "delete", "selected": f"{sample.team_id}:{sample.version}"},
        ("POST", "/teams/{record_id:int}"): {"name": "Renamed Team", "headquarters": "Elsewhere"} | version,
        ("POST", "/teams/{record_id:int}/delete"): version,
        ("POST", "/teams/{record_id:int}/restore"): version,
        ("POST", "/teams/{record_id:int}/purge"): version,
        ("POST", "/teams/{record_id:int}/history/{entry_id:int}/revert"): version,
        # Everything deleted up to now, as the confirmation page would say.
        ("POST", "/trash/empty"): {"through": utcnow().isoformat()},
        ("POST", "/users"): {"username": "mallory", "role": "admin"} | new_password,
        ("POST", "/users/{user_id:int}"): {"role": "admin", "is_active": "on"},
        ("POST", "/users/{user_id:int}/password"): new_password,
        # Second factors (the accounts involved have TOTP_SECRET: see with_second_factor).
        ("POST", "/login/code"): {"code": current_code()},
        ("POST", "/account/two-factor/setup"): {"sealed": sample.sealed, "code": current_code()},
        ("POST", "/account/two-factor/recovery-codes"): {"password": TEST_PASSWORD},
        ("POST", "/account/two-factor/disable"): {"password": TEST_PASSWORD},
        ("POST", "/users/second-factor-policy"): {"require_admin": "on"},
        ("POST", "/users/{user_id:int}/second-factor/reset"): {},
    }
    assert endpoint in forms, f"{endpoint_id(endpoint)} is new: add a form it acts on to effective_form()"
    return forms[endpoint]

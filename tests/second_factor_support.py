"""Helpers for the second-factor tests: setting one up through the pages, codes from pyotp, stored state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx
import pyotp
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from webapp.models import RecoveryCode, User


@dataclass(frozen=True)
class SetUp:
    secret: str
    recovery_codes: list[str]

    def code(self, at: datetime, offset: int = 0) -> str:
        """The code an authenticator app shows at `at` (or `offset` time steps away)."""
        return pyotp.TOTP(self.secret).at(at, counter_offset=offset)


def setup_form(html: str) -> tuple[str, str]:
    """The secret shown as text on the set-up page, and the sealed copy its form carries."""
    page = parse(html)
    return page.by_id("totp-secret").text.replace(" ", ""), page.find("input", name="sealed").attrs["value"]


def shown_codes(html: str) -> list[str]:
    return [item.text for item in parse(html).find("ul", **{"aria-label": "Recovery codes"}).find_all("li")]


async def set_up_second_factor(client: httpx.AsyncClient, at: datetime) -> SetUp:
    """Through the pages, as a person would: open the set-up page, type the app's code, keep the codes."""
    page = await client.get("/account/two-factor/setup", follow_redirects=False)
    assert page.status_code == 200, page.text[:300]
    secret, sealed = setup_form(page.text)
    form = parse(page.text).find("form", action="/account/two-factor/setup")
    csrf = form.find("input", name="_csrf").attrs["value"]
    done = await client.post(
        "/account/two-factor/setup",
        data={"_csrf": csrf, "sealed": sealed, "code": pyotp.TOTP(secret).at(at)},
        follow_redirects=False,
    )
    assert done.status_code == 200, (done.status_code, [h.text for h in parse(done.text).find_all("h1")])
    return SetUp(secret, shown_codes(done.text))


async def stored_user(db: AsyncSession, username: str) -> User:
    db.expire_all()
    user = (await db.exec(select(User).where(User.username == username))).one()
    await db.commit()
    return user


async def recovery_codes(db: AsyncSession, user_id: int) -> list[RecoveryCode]:
    db.expire_all()
    rows = list(
        (
            await db.exec(select(RecoveryCode).where(RecoveryCode.user_id == user_id).order_by(col(RecoveryCode.id)))
        ).all()
    )
    await db.commit()
    return rows

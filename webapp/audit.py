"""Writing the history: every entry goes into the same transaction as the change it describes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel.ext.asyncio.session import AsyncSession

from webapp.data.plain import kept_insert, run
from webapp.models import NAME_MAX, USERNAME_MAX, AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which request, and when (one timestamp for everything a request changes)."""

    user_id: int | None
    username: str
    request_id: str
    at: datetime


def entry(
    actor: Actor,
    *,
    action: str,
    record_type: str,
    record_id: int | None = None,
    label: str = "",
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> dict[str, Any]:
    return {
        "at": actor.at,
        "user_id": actor.user_id,
        "username": actor.username[:USERNAME_MAX],
        "request_id": actor.request_id,
        "action": action,
        "record_type": record_type,
        "record_id": record_id,
        "label": label[:NAME_MAX],
        "changes": changes,
        "note": note[:500],
    }


async def write(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    """Add entries to the session's transaction (one statement however many: a team's heroes, an empty trash)."""
    # On the table, not the model: the ORM's bulk insert path was a twentieth of an inline save (2026-12-07). One
    # entry (a record's change) is a kept statement, on SQLite run on the driver in the writer's transaction.
    if len(entries) == 1:
        await run(session, _ONE, entries[0])
    elif entries:
        await session.exec(_INSERT, params=entries)


_TABLE: Table = AuditEntry.__table__  # type: ignore[attr-defined]
_INSERT = insert(_TABLE)
_ONE = kept_insert(_TABLE)  # `entry` fills every column

"""Alembic environment. The app runs migrations on a connection it hands over (`webapp.db.upgrade_schema`);
the `alembic` command line (for writing new revisions) connects to DATABASE_URL itself."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from webapp import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from webapp.config import Settings
from webapp.db import create_engine, described_by_models

target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot alter a column or a constraint in place: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=described_by_models(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_environment() -> None:
    engine = create_engine(Settings.from_env())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


given: Any = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    asyncio.run(_run_from_environment())

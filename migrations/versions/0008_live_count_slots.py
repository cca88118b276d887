"""live counts spread over slots on PostgreSQL, so concurrent creates do not wait for each other

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 20:40:00
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from webapp.models import live_count_ddl

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("hero", "team")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite keeps one row per table (slot 0, the default) and its triggers as they are.
        with _sqlite_triggers_set_aside(), op.batch_alter_table("live_count", recreate="always") as batch_op:
            batch_op.add_column(sa.Column("slot", sa.Integer(), server_default="0", nullable=False, primary_key=True))
            batch_op.create_primary_key("live_count_pkey", ["record_type", "slot"])
        return
    _hold_writers()
    op.add_column("live_count", sa.Column("slot", sa.Integer(), server_default="0", nullable=False))
    op.drop_constraint("live_count_pkey", "live_count", type_="primary")
    op.create_primary_key("live_count_pkey", "live_count", ["record_type", "slot"])
    _replace_functions(slotted=True)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        _hold_writers()
    # Each table's slots folded into slot 0 (which a table may lack: its rows may all have been deleted since).
    op.execute(
        "INSERT INTO live_count (record_type, slot, live) "
        "SELECT record_type, 0, sum(live) FROM live_count WHERE true GROUP BY record_type "
        "ON CONFLICT (record_type, slot) DO UPDATE SET live = excluded.live"
    )
    op.execute("DELETE FROM live_count WHERE slot <> 0")
    if sqlite:
        with _sqlite_triggers_set_aside(), op.batch_alter_table("live_count", recreate="always") as batch_op:
            batch_op.drop_column("slot")
        return
    op.drop_constraint("live_count_pkey", "live_count", type_="primary")
    op.drop_column("live_count", "slot")
    op.create_primary_key("live_count_pkey", "live_count", ["record_type"])
    _replace_functions(slotted=False)


@contextmanager
def _sqlite_triggers_set_aside() -> Iterator[None]:
    """SQLite rebuilds live_count (copy, drop, rename), and renaming the copy fails while a trigger names the
    dropped table: the counting triggers on hero and team are dropped for the rebuild and made again after it."""
    for table in TABLES:
        for statement in live_count_ddl(table, "sqlite"):
            op.execute(f"DROP TRIGGER {statement.split()[2]}")  # CREATE TRIGGER <name> ...
    yield
    for table in TABLES:
        for statement in live_count_ddl(table, "sqlite"):
            op.execute(statement)


def _hold_writers() -> None:
    """PostgreSQL: no write to the counted tables runs while their count changes shape (a trigger that fired
    under the old functions would write to a key that is gone); writers wait until the migration commits."""
    op.execute(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE")


def _replace_functions(*, slotted: bool) -> None:
    """The trigger functions (the triggers themselves name them and stay)."""
    for table in TABLES:
        for statement in live_count_ddl(table, "postgresql", slotted=slotted):
            if statement.startswith("CREATE FUNCTION"):
                op.execute(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))

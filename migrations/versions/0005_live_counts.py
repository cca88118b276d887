"""live counts: how many live heroes and teams there are, kept by triggers

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from webapp.models import LIVE_COUNT_ROW, live_count_ddl

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("hero", "team")


def upgrade() -> None:
    op.create_table(
        "live_count",
        sa.Column("record_type", sa.String(length=16), primary_key=True),
        sa.Column("live", sa.Integer(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # Nothing changes a table between its count and its triggers' creation (a write in between would never
        # be counted); writers wait until the migration commits.
        op.execute(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE")
    for table in TABLES:
        op.execute(LIVE_COUNT_ROW.format(table=table))
        for statement in live_count_ddl(table, dialect, slotted=False):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for operation in ("insert", "delete", "trash", "update", "truncate"):
            op.execute(
                f"DROP TRIGGER IF EXISTS {table}_live_{operation}" + (f" ON {table}" if dialect != "sqlite" else "")
            )
            if dialect != "sqlite":
                op.execute(f"DROP FUNCTION IF EXISTS {table}_live_{operation}()")
    op.drop_table("live_count")

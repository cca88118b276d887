"""change counts: tables whose rows are choices count their changes, so a worker may keep the choices

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from webapp.models import change_count_ddl

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What models.CHANGE_COUNTED was when this migration was written (a migration keeps meaning what it meant; the
# triggers are models.change_count_ddl's, which says so).
TABLES = ("team",)


def upgrade() -> None:
    op.create_table(
        "change_count",
        sa.Column("record_type", sa.String(length=16), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("record_type", "slot"),
    )
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for statement in change_count_ddl(table, dialect):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_changed_{operation}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_changed()")
    op.drop_table("change_count")

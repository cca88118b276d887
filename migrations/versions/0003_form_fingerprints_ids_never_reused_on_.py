"""form fingerprints; ids never reused on SQLite

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:12:34.068343
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), server_default="", nullable=False)
        )
    if op.get_bind().dialect.name == "sqlite":
        # AUTOINCREMENT: SQLite never hands a purged row's id to a new row (whose history it would inherit).
        # Only a rebuilt table gets it; PostgreSQL sequences never go back anyway.
        for table in ("team", "hero"):
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
                pass


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("fingerprint")

"""a theme per user, forms kept across an ended session

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString
TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("theme", TEXT(length=8), server_default="system", nullable=False))
    op.create_table(
        "form_stash",
        sa.Column("id", TEXT(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("path", TEXT(length=500), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("expires_at", TIME(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("form_stash", schema=None) as batch_op:
        batch_op.create_index("ix_form_stash_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("form_stash", schema=None) as batch_op:
        batch_op.drop_index("ix_form_stash_expires_at")
    op.drop_table("form_stash")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("theme")

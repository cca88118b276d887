"""throttle counters, second factor, look-alike usernames, signing key

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from webapp.usernames import normalize, skeleton_key

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString
TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    # Failures now live in counters (one row per account or address) instead of one row per failure.
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failure_username_at")
        batch_op.drop_index("ix_login_failure_client_at")
    op.drop_table("login_failure")
    op.create_table(
        "throttle",
        sa.Column("key", TEXT(length=200), nullable=False),
        sa.Column("window_start", TIME(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("digest", TEXT(length=64), nullable=False),
        sa.Column("used_at", TIME(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.create_index("ix_recovery_code_user_id", ["user_id"], unique=False)
    op.create_table(
        "role_policy",
        sa.Column("role", TEXT(length=16), nullable=False),
        sa.Column("second_factor_required", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("role"),
    )
    op.create_table(
        "app_secret",
        sa.Column("name", TEXT(length=32), nullable=False),
        sa.Column("value", TEXT(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage", TEXT(length=16), server_default="signed_in", nullable=False))
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_skeleton", TEXT(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_secret", TEXT(length=500), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    _normalize_usernames()
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index("uq_user_username_skeleton", ["username_skeleton"], unique=True)


def _normalize_usernames() -> None:
    """Existing names in the new spelling (NFKC + casefold) where that names nobody else, and each skeleton for
    the oldest account that has it: a look-alike made before the rule keeps its name but holds no skeleton."""
    bind = op.get_bind()
    users = bind.execute(sa.text('SELECT id, username FROM "user" ORDER BY id')).all()
    names = {username for _id, username in users}
    taken: set[str] = set()
    for user_id, username in users:
        normalized = normalize(username)
        if normalized != username and normalized not in names:
            names.discard(username)
            names.add(normalized)
            username = normalized
        key = skeleton_key(username)
        bind.execute(
            sa.text('UPDATE "user" SET username = :username, username_skeleton = :key WHERE id = :id'),
            {"username": username, "key": None if key in taken else key, "id": user_id},
        )
        taken.add(key)


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index("uq_user_username_skeleton")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")
        batch_op.drop_column("username_skeleton")
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_column("stage")
    op.drop_table("app_secret")
    op.drop_table("role_policy")
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.drop_index("ix_recovery_code_user_id")
    op.drop_table("recovery_code")
    op.drop_table("throttle")
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", TEXT(length=150), nullable=False),
        sa.Column("client", TEXT(length=64), nullable=False),
        sa.Column("at", TIME(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index("ix_login_failure_client_at", ["client", "at"], unique=False)
        batch_op.create_index("ix_login_failure_username_at", ["username", "at"], unique=False)

"""the heroes' name index also holds their secret names and teams, so a search walking it reads no table rows
it does not show

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
# What models.HERO_NAME_INDEX was when this migration was written (a migration keeps meaning what it meant).
WIDE = ["name", "id", "secret_name", "team_id"]
NARROW = ["name", "id"]


def _name_index(columns: list[str]) -> None:
    op.drop_index("ix_hero_live_name", table_name="hero")
    op.create_index("ix_hero_live_name", "hero", columns, sqlite_where=LIVE, postgresql_where=LIVE)  # type: ignore[arg-type]


def upgrade() -> None:
    _name_index(WIDE)


def downgrade() -> None:
    _name_index(NARROW)

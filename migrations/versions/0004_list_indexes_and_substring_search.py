"""list indexes (one per sort, over live rows) and substring search indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 10:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from webapp.models import HERO_SEARCH_DDL

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_SQL = "deleted_at IS NULL"
LIVE = sa.text(LIVE_SQL)
TRASHED = sa.text("deleted_at IS NOT NULL")
SORT_INDEXES = (
    ("ix_hero_live_name", "hero", ["name", "id"]),
    ("ix_hero_live_secret_name", "hero", ["secret_name", "id"]),
    ("ix_hero_live_age", "hero", ["age", "id"]),
    ("ix_hero_live_team_id", "hero", ["team_id", "id"]),
    ("ix_team_live_headquarters", "team", ["headquarters", "id"]),
)
TRIGRAM_INDEXES = (("hero", "name"), ("hero", "secret_name"), ("team", "name"), ("team", "headquarters"))


def upgrade() -> None:
    # (name, id) and (age, id) over live rows serve the sorts the plain name and age indexes served.
    op.drop_index("ix_hero_name", table_name="hero")
    op.drop_index("ix_hero_age", table_name="hero")
    where = {"sqlite_where": LIVE, "postgresql_where": LIVE}
    for name, table, columns in SORT_INDEXES:
        op.create_index(name, table, columns, **where)  # type: ignore[arg-type]
    # The trash's index covers trashed rows only (see models.TRASHED for why).
    trashed = {"sqlite_where": TRASHED, "postgresql_where": TRASHED}
    for table in ("hero", "team"):
        op.drop_index(f"ix_{table}_deleted_at", table_name=table)
        op.create_index(f"ix_{table}_trashed", table, ["deleted_at", "id"], **trashed)  # type: ignore[arg-type]
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table, column in TRIGRAM_INDEXES:
            op.execute(
                f"CREATE INDEX ix_{table}_{column}_trgm ON {table} USING gin ({column} gin_trgm_ops) WHERE {LIVE_SQL}"
            )
    else:
        for statement in HERO_SEARCH_DDL:
            op.execute(statement)
        op.execute("INSERT INTO hero_search(hero_search) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column in TRIGRAM_INDEXES:
            op.drop_index(f"ix_{table}_{column}_trgm", table_name=table)
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER hero_search_{trigger}")
        op.execute("DROP TABLE hero_search")
    for table in ("hero", "team"):
        op.drop_index(f"ix_{table}_trashed", table_name=table)
        op.create_index(f"ix_{table}_deleted_at", table, ["deleted_at"])
    for name, table, _columns in SORT_INDEXES:
        op.drop_index(name, table_name=table)
    op.create_index("ix_hero_age", "hero", ["age"])
    op.create_index("ix_hero_name", "hero", ["name"])

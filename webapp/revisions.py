"""Where a database's schema stands against the migrations in `migrations/` (for `check` and `restore`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from webapp.db import MIGRATIONS_DIR


@cache
def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def newest() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


@dataclass(frozen=True)
class SchemaState:
    """A database's schema: `usable` when the app can run on it (as it is, or once `serve` upgrades it)."""

    usable: bool
    current: bool
    text: str


def state(revision: str | None, *, has_tables: bool) -> SchemaState:
    """From the revision recorded in `alembic_version` (None: no such table or row) and whether the app's tables
    exist (a database made before migrations has them without a record)."""
    head = newest()
    if revision is None:
        if has_tables:
            return SchemaState(True, False, "made before migrations; serve upgrades it to " + head)
        return SchemaState(True, False, f"empty; serve creates the schema ({head})")
    if revision == head:
        return SchemaState(True, True, f"at {head}, the newest migration")
    try:
        known = _scripts().get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        return SchemaState(False, False, f"at {revision!r}, which this version of the app does not know (a newer one?)")
    return SchemaState(True, False, f"at {revision}, older than {head}; serve upgrades it")

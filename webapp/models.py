"""Every SQLModel class. XBase holds the field rules, X is the table, XCreate validates input (for creates and
edits alike: a form always sends every field).

Table models do not validate on construction, so input always goes through XCreate first.
"""

# No `from __future__ import annotations` here: SQLModel resolves relationship annotations at class creation.
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DDL, JSON, BigInteger, Index, event, text
from sqlmodel import Field, Relationship, SQLModel

NAME_MAX = 100
HEADQUARTERS_MAX = 200
AGE_MAX = 10_000


USERNAME_MAX = 150
LIVE = text("deleted_at IS NULL")
# The trash's own index covers trashed rows only: an index on deleted_at for all rows would tempt SQLite's
# planner (which has no statistics) to "search" it for deleted_at IS NULL, i.e. read every live row, and sort.
TRASHED = text("deleted_at IS NOT NULL")


# The columns of the heroes' name index, in order (see Hero; migration 0010 names them likewise).
HERO_NAME_INDEX = ("name", "id", "secret_name", "team_id")


def _trigram_index(table: str, column: str) -> Index:
    """PostgreSQL: a trigram GIN index, so ILIKE '%text%' on a million rows is an index lookup, not a scan."""
    return Index(
        f"ix_{table}_{column}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
        postgresql_where=LIVE,
    ).ddl_if(dialect="postgresql")


# SQLite: an FTS5 trigram index over heroes' names and secret names, kept in step by triggers (external
# content: the text is stored once, in `hero`). The same statements are in migration 0004.
HERO_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE hero_search USING fts5(name, secret_name, content='hero', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER hero_search_insert AFTER INSERT ON hero BEGIN "
    "INSERT INTO hero_search(rowid, name, secret_name) VALUES (new.id, new.name, new.secret_name); END",
    "CREATE TRIGGER hero_search_delete AFTER DELETE ON hero BEGIN "
    "INSERT INTO hero_search(hero_search, rowid, name, secret_name) "
    "VALUES ('delete', old.id, old.name, old.secret_name); END",
    "CREATE TRIGGER hero_search_update AFTER UPDATE OF name, secret_name ON hero BEGIN "
    "INSERT INTO hero_search(hero_search, rowid, name, secret_name) "
    "VALUES ('delete', old.id, old.name, old.secret_name); "
    "INSERT INTO hero_search(rowid, name, secret_name) VALUES (new.id, new.name, new.secret_name); END",
)


class TeamBase(SQLModel):
    name: str = Field(min_length=1, max_length=NAME_MAX)
    headquarters: str = Field(min_length=1, max_length=HEADQUARTERS_MAX)


class Team(TeamBase, table=True):
    """A team. Deleting one moves it to the trash (deleted_at) and leaves its heroes teamless; a purge removes
    the row for good (ON DELETE SET NULL on heroes). Every change bumps `version` (edit conflicts)."""

    # Names are unique among live teams only: a team in the trash does not block its name.
    __table_args__ = (
        Index("uq_team_live_name", "name", unique=True, sqlite_where=LIVE, postgresql_where=LIVE),
        Index("ix_team_trashed", "deleted_at", "id", sqlite_where=TRASHED, postgresql_where=TRASHED),
        Index("ix_team_live_headquarters", "headquarters", "id", sqlite_where=LIVE, postgresql_where=LIVE),
        *(_trigram_index("team", column) for column in ("name", "headquarters")),
        # SQLite would otherwise give a purged row's id to the next new one, and with it the old one's history.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    deleted_at: datetime | None = None
    deleted_by: str | None = Field(default=None, max_length=USERNAME_MAX)
    # lazy="raise": async code must load relationships at the query site, so a missed load fails loudly.
    heroes: list["Hero"] = Relationship(
        back_populates="team", sa_relationship_kwargs={"lazy": "raise", "passive_deletes": True}
    )


class TeamCreate(TeamBase):
    pass


class HeroBase(SQLModel):
    name: str = Field(min_length=1, max_length=NAME_MAX)
    secret_name: str = Field(min_length=1, max_length=NAME_MAX)
    age: int | None = Field(default=None, ge=0, le=AGE_MAX)
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="SET NULL", index=True)


class Hero(HeroBase, table=True):
    """A hero, optionally in one team. Deleted heroes wait in the trash (deleted_at) until restored or purged."""

    # One index per sort, (value, id) over live rows: keyset pages are range scans. The team sort and filter
    # use (team_id, id); substring search uses trigram indexes (see HERO_SEARCH_DDL for SQLite). The name sort's
    # (the default) also holds what a search tests, so a search that walks it (webapp.data.search, "walk") tests
    # each hero from the index and reads the table for the page's rows only: on SQLite, a page of "Nakamura" at a
    # million heroes in 1.2 ms instead of 4.5 (2026-12-07). Same columns on PostgreSQL, to keep one schema.
    __table_args__ = (
        Index("ix_hero_trashed", "deleted_at", "id", sqlite_where=TRASHED, postgresql_where=TRASHED),
        Index("ix_hero_live_name", *HERO_NAME_INDEX, sqlite_where=LIVE, postgresql_where=LIVE),
        *(
            Index(f"ix_hero_live_{column}", column, "id", sqlite_where=LIVE, postgresql_where=LIVE)
            for column in ("secret_name", "age", "team_id")
        ),
        *(_trigram_index("hero", column) for column in ("name", "secret_name")),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    deleted_at: datetime | None = None
    deleted_by: str | None = Field(default=None, max_length=USERNAME_MAX)
    team: Team | None = Relationship(back_populates="heroes", sa_relationship_kwargs={"lazy": "raise"})


class HeroCreate(HeroBase):
    pass


class Role(StrEnum):
    """What a user may do: viewers read, editors also change heroes and teams, admins also manage users."""

    viewer = "viewer"
    editor = "editor"
    admin = "admin"

    @property
    def rank(self) -> int:
        return ROLE_RANK[self]

    def allows(self, needed: "Role") -> bool:
        return self.rank >= needed.rank


ROLE_RANK = {Role.viewer: 1, Role.editor: 2, Role.admin: 3}
PASSWORD_MIN = 8
PASSWORD_MAX = 256


class User(SQLModel, table=True):
    """Someone who may sign in. Usernames are stored NFKC-normalised and casefolded, so sign-in ignores case and
    width; `username_skeleton` (UTS #39) is unique, so no new name can look like an existing one."""

    __table_args__ = (Index("uq_user_username_skeleton", "username_skeleton", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=USERNAME_MAX, unique=True, index=True)
    # The SHA-256 of the name's skeleton (a skeleton can be many times longer than the name). NULL only for
    # look-alikes that existed before the rule: migration 0005 gives the skeleton to the older of them.
    username_skeleton: str | None = Field(default=None, max_length=64)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)  # a Role value
    is_active: bool = True
    created_at: datetime
    last_login_at: datetime | None = None
    # The TOTP secret, encrypted with SECOND_FACTOR_KEY (never stored in the clear); NULL: no second factor.
    totp_secret: str | None = Field(default=None, max_length=500)
    # The last TOTP time step accepted: a code is good once, so a step at or before it is refused (no replay).
    totp_last_step: int | None = Field(default=None, sa_type=BigInteger)
    # The colour scheme the pages use for this user: a Theme value ("system" follows the device's setting).
    theme: str = Field(default="system", max_length=8, sa_column_kwargs={"server_default": "system"})


class Theme(StrEnum):
    system = "system"
    light = "light"
    dark = "dark"


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "user_session"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    csrf_token: str = Field(max_length=64)
    # The role the session was issued under: a change of role makes the next request rotate the session id.
    role: str = Field(max_length=16)
    created_at: datetime
    last_seen_at: datetime
    # "signed_in", or a step of sign-in still to do after the password: "second_factor" (enter a code) or
    # "enroll" (set a second factor up, which the role requires). Only a signed-in session reaches the app.
    stage: str = Field(default="signed_in", max_length=16, sa_column_kwargs={"server_default": "signed_in"})


class Throttle(SQLModel, table=True):
    """A failure counter for one key ("account:alice", "address:203.0.113.9", ...) over a fixed window that
    starts at its first failure. Updated by one conditional UPDATE, so concurrent requests cannot pass the limit
    (see webapp.throttle); shared by every worker through the database."""

    key: str = Field(primary_key=True, max_length=200)
    window_start: datetime
    count: int = 0


class RecoveryCode(SQLModel, table=True):
    """A one-time code that stands in for the authenticator app; only its SHA-256 is stored."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    digest: str = Field(max_length=64)
    used_at: datetime | None = None


class RolePolicy(SQLModel, table=True):
    """What admins require of a role: here, whether its accounts must sign in with a second factor."""

    __tablename__ = "role_policy"

    role: str = Field(primary_key=True, max_length=16)
    second_factor_required: bool = False


class AppSecret(SQLModel, table=True):
    """Secrets the app makes for itself on first start and every worker shares (the key that signs the CSRF
    tokens of signed-out forms)."""

    __tablename__ = "app_secret"

    name: str = Field(primary_key=True, max_length=32)
    value: str = Field(max_length=128)


class SetupToken(SQLModel, table=True):
    """The one-time link that creates the first admin; only its SHA-256 is stored."""

    __tablename__ = "setup_token"

    id: str = Field(primary_key=True, max_length=64)
    expires_at: datetime


class AuditEntry(SQLModel, table=True):
    """One thing that happened: a change to a hero or team (written in the change's own transaction), or a
    sign-in event. `changes` holds {field: [before, after]} for updates and reverts, the values for creates."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_record", "record_type", "record_id", "id"),
        Index("ix_audit_entry_user", "user_id", "id"),
        Index("ix_audit_entry_type", "record_type", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    # The name as it was (for a failed sign-in, the name that was typed).
    username: str = Field(default="", max_length=USERNAME_MAX)
    request_id: str = Field(default="", max_length=64)
    action: str = Field(max_length=32)
    record_type: str = Field(max_length=16)  # "hero", "team" or "account"
    record_id: int | None = None
    label: str = Field(default="", max_length=NAME_MAX)
    changes: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    note: str = Field(default="", max_length=500)


class Submission(SQLModel, table=True):
    """A form's one-time id, stored with the change it made: the same form sent twice is recognised, and the
    second answer leads where the first did instead of doing it again."""

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    created_at: datetime = Field(index=True)
    location: str = Field(max_length=500)
    # What the form said (see webapp.submissions).
    fingerprint: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})


class FormStash(SQLModel, table=True):
    """What someone typed into a form whose session had ended by the time they sent it: kept for a few minutes,
    found again by a token in a cookie of that browser (only its SHA-256 is stored), and given back only to the
    user whose session it was, once signed in again (webapp.stash)."""

    __tablename__ = "form_stash"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    # The form's page (where the values go back) and the values as typed, {field name: text}.
    path: str = Field(max_length=500)
    values: dict[str, Any] = Field(sa_type=JSON)
    expires_at: datetime = Field(index=True)


# How many rows PostgreSQL spreads each table's live count over (see LiveCount).
LIVE_COUNT_SLOTS = 16


class LiveCount(SQLModel, table=True):
    """How many live (not trashed) records a table holds, kept by triggers (live_count_ddl): an unfiltered list's
    count line sums a few rows instead of counting ten thousand.

    A count row stays locked from a trigger's write until its transaction ends, so with one row per table every
    create or trash of that table would wait for all the others to commit. PostgreSQL's triggers therefore write
    to the slot of their connection (its backend pid modulo LIVE_COUNT_SLOTS): concurrent transactions mostly
    touch different rows. A slot's own value means nothing (it may be negative); the table's count is the sum of
    its slots. SQLite has one writer at a time anyway and keeps one row per table, in slot 0."""

    __tablename__ = "live_count"

    record_type: str = Field(primary_key=True, max_length=16)
    live: int = 0
    # Last, where migration 0008 added it.
    slot: int = Field(default=0, primary_key=True, sa_column_kwargs={"server_default": "0"})


def live_count_ddl(table: str, dialect: str, *, slotted: bool = True) -> tuple[str, ...]:
    """The triggers that keep `table`'s live count: +1 for a live row inserted or restored, -1 for one trashed or
    deleted. SQLite updates its row for each row changed (the row exists from the table's creation: see
    LIVE_COUNT_ROW). PostgreSQL counts each statement's rows at once (transition tables), so a bulk change
    touches one count row once, upserting it into its connection's slot (a row deleted with the rest of the
    data comes back), and a TRUNCATE of the table sets all its slots to 0.

    `slotted=False` gives the triggers as migration 0005 made them, with one count row per table and no slot
    column (0005 and the way back from 0008 need them: a migration keeps meaning what it meant)."""
    if dialect == "sqlite":
        change = "UPDATE live_count SET live = live + {delta} WHERE record_type = '" + table + "'; END"
        return (
            f"CREATE TRIGGER {table}_live_insert AFTER INSERT ON {table} WHEN new.deleted_at IS NULL BEGIN "
            + change.format(delta=1),
            f"CREATE TRIGGER {table}_live_delete AFTER DELETE ON {table} WHEN old.deleted_at IS NULL BEGIN "
            + change.format(delta=-1),
            f"CREATE TRIGGER {table}_live_trash AFTER UPDATE OF deleted_at ON {table} "
            "WHEN (old.deleted_at IS NULL) != (new.deleted_at IS NULL) BEGIN "
            + change.format(delta="CASE WHEN new.deleted_at IS NULL THEN 1 ELSE -1 END"),
        )
    add = (
        "INSERT INTO live_count (record_type, slot, live) "
        f"VALUES ('{table}', mod(pg_backend_pid(), {LIVE_COUNT_SLOTS}), delta) "
        "ON CONFLICT (record_type, slot) DO UPDATE SET live = live_count.live + excluded.live"
        if slotted
        else f"INSERT INTO live_count (record_type, live) VALUES ('{table}', delta) "
        "ON CONFLICT (record_type) DO UPDATE SET live = live_count.live + excluded.live"
    )
    live_in = "(SELECT count(*) FROM {rows} WHERE deleted_at IS NULL)"
    deltas = {
        "INSERT": ("REFERENCING NEW TABLE AS new_rows", live_in.format(rows="new_rows")),
        "DELETE": ("REFERENCING OLD TABLE AS old_rows", "-" + live_in.format(rows="old_rows")),
        "UPDATE": (
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
            live_in.format(rows="new_rows") + " - " + live_in.format(rows="old_rows"),
        ),
    }
    statements = []
    for operation, (transition, delta) in deltas.items():
        function = f"{table}_live_{operation.lower()}"
        statements += [
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE delta integer := {delta}; "
            f"BEGIN IF delta <> 0 THEN {add}; END IF; RETURN NULL; END $$",
            f"CREATE TRIGGER {function} AFTER {operation} ON {table} {transition} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    truncated = f"{table}_live_truncate"
    statements += [
        f"CREATE FUNCTION {truncated}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"UPDATE live_count SET live = 0 WHERE record_type = '{table}'; RETURN NULL; END $$",
        f"CREATE TRIGGER {truncated} AFTER TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {truncated}()",
    ]
    return tuple(statements)


class ChangeCount(SQLModel, table=True):
    """How many times a table's rows have changed, kept by triggers (change_count_ddl), for tables whose rows
    other records choose from (a hero's team). A worker keeps such a table's choices (webapp.data.reads.Choices) with
    the count it read them with, and uses them again while the count is the same: the count only grows, and
    every insert, update and delete moves it, so the same count means the same rows.

    Spread over slots on PostgreSQL, like LiveCount: each slot only grows, so their sum does too. A database put
    back to an earlier state under running workers (a restore, a failover that lost commits) could bring the
    count back to one a worker kept choices with: restore with the app stopped (README)."""

    __tablename__ = "change_count"

    record_type: str = Field(primary_key=True, max_length=16)
    slot: int = Field(default=0, primary_key=True)
    changes: int = Field(default=0, sa_type=BigInteger)


def change_count_ddl(table: str, dialect: str) -> tuple[str, ...]:
    """The triggers that count every change to `table`: for each row changed on SQLite, once per statement on
    PostgreSQL (a statement that changed no row counts too: harmless, the choices are read again once). Each
    adds one to its count row, making the row if it is missing: SQLite's one (slot 0), PostgreSQL's connection's
    slot. Migration 0009 makes them with this function: a change here needs a migration that remakes them."""
    if dialect == "sqlite":
        return tuple(
            f"CREATE TRIGGER {table}_changed_{operation.lower()} AFTER {operation} ON {table} BEGIN "
            + change_counted(table, "0")
            + "; END"
            for operation in ("INSERT", "UPDATE", "DELETE")
        )
    return (
        f"CREATE FUNCTION {table}_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + change_counted(table, f"mod(pg_backend_pid(), {LIVE_COUNT_SLOTS})")
        + "; RETURN NULL; END $$",
        f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_changed()",
    )


def change_counted(table: str, slot: str) -> str:
    """One more change to `table`, in `slot` (an SQL expression)."""
    return (
        f"INSERT INTO change_count (record_type, slot, changes) VALUES ('{table}', {slot}, 1) "
        "ON CONFLICT (record_type, slot) DO UPDATE SET changes = change_count.changes + 1"
    )


# A live-counted table's count row, counted from what the table holds (0 when it is new), in slot 0 (the column's
# default: the statement is also 0005's, from before slots).
LIVE_COUNT_ROW = (
    "INSERT INTO live_count (record_type, live) SELECT '{table}', count(*) FROM {table} WHERE deleted_at IS NULL"
)


# What create_all needs besides the tables (tests build their databases that way; migrations do the same).
_TRIGRAMS = DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # type: ignore[no-untyped-call]
event.listen(SQLModel.metadata, "before_create", _TRIGRAMS.execute_if(dialect="postgresql"))
for _statement in HERO_SEARCH_DDL:
    _ddl = DDL(_statement)  # type: ignore[no-untyped-call]
    event.listen(Hero.__table__, "after_create", _ddl.execute_if(dialect="sqlite"))  # type: ignore[attr-defined]
# Every table with a trash (deleted_at) keeps a live count: a new resource's table gets one without a word.
LIVE_COUNTED = tuple(table.name for table in SQLModel.metadata.sorted_tables if "deleted_at" in table.c)
for _name in LIVE_COUNTED:
    _table = SQLModel.metadata.tables[_name]
    for _dialect in ("sqlite", "postgresql"):
        for _statement in live_count_ddl(_name, _dialect):
            event.listen(_table, "after_create", DDL(_statement).execute_if(dialect=_dialect))  # type: ignore[no-untyped-call]
    _row = DDL(LIVE_COUNT_ROW.format(table=_name))  # type: ignore[no-untyped-call]
    event.listen(SQLModel.metadata, "after_create", _row)
# The tables other live-counted tables point at (a hero's team) keep a change count: their rows are choices.
CHANGE_COUNTED = tuple(
    sorted(
        {
            key.column.table.name
            for name in LIVE_COUNTED
            for key in SQLModel.metadata.tables[name].foreign_keys
            if key.column.table.name in LIVE_COUNTED
        }
    )
)
for _name in CHANGE_COUNTED:
    _table = SQLModel.metadata.tables[_name]
    for _dialect in ("sqlite", "postgresql"):
        for _statement in change_count_ddl(_name, _dialect):
            event.listen(_table, "after_create", DDL(_statement).execute_if(dialect=_dialect))  # type: ignore[no-untyped-call]

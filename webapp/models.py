"""Every SQLModel class. XBase holds the field rules, X is the table, XCreate/XUpdate validate input.

Table models do not validate on construction, so input always goes through XCreate/XUpdate first.
"""

# No `from __future__ import annotations` here: SQLModel resolves relationship annotations at class creation.
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, Relationship, SQLModel

NAME_MAX = 100
HEADQUARTERS_MAX = 200
AGE_MAX = 10_000


class TeamBase(SQLModel):
    name: str = Field(min_length=1, max_length=NAME_MAX, unique=True, index=True)
    headquarters: str = Field(min_length=1, max_length=HEADQUARTERS_MAX)


class Team(TeamBase, table=True):
    """A team; deleting it leaves its heroes teamless (ON DELETE SET NULL)."""

    id: int | None = Field(default=None, primary_key=True)
    # lazy="raise": async code must load relationships at the query site, so a missed load fails loudly.
    heroes: list["Hero"] = Relationship(
        back_populates="team", sa_relationship_kwargs={"lazy": "raise", "passive_deletes": True}
    )


class TeamCreate(TeamBase):
    pass


class TeamUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    headquarters: str | None = Field(default=None, min_length=1, max_length=HEADQUARTERS_MAX)


class HeroBase(SQLModel):
    name: str = Field(min_length=1, max_length=NAME_MAX, index=True)
    secret_name: str = Field(min_length=1, max_length=NAME_MAX)
    age: int | None = Field(default=None, ge=0, le=AGE_MAX, index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="SET NULL", index=True)


class Hero(HeroBase, table=True):
    """A hero, optionally in one team."""

    id: int | None = Field(default=None, primary_key=True)
    team: Team | None = Relationship(back_populates="heroes", sa_relationship_kwargs={"lazy": "raise"})


class HeroCreate(HeroBase):
    pass


class HeroUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    secret_name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    age: int | None = Field(default=None, ge=0, le=AGE_MAX)
    team_id: int | None = None


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
USERNAME_MAX = 150
PASSWORD_MIN = 8
PASSWORD_MAX = 256


class User(SQLModel, table=True):
    """Someone who may sign in. Usernames are stored lowercased, so sign-in ignores case."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=USERNAME_MAX, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)  # a Role value
    is_active: bool = True
    created_at: datetime
    last_login_at: datetime | None = None


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


class LoginFailure(SQLModel, table=True):
    """One failed sign-in, kept for the throttling windows (shared by every worker through the database)."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_username_at", "username", "at"),
        Index("ix_login_failure_client_at", "client", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=USERNAME_MAX)
    client: str = Field(max_length=64)
    at: datetime


class SetupToken(SQLModel, table=True):
    """The one-time link that creates the first admin; only its SHA-256 is stored."""

    __tablename__ = "setup_token"

    id: str = Field(primary_key=True, max_length=64)
    expires_at: datetime

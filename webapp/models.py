"""Every SQLModel class. XBase holds the field rules, X is the table, XCreate/XUpdate validate input.

Table models do not validate on construction, so input always goes through XCreate/XUpdate first.
"""

# No `from __future__ import annotations` here: SQLModel resolves relationship annotations at class creation.
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

"""A reference point, not a floor: the heroes list as the SQLModel and FastAPI tutorials write it.

FastAPI, a dependency yielding an `AsyncSession`, `select(Hero).options(selectinload(Hero.team))` for entities,
and a Jinja2 template, under uvicorn with the app's settings. It reads the app's database through its own
minimal models of the same tables (no `webapp` imports). FastAPI is not a dependency of the project: install it
into the benchmark's environment with `.venv/bin/pip install -r bench/requirements-docs-pattern.txt`.

    DATABASE_URL=sqlite+aiosqlite:///var/heroes.db .venv/bin/python bench/docs_pattern_app.py --port 8200

The page is the floor's template (bench/floor_templates/heroes.html), fed the entities' attributes, so the two
differ in how the rows are fetched and served, not in the HTML.
"""

# No `from __future__ import annotations`: SQLModel resolves relationship annotations at class creation.
import argparse
import base64
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import selectinload
from sqlmodel import Field, Relationship, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

HERE = Path(__file__).resolve().parent
# Run as a script this module is __main__ (__mp_main__ in uvicorn's worker processes), and uvicorn then imports
# it by name: without this alias the tables would be defined twice on SQLModel's shared metadata.
sys.modules.setdefault("docs_pattern_app", sys.modules[__name__])
templates = Jinja2Templates(directory=HERE / "floor_templates")


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    headquarters: str
    deleted_at: datetime | None = None
    heroes: list["Hero"] = Relationship(back_populates="team")


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    secret_name: str
    age: int | None = None
    team_id: int | None = Field(default=None, foreign_key="team.id")
    version: int = 1
    deleted_at: datetime | None = None
    team: Team | None = Relationship(back_populates="heroes")


def _engine() -> AsyncEngine:
    # The app's pool size (DB_POOL_SIZE, default 5; SQLAlchemy adds its overflow of 10 as the app's engine does).
    return create_async_engine(os.environ["DATABASE_URL"], pool_size=int(os.environ.get("DB_POOL_SIZE", "5")))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.engine = _engine()
    yield
    await app.state.engine.dispose()


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(request.app.state.engine) as session:
        yield session


@app.get("/heroes", response_class=HTMLResponse)
async def heroes(request: Request, session: Annotated[AsyncSession, Depends(get_session)], size: int = 50) -> Any:
    statement = (
        select(Hero)
        .options(selectinload(Hero.team))  # type: ignore[arg-type]
        .where(col(Hero.deleted_at).is_(None))
        .order_by(col(Hero.name), col(Hero.id))
        .limit(size + 1)  # one more: is there a next page?
    )
    found = (await session.exec(statement)).all()
    rows = [(h.id, h.name, h.secret_name, h.age, h.team_id, h.version, h.team.name if h.team else None) for h in found]
    # The floor's page has a Next link with the app's cursor (base64url of the JSON [name, id]); so has this one.
    after = None
    if len(rows) > size:
        raw = json.dumps([rows[size - 1][1], rows[size - 1][0]], separators=(",", ":"), ensure_ascii=False)
        after = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    context = {"heroes": rows[:size], "size": size, "csrf": "f" * 43, "next": after}
    return templates.TemplateResponse(request, "heroes.html", context)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the SQLModel-docs-pattern reference under uvicorn.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "docs_pattern_app:app",
        app_dir=str(HERE),
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,
        server_header=False,
        log_level="info",
    )


if __name__ == "__main__":
    main()

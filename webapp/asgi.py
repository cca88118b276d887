"""The ASGI entry point for uvicorn (`--factory`): each worker builds its app from the environment."""

from __future__ import annotations

from litestar import Litestar

from webapp.app import create_app
from webapp.config import Settings


def create_app_from_env() -> Litestar:
    return create_app(Settings.from_env())

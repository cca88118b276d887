"""Command line: `python -m webapp serve|demo`."""

from __future__ import annotations

import argparse
import asyncio
import sys

import uvicorn

from webapp.config import Settings
from webapp.db import create_engine, create_schema
from webapp.demo import seed_demo


async def _prepare(settings: Settings, *, demo: bool) -> bool:
    engine = create_engine(settings)
    try:
        await create_schema(engine)
        return await seed_demo(engine) if demo else False
    finally:
        await engine.dispose()


def serve(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    # The schema is made once here, before the workers start, so they never race to create it.
    asyncio.run(_prepare(settings, demo=False))
    print(f"Serving the hero admin at http://{args.host}:{args.port} ({_describe(settings)})", flush=True)
    uvicorn.run(
        "webapp.asgi:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,
        server_header=False,
        log_level="info",
    )
    return 0


def demo(_args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    seeded = asyncio.run(_prepare(settings, demo=True))
    print("Added demo heroes and teams." if seeded else "The database already has data; nothing added.")
    return 0


def _describe(settings: Settings) -> str:
    return "SQLite" if settings.is_sqlite else "PostgreSQL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webapp", description="The hero admin.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the app under uvicorn (creates the schema if needed)")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=1)
    serve_parser.set_defaults(handler=serve)
    demo_parser = commands.add_parser("demo", help="fill an empty database with demo heroes and teams")
    demo_parser.set_defaults(handler=demo)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
